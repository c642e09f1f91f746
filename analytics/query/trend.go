package query

import (
	"context"
	"fmt"
	"math"
	"pacesetter/analytics"
	"pacesetter/analytics/calc"
	"strings"
)

// trendPlan is a trend request checked and resolved against the catalog: the request with its defaults
// applied (what the answer's key is made of), its region, indicator and the scope ranked in, if any.
type trendPlan struct {
	q      analytics.TrendQuery
	region *analytics.Region
	in     *analytics.Indicator
	scope  *analytics.Scope
}

// planTrend checks a trend request against the catalog and resolves it; no I/O.
func planTrend(s *snapshot, q analytics.TrendQuery) (*trendPlan, error) {
	region, err := s.region(q.Region)
	if err != nil {
		return nil, err
	}
	in, err := s.indicatorOf(q.Indicator, &q.Formula)
	if err != nil {
		return nil, err
	}
	if q.From != nil && q.To != nil && *q.From > *q.To {
		return nil, analytics.Errorf(analytics.BadUserInput, "from (%d) is after to (%d)", *q.From, *q.To)
	}
	for _, b := range []struct {
		name string
		p    *analytics.Period
	}{{"from", q.FromPeriod}, {"to", q.ToPeriod}} {
		if b.p != nil && b.p.Freq != in.Freq() {
			return nil, analytics.Errorf(analytics.BadUserInput, "%s %s is a %s period, but indicator %q is %s: give %s as a year or a period like %s",
				b.name, b.p, freqName(b.p.Freq), in.Code, freqName(in.Freq()), b.name, in.Period(analytics.OrdOf(in.Freq(), b.p.Year, 1)))
		}
	}
	if from, to := trendBounds(in, q); from > to {
		return nil, analytics.Errorf(analytics.BadUserInput, "from (%s) is after to (%s)", in.Period(from), in.Period(to))
	}
	if err := s.checkAsOf(q.AsOf); err != nil {
		return nil, err
	}
	var scope *analytics.Scope
	if q.Scope != nil {
		if scope, err = s.scope(*q.Scope); err != nil {
			return nil, err
		}
	}
	if q.Ties, _, err = defaults(q.Ties, ""); err != nil {
		return nil, err
	}
	return &trendPlan{q: q, region: region, in: in, scope: scope}, nil
}

// trendBounds are the first and last ordinals a trend shows: a year bound takes its first or last period.
func trendBounds(in *analytics.Indicator, q analytics.TrendQuery) (from, to int) {
	from, to = math.MinInt32, math.MaxInt32
	f := in.Freq()
	switch {
	case q.FromPeriod != nil:
		from = q.FromPeriod.Ord()
	case q.From != nil:
		from = analytics.OrdOf(f, *q.From, 1)
	}
	switch {
	case q.ToPeriod != nil:
		to = q.ToPeriod.Ord()
	case q.To != nil:
		to = analytics.OrdOf(f, *q.To, f.PerYear())
	}
	return from, to
}

// freqName names a frequency in messages.
func freqName(f analytics.Frequency) string {
	switch f {
	case analytics.Quarterly:
		return "quarterly"
	case analytics.Monthly:
		return "monthly"
	}
	return "annual"
}

// calYear is the calendar year of ordinal t of the indicator: group memberships and targets are by year.
func calYear(in *analytics.Indicator, t int) int { return analytics.YearOfOrd(in.Freq(), t) }

// Trend returns a region's history on one indicator with growth, records and streaks.
func (e *Engine) Trend(ctx context.Context, q analytics.TrendQuery) (*analytics.Trend, error) {
	s := e.snap.Load()
	p, err := planTrend(s, q)
	if err != nil {
		return nil, err
	}
	return cached(e, s, keyOf("trend", p.q), func() (*analytics.Trend, error) { return e.trend(ctx, s, p) })
}

