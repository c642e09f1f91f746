package calc

import (
	"fmt"
	"math"
	"testing"

	"pacesetter/analytics"
)

func TestRanks(t *testing.T) {
	cases := []struct {
		name   string
		values []float64
		sign   float64
		tie    analytics.TieRule
		want   []int
	}{
		{"higher is better", []float64{5, 9, 7}, 1, analytics.Competition, []int{3, 1, 2}},
		{"lower is better", []float64{5, 9, 7}, -1, analytics.Competition, []int{1, 3, 2}},
		{"competition 1224", []float64{10, 8, 8, 3}, 1, analytics.Competition, []int{1, 2, 2, 4}},
		{"dense 1223", []float64{10, 8, 8, 3}, 1, analytics.Dense, []int{1, 2, 2, 3}},
		{"tie for first", []float64{4, 4, 1}, 1, analytics.Competition, []int{1, 1, 3}},
		{"negatives, lower better", []float64{-1, -3, 0, -3}, -1, analytics.Competition, []int{3, 1, 4, 1}},
		{"negatives, dense", []float64{-1, -3, 0, -3}, -1, analytics.Dense, []int{2, 1, 3, 1}},
		{"one", []float64{42}, 1, analytics.Competition, []int{1}},
		{"none", nil, 1, analytics.Competition, []int{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Ranks(c.values, c.sign, c.tie); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("Ranks(%v) = %v, want %v", c.values, got, c.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	for _, c := range []struct {
		n, rank int
		want    float64
	}{{10, 1, 1}, {10, 10, 0}, {10, 2, 8.0 / 9}, {5, 2, 0.75}, {1, 1, 1}, {4, 2, 2.0 / 3}} {
		if got := Percentile(c.n, c.rank); got != c.want {
			t.Errorf("Percentile(%d, %d) = %v, want %v", c.n, c.rank, got, c.want)
		}
	}
}

func TestMeanMedian(t *testing.T) {
	for _, c := range []struct {
		values       []float64
		mean, median float64
	}{{[]float64{1, 2, 4, 10}, 4.25, 3}, {[]float64{3, -1, 7}, 3, 3}, {[]float64{5}, 5, 5}} {
		if m := Mean(c.values); m != c.mean {
			t.Errorf("Mean(%v) = %v, want %v", c.values, m, c.mean)
		}
		if m := Median(c.values); m != c.median {
			t.Errorf("Median(%v) = %v, want %v", c.values, m, c.median)
		}
	}
	if !math.IsNaN(Mean(nil)) || !math.IsNaN(Median(nil)) {
		t.Error("mean and median of nothing must be NaN")
	}
}

func ptr[T any](v T) *T { return &v }

func TestTrend(t *testing.T) {
	type pt struct {
		yoy    *float64
		best   *bool
		streak int
	}
	cases := []struct {
		name   string
		series []YearValue
		sign   float64
		want   []pt
	}{
		{
			// 100 → 110 (+10%, record, streak 1) → 121 (+10%, record, 2) → 115 (down, not a record, 0) → 130 (record, 1)
			"rising with a dip", []YearValue{{2016, 100}, {2017, 110}, {2018, 121}, {2019, 115}, {2020, 130}}, 1,
			[]pt{{nil, nil, 0}, {ptr(0.1), ptr(true), 1}, {ptr(0.1), ptr(true), 2}, {ptr(115.0/121 - 1), ptr(false), 0}, {ptr(130.0/115 - 1), ptr(true), 1}},
		},
		{
			// Lower is better: 5 → 4 improves (record), 4 → 4 does not (equal is no record, no streak), 4 → 3 improves.
			"lower is better with a flat year", []YearValue{{2020, 5}, {2021, 4}, {2022, 4}, {2023, 3}}, -1,
			[]pt{{nil, nil, 0}, {ptr(-0.2), ptr(true), 1}, {ptr(0.0), ptr(false), 0}, {ptr(-0.25), ptr(true), 1}},
		},
		{
			// A gap: 2019 is missing, so 2020 has no yoy and its streak restarts at 0, but it can still be a record.
			"gap in the years", []YearValue{{2017, 1}, {2018, 2}, {2020, 3}, {2021, 4}}, 1,
			[]pt{{nil, nil, 0}, {ptr(1.0), ptr(true), 1}, {nil, ptr(true), 0}, {ptr(1.0 / 3), ptr(true), 1}},
		},
		{
			// A zero base has no growth (2021's yoy is null); 2022 rises from −2, so it has a yoy, a record and a streak.
			"zero and negative values", []YearValue{{2020, 0}, {2021, -2}, {2022, 1}}, 1,
			[]pt{{nil, nil, 0}, {nil, ptr(false), 0}, {ptr(-1.5), ptr(true), 1}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Trend(c.series, c.sign)
			if len(got) != len(c.want) {
				t.Fatalf("%d points, want %d", len(got), len(c.want))
			}
			for i, w := range c.want {
				g := got[i]
				if g.Year != c.series[i].Year || g.Value != c.series[i].Value {
					t.Errorf("point %d is %d=%v", i, g.Year, g.Value)
				}
				if (g.Yoy == nil) != (w.yoy == nil) || g.Yoy != nil && math.Abs(*g.Yoy-*w.yoy) > 1e-12 {
					t.Errorf("%d yoy = %v, want %v", g.Year, show(g.Yoy), show(w.yoy))
				}
				if (g.BestEver == nil) != (w.best == nil) || g.BestEver != nil && *g.BestEver != *w.best {
					t.Errorf("%d bestEver = %v, want %v", g.Year, show(g.BestEver), show(w.best))
				}
				if g.Streak != w.streak {
					t.Errorf("%d streak = %d, want %d", g.Year, g.Streak, w.streak)
				}
			}
		})
	}
}

func show[T any](p *T) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func TestCAGR(t *testing.T) {
	// 100 → 121 over two years is 10% a year; 100 → 200 over 10 years is 2^(1/10) − 1.
	for _, c := range []struct {
		first, last YearValue
		want        float64
		ok          bool
	}{
		{YearValue{2020, 100}, YearValue{2022, 121}, 0.1, true},
		{YearValue{2010, 100}, YearValue{2020, 200}, math.Pow(2, 0.1) - 1, true},
		{YearValue{2020, 100}, YearValue{2021, 50}, -0.5, true},
		{YearValue{2020, 100}, YearValue{2020, 100}, 0, false},
		{YearValue{2020, -1}, YearValue{2022, 5}, 0, false},
		{YearValue{2020, 3}, YearValue{2022, 0}, 0, false},
	} {
		got, ok := CAGR(c.first, c.last)
		if ok != c.ok || ok && math.Abs(got-c.want) > 1e-12 {
			t.Errorf("CAGR(%v, %v) = %v, %v; want %v, %v", c.first, c.last, got, ok, c.want, c.ok)
		}
	}
}
