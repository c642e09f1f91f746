package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"

	"pacesetter/analytics"
)

// Finding things by name: search, and the names NOT_FOUND suggests. Both rank a text against a thing's
// code, name and English name with one rule (matchOf), so what search finds first is what an error
// suggests.

// MaxSearch is the most hits search returns.
const MaxSearch = 100

// named is one thing a text may name: a region, group, indicator, category or department.
type named struct {
	kind   analytics.SearchKind
	code   string
	name   string
	nameEn *string
}

// things lists the things of the kinds asked (all for none), kinds in the order of analytics.SearchKinds,
// each kind in dataset order.
func (s *snapshot) things(kinds []analytics.SearchKind) []named {
	want := func(k analytics.SearchKind) bool { return len(kinds) == 0 || slices.Contains(kinds, k) }
	var out []named
	if want(analytics.SearchRegion) {
		for _, r := range s.Regions {
			out = append(out, named{analytics.SearchRegion, r.Code, r.Name, r.NameEn})
		}
	}
	if want(analytics.SearchGroup) {
		for _, g := range s.Groups {
			out = append(out, named{analytics.SearchGroup, g.Code, g.Name, g.NameEn})
		}
	}
	if want(analytics.SearchIndicator) {
		for _, in := range s.Indicators {
			out = append(out, named{analytics.SearchIndicator, in.Code, in.Name, in.NameEn})
		}
	}
	if want(analytics.SearchCategory) {
		for _, c := range s.allCategories() {
			l := s.Label(false, c)
			out = append(out, named{analytics.SearchCategory, c, l.Name, l.NameEn})
		}
	}
	if want(analytics.SearchDepartment) {
		for _, d := range s.departments() {
			l := s.Label(true, d)
			out = append(out, named{analytics.SearchDepartment, d, l.Name, l.NameEn})
		}
	}
	return out
}

// allCategories is the categories of indicators and of schemes' lines, each once, in that order.
func (s *snapshot) allCategories() []string {
	out := s.categories()
	for _, sc := range s.Schemes {
		for _, si := range sc.Indicators {
			if si.Category != "" && !slices.Contains(out, si.Category) {
				out = append(out, si.Category)
			}
		}
	}
	return out
}

// departments is the departments schemes name, each once, in file order.
func (s *snapshot) departments() []string {
	var out []string
	for _, sc := range s.Schemes {
		for _, si := range sc.Indicators {
			if si.Department != "" && !slices.Contains(out, si.Department) {
				out = append(out, si.Department)
			}
		}
	}
	return out
}

// matchOf is how text names a thing, the strongest way first: its code, its name (or English name)
// exactly, a prefix of either, a part of either (two characters or more), or a close spelling of either (an
// edit distance of at most a third of the text, at least 1); "" for none. Case is ignored.
func matchOf(text string, t named) analytics.SearchMatch {
	lt := strings.ToLower(strings.TrimSpace(text))
	if lt == "" {
		return ""
	}
	fields := []string{strings.ToLower(t.code), strings.ToLower(t.name)}
	if t.nameEn != nil {
		fields = append(fields, strings.ToLower(*t.nameEn))
	}
	if fields[0] == lt {
		return analytics.MatchCode
	}
	for _, f := range fields[1:] {
		if f == lt {
			return analytics.MatchName
		}
	}
	for _, f := range fields {
		if strings.HasPrefix(f, lt) {
			return analytics.MatchPrefix
		}
	}
	n := utf8.RuneCountInString(lt)
	if n >= 2 {
		for _, f := range fields {
			if strings.Contains(f, lt) {
				return analytics.MatchContains
			}
		}
	}
	if n > 64 {
		return "" // edit distance is quadratic: long texts only match as above
	}
	most := max(1, n/3)
	for _, f := range fields {
		if abs(utf8.RuneCountInString(f)-n) <= most && levenshtein.ComputeDistance(lt, f) <= most {
			return analytics.MatchClose
		}
	}
	return ""
}

