package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"pacesetter/analytics"
	"pacesetter/analytics/assess"
	"pacesetter/analytics/duck"
)

// targetsRequest is what a targets answer depends on once Year has become From and To: a year asked as
// year or as from and to is one question. It is the targets plan's key.
type targetsRequest struct {
	Region, Indicator string
	From, To          *int
	Group, Scheme     string
	Extra             []analytics.TargetSpec `json:",omitempty"`
	Period            *analytics.Period      `json:",omitempty"`
}

// targetsPlan is a targets request checked and resolved against the catalog: its key, and the region,
// indicator, group and scheme it keeps targets of (nil where it names none).
type targetsPlan struct {
	req    targetsRequest
	region *analytics.Region
	in     *analytics.Indicator
	group  *analytics.Group
	scheme *analytics.Scheme
}

// planTargets checks a targets request against the catalog and resolves it; no I/O.
func planTargets(s *snapshot, q analytics.TargetQuery) (*targetsPlan, error) {
	p := &targetsPlan{}
	var err error
	if q.Region != "" {
		if p.region, err = s.region(q.Region); err != nil {
			return nil, err
		}
	}
	if q.Indicator != "" {
		if p.in, err = s.indicator(q.Indicator); err != nil {
			return nil, err
		}
	}
	if q.Group != "" {
		if p.group, err = s.group(q.Group); err != nil {
			return nil, err
		}
	}
	if q.Scheme != "" {
		if p.scheme, err = s.scheme(q.Scheme); err != nil {
			return nil, err
		}
	}
	if q.Year != nil && (q.From != nil || q.To != nil) {
		return nil, analytics.Errorf(analytics.BadUserInput, "give year, or from and to, not both: year keeps one year, from and to a span")
	}
	for _, y := range []*int{q.Year, q.From, q.To} {
		if y != nil {
			if err := checkYear(*y); err != nil {
				return nil, err
			}
		}
	}
	if q.From != nil && q.To != nil && *q.From > *q.To {
		return nil, analytics.Errorf(analytics.BadUserInput, "from %d is after to %d", *q.From, *q.To)
	}
	if q.Period != nil {
		switch {
		case q.From != nil || q.To != nil:
			return nil, analytics.Errorf(analytics.BadUserInput, "period measures progress within one year: give it with year (or alone), not with from and to")
		case q.Year != nil && *q.Year != q.Period.Year:
			return nil, analytics.Errorf(analytics.BadUserInput, "period %s is not in year %d: give a period of the target's year", q.Period, *q.Year)
		}
		y := q.Period.Year
		q.Year = &y
	}
	if q.Year != nil {
		q.From, q.To = q.Year, q.Year
	}
	p.req = targetsRequest{q.Region, q.Indicator, q.From, q.To, q.Group, q.Scheme, q.Extra, q.Period}
	return p, nil
}

// Targets answers the targets of targets.csv that q keeps, each with its actual (from the values held in
// memory, as rankings read them), status, attainment, gap and streak; the rules are analytics/assess's.
func (e *Engine) Targets(ctx context.Context, q analytics.TargetQuery) ([]*analytics.TargetResult, error) {
	s, err := e.snap.Load().withTargets("extra", q.Extra)
	if err != nil {
		return nil, err
	}
	p, err := planTargets(s, q)
	if err != nil {
		return nil, err
	}
	return cached(e, s, keyOf("targets", p.req), func() ([]*analytics.TargetResult, error) { return e.targets(ctx, s, p) })
}

// keeps says whether the plan keeps target t.
func (p *targetsPlan) keeps(t *analytics.Target) bool {
	y := t.Year
	return !(p.region != nil && t.Region != p.region || p.in != nil && t.Indicator != p.in ||
		p.req.From != nil && y < *p.req.From || p.req.To != nil && y > *p.req.To ||
		p.group != nil && !t.Region.InGroup(p.group, &y) || p.scheme != nil && p.scheme.Indicator(t.Indicator.Code, y) == nil)
}

