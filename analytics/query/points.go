package query

import (
	"context"
	"math"
	"slices"

	"pacesetter/analytics"
	"pacesetter/analytics/assess"
	"pacesetter/analytics/calc"
)

// pointsTable is what a points scheme earns: per scored region (by its index in scored.members) and
// indicator, the points earned, and per department and per category the totals ranked across the scope.
type pointsTable struct {
	plan   *plan
	earned [][]float64 // [member][indicator]; NaN for an indicator without points
	status [][]*analytics.TargetStatus
	scored []bool
	total  []float64
	avail  float64
	by     [2]grouping // by department, by category
}

// grouping adds points up by one name of each indicator (its department, or its category).
type grouping struct {
	name   func(planned) string
	keys   []string                            // the names in the order of the scheme's indicators
	groups []map[string]*analytics.PointsGroup // [member]
	earned []map[string][]float64              // [member]: the lines' points, not rounded, summed once
}

// withPoints is the plan's options with the points each line earns (assess.Options.Earn) when a line
// scores points: an indicator whose rule is scaled earns points × normalised/100 (normalised clipped to
// [0, 100]); a target rule earns by the region's target of that indicator and year (see
// assess.PointsEarned); a region without a value, or without a target to judge, earns 0. The target
// outcomes are read here (they need the values), and kept in sc for the breakdown's status.
func (e *Engine) withPoints(ctx context.Context, s *snapshot, sc *scored, asOf *analytics.Date) (assess.Options, error) {
	p, opt := sc.plan, sc.plan.opt
	if !p.hasPoints() {
		return opt, nil
	}
	outcomes, err := e.targetOutcomes(ctx, s, sc, asOf)
	if err != nil {
		return opt, err
	}
	sc.outcomes = outcomes
	opt.Earn = func(norm [][]float64) [][]float64 {
		out := make([][]float64, len(p.inds))
		for i, pl := range p.inds {
			out[i] = make([]float64, len(sc.members))
			for k := range sc.members {
				if pl.points == nil {
					out[i][k] = math.NaN()
					continue
				}
				var o *analytics.TargetResult
				if outcomes[i] != nil {
					o = outcomes[i][k]
				}
				out[i][k], _ = pointsEarned(pl, norm[i][k], o)
			}
		}
		return out
	}
	return opt, nil
}

// points gathers a composite's points, or nil when no indicator of the plan has points: each line's
// earned (as assess.Compute had them from withPoints), each region's total (summed exactly, rounded
// once), and per department and per category the totals (likewise) ranked across the scope.
func points(s *snapshot, sc *scored) *pointsTable {
	p := sc.plan
	if !p.hasPoints() || sc.result.Earned == nil {
		return nil
	}
	n := len(sc.members)
	t := &pointsTable{plan: p, earned: make([][]float64, n), status: make([][]*analytics.TargetStatus, n),
		scored: make([]bool, n), total: make([]float64, n), by: [2]grouping{
			{name: func(pl planned) string { return strOf(pl.department) }},
			{name: func(pl planned) string { return strOf(pl.category) }}}}
	for g := range t.by {
		by := &t.by[g]
		by.groups = make([]map[string]*analytics.PointsGroup, n)
		by.earned = make([]map[string][]float64, n)
		for _, pl := range p.inds {
			if name := by.name(pl); pl.points != nil && name != "" && !slices.Contains(by.keys, name) {
				by.keys = append(by.keys, name)
			}
		}
	}
	var avail []float64
	for _, pl := range p.inds {
		if pl.points != nil {
			avail = append(avail, *pl.points)
		}
	}
	t.avail = calc.Sum12(avail)
	for k := range sc.members {
		en := &sc.result.Entries[k]
		if en.Excluded != "" {
			continue
		}
		t.scored[k] = true
		t.total[k] = en.Points
		t.earned[k] = make([]float64, len(p.inds))
		t.status[k] = make([]*analytics.TargetStatus, len(p.inds))
		for g := range t.by {
			t.by[g].groups[k] = map[string]*analytics.PointsGroup{}
			t.by[g].earned[k] = map[string][]float64{}
		}
		for i, pl := range p.inds {
			earned := sc.result.Earned[i][k]
			t.earned[k][i] = calc.Round12(earned) // NaN stays NaN: a line without points
			if pl.points == nil {
				continue
			}
			if sc.outcomes[i] != nil {
				_, t.status[k][i] = pointsEarned(pl, en.Components[i].Normalised, sc.outcomes[i][k])
			}
			for g := range t.by {
				name := t.by[g].name(pl)
				if name == "" {
					continue
				}
				pg := t.by[g].groups[k][name]
				if pg == nil {
					pg = &analytics.PointsGroup{Region: s.Regions[sc.members[k]], Name: name, Label: s.Label(g == 0, name)} // g 0: by department
					t.by[g].groups[k][name] = pg
				}
				pg.Indicators++
				pg.Available += *pl.points
				t.by[g].earned[k][name] = append(t.by[g].earned[k][name], earned)
			}
		}
	}
	t.rankGroups(n)
	return t
}