var matchOrder = []analytics.SearchMatch{analytics.MatchCode, analytics.MatchName, analytics.MatchPrefix, analytics.MatchContains, analytics.MatchClose}

// find lists the things text names, strongest match first, then in the order of things; at most n.
func find(text string, things []named, n int) ([]named, []analytics.SearchMatch) {
	type hit struct {
		at int
		m  analytics.SearchMatch
	}
	var hits []hit
	for i, t := range things {
		if m := matchOf(text, t); m != "" {
			hits = append(hits, hit{i, m})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		return cmp.Compare(slices.Index(matchOrder, a.m), slices.Index(matchOrder, b.m))
	})
	// Close spellings only when nothing matches better: 江苏省 is one edit from 江西省, and 320000 from 310000.
	if len(hits) > 0 && hits[0].m != analytics.MatchClose {
		hits = slices.DeleteFunc(hits, func(h hit) bool { return h.m == analytics.MatchClose })
	}
	hits = hits[:min(n, len(hits))]
	out, ms := make([]named, len(hits)), make([]analytics.SearchMatch, len(hits))
	for i, h := range hits {
		out[i], ms[i] = things[h.at], h.m
	}
	return out, ms
}

// Search finds regions, groups, indicators, categories and departments by code, Chinese or English name,
// prefix, part or close spelling.
func (e *Engine) Search(ctx context.Context, q analytics.SearchQuery) ([]*analytics.SearchHit, error) {
	switch {
	case strings.TrimSpace(q.Text) == "":
		return nil, analytics.Errorf(analytics.BadUserInput, "text is empty: give a code or a name, or part of one")
	case utf8.RuneCountInString(q.Text) > 200:
		return nil, analytics.Errorf(analytics.BadUserInput, "text is %d characters long: give at most 200", utf8.RuneCountInString(q.Text))
	case q.First < 1 || q.First > MaxSearch:
		return nil, analytics.Errorf(analytics.BadUserInput, "first is %d: give 1 to %d", q.First, MaxSearch)
	}
	s := e.snap.Load()
	found, ms := find(q.Text, s.things(q.Kinds), q.First)
	out := make([]*analytics.SearchHit, len(found))
	for i, t := range found {
		out[i] = &analytics.SearchHit{Kind: t.kind, Code: t.code, Name: t.name, NameEn: t.nameEn, Match: ms[i]}
	}
	return out, nil
}

// byName suggests, for a code that is nothing's, the things whose name it is, begins or is part of (at
// most three, as `"320000" (江苏省)`); nil when none.
func byName(text string, things []named) []string {
	found, ms := find(text, things, 3)
	var out []string
	for i, t := range found {
		if ms[i] == analytics.MatchClose || ms[i] == analytics.MatchCode {
			continue // close spellings of codes are unknown's own suggestion
		}
		lt := strings.ToLower(strings.TrimSpace(text))
		if strings.Contains(strings.ToLower(t.code), lt) {
			out = append(out, strconv.Quote(t.code)) // found by its code: "fiscal_revenu" for fiscal_revenue
			continue
		}
		label := t.name
		if t.nameEn != nil && strings.Contains(strings.ToLower(*t.nameEn), lt) {
			label = *t.nameEn
		}
		out = append(out, fmt.Sprintf("%s (%s)", strconv.Quote(t.code), label))
	}
	return out
}

// unknownNamed is unknown's NOT_FOUND, suggesting first the things the text names by name.
func unknownNamed(what, code, query string, things []named) error {
	err := unknown(what, code, query, len(things), func(i int) string { return things[i].code })
	names := byName(code, things)
	if len(names) == 0 {
		return err
	}
	e := err.(*analytics.Error)
	msg := fmt.Sprintf("unknown %s %q (did you mean %s?)", what, analytics.Cut(code), strings.Join(names, " or "))
	if i := strings.Index(e.Message, "; "); i >= 0 {
		msg += e.Message[i:]
	}
	return analytics.Errorf(analytics.NotFound, "%s", msg)
}
