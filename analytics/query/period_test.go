package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// mixedDataset is a monthly synthetic dataset with a quarterly one's indicators (codes prefixed Q) and an
// annual one's (prefixed A) beside it: the three share their regions (the same seed makes the same ones).
func mixedDataset(seed uint64, regions, indicators, years int) *dataset.Dataset {
	d := dataset.SyntheticOf(seed, regions, indicators, years, analytics.Monthly)
	for _, o := range []struct {
		prefix string
		d      *dataset.Dataset
	}{{"Q", dataset.SyntheticOf(seed, regions, indicators, years, analytics.Quarterly)}, {"A", dataset.Synthetic(seed, regions, indicators, years)}} {
		for _, in := range o.d.Indicators {
			in.Code = o.prefix + in.Code
			d.Indicators = append(d.Indicators, in)
		}
		for _, ob := range o.d.Observations {
			ob.Indicator = o.prefix + ob.Indicator
			d.Observations = append(d.Observations, ob)
		}
	}
	d.SortObservations()
	return d
}

// periodKey names one value in the naive reference: indicator, region, year and sub-period (0 for a year).
type periodKey struct {
	ind, reg string
	y, p     int
}

// refPeriodValues reads the dataset's rows as they are: the reference the tests below compute from.
func refPeriodValues(d *dataset.Dataset) map[periodKey]float64 {
	v := map[periodKey]float64{}
	for _, o := range d.Observations {
		v[periodKey{o.Indicator, o.Region, o.Year, o.Period}] = o.Value
	}
	return v
}

func perYearOf(in dataset.Indicator) int { return cmp.Or(in.Frequency, analytics.Annual).PerYear() }

// prevPeriod is the period before (y, p) for n periods a year; a year's (p = 0) is the year before.
func prevPeriod(y, p, n int) (int, int) {
	switch {
	case p == 0:
		return y - 1, 0
	case p == 1:
		return y - 1, n
	}
	return y, p - 1
}

// refGrowth is a LEVEL's growth x/prev − 1 (none without prev or from 0), written out again here.
func refGrowth(vals map[periodKey]float64, k, prev periodKey) *float64 {
	x, p := vals[k], vals[prev]
	_, ok := vals[prev]
	if !ok || p == 0 {
		return nil
	}
	g := x/p - 1
	return &g
}

func sameF(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && near(*a, *b) }