// pointsEarned is what one line earns a region whose normalised value is norm: by its target's outcome o
// (nil: no target to judge, no points) under a target rule, else points × norm/100 with norm clipped to
// [0, 100], so that a scale beyond it (Z_SCORE, RANK) never earns more than the points available or less
// than none. A target rule also gives the status judged.
func pointsEarned(pl planned, norm float64, o *analytics.TargetResult) (float64, *analytics.TargetStatus) {
	switch {
	case pl.rule != nil && pl.rule.Kind == analytics.PointsTarget:
		if o == nil {
			return 0, nil
		}
		st := o.Status
		margin := 0.0
		if o.Actual != nil {
			margin = assess.TargetMargin(o.Comparator, *o.Actual, o.Target)
		}
		if v, ok := assess.PointsEarned(*pl.rule, *pl.points, norm, o.Status, margin); ok {
			return v, &st
		}
		return 0, &st
	case !math.IsNaN(norm):
		return *pl.points * min(max(norm, 0), 100) / 100, nil
	}
	return 0, nil
}

// rankGroups ranks each department (category) among the same department of every region scored, most
// first.
func (t *pointsTable) rankGroups(n int) {
	for _, by := range t.by {
		for _, name := range by.keys {
			var list []*analytics.PointsGroup
			var earned []float64
			for k := range n {
				if pg := by.groups[k][name]; pg != nil {
					pg.Earned, pg.Available = calc.Sum12(by.earned[k][name]), calc.Round12(pg.Available)
					list, earned = append(list, pg), append(earned, pg.Earned)
				}
			}
			for i, r := range calc.Ranks(earned, 1, analytics.Competition) {
				list[i].Rank, list[i].Count = r, len(list)
			}
		}
	}
}

// fill writes region k's points into its composite entry (into its breakdown where it has one).
func (t *pointsTable) fill(out *analytics.CompositeEntry, k int) {
	if !t.scored[k] {
		return
	}
	total, avail := t.total[k], t.avail
	out.Points, out.PointsAvailable = &total, &avail
	for i := range t.plan.inds {
		if i >= len(out.Breakdown) {
			break // a history's lean entry has no breakdown (composite's full)
		}
		if e := t.earned[k][i]; !math.IsNaN(e) {
			out.Breakdown[i].Points = &e
			out.Breakdown[i].Target = t.status[k][i]
		}
	}
	for g, into := range []*[]*analytics.PointsGroup{&out.Departments, &out.Categories} {
		for _, name := range t.by[g].keys {
			if pg := t.by[g].groups[k][name]; pg != nil {
				*into = append(*into, pg)
			}
		}
	}
}

func strOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// targetOutcomes is, per indicator of the plan with a TARGET points rule and per member scored, the outcome
// of the target the rule judges by (nil where targets.csv sets none).
func (e *Engine) targetOutcomes(ctx context.Context, s *snapshot, sc *scored, asOf *analytics.Date) ([][]*analytics.TargetResult, error) {
	p := sc.plan
	out := make([][]*analytics.TargetResult, len(p.inds))
	var codes []string
	for _, pl := range p.inds {
		if pl.points != nil && pl.rule != nil && pl.rule.Kind == analytics.PointsTarget {
			codes = append(codes, pl.in.Code)
		}
	}
	if len(codes) == 0 {
		return out, nil
	}
	ms, err := e.matrices(ctx, s, nil, codes...) // targets are judged on the newest values, as the targets query does
	if err != nil {
		return nil, err
	}
	o := newOutcomes(s, ms)
	for i, pl := range p.inds {
		if pl.points == nil || pl.rule == nil || pl.rule.Kind != analytics.PointsTarget {
			continue
		}
		out[i] = make([]*analytics.TargetResult, len(sc.members))
		for k, r := range sc.members {
			if t := s.ruleTarget(s.Regions[r].Code, pl.in.Code, p.year); t != nil {
				out[i][k] = o.of(t)
			}
		}
	}
	return out, nil
}
