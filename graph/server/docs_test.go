package server

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"net/http/httptest"
)

// The examples in README.md and docs/*.md are run against the embedded NBS dataset, so that the answers
// the docs show are the answers the server gives. The format of an example (docs/queries.md says the same):
//
//   - A ```graphql block, whose last line may be `# variables: {...}`, followed by a ```json block (prose may
//     come between them) holding the whole answer body. Inside that JSON, an array element `…` stands for any
//     number of elements: the elements before the first `…` are the head of the real array, those after the
//     last `…` its tail, and those between two of them a run found in between, in order. Numbers are compared
//     as the JSON text the server writes, strings by their value, objects by their keys (all of them).
//   - A ```sh block holding one line `curl -i 'http://127.0.0.1:8080/export?…'`, followed by a ```http
//     block: the status line, the headers that are compared (others, such as Date, are not), a blank line and
//     the body, compared exactly (line ends as \n).
//   - `<!-- not checked: why -->` on the last non-blank line before the ```graphql or ```sh block leaves the
//     example out; it is counted and listed.
//
// `go test ./graph -run TestDocs -update` writes the real answers in place, keeping the layout of the JSON
// (the whitespace before each element and key) and each `…` with as many elements shown before and after it.

var updateDocs = flag.Bool("update", false, "TestDocs: write the real answers of the docs' examples in place")

// docsElision is an array element `…` in an expected answer.
const docsElision = "…"

func TestDocs(t *testing.T) {
	root := moduleRoot(t)
	files := []string{filepath.Join(root, "README.md")}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		// schema.md is generated from schema/*.graphqls and holds definitions, not examples; periods.md runs
		// against a synthetic monthly dataset (TestDocsPeriods).
		if b := filepath.Base(f); b != "schema.md" && b != "periods.md" {
			files = append(files, f)
		}
	}

	if lines := countLines(t, filepath.Join(root, "README.md")); lines > 200 {
		t.Errorf("README.md has %d lines; the contract is at most 200 (move the rest to docs/)", lines)
	}
	checkDocs(t, root, files, nbsServer(t))
}

// checkDocs runs the examples of files against srv (and with -update writes the real answers in place).
func checkDocs(t *testing.T, root string, files []string, srv *httptest.Server) {
	checked, unchecked := 0, 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		rel, _ := filepath.Rel(root, file)
		examples, err := docExamples(lines)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		changed := false
		for _, ex := range examples {
			where := fmt.Sprintf("%s:%d", rel, ex.line)
			if ex.skip != "" {
				unchecked++
				t.Logf("%s: not checked: %s", where, ex.skip)
				continue
			}
			checked++
			var got []string
			var ok bool
			if ex.http {
				got, ok = runHTTPExample(t, srv.URL, where, ex, lines)
			} else {
				got, ok = runGraphQLExample(t, srv.URL, where, ex, lines)
			}
			if !ok && got != nil {
				// Answers may change length; splice them in place so later examples' lines shift with them.
				lines = splice(lines, ex.answerFrom, ex.answerTo, got)
				shift := len(got) - (ex.answerTo - ex.answerFrom)
				for i := range examples {
					if examples[i].answerFrom > ex.answerFrom {
						examples[i].answerFrom += shift
						examples[i].answerTo += shift
						examples[i].queryFrom += shift
						examples[i].queryTo += shift
					}
				}
				changed = true
			}
		}
		if changed {
			if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: answers rewritten", rel)
		}
	}
	t.Logf("examples checked: %d, not checked: %d", checked, unchecked)
	if checked == 0 {
		t.Fatal("no examples found: has the format of the docs changed?")
	}
}

// moduleRoot walks up from the test's directory to the folder holding go.mod, so the test may live in any
// package of the module.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func countLines(t *testing.T, file string) int {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(raw, []byte("\n"))
}

func splice(lines []string, from, to int, with []string) []string {
	out := make([]string, 0, len(lines)-(to-from)+len(with))
	out = append(out, lines[:from]...)
	out = append(out, with...)
	return append(out, lines[to:]...)
}

// docExample is one example of a markdown file; line numbers are 0-based indices into its lines, except line
// (1-based, for messages). [queryFrom, queryTo) and [answerFrom, answerTo) are the blocks' contents.
type docExample struct {
	line                 int
	http                 bool
	skip                 string
	queryFrom, queryTo   int
	answerFrom, answerTo int
}

