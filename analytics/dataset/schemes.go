package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"pacesetter/analytics"
)

// Scheme is one scheme of schemes.yaml, checked and with its defaults filled in.
type Scheme struct {
	Code, Name, NameEn, Note string
	ScopeGroup, ScopeParent  string // at most one
	ScopeLevel               string
	Normalisation            analytics.Normalisation
	Aggregation              analytics.Aggregation
	Missing                  analytics.MissingRule
	MinWeightShare           *float64
	Ties                     analytics.TieRule
	Cutoffs                  []float64
	Quotas                   []int
	RankBy                   analytics.CompositeRank // SCORE unless rank_by: points
	Classes                  []string                // group codes; nil: none
	Indicators               []SchemeIndicator
}

// SchemeIndicator is one line of a scheme's indicators.
type SchemeIndicator struct {
	Indicator            string
	Weight               float64
	Points, Low, High    *float64
	Target               *float64
	Category, Department string
	From, To             int // 0: open
	Rule                 analytics.PointsRule
	Basis                analytics.Basis // VALUE unless basis: growth or rank_change
}

// The keys schemes.yaml knows, in the order messages list them.
var (
	schemeFileKeys      = []string{"schemes", "categories", "departments"}
	labelKeys           = []string{"name", "name_en"}
	schemeKeys          = []string{"code", "name", "name_en", "note", "scope", "normalisation", "aggregation", "missing", "min_weight_share", "ties", "tiers", "rank_by", "classes", "indicators"}
	scopeKeys           = []string{"group", "parent", "level"}
	tierKeys            = []string{"cutoffs", "quotas"}
	schemeIndicatorKeys = []string{"indicator", "weight", "points", "category", "department", "low", "high", "target", "from", "to", "rule", "basis"}
	ruleKeys            = []string{"kind", "met", "missed", "step", "cap"}
)

// yamlNode is a node of schemes.yaml with the file's problems to report on.
type schemeReader struct {
	r    *reader
	ps   *problems
	seen map[string]int // scheme code → line
}

func nodeLine(n ast.Node) int {
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// field is a value of a mapping with the line of its key.
type field struct {
	node ast.Node
	line int
}

// schemes reads schemes.yaml (optional).
func (r *reader) schemes() error {
	b, err := fs.ReadFile(r.fsys, SchemesFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	sr := &schemeReader{r: r, ps: &r.ps, seen: map[string]int{}}
	if !utf8.Valid(b) {
		sr.ps.add(SchemesFile, 0, "not valid UTF-8: save the file as UTF-8")
		return nil
	}
	file, err := parser.ParseBytes(b, 0)
	if err != nil {
		var se *yaml.SyntaxError
		line, msg := 0, err.Error()
		if errors.As(err, &se) {
			msg = se.Message
			if se.Token != nil && se.Token.Position != nil {
				line = se.Token.Position.Line
			}
		}
		sr.ps.add(SchemesFile, line, "not valid YAML: %s", msg)
		return nil
	}
	var docs []ast.Node
	for _, d := range file.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d.Body)
		}
	}
	switch len(docs) {
	case 0:
		return nil // an empty file: no schemes
	case 1:
	default:
		sr.ps.add(SchemesFile, nodeLine(docs[1]), "a second YAML document: put every scheme in the one list under schemes:")
		return nil
	}
	top, ok := sr.mapping(docs[0], "the file", schemeFileKeys)
	if !ok {
		return nil
	}
	list, ok := top["schemes"]
	if !ok && top["categories"].node == nil && top["departments"].node == nil {
		sr.ps.add(SchemesFile, nodeLine(docs[0]), "no schemes: the file holds a list under schemes: (or names under categories: or departments:)")
		return nil
	}
	if ok {
		for _, item := range sr.sequence(list, "schemes") {
			if s, ok := sr.scheme(item); ok {
				r.d.Schemes = append(r.d.Schemes, s)
			}
		}
	}
	// Names, once every category and department the lines use is known: a code no indicator or line uses
	// is a typo.
	var cats, deps []string
	for _, in := range r.d.Indicators {
		if in.Category != "" && !slices.Contains(cats, in.Category) {
			cats = append(cats, in.Category)
		}
	}
	for _, sc := range r.d.Schemes {
		for _, si := range sc.Indicators {
			if si.Category != "" && !slices.Contains(cats, si.Category) {
				cats = append(cats, si.Category)
			}
			if si.Department != "" && !slices.Contains(deps, si.Department) {
				deps = append(deps, si.Department)
			}
		}
	}
	if f, ok := top["categories"]; ok {
		r.d.Categories = sr.labels(f, "categories", "category", "indicators.csv and the schemes' lines", cats)
	}
	if f, ok := top["departments"]; ok {
		r.d.Departments = sr.labels(f, "departments", "department", "the schemes' lines", deps)
	}
	return nil
}

