package duck

import (
	"context"
	"math"

	"pacesetter/analytics"
	"pacesetter/analytics/assess"
	"pacesetter/analytics/calc"
)

// pointsTable is what a points scheme earns: per scored region (by its index in scored.members) and
// indicator, the points earned, and per department and category the totals ranked across the scope.
type pointsTable struct {
	plan     *plan
	earned   [][]float64 // [member][indicator]; NaN for an indicator without points
	status   [][]*analytics.TargetStatus
	depts    []map[string]*analytics.DepartmentPoints // [member]
	cats     []map[string]*analytics.CategoryPoints
	scored   []bool
	total    []float64
	avail    float64
	deptKeys []string // departments in the order of the scheme's indicators
	catKeys  []string
}

// points computes a composite's points, or nil when no indicator of the plan has points. An indicator whose
// rule is scaled earns points × normalised/100 (normalised clipped to [0, 100]); a target rule earns by the
// region's target of that indicator and year (see assess.PointsEarned); a region without a value, or without
// a target to judge, earns 0.
func (e *Engine) points(ctx context.Context, s *snapshot, sc *scored, asOf *analytics.Date) (*pointsTable, error) {
	p := sc.plan
	has := false
	for _, pl := range p.inds {
		has = has || pl.points != nil
	}
	if !has {
		return nil, nil
	}
	n := len(sc.members)
	t := &pointsTable{plan: p, earned: make([][]float64, n), status: make([][]*analytics.TargetStatus, n),
		depts: make([]map[string]*analytics.DepartmentPoints, n), cats: make([]map[string]*analytics.CategoryPoints, n),
		scored: make([]bool, n), total: make([]float64, n)}
	seenD, seenC := map[string]bool{}, map[string]bool{}
	for _, pl := range p.inds {
		if pl.points == nil {
			continue
		}
		t.avail += *pl.points
		if d := strOf(pl.department); d != "" && !seenD[d] {
			seenD[d] = true
			t.deptKeys = append(t.deptKeys, d)
		}
		if c := strOf(pl.category); c != "" && !seenC[c] {
			seenC[c] = true
			t.catKeys = append(t.catKeys, c)
		}
	}
	outcomes, err := e.targetOutcomes(ctx, s, sc, asOf)
	if err != nil {
		return nil, err
	}
	for k := range sc.members {
		en := &sc.result.Entries[k]
		if en.Excluded != "" {
			continue
		}
		t.scored[k] = true
		t.earned[k] = make([]float64, len(p.inds))
		t.status[k] = make([]*analytics.TargetStatus, len(p.inds))
		t.depts[k], t.cats[k] = map[string]*analytics.DepartmentPoints{}, map[string]*analytics.CategoryPoints{}
		for i, pl := range p.inds {
			if pl.points == nil {
				t.earned[k][i] = math.NaN()
				continue
			}
			earned := 0.0
			norm := en.Components[i].Normalised
			switch {
			case pl.rule != nil && pl.rule.Kind == analytics.PointsTarget:
				if o := outcomes[i][k]; o != nil {
					st := o.Status
					t.status[k][i] = &st
					margin := 0.0
					if o.Actual != nil {
						margin = assess.TargetMargin(o.Comparator, *o.Actual, o.Target)
					}
					if v, ok := assess.PointsEarned(*pl.rule, *pl.points, norm, o.Status, margin); ok {
						earned = v
					}
				}
			case !math.IsNaN(norm):
				// Clipped to [0, 100] so that a scale beyond it (Z_SCORE, RANK) never earns more than the
				// points available or less than none.
				earned = *pl.points * min(max(norm, 0), 100) / 100
			}
			earned = calc.Round12(earned)
			t.earned[k][i] = earned
			t.total[k] += earned
			if d := strOf(pl.department); d != "" {
				dp := t.depts[k][d]
				if dp == nil {
					dp = &analytics.DepartmentPoints{Region: s.regions[sc.members[k]], Department: d}
					t.depts[k][d] = dp
				}
				dp.Indicators++
				dp.Available += *pl.points
				dp.Earned += earned
			}
			if c := strOf(pl.category); c != "" {
				cp := t.cats[k][c]
				if cp == nil {
					cp = &analytics.CategoryPoints{Region: s.regions[sc.members[k]], Category: c}
					t.cats[k][c] = cp
				}
				cp.Indicators++
				cp.Available += *pl.points
				cp.Earned += earned
			}
		}
		t.total[k] = calc.Round12(t.total[k])
	}
	// Rank each department (and category) among the same department of every region scored, most first.
	for _, d := range t.deptKeys {
		var list []*analytics.DepartmentPoints
		for k := range sc.members {
			if dp := t.depts[k][d]; dp != nil {
				dp.Earned, dp.Available = calc.Round12(dp.Earned), calc.Round12(dp.Available)
				list = append(list, dp)
			}
		}
		rankPoints(list, func(x *analytics.DepartmentPoints) float64 { return x.Earned },
			func(x *analytics.DepartmentPoints, r, n int) { x.Rank, x.Count = r, n })
	}
	for _, c := range t.catKeys {
		var list []*analytics.CategoryPoints
		for k := range sc.members {
			if cp := t.cats[k][c]; cp != nil {
				cp.Earned, cp.Available = calc.Round12(cp.Earned), calc.Round12(cp.Available)
				list = append(list, cp)
			}
		}
		rankPoints(list, func(x *analytics.CategoryPoints) float64 { return x.Earned },
			func(x *analytics.CategoryPoints, r, n int) { x.Rank, x.Count = r, n })
	}
	t.avail = calc.Round12(t.avail)
	return t, nil
}

// rankPoints gives competition ranks by earned points, most first.
func rankPoints[T any](list []T, earned func(T) float64, set func(T, int, int)) {
	vals := make([]float64, len(list))
	for i, x := range list {
		vals[i] = earned(x)
	}
	ranks := calc.Ranks(vals, 1, analytics.Competition)
	for i, x := range list {
		set(x, ranks[i], len(list))
	}
}

// fill writes region k's points into its composite entry.
func (t *pointsTable) fill(out *analytics.CompositeEntry, k int) {
	if !t.scored[k] {
		return
	}
	total, avail := t.total[k], t.avail
	out.Points, out.PointsAvailable = &total, &avail
	for i := range t.plan.inds {
		if e := t.earned[k][i]; !math.IsNaN(e) {
			out.Breakdown[i].Points = &e
			out.Breakdown[i].Target = t.status[k][i]
		}
	}
	for _, d := range t.deptKeys {
		if dp := t.depts[k][d]; dp != nil {
			out.Departments = append(out.Departments, dp)
		}
	}
	for _, c := range t.catKeys {
		if cp := t.cats[k][c]; cp != nil {
			out.Categories = append(out.Categories, cp)
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
			if t := s.ruleTarget(s.regions[r].Code, pl.in.Code, p.year); t != nil {
				out[i][k] = o.of(t)
			}
		}
	}
	return out, nil
}
