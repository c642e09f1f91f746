package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"pacesetter/analytics"
)

// Classes: a composite with classes is the composite run once per class with group set to it, the answers
// merged. So each class is planned by resolve itself (same checks, same scope rule as group:), and the
// merge only concatenates, class by class; nothing is ranked across classes.

// yearPlan is a composite's input resolved for one year: one part without classes, else one per class
// (groups[k] is part k's class), and the scope the classes are taken from (base), whose regions in none of
// the classes are listed as excluded.
type yearPlan struct {
	parts  []*plan
	groups []*analytics.Group // nil without classes
	base   *plan
}

// codes is the indicators (and formulas) of the year's lines, each once: every class scores the base's.
func (yp *yearPlan) codes() []string {
	var codes []string
	for _, pl := range yp.base.inds {
		if !slices.Contains(codes, pl.in.Code) {
			codes = append(codes, pl.in.Code)
		}
	}
	return codes
}

// resolveYear resolves a composite's input for q.Year, class by class when it has classes (its own, else
// its scheme's; [] none).
func (s *snapshot) resolveYear(q analytics.CompositeQuery) (*yearPlan, error) {
	plain := q
	plain.Classes = nil
	base, err := s.resolve(plain)
	if err != nil {
		return nil, err
	}
	codes := q.Classes
	if codes == nil && base.scheme != nil {
		codes = base.scheme.Classes
	}
	if len(codes) == 0 {
		return &yearPlan{parts: []*plan{base}, base: base}, nil
	}
	if q.Group != "" || q.Parent != "" || q.Regions != nil {
		return nil, analytics.Errorf(analytics.BadUserInput, "classes scores each class as the composite's group: give level at most beside classes, not group, parent or regions")
	}
	yp := &yearPlan{base: base}
	seen := map[string]bool{}
	for _, code := range codes {
		g, err := s.group(code)
		if err != nil {
			var ae *analytics.Error
			if errors.As(err, &ae) {
				return nil, analytics.Errorf(ae.Code, "classes lists %q, which is not a group: %s", analytics.Cut(code), ae.Message)
			}
			return nil, err
		}
		if seen[code] {
			return nil, analytics.Errorf(analytics.BadUserInput, "classes lists %q twice: give each class once", analytics.Cut(code))
		}
		seen[code] = true
		cq := plain
		cq.Group = code
		p, err := s.resolve(cq)
		if err != nil {
			return nil, err
		}
		yp.parts, yp.groups = append(yp.parts, p), append(yp.groups, g)
	}
	if err := yp.checkOverlap(q.Year); err != nil {
		return nil, err
	}
	return yp, nil
}

// checkOverlap refuses a region that is a member of two of the classes in year (at the scope's level):
// it would be scored twice.
func (yp *yearPlan) checkOverlap(year int) error {
	in := map[string]int{}
	for k, g := range yp.groups {
		level := yp.parts[k].scope.Level
		for _, r := range g.Members(&year) {
			if level != nil && (r.Level == nil || *r.Level != *level) {
				continue
			}
			if j, ok := in[r.Code]; ok {
				return analytics.Errorf(analytics.BadUserInput, "region %q is in two of the classes in %d, %q and %q: a region is scored in one class; list classes whose members do not overlap that year",
					r.Code, year, yp.groups[j].Code, g.Code)
			}
			in[r.Code] = k
		}
	}
	return nil
}

// classed says whether the plan scores classes.
func (yp *yearPlan) classed() bool { return yp.groups != nil }

// unclassed lists the regions of the base scope, with a value of one of the indicators that year, that
// are in none of the classes.
func (yp *yearPlan) unclassed(s *snapshot) []*analytics.CompositeExclusion {
	p := yp.base
	inClass := map[string]bool{}
	for _, g := range yp.groups {
		for _, r := range g.Members(&p.year) {
			inClass[r.Code] = true
		}
	}
	names := make([]string, len(yp.groups))
	for k, g := range yp.groups {
		names[k] = g.Code
	}
	seen := map[int]bool{}
	var out []*analytics.CompositeExclusion
	for _, pl := range p.inds {
		for _, r := range s.members(p.scope, pl.in.Code, p.year) {
			if region := s.Regions[r]; !seen[r] && !inClass[region.Code] {
				seen[r] = true
				out = append(out, &analytics.CompositeExclusion{Region: region,
					Reason: fmt.Sprintf("in none of the classes (%s) in %d", strings.Join(names, ", "), p.year)})
			}
		}
	}
	return out
}

