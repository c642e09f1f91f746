package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"pacesetter/analytics"
)

// gqlgen validates a whole document, then walks it for its cost, before anything runs and before any
// deadline: its cost walk expands every fragment spread without memo (a fragment spreading the next one
// twice, 26 deep, is 2²⁶ fields and took 12 s), and gqlparser's overlapping-fields rule compares every pair of
// fields that answer under the same name (14,990 × __typename took 10 s). The guard refuses such documents
// first, in one pass linear in the document: each fragment is measured once and its measure reused at every
// spread. A real dashboard stays far inside these bounds (25 rankings with their fields are about 300
// fields; GraphiQL's introspection query about 200).
const (
	// MaxRootFields is the most fields an operation may ask for at its root (fragments' fields included).
	MaxRootFields = 200
	// MaxSelectionFields is the most fields one selection set may hold, fragments' fields included.
	MaxSelectionFields = 500
	// MaxExpandedFields is the most fields (and fragment spreads) a document may hold once every fragment
	// spread is replaced by the fragment's fields.
	MaxExpandedFields = 20_000
	// MaxSameResponse is the most fields that may answer under one response name at one place: validation
	// compares each pair of them.
	MaxSameResponse = 50
	// MaxListItems is the most items a list argument may hold, written in the query or in a variable.
	MaxListItems = 10_000
)

// guard is the gqlgen extension that checks a request before gqlgen parses and validates it: variables
// on every request, the document when it is not in the query cache (which holds only documents that
// passed).
type guard struct {
	cache graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.OperationParameterMutator
	graphql.HandlerExtension
} = guard{}

func (guard) ExtensionName() string                          { return "QueryGuard" }
func (guard) Validate(schema graphql.ExecutableSchema) error { return nil }

func (g guard) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if err := checkVariables(p.Variables); err != nil {
		return err
	}
	if g.cache != nil {
		if _, ok := g.cache.Get(ctx, p.Query); ok {
			return nil
		}
	}
	return guardQuery(p.Query)
}

// guardQuery parses query and checks it against the bounds above; a query that does not parse is left
// to gqlgen, which parses it again and says why.
func guardQuery(query string) *gqlerror.Error {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, MaxQueryTokens)
	if err != nil || doc == nil {
		return nil
	}
	return guardDocument(doc)
}

func refuseQuery(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": code}
	return err
}

// fragmentMeasure is what a fragment adds where it is spread.
type fragmentMeasure struct {
	state    int // 0 not measured, 1 being measured (a spread reaching it again is a cycle), 2 measured
	level    int // fields at the spread's own level
	expanded int // fields in all, nested ones included
}

type guardWalk struct {
	fragments map[string]*ast.FragmentDefinition
	measures  map[string]*fragmentMeasure
	stack     []string // fragments being measured, for the cycle's message
	err       *gqlerror.Error
}

// satAdd adds without overflowing: an expansion of 2⁶⁰ fields stays a large number.
func satAdd(a, b int) int { return min(a+b, 1<<50) }