// labels reads a mapping of codes (each one of known) to their names, {name, name_en}, in file order.
func (sr *schemeReader) labels(f field, what, one, where string, known []string) []Label {
	n, ok := sr.unwrap(f.node)
	if !ok {
		return nil
	}
	mn, ok := n.(ast.MapNode)
	if !ok || n.Type() == ast.NullType {
		sr.ps.add(SchemesFile, f.line, "%s must be a mapping of each %s's code to {name, name_en}", what, one)
		return nil
	}
	var out []Label
	seen := map[string]int{}
	it := mn.MapRange()
	for it.Next() {
		code, line := strings.TrimSpace(it.Key().GetToken().Value), nodeLine(it.Key())
		if !slices.Contains(known, code) {
			msg := fmt.Sprintf("unknown %s %q in %s", one, analytics.Cut(code), what)
			if near := nearest(code, known); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			if len(known) == 0 {
				sr.ps.add(SchemesFile, line, "%s; %s name none", msg, where)
			} else {
				sr.ps.add(SchemesFile, line, "%s; %s name %s", msg, where, keysText(known))
			}
			continue
		}
		if first := seen[code]; first != 0 {
			sr.ps.add(SchemesFile, line, "%s %q named twice in %s (first on line %d)", one, analytics.Cut(code), what, first)
			continue
		}
		seen[code] = line
		what := fmt.Sprintf("%s %q", one, analytics.Cut(code))
		fs, ok := sr.mapping(it.Value(), what, labelKeys)
		if !ok {
			continue
		}
		l := Label{Code: code}
		if v, ok := fs["name"]; ok {
			l.Name, _ = sr.text(v, what+"'s name")
		}
		if v, ok := fs["name_en"]; ok {
			l.NameEn, _ = sr.text(v, what+"'s name_en")
		}
		if l.Name == "" && l.NameEn == "" {
			sr.ps.add(SchemesFile, line, "%s has no name: give name, name_en or both", what)
			continue
		}
		out = append(out, l)
	}
	return out
}

// unwrap sees through an anchor (&name) to its value; an alias (*name) or a tag is refused.
func (sr *schemeReader) unwrap(n ast.Node) (ast.Node, bool) {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			sr.ps.add(SchemesFile, nodeLine(n), "aliases (*name) are not supported: write the value out")
			return nil, false
		case *ast.TagNode:
			sr.ps.add(SchemesFile, nodeLine(n), "tags (%s) are not supported: write the value without one", v.Start.Value)
			return nil, false
		default:
			return n, true
		}
	}
}

// mapping reads a mapping, refusing keys not in keys (a typo), and returns its values by key.
func (sr *schemeReader) mapping(n ast.Node, what string, keys []string) (map[string]field, bool) {
	n, ok := sr.unwrap(n)
	if !ok {
		return nil, false
	}
	mn, ok := n.(ast.MapNode)
	if !ok || n.Type() == ast.NullType {
		sr.ps.add(SchemesFile, nodeLine(n), "%s must be a mapping of %s", what, keysText(keys))
		return nil, false
	}
	out := map[string]field{}
	it := mn.MapRange()
	for it.Next() {
		kn := it.Key()
		key := kn.GetToken().Value
		line := nodeLine(kn)
		if !slices.Contains(keys, key) {
			msg := fmt.Sprintf("unknown key %q in %s", analytics.Cut(key), what)
			if near := nearest(key, keys); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			sr.ps.add(SchemesFile, line, "%s; the keys are %s", msg, keysText(keys))
			continue
		}
		v := it.Value()
		if v == nil || v.Type() == ast.NullType {
			continue // key: with nothing is the key left out
		}
		out[key] = field{v, line}
	}
	return out, true
}

func keysText(keys []string) string { return strings.Join(keys, ", ") }