// targets reads the values of the kept targets' indicators and judges each target, in the order of
// region, indicator, year and kind.
func (e *Engine) targets(ctx context.Context, s *snapshot, p *targetsPlan) ([]*analytics.TargetResult, error) {
	var kept []*analytics.Target
	codes := []string{}
	for _, t := range s.Targets {
		if !p.keeps(t) {
			continue
		}
		kept = append(kept, t)
		if !slices.Contains(codes, t.Indicator.Code) {
			codes = append(codes, t.Indicator.Code)
		}
	}
	out := make([]*analytics.TargetResult, 0, len(kept))
	if len(kept) == 0 {
		return out, nil
	}
	ms, err := e.matrices(ctx, s, nil, codes...)
	if err != nil {
		return nil, err
	}
	o := newOutcomes(s, ms)
	for _, t := range kept {
		res := o.of(t)
		if p.req.Period != nil {
			c := *res // o's results are shared by the streaks; progress is this request's
			c.Warnings = []*analytics.Warning{}
			o.progress(&c, t, *p.req.Period)
			res = &c
		}
		out = append(out, res)
	}
	kinds := []analytics.TargetKind{analytics.TargetLevel, analytics.TargetGrowth, analytics.TargetRank}
	slices.SortFunc(out, func(a, b *analytics.TargetResult) int {
		return cmp.Or(cmp.Compare(s.RegionAt[a.Region.Code], s.RegionAt[b.Region.Code]),
			cmp.Compare(s.IndicatorAt[a.Indicator.Code], s.IndicatorAt[b.Indicator.Code]), cmp.Compare(a.Year, b.Year),
			cmp.Compare(slices.Index(kinds, a.Kind), slices.Index(kinds, b.Kind)))
	})
	return out, nil
}

// outcomes computes targets' results for one request, each once: a streak looks back at the years before.
type outcomes struct {
	s      *snapshot
	ms     map[string]*duck.Matrix
	ranked map[rankKey]*rankedYear
	done   map[*analytics.Target]*analytics.TargetResult
}

// newOutcomes computes targets' results over ms, which must hold the matrix of every target's indicator
// (nil for one without values).
func newOutcomes(s *snapshot, ms map[string]*duck.Matrix) *outcomes {
	return &outcomes{s: s, ms: ms, ranked: map[rankKey]*rankedYear{}, done: map[*analytics.Target]*analytics.TargetResult{}}
}

// ruleTarget is the target a TARGET points rule judges a region's result on an indicator in a year by: its
// LEVEL target, else its GROWTH target, else its RANK target; nil when targets.csv sets none.
func (s *snapshot) ruleTarget(region, indicator string, year int) *analytics.Target {
	for _, k := range []analytics.TargetKind{analytics.TargetLevel, analytics.TargetGrowth, analytics.TargetRank} {
		if t := s.target(region, indicator, year, k); t != nil {
			return t
		}
	}
	return nil
}

// rankKey names the ranking a rank target reads.
type rankKey struct {
	indicator, group, level string
	year                    int
}

func (o *outcomes) of(t *analytics.Target) *analytics.TargetResult {
	if res := o.done[t]; res != nil {
		return res
	}
	s, in := o.s, t.Indicator
	res := &analytics.TargetResult{Region: t.Region, Indicator: in, Year: t.Year, Kind: t.Kind, Comparator: t.Comparator,
		Target: t.Value, Group: t.Group, Unit: TargetUnit(t.Kind, in), Warnings: []*analytics.Warning{}}
	res.Actual = o.actual(t)
	res.Status = assess.TargetStatus(t.Comparator, res.Actual, t.Value)
	if res.Actual != nil {
		if a, ok := assess.TargetAttainment(t.Comparator, *res.Actual, t.Value); ok {
			res.Attainment = &a
		}
		if g, ok := assess.TargetGap(*res.Actual, t.Value); ok {
			res.Gap = &g
		}
	}
	if res.Status == analytics.Met {
		res.Streak = 1
		if prev := s.target(t.Region.Code, in.Code, t.Year-1, t.Kind); prev != nil {
			res.Streak += o.of(prev).Streak
		}
	}
	o.done[t] = res
	return res
}

// annualValue is a region's value of an indicator for a whole calendar year: an annual indicator's own; for
// a quarterly or monthly one the last period's year-to-date total (cumulative) or the sum or mean of every
// period of the year (by rollup; all of them present). ok is false when there is none.
func annualValue(in *analytics.Indicator, m *duck.Matrix, r, year int) (float64, bool) {
	n := in.PerYear()
	if n == 1 {
		x, _, ok := m.Get(r, year)
		return x, ok
	}
	if in.Cumulative {
		x, _, ok := m.Get(r, analytics.OrdOf(in.Freq(), year, n))
		return x, ok
	}
	if in.Rollup != analytics.RollupSum && in.Rollup != analytics.RollupMean {
		return 0, false
	}
	sum, ok := ytdSum(in, m, r, year, n)
	if ok && in.Rollup == analytics.RollupMean {
		sum /= float64(n)
	}
	return sum, ok
}

// ytdSum is the sum of a flow's periods 1…p of a year; ok false when one is missing.
func ytdSum(in *analytics.Indicator, m *duck.Matrix, r, year, p int) (float64, bool) {
	sum := 0.0
	for q := 1; q <= p; q++ {
		x, _, ok := m.Get(r, analytics.OrdOf(in.Freq(), year, q))
		if !ok {
			return 0, false
		}
		sum += x
	}
	return sum, true
}