// yearScored is a yearPlan computed: one scored per part (nil for a part the input cannot score).
type yearScored []*scored

// computeYear scores every part of a year's plan. must: a refusal is the answer's (the year asked for);
// otherwise a part that cannot be scored is nil.
func (e *Engine) computeYear(ctx context.Context, s *snapshot, yp *yearPlan, asOf *analytics.Date, must bool) (yearScored, error) {
	if yp == nil {
		return nil, nil
	}
	out := make(yearScored, len(yp.parts))
	for k, p := range yp.parts {
		var err error
		if must {
			out[k], err = e.compute(ctx, s, p, asOf)
		} else {
			out[k], err = e.computeIf(ctx, s, p, asOf)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// yearComposite is the answer of a year: its one part's composite, or the classes' merged. prev (nil:
// none) is the year before's, part by part of the same class; full false leaves out the breakdowns (composite).
func (e *Engine) yearComposite(ctx context.Context, s *snapshot, yp *yearPlan, cur, prev yearScored, asOf *analytics.Date, full bool) (*analytics.Composite, error) {
	parts := make([]*analytics.Composite, len(cur))
	for k, sc := range cur {
		var pv *scored
		if prev != nil && k < len(prev) {
			pv = prev[k]
		}
		if sc == nil {
			continue
		}
		c, err := e.composite(ctx, s, sc, pv, asOf, full)
		if err != nil {
			return nil, err
		}
		parts[k] = c
	}
	if !yp.classed() {
		return parts[0], nil
	}
	return mergeClasses(s, yp, parts), nil
}

// mergeClasses merges the classes' composites: entries class by class (each with its class), exclusions by
// region code, counts added up.
func mergeClasses(s *snapshot, yp *yearPlan, parts []*analytics.Composite) *analytics.Composite {
	var first *analytics.Composite
	for _, c := range parts {
		if c != nil {
			first = c
			break
		}
	}
	p := yp.base
	out := &analytics.Composite{Year: p.year, Period: p.period().String(), Scope: p.scope, Scheme: p.scheme, Normalisation: p.norm, Aggregation: p.agg,
		Missing: p.miss, MinWeightShare: p.opt.MinWeightShare, Ties: p.ties, Tiers: p.tiers, RankBy: p.rankBy,
		Classes: yp.groups, Entries: []*analytics.CompositeEntry{}, Excluded: yp.unclassed(s)}
	if first != nil {
		out.AsOf = first.AsOf
		for _, ci := range first.Indicators {
			c := *ci
			c.Count = 0
			out.Indicators = append(out.Indicators, &c)
		}
	}
	for k, c := range parts {
		if c == nil {
			continue
		}
		g := yp.groups[k]
		out.Count += c.Count
		for i, ci := range c.Indicators {
			if i < len(out.Indicators) {
				out.Indicators[i].Count += ci.Count
			}
		}
		for _, en := range c.Entries {
			en.Class, en.Whole = g, out
			for _, pg := range en.Departments {
				pg.Class = g
			}
			for _, pg := range en.Categories {
				pg.Class = g
			}
			out.Entries = append(out.Entries, en)
		}
		out.Excluded = append(out.Excluded, c.Excluded...)
	}
	if out.Indicators == nil {
		out.Indicators = []*analytics.CompositeIndicator{}
	}
	code := s.CodeOrder
	slices.SortStableFunc(out.Excluded, func(a, b *analytics.CompositeExclusion) int {
		return cmp.Compare(code[s.RegionAt[a.Region.Code]], code[s.RegionAt[b.Region.Code]])
	})
	return out
}