// nearest is the allowed word closest to s, if it is near enough to be a typo of it.
func nearest(s string, allowed []string) string {
	best, out := max(2, len(s)/3)+1, ""
	for _, a := range allowed {
		if d := levenshtein.ComputeDistance(strings.ToLower(s), strings.ToLower(a)); d < best {
			best, out = d, a
		}
	}
	return out
}

func (sr *schemeReader) sequence(f field, what string) []ast.Node {
	n, ok := sr.unwrap(f.node)
	if !ok {
		return nil
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		sr.ps.add(SchemesFile, f.line, "%s must be a list (lines starting with - , or [a, b])", what)
		return nil
	}
	return seq.Values
}

// text reads a scalar as text: whatever was written, a number or a word alike.
func (sr *schemeReader) text(f field, what string) (string, bool) {
	n, ok := sr.unwrap(f.node)
	if !ok {
		return "", false
	}
	switch v := n.(type) {
	case *ast.StringNode:
		return strings.TrimSpace(v.Value), true
	case *ast.LiteralNode:
		return strings.TrimSpace(v.Value.Value), true
	case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		sr.ps.add(SchemesFile, f.line, "%s must be text, not a mapping or a list", what)
		return "", false
	}
	return strings.TrimSpace(n.GetToken().Value), true
}

// number reads a finite number.
func (sr *schemeReader) number(f field, what string) (float64, bool) {
	n, ok := sr.unwrap(f.node)
	if !ok {
		return 0, false
	}
	var x float64
	switch v := n.(type) {
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			x = float64(i)
		case uint64:
			x = float64(i)
		}
	case *ast.FloatNode:
		x = v.Value
	case *ast.InfinityNode, *ast.NanNode:
		x = math.NaN()
	default:
		sr.ps.add(SchemesFile, f.line, "%s must be a number, got %q", what, analytics.Cut(n.GetToken().Value))
		return 0, false
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		sr.ps.add(SchemesFile, f.line, "%s must be a finite number, got %s", what, n.GetToken().Value)
		return 0, false
	}
	return x + 0, true
}

// whole reads a whole number from lo to hi.
func (sr *schemeReader) whole(f field, what string, lo, hi int) (int, bool) {
	x, ok := sr.number(f, what)
	if !ok {
		return 0, false
	}
	if x != math.Trunc(x) || x < float64(lo) || x > float64(hi) {
		sr.ps.add(SchemesFile, f.line, "%s must be a whole number from %d to %d, got %v", what, lo, hi, x)
		return 0, false
	}
	return int(x), true
}