// progress fills res's year-to-date progress toward target t up to period p (assess.GrowthProgress and
// LevelProgress), or a warning saying why it is null.
func (o *outcomes) progress(res *analytics.TargetResult, t *analytics.Target, p analytics.Period) {
	in := t.Indicator
	ps := p.String()
	res.Period = &ps
	warn := func(format string, args ...any) {
		res.Warnings = append(res.Warnings, &analytics.Warning{Indicator: in, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case t.Kind == analytics.TargetRank:
		warn("progress is for LEVEL and GROWTH targets; a RANK target has none")
		return
	case in.PerYear() == 1:
		warn("%s is annual: progress within the year needs its quarterly or monthly values", in.Code)
		return
	case in.Freq() != p.Freq:
		warn("%s is %s, so period %s says nothing of its progress: ask a %s period", in.Code, freqName(in.Freq()), ps, freqName(in.Freq()))
		return
	case in.Measure != analytics.Level || !in.Cumulative && in.Rollup != analytics.RollupSum:
		warn("%s has no meaningful year-to-date total: progress needs a cumulative indicator or a LEVEL flow whose rollup is SUM", in.Code)
		return
	}
	m := o.ms[in.Code]
	r := o.s.RegionAt[t.Region.Code]
	ytd := func(year int) (float64, bool) {
		if in.Cumulative {
			x, _, ok := m.Get(r, analytics.OrdOf(in.Freq(), year, p.Sub))
			return x, ok
		}
		return ytdSum(in, m, r, year, p.Sub)
	}
	cur, ok := ytd(p.Year)
	if !ok {
		warn("%s has no year-to-date value of %s at %s yet (a period missing)", t.Region.Code, in.Code, ps)
		return
	}
	var pr assess.Progress
	if t.Kind == analytics.TargetLevel {
		pr = assess.LevelProgress(t.Comparator, t.Value, cur)
	} else {
		prev, ok := ytd(p.Year - 1)
		if !ok {
			warn("%s has no year-to-date value of %s at %s a year earlier", t.Region.Code, in.Code, in.Period(p.Ord()-in.PerYear()))
			return
		}
		whole, hasWhole := annualValue(in, m, r, p.Year-1)
		last := p.Sub == in.PerYear()
		pr = assess.GrowthProgress(t.Comparator, t.Value, cur, prev, whole, last || !hasWhole)
		switch {
		case last:
			warn("requiredRestOfYear is null: %s is the year's last period, nothing of the year remains", ps)
		case !hasWhole:
			warn("requiredRestOfYear is null: %s has no whole-year value of %s in %d", t.Region.Code, in.Code, p.Year-1)
		case !pr.HasRequired:
			warn("requiredRestOfYear is null: the same months of %d add up to 0", p.Year-1)
		}
		if !pr.HasProgress {
			warn("progress is null: the year-to-date total a year earlier is not above 0")
		}
	}
	if pr.HasProgress {
		res.Progress, res.OnTrack = &pr.Progress, &pr.OnTrack
	}
	if pr.HasRequired {
		res.RequiredRestOfYear = &pr.Required
	}
}

// actual is what the target is judged on; nil while there is none.
func (o *outcomes) actual(t *analytics.Target) *float64 {
	s, in := o.s, t.Indicator
	m := o.ms[in.Code] // nil for an indicator without values: every actual is then pending
	// A streak looks at the same region, indicator and kind a year before: the same matrix.
	r := s.RegionAt[t.Region.Code]
	var v float64
	switch t.Kind {
	case analytics.TargetLevel:
		x, ok := annualValue(in, m, r, t.Year)
		if !ok {
			return nil
		}
		v = x
	case analytics.TargetGrowth:
		x, ok := annualValue(in, m, r, t.Year)
		if !ok {
			return nil
		}
		prev, hasPrev := annualValue(in, m, r, t.Year-1)
		g, ok := assess.TargetGrowth(in.Measure, x, prev, hasPrev)
		if !ok {
			return nil
		}
		v = g
	case analytics.TargetRank:
		k := rankKey{indicator: in.Code, year: t.Year}
		sc := &analytics.Scope{Kind: analytics.ScopeAll, Level: t.Region.Level}
		if t.Group != nil {
			sc = &analytics.Scope{Kind: analytics.ScopeGroup, Group: t.Group}
			k.group = t.Group.Code
		} else if t.Region.Level != nil {
			k.level = *t.Region.Level
		}
		ry := o.ranked[k]
		if ry == nil {
			// A quarterly or monthly indicator is ranked on its year's last period.
			ry = rankYear(s, m, in, analytics.ByValue, s.members(sc, in.Code, t.Year), analytics.OrdOf(in.Freq(), t.Year, in.PerYear()))
			o.ranked[k] = ry
		}
		en := ry.entry(r)
		if en == nil {
			return nil
		}
		v = float64(en.rankC)
	}
	return &v
}

// TargetUnit is the unit of a target's value, actual and gap: the indicator's for a LEVEL target; percent
// for a GROWTH target, or points of the indicator's unit when it is a RATE (a change in a share is in
// points); places for a RANK.
func TargetUnit(k analytics.TargetKind, in *analytics.Indicator) string {
	switch {
	case k == analytics.TargetLevel:
		return in.Unit
	case k == analytics.TargetRank:
		return "rank"
	case in.Measure == analytics.Rate:
		return "points (" + in.Unit + ")"
	}
	return "%"
}

// MaxExtraTargets bounds the targets a request may give.
const MaxExtraTargets = 10000

// withTargets is the snapshot with the request's targets added to targets.csv's, one of the same region,
// indicator, year and kind replacing the file's; the snapshot itself when there are none. Only the
// targets differ: values, matrices and cache keys (which hold the request, and so its targets) are shared.
func (s *snapshot) withTargets(field string, extra []analytics.TargetSpec) (*snapshot, error) {
	if len(extra) == 0 {
		return s, nil
	}
	if len(extra) > MaxExtraTargets {
		return nil, analytics.Errorf(analytics.BadUserInput, "%s gives %d targets; at most %d may be given", field, len(extra), MaxExtraTargets)
	}
	c := *s.Catalog
	c.TargetBy = make(map[duck.TargetKey]*analytics.Target, len(s.TargetBy)+len(extra))
	for k, t := range s.TargetBy {
		c.TargetBy[k] = t
	}
	added := make([]*analytics.Target, 0, len(extra))
	given := make(map[duck.TargetKey]bool, len(extra))
	for i, x := range extra {
		t, err := s.targetOf(x)
		if err != nil {
			var ae *analytics.Error
			if errors.As(err, &ae) {
				return nil, analytics.Errorf(ae.Code, "%s[%d]: %s", field, i, ae.Message)
			}
			return nil, err
		}
		k := duck.TargetKey{Region: t.Region.Code, Indicator: t.Indicator.Code, Year: t.Year, Kind: t.Kind}
		if given[k] {
			return nil, analytics.Errorf(analytics.BadUserInput, "%s[%d] repeats the %s target of %q on %q in %d: give each once", field, i, t.Kind, t.Region.Code, t.Indicator.Code, t.Year)
		}
		c.TargetBy[k], given[k] = t, true
		added = append(added, t)
	}
	// The list keeps the file's order, each replaced target in its place, the new ones after.
	c.Targets = make([]*analytics.Target, 0, len(s.Targets)+len(added))
	for _, t := range s.Targets {
		if nt := c.TargetBy[duck.TargetKey{Region: t.Region.Code, Indicator: t.Indicator.Code, Year: t.Year, Kind: t.Kind}]; nt != t {
			continue
		}
		c.Targets = append(c.Targets, t)
	}
	c.Targets = append(c.Targets, added...)
	return &snapshot{Catalog: &c, windows: s.windows}, nil
}

// targetOf checks a request's target against the catalog.
func (s *snapshot) targetOf(x analytics.TargetSpec) (*analytics.Target, error) {
	region, err := s.region(x.Region)
	if err != nil {
		return nil, err
	}
	in, err := s.indicator(x.Indicator)
	if err != nil {
		return nil, err
	}
	if err := checkYear(x.Year); err != nil {
		return nil, err
	}
	t := &analytics.Target{Region: region, Indicator: in, Year: x.Year, Value: x.Value, Kind: x.Kind}
	if t.Kind == "" {
		t.Kind = analytics.TargetLevel
	}
	if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) {
		return nil, analytics.Errorf(analytics.BadUserInput, "value is not a finite number")
	}
	switch x.Comparator {
	case "", ">=":
		t.Comparator = analytics.AtLeast
	case "<=":
		t.Comparator = analytics.AtMost
	default:
		return nil, analytics.Errorf(analytics.BadUserInput, "comparator %q is not \">=\" or \"<=\"", analytics.Cut(x.Comparator))
	}
	if t.Kind == analytics.TargetRank {
		if x.Comparator == ">=" {
			return nil, analytics.Errorf(analytics.BadUserInput, "a RANK target is a rank at most its value: give comparator \"<=\" or leave it out")
		}
		t.Comparator = analytics.AtMost
		if x.Value < 1 || x.Value != math.Trunc(x.Value) {
			return nil, analytics.Errorf(analytics.BadUserInput, "a RANK target's value is a rank, a whole number from 1, got %v", x.Value)
		}
	}
	if x.Group != "" {
		if t.Kind != analytics.TargetRank {
			return nil, analytics.Errorf(analytics.BadUserInput, "group is for a RANK target (the peer group the rank is taken in), and this one is %s", t.Kind)
		}
		if t.Group, err = s.group(x.Group); err != nil {
			return nil, err
		}
	}
	return t, nil
}