func guardDocument(doc *ast.QueryDocument) *gqlerror.Error {
	w := &guardWalk{fragments: map[string]*ast.FragmentDefinition{}, measures: map[string]*fragmentMeasure{}}
	for _, f := range doc.Fragments {
		if _, ok := w.fragments[f.Name]; !ok {
			w.fragments[f.Name] = f
		}
	}
	// Literal lists, in every value written in the document (each once, not per spread).
	for _, op := range doc.Operations {
		for _, v := range op.VariableDefinitions {
			if err := checkValue(v.DefaultValue, "the default value of $"+v.Variable); err != nil {
				return err
			}
		}
		if err := checkValues(op.SelectionSet); err != nil {
			return err
		}
	}
	for _, f := range doc.Fragments {
		if err := checkValues(f.SelectionSet); err != nil {
			return err
		}
	}
	total := 0
	for _, op := range doc.Operations {
		level, expanded := w.measure(op.SelectionSet, "the root")
		if w.err != nil {
			return w.err
		}
		if level > MaxRootFields {
			return refuseQuery(analytics.QueryTooComplex, "the operation%s asks for %d fields at its root: at most %d are allowed; send them in several requests",
				opName(op), level, MaxRootFields)
		}
		total = satAdd(total, expanded)
	}
	// Fragments no operation spreads are validated too: those no other such fragment spreads either are
	// counted (and walked below) on their own.
	var unspread []*ast.FragmentDefinition
	for _, f := range doc.Fragments {
		if m := w.measures[f.Name]; m == nil || m.state == 0 {
			unspread = append(unspread, f)
			total = satAdd(total, w.fragment(f.Name).expanded)
			if w.err != nil {
				return w.err
			}
		}
	}
	if total > MaxExpandedFields {
		return refuseQuery(analytics.QueryTooComplex, "the query holds %d fields and spreads once its fragments are spread: at most %d are allowed; spread fragments fewer times",
			total, MaxExpandedFields)
	}
	// Now that the whole expansion is known to be small, walk it once more to count the fields that answer
	// under each response name at each place.
	c := &sameCounter{w: w, ids: map[sameKey]int{}}
	for _, op := range doc.Operations {
		if err := c.count(op.SelectionSet, 0); err != nil {
			return err
		}
	}
	// (A spread fragment is counted where it is spread, and its fields at one place are only more there.)
	for _, f := range unspread {
		if err := c.count(f.SelectionSet, 0); err != nil {
			return err
		}
	}
	return nil
}

func opName(op *ast.OperationDefinition) string {
	if op.Name == "" {
		return ""
	}
	return " " + analytics.Cut(op.Name)
}

// measure returns the fields of set at its own level and in all, checking every nested set on the way.
func (w *guardWalk) measure(set ast.SelectionSet, where string) (level, expanded int) {
	for _, sel := range set {
		if w.err != nil {
			return 0, 0
		}
		switch s := sel.(type) {
		case *ast.Field:
			level++
			expanded = satAdd(expanded, 1)
			if len(s.SelectionSet) > 0 {
				name := s.Alias
				if name == "" {
					name = s.Name
				}
				path := analytics.Cut(name)
				if where != "the root" {
					path = where + "." + path
				}
				_, sub := w.measure(s.SelectionSet, path)
				expanded = satAdd(expanded, sub)
			}
		case *ast.InlineFragment:
			l, e := w.measure(s.SelectionSet, where)
			level, expanded = satAdd(level, l), satAdd(expanded, 1+e)
		case *ast.FragmentSpread:
			// A spread counts itself too: spreads of fragments with no fields (or unknown ones) still
			// multiply the walk of whoever expands them.
			m := w.fragment(s.Name)
			level, expanded = satAdd(level, m.level), satAdd(expanded, 1+m.expanded)
		}
	}
	if w.err == nil && level > MaxSelectionFields {
		w.err = refuseQuery(analytics.QueryTooComplex, "the selection of %s holds %d fields (fragments' fields included): at most %d are allowed in one selection",
			where, level, MaxSelectionFields)
	}
	return level, expanded
}

// fragment measures the named fragment once; an unknown one measures nothing (validation names it).
func (w *guardWalk) fragment(name string) fragmentMeasure {
	m := w.measures[name]
	if m == nil {
		m = &fragmentMeasure{}
		w.measures[name] = m
	}
	switch m.state {
	case 2:
		return *m
	case 1:
		i := len(w.stack) - 1
		for i > 0 && w.stack[i] != name {
			i--
		}
		path := make([]string, 0, len(w.stack)-i+1)
		for _, n := range append(w.stack[i:], name) {
			path = append(path, analytics.Cut(n))
		}
		if w.err == nil {
			w.err = refuseQuery(analytics.BadUserInput, "fragment %s spreads itself (%s): a fragment may not reach itself through its spreads",
				analytics.Cut(name), strings.Join(path, " → "))
		}
		return fragmentMeasure{}
	}
	f := w.fragments[name]
	if f == nil {
		m.state = 2
		return *m
	}
	m.state = 1
	w.stack = append(w.stack, name)
	level, expanded := w.measure(f.SelectionSet, "fragment "+analytics.Cut(name))
	w.stack = w.stack[:len(w.stack)-1]
	m.state, m.level, m.expanded = 2, level, expanded
	return *m
}