// trend on monthly, quarterly and annual indicators side by side, at three sizes: every point's period,
// value, yoy (against the same period a year earlier) and pop (against the period before; null for a
// cumulative indicator) against the naive reference over the rows; from and to as periods choose the points.
func TestTrendPeriods(t *testing.T) {
	ctx := context.Background()
	for _, size := range []struct{ regions, indicators, years int }{{3, 3, 2}, {12, 6, 3}, {40, 3, 4}} {
		d := mixedDataset(7, size.regions, size.indicators, size.years)
		e := newTestEngine(t, d, Options{})
		vals := refPeriodValues(d)
		for _, in := range d.Indicators {
			n := perYearOf(in)
			for _, rg := range []string{d.Regions[1].Code, d.Regions[len(d.Regions)-1].Code} {
				q := analytics.TrendQuery{Region: rg, Indicator: in.Code}
				fromY, fromP := 2002, min(n, 3)
				if n > 1 {
					f := analytics.Period{Year: fromY, Sub: fromP, Freq: in.Frequency}
					q.FromPeriod = &f
				} else {
					fromP = 0
					q.From = &fromY
				}
				tr, err := e.Trend(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				type point struct {
					period   string
					v        float64
					yoy, pop *float64
				}
				var want []point
				for y := 2001; y < 2001+size.years; y++ {
					first, last := 0, 0 // a year's value is period 0
					if n > 1 {
						first, last = 1, n
					}
					for p := first; p <= last; p++ {
						k := periodKey{in.Code, rg, y, p}
						if _, ok := vals[k]; !ok || y < fromY || y == fromY && p < fromP {
							continue
						}
						py, pp := prevPeriod(y, p, n)
						pt := point{dataset.Observation{Year: y, Period: p}.PeriodText(in.Frequency), vals[k],
							refGrowth(vals, k, periodKey{in.Code, rg, y - 1, p}), refGrowth(vals, k, periodKey{in.Code, rg, py, pp})}
						if in.Cumulative {
							pt.pop = nil
						}
						want = append(want, pt)
					}
				}
				if len(tr.Points) != len(want) {
					t.Fatalf("%v %s %s: %d points, want %d", size, in.Code, rg, len(tr.Points), len(want))
				}
				for i, pt := range tr.Points {
					w := want[i]
					if pt.Period != w.period || pt.Value != w.v || !sameF(pt.Yoy, w.yoy) || !sameF(pt.Pop, w.pop) {
						t.Fatalf("%v %s %s point %d: %s=%g yoy %s pop %s; want %s=%g yoy %s pop %s", size, in.Code, rg, i,
							pt.Period, pt.Value, showF(pt.Yoy), showF(pt.Pop), w.period, w.v, showF(w.yoy), showF(w.pop))
					}
				}
				if n > 1 && tr.Cagr != nil {
					t.Errorf("%s: cagr %v for a sub-annual indicator", in.Code, *tr.Cagr)
				}
			}
		}
	}
}

// ranking(period:) ranks one month or quarter: values, ranks (competition, by direction) and, for basis
// GROWTH, the growth against the same period a year earlier, against a sort of the rows; without a period
// the latest with a value is ranked and named.
func TestRankingPeriods(t *testing.T) {
	ctx := context.Background()
	for _, size := range []struct{ regions, indicators, years int }{{5, 3, 2}, {30, 6, 3}} {
		d := mixedDataset(11, size.regions, size.indicators, size.years)
		e := newTestEngine(t, d, Options{})
		vals := refPeriodValues(d)
		for _, in := range d.Indicators {
			n := perYearOf(in)
			if n == 1 {
				continue
			}
			sign := 1.0
			if in.Direction == analytics.LowerIsBetter {
				sign = -1
			}
			for _, basis := range []analytics.RankBasis{analytics.ByValue, analytics.ByGrowth} {
				y, p := 2001+size.years-1, n-1
				per := analytics.Period{Year: y, Sub: p, Freq: in.Frequency}
				rk, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: in.Code, Period: &per, Basis: basis})
				if err != nil {
					t.Fatal(err)
				}
				type ent struct {
					reg string
					v   float64
				}
				var ref []ent
				for _, rg := range d.Regions {
					k := periodKey{in.Code, rg.Code, y, p}
					x, ok := vals[k]
					if !ok {
						continue
					}
					if basis == analytics.ByGrowth {
						prev, ok := vals[periodKey{in.Code, rg.Code, y - 1, p}]
						if !ok || prev <= 0 {
							continue
						}
						x = x/prev - 1
					}
					ref = append(ref, ent{rg.Code, x})
				}
				slices.SortStableFunc(ref, func(a, b ent) int { return cmp.Compare(sign*b.v, sign*a.v) })
				if rk.Period != per.String() || rk.Year != y || rk.Count != len(ref) {
					t.Fatalf("%s %s: period %s year %d count %d; want %s %d %d", in.Code, basis, rk.Period, rk.Year, rk.Count, per, y, len(ref))
				}
				rank := map[string]int{}
				for i, r := range ref {
					rank[r.reg] = i + 1
					if i > 0 && near(ref[i-1].v, r.v) {
						rank[r.reg] = rank[ref[i-1].reg]
					}
				}
				for _, en := range rk.Entries {
					if i := slices.IndexFunc(ref, func(r ent) bool { return r.reg == en.Region.Code }); i < 0 || !near(en.Value, ref[i].v) || en.Rank != rank[en.Region.Code] {
						t.Fatalf("%s %s: %s value %g rank %d; want rank %d", in.Code, basis, en.Region.Code, en.Value, en.Rank, rank[en.Region.Code])
					}
				}
			}
			// Latest by default: the last period of the last year (every synthetic year is complete).
			rk, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: in.Code})
			if err != nil {
				t.Fatal(err)
			}
			if want := (analytics.Period{Year: 2000 + size.years, Sub: n, Freq: in.Frequency}).String(); rk.Period != want {
				t.Errorf("%s latest: %s, want %s", in.Code, rk.Period, want)
			}
		}
	}
}

func TestRankingPeriodRefusals(t *testing.T) {
	d := mixedDataset(3, 4, 3, 2)
	e := newTestEngine(t, d, Options{})
	m := analytics.Period{Year: 2002, Sub: 9, Freq: analytics.Monthly}
	q := analytics.Period{Year: 2002, Sub: 3, Freq: analytics.Quarterly}
	late := analytics.Period{Year: 2009, Sub: 1, Freq: analytics.Monthly}
	for _, c := range []struct {
		q    analytics.RankingQuery
		says string
	}{
		{analytics.RankingQuery{Indicator: "I001", Year: ptr(2002), Period: &m}, "both year and period are given"},
		{analytics.RankingQuery{Indicator: "I001", Year: ptr(2002)}, `indicator "I001" is monthly: give period (e.g. 2002-12) instead of year`},
		{analytics.RankingQuery{Indicator: "I001", Period: &q}, `period 2002-Q3 is quarterly, but indicator "I001" is monthly`},
		{analytics.RankingQuery{Indicator: "I001", Period: &late}, `indicator "I001" has values from 2001-01 to 2002-12; 2009-01 is outside them`},
		{analytics.RankingQuery{Indicator: "AI001", Period: &m}, `period 2002-09 is monthly, but indicator "AI001" is annual: give a period like 2002`},
	} {
		_, err := e.Ranking(context.Background(), c.q)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: %v; want %q", c.q, err, c.says)
		}
	}
	if _, err := e.Trend(context.Background(), analytics.TrendQuery{Region: "R0001", Indicator: "I001", FromPeriod: &q}); err == nil ||
		!strings.Contains(err.Error(), "from 2002-Q3 is a quarterly period, but indicator \"I001\" is monthly") {
		t.Errorf("trend from a quarter of a monthly indicator: %v", err)
	}
}