// trend reads the indicator's values and computes the region's history over them.
func (e *Engine) trend(ctx context.Context, s *snapshot, p *trendPlan) (*analytics.Trend, error) {
	q, region, in, scope := p.q, p.region, p.in, p.scope
	ms, err := e.matrices(ctx, s, q.AsOf, in.Code)
	if err != nil {
		return nil, err
	}
	m, r := ms[in.Code], s.RegionAt[region.Code]
	var series []calc.YearValue
	var flags []analytics.FlagSet
	if m != nil {
		for _, c := range m.Cells[m.Off[r]:m.Off[r+1]] {
			series = append(series, calc.YearValue{Year: int(c.Year), Value: c.Value})
			flags = append(flags, c.Flags)
		}
	}
	t := &analytics.Trend{Region: region, Indicator: in, Points: []*analytics.TrendPoint{}, AsOf: q.AsOf, Ranked: scope != nil}
	// Every measure is computed over the whole history; From and To only choose the periods shown. calc.Trend
	// takes growth against the period before (for a year, the year before); a sub-annual indicator's yoy is
	// then taken again against the same period a year earlier, and the period before's is pop.
	all := calc.Trend(series, in.Sign(), in.Measure)
	from, to := trendBounds(in, q)
	per := in.PerYear()
	var shown []calc.YearValue
	for i := range all {
		p := &all[i]
		if p.Ord < from || p.Ord > to {
			continue
		}
		p.Year, p.Period = calYear(in, p.Ord), in.Period(p.Ord).String()
		if per > 1 {
			p.Pop = p.Yoy
			prev, _, has := m.Get(r, p.Ord-per)
			p.Yoy, p.YoyHuge = nil, false
			if g, ok := calc.GrowthOf(in.Measure, p.Value, prev, has); ok {
				p.Yoy = &g
			} else {
				p.YoyHuge = calc.OutOfRange(g)
			}
		} else {
			p.Pop = p.Yoy
		}
		if in.Cumulative || in.Measure == analytics.Growth || in.Measure == analytics.Index {
			// A year-to-date total's change from the period before is the period's own value, not a growth;
			// a GROWTH's or INDEX's value is already against its own base.
			p.Pop = nil
		}
		p.Flags = flags[i].Letters()
		if scope != nil {
			// The period's ranking in the scope, as the ranking query takes it (basis VALUE).
			ry := rankYear(s, m, in, analytics.ByValue, s.members(scope, in.Code, p.Year), p.Ord)
			n := len(ry.entries)
			p.RankCount = &n
			if c := ry.entry(r); c != nil {
				rk := c.rankBy(q.Ties)
				p.Rank = &rk
				if t.BestRank == nil || rk < *t.BestRank {
					t.BestRank, t.BestRankYear = &rk, &p.Year
				}
			}
		}
		t.Points = append(t.Points, p)
		shown = append(shown, series[i])
	}
	t.Warnings = []*analytics.Warning{}
	if s.isFormula(in) {
		// A year every operand has but the formula has not (a divisor of 0): said, not silently left out.
		var years []int
		if ops := formulaOperands(in); len(ops) > 0 && ms[ops[0]] != nil {
			om := ms[ops[0]] // its years suffice: every operand needs a value
			for _, c := range om.Cells[om.Off[r]:om.Off[r+1]] {
				if y := int(c.Year); y >= from && y <= to {
					years = append(years, y)
				}
			}
		}
		for _, y := range years {
			if _, _, ok := m.Get(r, y); !ok {
				t.Warnings = append(t.Warnings, formulaWarnings(s, in, ms, []int{r}, y)...)
			}
		}
	}
	if per > 1 {
		// A compound annual rate over months or quarters would mix seasons and year-to-date totals: none.
	} else if c, ok := calc.CAGR(shown, in.Measure); ok {
		t.Cagr = &c
	} else if calc.OutOfRange(c) {
		t.Warnings = append(t.Warnings, &analytics.Warning{Indicator: in, Message: "cagr is null: it is beyond ±1.8e308, the largest number a double holds"})
	}
	var huge []string
	for _, p := range t.Points {
		if p.YoyHuge {
			huge = append(huge, p.Period)
		}
	}
	if len(huge) > 0 {
		t.Warnings = append(t.Warnings, &analytics.Warning{Indicator: in, Message: fmt.Sprintf(
			"yoy is null in %s: the growth is beyond ±1.8e308, the largest number a double holds", strings.Join(huge, ", "))})
	}
	return t, nil
}
