package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

func sources(t *testing.T, pattern string) []*ast.Source {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema files at %s (%v)", pattern, err)
	}
	var out []*ast.Source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &ast.Source{Name: strings.TrimPrefix(filepath.ToSlash(f), "../../"), Input: string(b)})
	}
	return out
}

// Every type, field, argument, enum value and input field of the real schema is in the reference with its
// anchor, and every docstring's first line with it; docs/schema.md is what the generator writes now.
func TestReferenceCoversSchema(t *testing.T) {
	src := sources(t, "../../schema/*.graphqls")
	doc, err := Generate(src)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	schema := gqlparser.MustLoadSchema(src...)
	has := func(what, s string) {
		t.Helper()
		if !strings.Contains(text, s) {
			t.Errorf("the reference lacks %s: %q", what, s)
		}
	}
	doc1 := func(what, desc string) {
		t.Helper()
		if line := strings.TrimSpace(strings.SplitN(strings.TrimSpace(desc), "\n", 2)[0]); line != "" {
			has(what+"'s docstring", escape(line))
		}
	}
	types := 0
	for name, d := range schema.Types {
		if d.BuiltIn {
			continue
		}
		types++
		has("type "+name, `<a id="`+name+`"></a>`)
		doc1(name, d.Description)
		for _, f := range d.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			has("field "+name+"."+f.Name, `<a id="`+name+"."+f.Name+`"></a>`)
			doc1(name+"."+f.Name, f.Description)
			for _, a := range f.Arguments {
				sig := a.Name + ": " + a.Type.String()
				if a.DefaultValue != nil {
					sig += " = " + a.DefaultValue.String()
				}
				has("argument "+name+"."+f.Name+"("+a.Name+")", "- `"+sig+"`")
			}
		}
		for _, v := range d.EnumValues {
			has("enum value "+name+"."+v.Name, `<a id="`+name+"."+v.Name+`"></a>`+"`"+v.Name+"`")
			doc1(name+"."+v.Name, v.Description)
		}
	}
	if types < 30 {
		t.Errorf("only %d types in the schema?", types)
	}
	// A sample checked by hand against schema/ranking.graphqls: a default of an enum type.
	has("ranking's ties default", "`ties: TieRule = COMPETITION` → [TieRule](#TieRule)")

	current, err := os.ReadFile("../../docs/schema.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(current) != text {
		t.Errorf("docs/schema.md is not what the generator writes from schema/: run `go run ./cmd/schemadoc`")
	}
	again, _ := Generate(src)
	if string(again) != text {
		t.Error("two runs differ")
	}
}

// The parts of SDL the real schema does not use yet (interfaces, unions, directives, deprecations, input
// defaults, a type extended in a second file) and Markdown in docstrings.
func TestReferenceShapes(t *testing.T) {
	a := &ast.Source{Name: "schema/a.graphqls", Input: `
"Things with a *code* <b>."
interface Coded { code: ID! }
"""
A formula: x_t * 2 [not a link]
- not a list
"""
type Query {
  "Old."
  thing(code: ID! = "x", n: Int = 3): Thing @deprecated(reason: "use other")
}
type Thing implements Coded { code: ID! }
union Any = Thing
input In { n: Int = 5 }
enum E { A @deprecated B }
"Marks a field."
directive @mark(level: Int = 1) repeatable on FIELD_DEFINITION | OBJECT
`}
	b := &ast.Source{Name: "schema/b.graphqls", Input: `extend type Query { any(in: In): [Any!]! other: E }`}
	doc, err := Generate([]*ast.Source{a, b})
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, want := range []string{
		"- [schema/a.graphqls](#file-schema-a-graphqls)\n  - [Coded](#Coded) (interface)\n  - [Query](#Query) (type)\n",
		"- [schema/b.graphqls](#file-schema-b-graphqls)\n  - [Query](#Query-in-file-schema-b-graphqls) (type, extended)\n",
		"Things with a \\*code\\* &lt;b&gt;.",
		"A formula: x\\_t \\* 2 \\[not a link\\]\n\\- not a list\n",
		"`thing(code: ID! = \"x\", n: Int = 3): Thing` → [Thing](#Thing)\n\n  Old.\n\n  **Deprecated:** use other\n",
		"Implements [Coded](#Coded).",
		"One of [Thing](#Thing).",
		"<a id=\"In.n\"></a>`n: Int = 5`",
		"<a id=\"E.A\"></a>`A`\n\n  **Deprecated:** No longer supported\n",
		"`@mark(level: Int = 1)` (repeatable) on FIELD_DEFINITION, OBJECT",
		"Fields added to [Query](#Query) in this file.",
		"`any(in: In): [Any!]!` → [Any](#Any)\n\n  Arguments:\n\n  - `in: In` → [In](#In)\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the reference lacks %q:\n%s", want, text)
		}
	}
	// A schema gqlgen would refuse is refused.
	if _, err := Generate([]*ast.Source{{Name: "bad.graphqls", Input: `type Query { x: Nope }`}}); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("an undefined type: %v", err)
	}
}