type fence struct {
	lang     string
	open     int // index of the opening ``` line
	from, to int // contents
}

// docExamples finds the examples of a markdown file: a ```graphql block whose next block is ```json, or a
// ```sh block of one `curl -i` line whose next block is ```http.
func docExamples(lines []string) ([]docExample, error) {
	var fences []fence
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") {
			continue
		}
		f := fence{lang: strings.TrimSpace(strings.TrimPrefix(lines[i], "```")), open: i, from: i + 1}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) != "```" {
			j++
		}
		if j == len(lines) {
			return nil, fmt.Errorf("line %d: block not closed", i+1)
		}
		f.to = j
		fences = append(fences, f)
		i = j
	}
	var out []docExample
	for k := 0; k+1 < len(fences); k++ {
		q, a := fences[k], fences[k+1]
		ex := docExample{line: q.open + 1, queryFrom: q.from, queryTo: q.to, answerFrom: a.from, answerTo: a.to}
		switch {
		case q.lang == "graphql" && a.lang == "json":
		case q.lang == "sh" && a.lang == "http" && q.to-q.from == 1 && strings.HasPrefix(lines[q.from], "curl -i '"):
			ex.http = true
		default:
			continue
		}
		for p := q.open - 1; p >= 0; p-- {
			s := strings.TrimSpace(lines[p])
			if s == "" {
				continue
			}
			if r, ok := strings.CutPrefix(s, "<!-- not checked:"); ok {
				ex.skip = strings.TrimSpace(strings.TrimSuffix(r, "-->"))
			}
			break
		}
		out = append(out, ex)
		k++
	}
	return out, nil
}