// word reads one of a fixed set of words (in any case), or def when absent.
func word[T ~string](sr *schemeReader, fs map[string]field, key, what string, def T, allowed ...T) (T, bool) {
	f, ok := fs[key]
	if !ok {
		return def, true
	}
	s, ok := sr.text(f, what)
	if !ok {
		return def, false
	}
	for _, a := range allowed {
		if strings.EqualFold(s, string(a)) {
			return a, true
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	sr.ps.add(SchemesFile, f.line, "%s %q is not one of %s", what, analytics.Cut(s), strings.Join(names, ", "))
	return def, false
}

func (sr *schemeReader) scheme(n ast.Node) (Scheme, bool) {
	line := nodeLine(n)
	fs, ok := sr.mapping(n, "a scheme", schemeKeys)
	if !ok {
		return Scheme{}, false
	}
	var s Scheme
	good := true
	bad := func(ok bool) {
		if !ok {
			good = false
		}
	}
	if f, ok := fs["code"]; ok {
		s.Code, ok = sr.text(f, "code")
		bad(ok)
		if ok && s.Code != "" {
			line = f.line
		}
	}
	what := fmt.Sprintf("scheme %q", analytics.Cut(s.Code))
	switch first := sr.seen[s.Code]; {
	case s.Code == "":
		sr.ps.add(SchemesFile, line, "a scheme without a code: give it code: (a unique name to ask for it by)")
		good = false
		what = "a scheme without a code"
	case first != 0:
		sr.ps.add(SchemesFile, line, "duplicate scheme code %q (first on line %d)", analytics.Cut(s.Code), first)
		good = false
	default:
		sr.seen[s.Code] = line
	}
	for key, dst := range map[string]*string{"name": &s.Name, "name_en": &s.NameEn, "note": &s.Note} {
		if f, ok := fs[key]; ok {
			*dst, ok = sr.text(f, key+" of "+what)
			bad(ok)
		}
	}
	if s.Name == "" {
		sr.ps.add(SchemesFile, line, "%s has no name: give it name:", what)
		good = false
	}
	if f, ok := fs["scope"]; ok {
		bad(sr.scope(&s, f, what))
	}
	var ok1, ok2, ok3, ok4 bool
	s.Normalisation, ok1 = word(sr, fs, "normalisation", "normalisation of "+what, analytics.MinMax, analytics.Normalisations...)
	s.Aggregation, ok2 = word(sr, fs, "aggregation", "aggregation of "+what, analytics.Arithmetic, analytics.Arithmetic, analytics.Geometric)
	s.Missing, ok3 = word(sr, fs, "missing", "missing of "+what, analytics.Rescale, analytics.Rescale, analytics.Exclude)
	s.Ties, ok4 = word(sr, fs, "ties", "ties of "+what, analytics.Competition, analytics.Competition, analytics.Dense, analytics.Fractional)
	bad(ok1 && ok2 && ok3 && ok4)
	if f, ok := fs["min_weight_share"]; ok {
		x, ok := sr.number(f, "min_weight_share of "+what)
		switch {
		case !ok:
			good = false
		case x < 0 || x > 1:
			sr.ps.add(SchemesFile, f.line, "min_weight_share of %s must be from 0 to 1 (a share of the total weight), got %v", what, x)
			good = false
		default:
			s.MinWeightShare = &x
		}
	}
	if f, ok := fs["tiers"]; ok {
		bad(sr.tiers(&s, f, what))
	}
	var ok5 bool
	s.RankBy, ok5 = word(sr, fs, "rank_by", "rank_by of "+what, analytics.RankByScore, analytics.RankByScore, analytics.RankByPoints)
	bad(ok5)
	if f, ok := fs["classes"]; ok {
		bad(sr.classes(&s, f, what))
	}
	f, ok := fs["indicators"]
	if !ok {
		sr.ps.add(SchemesFile, line, "%s has no indicators: list them under indicators:", what)
		return s, false
	}
	items := sr.sequence(f, "indicators of "+what)
	if len(items) == 0 {
		if _, isSeq := f.node.(*ast.SequenceNode); isSeq {
			sr.ps.add(SchemesFile, f.line, "indicators of %s is empty: list at least one", what)
		}
		return s, false
	}
	lines := []int{}
	for _, item := range items {
		si, l, ok := sr.indicator(item, what)
		if ok {
			s.Indicators = append(s.Indicators, si)
			lines = append(lines, l)
		}
		bad(ok)
	}
	bad(sr.overlaps(&s, lines, what))
	if s.RankBy == analytics.RankByPoints && !slices.ContainsFunc(s.Indicators, func(si SchemeIndicator) bool { return si.Points != nil }) {
		sr.ps.add(SchemesFile, fs["rank_by"].line, "%s ranks by points, but none of its indicators has points: give them points:, or rank_by: score", what)
		good = false
	}
	return s, good
}

// classes reads a scheme's classes: known groups, each once.
func (sr *schemeReader) classes(s *Scheme, f field, what string) bool {
	items := sr.sequence(f, "classes of "+what)
	if items == nil {
		return false
	}
	good := true
	for _, item := range items {
		g, ok := sr.text(field{node: item, line: nodeLine(item)}, "a class of "+what)
		switch {
		case !ok:
			good = false
		case sr.r.groupLine[g] == 0:
			sr.ps.add(SchemesFile, nodeLine(item), "unknown group %q in the classes of %s (not in %s or the group column of %s)", analytics.Cut(g), what, GroupsFile, RegionsFile)
			good = false
		case slices.Contains(s.Classes, g):
			sr.ps.add(SchemesFile, nodeLine(item), "group %q is twice in the classes of %s", analytics.Cut(g), what)
			good = false
		default:
			s.Classes = append(s.Classes, g)
		}
	}
	return good
}

func (sr *schemeReader) scope(s *Scheme, f field, what string) bool {
	fs, ok := sr.mapping(f.node, "the scope of "+what, scopeKeys)
	if !ok {
		return false
	}
	good := true
	get := func(key string) string {
		if g, ok := fs[key]; ok {
			v, ok := sr.text(g, key+" in the scope of "+what)
			good = good && ok
			return v
		}
		return ""
	}
	s.ScopeGroup, s.ScopeParent, s.ScopeLevel = get("group"), get("parent"), get("level")
	r := sr.r
	if s.ScopeGroup != "" && s.ScopeParent != "" {
		sr.ps.add(SchemesFile, f.line, "the scope of %s gives both group and parent: give one (group: the members of a peer group, parent: the children of a region)", what)
		good = false
	}
	if g := s.ScopeGroup; g != "" && r.groupLine[g] == 0 {
		sr.ps.add(SchemesFile, fs["group"].line, "unknown group %q in the scope of %s (not in %s or the group column of %s)", analytics.Cut(g), what, GroupsFile, RegionsFile)
		good = false
	}
	if p := s.ScopeParent; p != "" && r.regionsOK && r.regionBy[p] == nil {
		sr.ps.add(SchemesFile, fs["parent"].line, "unknown region %q as parent in the scope of %s (not in %s)", analytics.Cut(p), what, RegionsFile)
		good = false
	}
	if l := s.ScopeLevel; l != "" && r.regionsOK {
		var levels []string
		for _, rg := range r.d.Regions {
			if rg.Level != "" && !slices.Contains(levels, rg.Level) {
				levels = append(levels, rg.Level)
			}
		}
		if !slices.Contains(levels, l) {
			msg := "no region of " + RegionsFile + " has a level"
			if len(levels) > 0 {
				msg = "the levels are " + strings.Join(levels, ", ")
			}
			sr.ps.add(SchemesFile, fs["level"].line, "unknown level %q in the scope of %s; %s", analytics.Cut(l), what, msg)
			good = false
		}
	}
	return good
}

func (sr *schemeReader) tiers(s *Scheme, f field, what string) bool {
	fs, ok := sr.mapping(f.node, "the tiers of "+what, tierKeys)
	if !ok {
		return false
	}
	c, hasC := fs["cutoffs"]
	q, hasQ := fs["quotas"]
	switch {
	case hasC && hasQ:
		sr.ps.add(SchemesFile, f.line, "the tiers of %s give both cutoffs and quotas: give one (cutoffs: scores, best tier first; quotas: how many regions in each tier)", what)
		return false
	case !hasC && !hasQ:
		sr.ps.add(SchemesFile, f.line, "the tiers of %s give neither cutoffs nor quotas: give one, or leave tiers out", what)
		return false
	}
	good := true
	if hasC {
		items := sr.sequence(c, "cutoffs of "+what)
		for i, n := range items {
			x, ok := sr.number(field{n, nodeLine(n)}, "a cutoff of "+what)
			if !ok {
				good = false
				continue
			}
			if i > 0 && len(s.Cutoffs) == i && x >= s.Cutoffs[i-1] {
				sr.ps.add(SchemesFile, c.line, "cutoffs of %s must be strictly descending (the best tier's first, e.g. [80, 60]): %v follows %v", what, x, s.Cutoffs[i-1])
				good = false
			}
			s.Cutoffs = append(s.Cutoffs, x)
		}
		if len(items) == 0 {
			sr.ps.add(SchemesFile, c.line, "cutoffs of %s is empty: give at least one score", what)
			good = false
		}
	} else {
		items := sr.sequence(q, "quotas of "+what)
		for _, n := range items {
			k, ok := sr.whole(field{n, nodeLine(n)}, "a quota of "+what+" (how many regions in a tier)", 1, math.MaxInt32)
			if !ok {
				good = false
				continue
			}
			s.Quotas = append(s.Quotas, k)
		}
		if len(items) == 0 {
			sr.ps.add(SchemesFile, q.line, "quotas of %s is empty: give at least one", what)
			good = false
		}
	}
	return good
}

// indicator reads one line of a scheme's indicators, returning the line it is on.
func (sr *schemeReader) indicator(n ast.Node, scheme string) (SchemeIndicator, int, bool) {
	line := nodeLine(n)
	fs, ok := sr.mapping(n, "an indicator of "+scheme, schemeIndicatorKeys)
	if !ok {
		return SchemeIndicator{}, line, false
	}
	var si SchemeIndicator
	r := sr.r
	f, ok := fs["indicator"]
	if !ok {
		sr.ps.add(SchemesFile, line, "an indicator of %s has no indicator: give its code", scheme)
		return si, line, false
	}
	line = f.line
	if si.Indicator, ok = sr.text(f, "indicator"); !ok {
		return si, line, false
	}
	good := true
	what := fmt.Sprintf("indicator %q of %s", analytics.Cut(si.Indicator), scheme)
	var in *Indicator
	if r.indicatorLine[si.Indicator] != 0 || r.derivedLine[si.Indicator] != 0 {
		in = r.d.indicator(si.Indicator)
	} else if r.indicatorsOK {
		codes := make([]string, len(r.d.Indicators))
		for i, in := range r.d.Indicators {
			codes[i] = in.Code
		}
		msg := fmt.Sprintf("unknown indicator %q in %s (not in %s or %s)", analytics.Cut(si.Indicator), scheme, IndicatorsFile, DerivedFile)
		if near := nearest(si.Indicator, codes); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		}
		sr.ps.add(SchemesFile, line, "%s", msg)
		good = false
	}
	opt := func(key string) *float64 {
		if f, ok := fs[key]; ok {
			x, ok := sr.number(f, key+" of "+what)
			if !ok {
				good = false
				return nil
			}
			return &x
		}
		return nil
	}
	weight := opt("weight")
	si.Points, si.Low, si.High, si.Target = opt("points"), opt("low"), opt("high"), opt("target")
	switch {
	case weight != nil && *weight <= 0:
		sr.ps.add(SchemesFile, fs["weight"].line, "weight of %s must be above 0, got %v (leave the indicator out to give it no weight)", what, *weight)
		good = false
	case weight != nil:
		si.Weight = *weight
	case si.Points != nil:
		si.Weight = *si.Points
	case fs["weight"].node == nil && fs["points"].node == nil:
		sr.ps.add(SchemesFile, line, "%s has neither weight nor points: give weight: (above 0), or points: (the weight is then the points)", what)
		good = false
	}
	if si.Points != nil && *si.Points <= 0 {
		sr.ps.add(SchemesFile, fs["points"].line, "points of %s must be above 0, got %v", what, *si.Points)
		good = false
	}
	switch {
	case (si.Low == nil) != (si.High == nil):
		l := fs["low"].line + fs["high"].line
		sr.ps.add(SchemesFile, l, "%s gives only one goalpost: give both low and high (low < high), or neither", what)
		good = false
	case si.Low != nil && *si.Low >= *si.High:
		sr.ps.add(SchemesFile, fs["low"].line, "goalposts of %s: low %v must be below high %v", what, *si.Low, *si.High)
		good = false
	}
	if f, ok := fs["category"]; ok {
		si.Category, ok = sr.text(f, "category of "+what)
		good = good && ok
	}
	if si.Category == "" && in != nil {
		si.Category = in.Category
	}
	if f, ok := fs["department"]; ok {
		si.Department, ok = sr.text(f, "department of "+what)
		good = good && ok
	}
	if f, ok := fs["from"]; ok {
		if si.From, ok = sr.whole(f, "from of "+what+" (the first year it counts)", 1, 9999); !ok {
			good = false
		}
	}
	if f, ok := fs["to"]; ok {
		if si.To, ok = sr.whole(f, "to of "+what+" (the last year it counts)", 1, 9999); !ok {
			good = false
		}
	}
	if si.From != 0 && si.To != 0 && si.From > si.To {
		sr.ps.add(SchemesFile, fs["from"].line, "%s: from %d is after to %d", what, si.From, si.To)
		good = false
	}
	var okb bool
	si.Basis, okb = word(sr, fs, "basis", "basis of "+what, analytics.BasisValue, analytics.BasisValue, analytics.BasisGrowth, analytics.BasisRankChange)
	good = good && okb
	si.Rule = analytics.PointsRule{Kind: analytics.PointsScaled}
	if f, ok := fs["rule"]; ok {
		if !sr.rule(&si, f, what) {
			good = false
		}
	}
	return si, line, good
}

func (sr *schemeReader) rule(si *SchemeIndicator, f field, what string) bool {
	fs, ok := sr.mapping(f.node, "the rule of "+what, ruleKeys)
	if !ok {
		return false
	}
	kind, ok := word(sr, fs, "kind", "kind of the rule of "+what, analytics.PointsScaled, analytics.PointsScaled, analytics.PointsTarget)
	if !ok {
		return false
	}
	si.Rule.Kind = kind
	good := true
	if si.Points == nil {
		sr.ps.add(SchemesFile, f.line, "the rule of %s turns a result into points, but the indicator has no points: give points: (the points available)", what)
		good = false
	}
	if kind == analytics.PointsScaled {
		for _, k := range ruleKeys[1:] {
			if g, ok := fs[k]; ok {
				sr.ps.add(SchemesFile, g.line, "%s belongs to a rule of kind target; a scaled rule earns points × normalised / 100 and takes no %s", k, k)
				good = false
			}
		}
		return good
	}
	si.Rule = analytics.PointsRule{Kind: kind, Met: 1, Missed: 0, Step: 0, Cap: 1}
	for key, dst := range map[string]*float64{"met": &si.Rule.Met, "missed": &si.Rule.Missed, "step": &si.Rule.Step, "cap": &si.Rule.Cap} {
		if g, ok := fs[key]; ok {
			x, ok := sr.number(g, key+" of the rule of "+what)
			if !ok {
				good = false
				continue
			}
			*dst = x
		}
	}
	ru, line := si.Rule, f.line
	switch {
	case ru.Cap <= 0:
		sr.ps.add(SchemesFile, line, "cap of the rule of %s must be above 0 (earned points are at most points × cap), got %v", what, ru.Cap)
		good = false
	case ru.Met < 0 || ru.Met > ru.Cap:
		sr.ps.add(SchemesFile, line, "met of the rule of %s must be from 0 to cap (%v): the share of the points earned when the target is met, got %v", what, ru.Cap, ru.Met)
		good = false
	case ru.Missed < 0 || ru.Missed > ru.Met:
		sr.ps.add(SchemesFile, line, "missed of the rule of %s must be from 0 to met (%v): the share of the points earned when the target is missed, got %v", what, ru.Met, ru.Missed)
		good = false
	case ru.Step < 0:
		sr.ps.add(SchemesFile, line, "step of the rule of %s must not be negative (points per unit of the target beaten, or missed), got %v", what, ru.Step)
		good = false
	}
	return good
}

// overlaps refuses one indicator twice in a scheme in the same year, and a year inside the scheme's span
// in which no indicator counts (its weights would sum to 0).
func (sr *schemeReader) overlaps(s *Scheme, lines []int, what string) bool {
	good := true
	open := func(y, def int) int {
		if y == 0 {
			return def
		}
		return y
	}
	for i, a := range s.Indicators {
		for j := range i {
			b := s.Indicators[j]
			if a.Indicator == b.Indicator && open(a.From, 0) <= open(b.To, 10000) && open(b.From, 0) <= open(a.To, 10000) {
				sr.ps.add(SchemesFile, lines[i], "indicator %q appears twice in %s for overlapping years (first on line %d): give each line from/to years that do not overlap", analytics.Cut(a.Indicator), what, lines[j])
				good = false
				break
			}
		}
	}
	// A year inside the span that no line covers starts right after a line ends and runs to right before
	// the next line starts.
	hi := 0
	for _, si := range s.Indicators {
		hi = max(hi, open(si.To, 10000))
	}
	covered := func(y int) bool {
		return slices.ContainsFunc(s.Indicators, func(si SchemeIndicator) bool { return open(si.From, 0) <= y && y <= open(si.To, 10000) })
	}
	var gaps []string
	seen := map[int]bool{}
	for _, si := range s.Indicators {
		a := si.To + 1
		if si.To == 0 || a >= hi || covered(a) || seen[a] {
			continue
		}
		seen[a] = true
		b := hi
		for _, o := range s.Indicators {
			if o.From > a {
				b = min(b, o.From-1)
			}
		}
		if a == b {
			gaps = append(gaps, strconv.Itoa(a))
		} else {
			gaps = append(gaps, fmt.Sprintf("%d–%d", a, b))
		}
	}
	slices.Sort(gaps)
	if len(gaps) > 0 {
		sr.ps.add(SchemesFile, lines[0], "no indicator of %s counts in %s, between years in which some do, so its weights sum to 0 there: make the from/to years of its lines meet", what, strings.Join(gaps, ", "))
		good = false
	}
	return good
}