// standings with a period places the region on the indicators of its frequency, each as ranking(period:)
// ranks it (itself checked against the rows above); with a year, on the annual ones only.
func TestStandingsPeriod(t *testing.T) {
	ctx := context.Background()
	for _, size := range []struct{ regions, indicators, years int }{{5, 3, 2}, {25, 6, 2}} {
		d := mixedDataset(19, size.regions, size.indicators, size.years)
		e := newTestEngine(t, d, Options{})
		for _, per := range []analytics.Period{{Year: 2002, Sub: 7, Freq: analytics.Monthly}, {Year: 2002, Sub: 2, Freq: analytics.Quarterly}} {
			rg := d.Regions[2].Code
			st, err := e.Standings(ctx, analytics.StandingsQuery{Region: rg, Year: per.Year, Period: &per, Top: 3})
			if err != nil {
				t.Fatal(err)
			}
			if st.Period != per.String() || len(st.Entries)+len(st.Missing) != size.indicators {
				t.Fatalf("%s: period %s, %d entries and %d missing", per, st.Period, len(st.Entries), len(st.Missing))
			}
			for _, en := range st.Entries {
				if en.Indicator.Freq() != per.Freq {
					t.Errorf("%s placed on %s", per, en.Indicator.Code)
				}
				rk, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: en.Indicator.Code, Period: &per})
				if err != nil {
					t.Fatal(err)
				}
				for _, re := range rk.Entries {
					if re.Region.Code == rg && (re.Rank != en.Rank || re.Value != en.Value || show(re.PreviousRank) != show(en.PreviousRank)) {
						t.Errorf("%s %s: standings rank %d value %g prev %s; ranking %d %g %s", per, en.Indicator.Code, en.Rank, en.Value,
							show(en.PreviousRank), re.Rank, re.Value, show(re.PreviousRank))
					}
				}
			}
		}
		st, err := e.Standings(ctx, analytics.StandingsQuery{Region: d.Regions[1].Code, Year: 2002, Top: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range st.Entries {
			if en.Indicator.PerYear() != 1 {
				t.Errorf("standings by year placed on %s", en.Indicator.Code)
			}
		}
	}
}

// compare over months: the rows of a monthly indicator from one month to another, each with its period and
// value, the leader of each month, and a gap's change per year over months (two months apart: a sixth of a
// year), against the rows themselves; an annual indicator beside it keeps its years.
func TestComparePeriods(t *testing.T) {
	ctx := context.Background()
	for _, size := range []struct{ regions, indicators, years int }{{4, 3, 2}, {12, 3, 3}} {
		d := mixedDataset(29, size.regions, size.indicators, size.years)
		e := newTestEngine(t, d, Options{})
		vals := refPeriodValues(d)
		from := analytics.Period{Year: 2002, Sub: 3, Freq: analytics.Monthly}
		to := analytics.Period{Year: 2002, Sub: 5, Freq: analytics.Monthly}
		regs := []string{d.Regions[1].Code, d.Regions[2].Code}
		c, err := e.Compare(ctx, analytics.CompareQuery{Regions: regs, Indicators: []string{"I001", "AI001"}, From: 2002, To: 2002, FromPeriod: &from, ToPeriod: &to})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, code := range []string{"I001", "AI001"} {
			for _, p := range map[string][]int{"I001": {3, 4, 5}, "AI001": {0}}[code] {
				for _, rg := range regs {
					if x, ok := vals[periodKey{code, rg, 2002, p}]; ok {
						want = append(want, fmt.Sprintf("%s %s %s %g", code, dataset.Observation{Year: 2002, Period: p}.PeriodText(map[string]analytics.Frequency{"I001": analytics.Monthly}[code]), rg, x))
					}
				}
			}
		}
		var got []string
		for _, r := range c.Rows {
			got = append(got, fmt.Sprintf("%s %s %s %g", r.Indicator.Code, r.Period, r.Region.Code, r.Value))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, g := range c.Gaps {
			if g.Indicator.Code != "I001" || g.FirstPeriod != "2002-03" || g.LastPeriod != "2002-05" || g.ChangePerYear == nil {
				continue
			}
			// Without a baseline the gap is to the best of the two: change per year = Δgap / (2/12).
			if want := (g.LastDifference - g.FirstDifference) * 6; !near(*g.ChangePerYear, want) {
				t.Errorf("%s: change per year %g, want %g", g.Region.Code, *g.ChangePerYear, want)
			}
		}
		for _, l := range c.Leaders {
			if l.Indicator.Code == "I001" && (l.Year != 2002 || l.Period < "2002-03" || l.Period > "2002-05") {
				t.Errorf("leader in %s", l.Period)
			}
		}
	}
}