// runGraphQLExample posts the example's query and compares the answer. It returns the answer's new lines
// when they should be written (-update) and whether the answer matched.
func runGraphQLExample(t *testing.T, base, where string, ex docExample, lines []string) ([]string, bool) {
	t.Helper()
	var query []string
	var vars json.RawMessage
	for _, l := range lines[ex.queryFrom:ex.queryTo] {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "# variables:"); ok {
			vars = json.RawMessage(strings.TrimSpace(v))
			if !json.Valid(vars) {
				t.Errorf("%s: variables are not JSON: %s", where, v)
				return nil, false
			}
			continue
		}
		query = append(query, l)
	}
	body, err := json.Marshal(map[string]any{"query": strings.Join(query, "\n"), "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()

	text := strings.Join(lines[ex.answerFrom:ex.answerTo], "\n")
	want, err := parseJSONDoc(text, true)
	if err != nil {
		t.Errorf("%s: the answer written is not JSON with elisions: %v", where, err)
		return nil, false
	}
	got, err := parseJSONDoc(strings.TrimSpace(string(raw)), false)
	if err != nil {
		t.Errorf("%s: the server's answer is not JSON (status %d): %v\n%s", where, res.StatusCode, err, raw)
		return nil, false
	}
	if diff := matchJSON(want, got, "$"); diff != "" {
		rendered, err := renderLike(got, want)
		if err != nil {
			t.Errorf("%s: %s\n(cannot lay the real answer out like the one written: %v)\nreal answer: %s", where, diff, err, raw)
			return nil, false
		}
		if *updateDocs {
			t.Logf("%s: answer rewritten (%s)", where, diff)
			return strings.Split(rendered, "\n"), false
		}
		if r := []rune(rendered); len(r) > 4000 {
			rendered = string(r[:4000]) + "…"
		}
		t.Errorf("%s: the answer differs from the one written: %s\nreal answer, laid out as written:\n%s\n(go test ./graph -run TestDocs -update writes it)", where, diff, rendered)
		return nil, false
	}
	return nil, true
}

// runHTTPExample sends the example's GET and compares the status line, the headers written and the body.
func runHTTPExample(t *testing.T, base, where string, ex docExample, lines []string) ([]string, bool) {
	t.Helper()
	u := strings.TrimSuffix(strings.TrimPrefix(lines[ex.queryFrom], "curl -i '"), "'")
	path, ok := strings.CutPrefix(u, "http://127.0.0.1:8080")
	if !ok {
		t.Errorf("%s: the URL must start with http://127.0.0.1:8080: %s", where, u)
		return nil, false
	}
	res, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()

	written := lines[ex.answerFrom:ex.answerTo]
	out := []string{"HTTP/1.1 " + res.Status}
	i := 1
	for ; i < len(written) && written[i] != ""; i++ {
		name, _, found := strings.Cut(written[i], ":")
		if !found {
			t.Errorf("%s: header line %q has no colon", where, written[i])
			return nil, false
		}
		out = append(out, name+": "+strings.Join(res.Header.Values(name), ", "))
	}
	out = append(out, "")
	out = append(out, strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n"), "\n")...)
	if strings.Join(out, "\n") == strings.Join(written, "\n") {
		return nil, true
	}
	if *updateDocs {
		t.Logf("%s: answer rewritten", where)
		return out, false
	}
	t.Errorf("%s: the answer differs from the one written:\n--- written\n%s\n--- real\n%s", where, strings.Join(written, "\n"), strings.Join(out, "\n"))
	return nil, false
}

// jnode is a JSON value as written, with the whitespace around its members so that a real answer can be
// laid out like the one in the docs.
type jnode struct {
	kind byte   // '{', '[', '"', '0' (number), 'l' (true, false, null), '.' (an elision)
	text string // a scalar's text as written
	str  string // a string's value
	keys []string
	kids []*jnode
	pre  []string // whitespace before each member (before its key, in an object)
	mid  []string // an object member's text between key and value (":" and whitespace)
	post []string // whitespace after each member, before its comma
	end  string   // whitespace before the closing bracket
}

type jparser struct {
	s      string
	i      int
	elided bool // whether `…` may stand for array elements
}

func parseJSONDoc(s string, elided bool) (*jnode, error) {
	p := &jparser{s: s, elided: elided}
	p.space()
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errorf("text after the value")
	}
	return n, nil
}

func (p *jparser) errorf(format string, args ...any) error {
	line := strings.Count(p.s[:p.i], "\n") + 1
	return fmt.Errorf("line %d of the block: %s", line, fmt.Sprintf(format, args...))
}

func (p *jparser) space() string {
	from := p.i
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
	return p.s[from:p.i]
}

func (p *jparser) value() (*jnode, error) {
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		from := p.i
		p.i++
		for p.i < len(p.s) && p.s[p.i] != '"' {
			if p.s[p.i] == '\\' {
				p.i++
			}
			p.i++
		}
		if p.i >= len(p.s) {
			return nil, p.errorf("string not closed")
		}
		p.i++
		n := &jnode{kind: '"', text: p.s[from:p.i]}
		if err := json.Unmarshal([]byte(n.text), &n.str); err != nil {
			return nil, p.errorf("bad string %s: %v", n.text, err)
		}
		return n, nil
	case c == '-' || c >= '0' && c <= '9':
		from := p.i
		for p.i < len(p.s) && strings.IndexByte("+-.eE0123456789", p.s[p.i]) >= 0 {
			p.i++
		}
		text := p.s[from:p.i]
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return nil, p.errorf("bad number %s", text)
		}
		return &jnode{kind: '0', text: text}, nil
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if strings.HasPrefix(p.s[p.i:], lit) {
				p.i += len(lit)
				return &jnode{kind: 'l', text: lit}, nil
			}
		}
		if strings.HasPrefix(p.s[p.i:], docsElision) {
			return nil, p.errorf("%s stands only for elements of an array", docsElision)
		}
		return nil, p.errorf("unexpected %q", p.s[p.i:min(len(p.s), p.i+10)])
	}
}

func (p *jparser) object() (*jnode, error) {
	n := &jnode{kind: '{'}
	p.i++
	ws := p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		n.end = ws
		return n, nil
	}
	for {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.errorf("expected a key")
		}
		key, err := p.value()
		if err != nil {
			return nil, err
		}
		from := p.i
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.errorf("expected a colon after %s", key.text)
		}
		p.i++
		p.space()
		mid := p.s[from:p.i]
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		post := p.space()
		n.keys, n.kids, n.pre, n.mid = append(n.keys, key.str), append(n.kids, v), append(n.pre, ws), append(n.mid, mid)
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			n.post = append(n.post, "")
			n.end = post
			return n, nil
		}
		if p.i >= len(p.s) || p.s[p.i] != ',' {
			return nil, p.errorf("expected , or }")
		}
		n.post = append(n.post, post)
		p.i++
		ws = p.space()
	}
}