// sameCounter counts the fields under each response name at each place of the expanded document (a place is
// the path of response names from the root); only run once the expansion is known to be bounded.
type sameCounter struct {
	w      *guardWalk
	ids    map[sameKey]int
	counts []int
	names  []string
}

type sameKey struct {
	parent int
	name   string
}

func (c *sameCounter) count(set ast.SelectionSet, parent int) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			name := s.Alias
			if name == "" {
				name = s.Name
			}
			k := sameKey{parent, name}
			id, ok := c.ids[k]
			if !ok {
				id = len(c.counts) + 1
				c.ids[k] = id
				c.counts = append(c.counts, 0)
				c.names = append(c.names, name)
			}
			c.counts[id-1]++
			if c.counts[id-1] > MaxSameResponse {
				return refuseQuery(analytics.QueryTooComplex, "%q is selected more than %d times at the same place: give the fields different aliases, or select them once",
					analytics.Cut(name), MaxSameResponse)
			}
			if err := c.count(s.SelectionSet, id); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := c.count(s.SelectionSet, parent); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if f := c.w.fragments[s.Name]; f != nil {
				if err := c.count(f.SelectionSet, parent); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkValues checks the values written in the arguments of set's fields and directives, nested sets
// included (fragments are checked where they are defined).
func checkValues(set ast.SelectionSet) *gqlerror.Error {
	for _, sel := range set {
		var dirs ast.DirectiveList
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				if err := checkValue(a.Value, "argument "+analytics.Cut(a.Name)+" of "+analytics.Cut(s.Name)); err != nil {
					return err
				}
			}
			if err := checkValues(s.SelectionSet); err != nil {
				return err
			}
			dirs = s.Directives
		case *ast.InlineFragment:
			if err := checkValues(s.SelectionSet); err != nil {
				return err
			}
			dirs = s.Directives
		case *ast.FragmentSpread:
			dirs = s.Directives
		}
		for _, d := range dirs {
			for _, a := range d.Arguments {
				if err := checkValue(a.Value, "argument "+analytics.Cut(a.Name)+" of @"+analytics.Cut(d.Name)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkValue(v *ast.Value, where string) *gqlerror.Error {
	if v == nil {
		return nil
	}
	if v.Kind == ast.ListValue && len(v.Children) > MaxListItems {
		return refuseQuery(analytics.BadUserInput, "%s lists %d items: at most %d are allowed", where, len(v.Children), MaxListItems)
	}
	for _, c := range v.Children {
		if err := checkValue(c.Value, where); err != nil {
			return err
		}
	}
	return nil
}

// checkVariables refuses a variable that holds (at any depth) a list longer than MaxListItems, before its
// items are coerced, resolved and made part of a cache key.
func checkVariables(vars map[string]any) *gqlerror.Error {
	for name, v := range vars {
		if n := longestList(v); n > MaxListItems {
			return refuseQuery(analytics.BadUserInput, "variable $%s holds a list of %d items: at most %d are allowed", analytics.Cut(name), n, MaxListItems)
		}
	}
	return nil
}

func longestList(v any) int {
	n := 0
	switch v := v.(type) {
	case []any:
		n = len(v)
		for _, x := range v {
			n = max(n, longestList(x))
		}
	case map[string]any:
		for _, x := range v {
			n = max(n, longestList(x))
		}
	}
	return n
}