func (p *jparser) array() (*jnode, error) {
	n := &jnode{kind: '['}
	p.i++
	ws := p.space()
	for {
		if p.i >= len(p.s) {
			return nil, p.errorf("array not closed")
		}
		if p.s[p.i] == ']' {
			p.i++
			n.end = ws
			return n, nil
		}
		if p.elided && strings.HasPrefix(p.s[p.i:], docsElision) {
			// An elision needs no comma after it: the docs write "…" on a line of its own.
			p.i += len(docsElision)
			n.kids, n.pre, n.post = append(n.kids, &jnode{kind: '.'}), append(n.pre, ws), append(n.post, "")
			ws = p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				ws += "," + p.space()
			}
			continue
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		post := p.space()
		n.kids, n.pre = append(n.kids, v), append(n.pre, ws)
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			n.post = append(n.post, "")
			n.end = post
			return n, nil
		}
		if p.i >= len(p.s) || p.s[p.i] != ',' {
			return nil, p.errorf("expected , or ]")
		}
		n.post = append(n.post, post)
		p.i++
		ws = p.space()
	}
}

// segments splits an array's elements at its elisions; an array without one is one segment.
func (n *jnode) segments() [][]*jnode {
	segs := [][]*jnode{nil}
	for _, k := range n.kids {
		if k.kind == '.' {
			segs = append(segs, nil)
		} else {
			segs[len(segs)-1] = append(segs[len(segs)-1], k)
		}
	}
	return segs
}

// matchJSON says where want and got first differ ("" when they match). loose compares strings only, the
// identity of an element (names, codes) without its numbers.
func matchJSON(want, got *jnode, path string) string { return match(want, got, path, false) }

func match(want, got *jnode, path string, loose bool) string {
	if want.kind != got.kind {
		return fmt.Sprintf("%s: written %s, real %s", path, brief(want), brief(got))
	}
	switch want.kind {
	case '"':
		if want.str != got.str {
			return fmt.Sprintf("%s: written %s, real %s", path, want.text, got.text)
		}
	case '0', 'l':
		if !loose && want.text != got.text {
			return fmt.Sprintf("%s: written %s, real %s", path, want.text, got.text)
		}
	case '{':
		for i, k := range want.keys {
			j := indexOf(got.keys, k)
			if j < 0 {
				return fmt.Sprintf("%s: the real answer has no %q", path, k)
			}
			if d := match(want.kids[i], got.kids[j], path+"."+k, loose); d != "" {
				return d
			}
		}
		for _, k := range got.keys {
			if indexOf(want.keys, k) < 0 {
				return fmt.Sprintf("%s: the real answer also has %q", path, k)
			}
		}
	case '[':
		_, d := placeSegments(want, got, path, loose)
		return d
	}
	return ""
}

// placeSegments finds where each segment of want's elements lies in got's: the first at the head, the last
// at the tail (with an elision between), the others at their first place in order in between. It returns
// each segment's start, or a difference.
func placeSegments(want, got *jnode, path string, loose bool) ([]int, string) {
	segs := want.segments()
	if len(segs) == 1 {
		if len(segs[0]) != len(got.kids) {
			return nil, fmt.Sprintf("%s: written %d elements, real %d", path, len(segs[0]), len(got.kids))
		}
		for i, w := range segs[0] {
			if d := match(w, got.kids[i], fmt.Sprintf("%s[%d]", path, i), loose); d != "" {
				return nil, d
			}
		}
		return []int{0}, ""
	}
	head, tail := segs[0], segs[len(segs)-1]
	if len(head)+len(tail) > len(got.kids) {
		return nil, fmt.Sprintf("%s: written at least %d elements, real %d", path, len(head)+len(tail), len(got.kids))
	}
	starts := make([]int, len(segs))
	for i, w := range head {
		if d := match(w, got.kids[i], fmt.Sprintf("%s[%d]", path, i), loose); d != "" {
			return nil, d
		}
	}
	lo, hi := len(head), len(got.kids)-len(tail)
	starts[len(segs)-1] = hi
	for i, w := range tail {
		if d := match(w, got.kids[hi+i], fmt.Sprintf("%s[%d]", path, hi+i), loose); d != "" {
			return nil, d
		}
	}
	for s := 1; s < len(segs)-1; s++ {
		seg, found := segs[s], -1
		for at := lo; at+len(seg) <= hi && found < 0; at++ {
			ok := true
			for i, w := range seg {
				if match(w, got.kids[at+i], "", loose) != "" {
					ok = false
					break
				}
			}
			if ok {
				found = at
			}
		}
		if found < 0 {
			return nil, fmt.Sprintf("%s: the %d element(s) written between elisions (%s…) are not among real elements %d to %d", path, len(seg), brief(seg[0]), lo, hi-1)
		}
		starts[s] = found
		lo = found + len(seg)
	}
	return starts, ""
}

func indexOf(keys []string, k string) int {
	for i, x := range keys {
		if x == k {
			return i
		}
	}
	return -1
}

func brief(n *jnode) string {
	s := render(n, nil)
	if len([]rune(s)) > 80 {
		s = string([]rune(s)[:80]) + "…"
	}
	return s
}

// renderLike writes got with the layout of want: each member keeps the whitespace written around it, each
// elision stays with as many elements shown before and after it; members new to the answer are compact.
func renderLike(got, want *jnode) (string, error) {
	var b strings.Builder
	err := renderTo(&b, got, want)
	return b.String(), err
}

func render(n, like *jnode) string {
	var b strings.Builder
	_ = renderTo(&b, n, like)
	return b.String()
}

func renderTo(b *strings.Builder, n, like *jnode) error {
	if like != nil && like.kind != n.kind {
		like = nil
	}
	switch n.kind {
	case '{':
		b.WriteString("{")
		prevPost := ""
		for i, k := range n.keys {
			pre, mid, post, sub := "", ":", "", (*jnode)(nil)
			if like != nil {
				if j := indexOf(like.keys, k); j >= 0 {
					pre, mid, post, sub = like.pre[j], like.mid[j], like.post[j], like.kids[j]
				}
			}
			if i > 0 {
				b.WriteString(prevPost + ",")
			}
			b.WriteString(pre)
			writeString(b, k)
			b.WriteString(mid)
			if err := renderTo(b, n.kids[i], sub); err != nil {
				return err
			}
			prevPost = post
		}
		if like != nil {
			b.WriteString(like.end)
		}
		b.WriteString("}")
	case '[':
		b.WriteString("[")
		type shown struct {
			n, like   *jnode
			pre, post string
			elision   bool
		}
		var items []shown
		if like == nil || len(like.segments()) == 1 {
			for i, k := range n.kids {
				it := shown{n: k}
				if like != nil && len(like.kids) > 0 {
					j := min(i, len(like.kids)-1)
					it.like, it.pre, it.post = like.kids[j], like.pre[j], like.post[j]
				}
				items = append(items, it)
			}
		} else {
			starts, d := placeSegments(like, n, "", false)
			if d != "" {
				// The elements between elisions changed: place them by their strings (names, codes) alone.
				starts, d = placeSegments(like, n, "", true)
			}
			if d != "" {
				return fmt.Errorf("the elements shown around %s cannot be found in the real answer: %s", docsElision, d)
			}
			segs := like.segments()
			k, pos := 0, 0 // index into like.kids, index into n.kids
			for s, seg := range segs {
				if s > 0 {
					if starts[s] > pos { // an elision that hides nothing is left out
						items = append(items, shown{elision: true, pre: like.pre[k], post: like.post[k]})
					}
					k++
				}
				for i := range seg {
					items = append(items, shown{n: n.kids[starts[s]+i], like: like.kids[k], pre: like.pre[k], post: like.post[k]})
					k++
				}
				pos = starts[s] + len(seg)
			}
		}
		for i, it := range items {
			b.WriteString(it.pre)
			if it.elision {
				b.WriteString(docsElision)
				continue
			}
			if err := renderTo(b, it.n, it.like); err != nil {
				return err
			}
			if i < len(items)-1 {
				// The docs write a comma after an element even when an elision follows it.
				b.WriteString(it.post + ",")
			}
		}
		if like != nil {
			b.WriteString(like.end)
		}
		b.WriteString("]")
	default:
		b.WriteString(n.text)
	}
	return nil
}

// writeString writes s as a JSON string the way the docs show it: without escaping non-ASCII or HTML.
func writeString(b *strings.Builder, s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.WriteString(strings.TrimSuffix(buf.String(), "\n"))
}
