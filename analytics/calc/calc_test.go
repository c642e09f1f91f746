package calc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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
		name    string
		series  []YearValue
		sign    float64
		measure analytics.Measure
		want    []pt
	}{
		{
			// 100 → 110 (+10%, record, streak 1) → 121 (+10%, record, 2) → 115 (down, not a record, 0) → 130 (record, 1)
			"rising with a dip", []YearValue{{2016, 100}, {2017, 110}, {2018, 121}, {2019, 115}, {2020, 130}}, 1, analytics.Level,
			[]pt{{nil, nil, 0}, {ptr(0.1), ptr(true), 1}, {ptr(0.1), ptr(true), 2}, {ptr(115.0/121 - 1), ptr(false), 0}, {ptr(130.0/115 - 1), ptr(true), 1}},
		},
		{
			// Lower is better: 5 → 4 improves (record), 4 → 4 does not (equal is no record, no streak), 4 → 3 improves.
			"lower is better with a flat year", []YearValue{{2020, 5}, {2021, 4}, {2022, 4}, {2023, 3}}, -1, analytics.Level,
			[]pt{{nil, nil, 0}, {ptr(-0.2), ptr(true), 1}, {ptr(0.0), ptr(false), 0}, {ptr(-0.25), ptr(true), 1}},
		},
		{
			// A gap: 2019 is missing, so 2020 has no yoy and its streak restarts at 0, but it can still be a record.
			"gap in the years", []YearValue{{2017, 1}, {2018, 2}, {2020, 3}, {2021, 4}}, 1, analytics.Level,
			[]pt{{nil, nil, 0}, {ptr(1.0), ptr(true), 1}, {nil, ptr(true), 0}, {ptr(1.0 / 3), ptr(true), 1}},
		},
		{
			// A zero base has no growth (2021's yoy is null); 2022 rises from −2, so it has a yoy, a record and a streak.
			"zero and negative values", []YearValue{{2020, 0}, {2021, -2}, {2022, 1}}, 1, analytics.Level,
			[]pt{{nil, nil, 0}, {nil, ptr(false), 0}, {ptr(-1.5), ptr(true), 1}},
		},
		{
			// A rate changes in points: 5.2 → 5.5 is +0.3 (not 0.30000000000000027), 5.5 → 5.1 is −0.4, and
			// lower is better here, so 2022's fall is the improvement and the record.
			"rate in points, lower is better", []YearValue{{2020, 5.2}, {2021, 5.5}, {2022, 5.1}}, -1, analytics.Rate,
			[]pt{{nil, nil, 0}, {ptr(0.3), ptr(false), 0}, {ptr(-0.4), ptr(true), 1}},
		},
		{
			// A growth rate in percent is the year's growth itself: 6.1 → 0.061, −2 → −0.02. The first year has
			// a growth too (it needs no year before); a streak counts years that grew: 6.1 and 3 grew, −2 did not,
			// 4 grew again; 2024 is missing, so 2025's growth of 1 % starts a new streak.
			"growth rate", []YearValue{{2020, 6.1}, {2021, 3}, {2022, -2}, {2023, 4}, {2025, 1}}, 1, analytics.Growth,
			[]pt{{ptr(0.061), nil, 1}, {ptr(0.03), ptr(false), 2}, {ptr(-0.02), ptr(false), 0}, {ptr(0.04), ptr(false), 1}, {ptr(0.01), ptr(false), 1}},
		},
		{
			// An index with the previous year = 100: 105.7 is +5.7 %, 100 is no growth (ends the streak), 97.5 is −2.5 %.
			"index, previous year = 100", []YearValue{{2022, 105.7}, {2023, 106.0}, {2024, 100}, {2025, 97.5}}, 1, analytics.Index,
			[]pt{{ptr(0.057), nil, 1}, {ptr(0.06), ptr(true), 2}, {ptr(0.0), ptr(false), 0}, {ptr(-0.025), ptr(false), 0}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Trend(c.series, c.sign, c.measure)
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
	for _, c := range []struct {
		name    string
		measure analytics.Measure
		series  []YearValue
		want    float64
		ok      bool
	}{
		// Levels: 100 → 121 over two years is 10 % a year; 100 → 200 over 10 years is 2^(1/10) − 1.
		{"level", analytics.Level, []YearValue{{2020, 100}, {2021, 999}, {2022, 121}}, 0.1, true},
		{"level, ten years", analytics.Level, []YearValue{{2010, 100}, {2020, 200}}, math.Pow(2, 0.1) - 1, true},
		{"level, halved", analytics.Level, []YearValue{{2020, 100}, {2021, 50}}, -0.5, true},
		{"one year", analytics.Level, []YearValue{{2020, 100}}, 0, false},
		{"negative start", analytics.Level, []YearValue{{2020, -1}, {2022, 5}}, 0, false},
		{"zero end", analytics.Level, []YearValue{{2020, 3}, {2022, 0}}, 0, false},
		// An index chains the years after the first: 110 then 110 is 1.1 × 1.1 = 1.21 over two years, 10 %.
		{"index", analytics.Index, []YearValue{{2020, 104}, {2021, 110}, {2022, 110}}, 0.1, true},
		// Growth rates chain the same way: +21 % then 0 % is 1.21 over two years, 10 %.
		{"growth", analytics.Growth, []YearValue{{2020, 7}, {2021, 21}, {2022, 0}}, 0.1, true},
		{"growth with a gap", analytics.Growth, []YearValue{{2020, 7}, {2022, 21}}, 0, false},
		{"growth of −100 %", analytics.Growth, []YearValue{{2020, 7}, {2021, -100}}, 0, false},
		{"rate", analytics.Rate, []YearValue{{2020, 5}, {2021, 6}}, 0, false},
	} {
		got, ok := CAGR(c.series, c.measure)
		if ok != c.ok || ok && math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: CAGR = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestRound12(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{9.62 - 9.02, 0.6},          // 0.5999999999999996
		{105.7/100 - 1, 0.057},      // 0.05700000000000003
		{1.0 / 3, 0.333333333333},   // 12 significant digits
		{-2.0 / 3, -0.666666666667}, // rounds half away
		{123456789012345, 123456789012000},
		{1e308, 1e308},
		{-1e308 * 1.5, -1.5e308},
		{5e-324, 5e-324}, // the smallest subnormal survives
		{math.Copysign(0, -1), 0},
	} {
		got := Round12(c.in)
		if got != c.want || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("Round12(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestRound12Fast checks the scaled arithmetic of Round12 against the decimal conversion on values of every
// magnitude, sign and digit count, including the sums and differences derived numbers come from.
func TestRound12Fast(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	for i := range 2_000_000 {
		var x float64
		switch i % 4 {
		case 0:
			x = math.Float64frombits(rng.Uint64()) // any bit pattern
		case 1:
			x = (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(60)-30))
		case 2: // a difference of two one-decimal values, as gaps and growths are
			a, b := math.Round(rng.Float64()*1e6)/10, math.Round(rng.Float64()*1e6)/10
			x = a - b
		default: // a ratio minus one, as a growth is
			x = (math.Round(rng.Float64()*1e4)/10)/(math.Round(rng.Float64()*1e4)/10+0.1) - 1
		}
		if math.IsNaN(x) {
			continue
		}
		if got, want := Round12(x), round12Decimal(x); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("Round12(%v) = %v, the decimal conversion gives %v", x, got, want)
		}
	}
	// Next to powers of ten, where the exponent guessed from the binary one is off by one, 12-digit numbers
	// with a half in the 13th digit, where the scaling defers, and scores of the usual range.
	check := func(x float64) {
		if got, want := Round12(x), round12Decimal(x); got != want {
			t.Fatalf("Round12(%v) = %v, the decimal conversion gives %v", x, got, want)
		}
	}
	for k := -25; k <= 25; k++ {
		p := math.Pow(10, float64(k))
		for _, x := range []float64{p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)), p * (1 - 5e-13), p * (1 + 5e-13), 5 * p, 9.99999999999 * p} {
			check(x)
			check(-x)
		}
		for range 2000 {
			m := float64(100000000000+rng.Int64N(900000000000)) + 0.5
			check(m * p / 1e12)
			check(100 * rng.Float64() * p)
		}
	}
}

func TestGrowthOf(t *testing.T) {
	for _, c := range []struct {
		m           analytics.Measure
		x, prev     float64
		hasPrev, ok bool
		want        float64
	}{
		{analytics.Level, 110, 100, true, true, 0.1},
		{analytics.Level, 110, 0, true, false, 0},
		{analytics.Level, 110, 0, false, false, 0},
		{analytics.Level, -50, -100, true, true, -0.5}, // the formula as stated; rankings leave such bases out
		{analytics.Rate, 9.69, 9.02, true, true, 0.67},
		{analytics.Rate, 9.69, 0, false, false, 0},
		{analytics.Growth, -4.7, 0, false, true, -0.047},
		{analytics.Index, 105.7, 0, false, true, 0.057},
		{analytics.Index, 99.2, 0, false, true, -0.008},
	} {
		got, ok := GrowthOf(c.m, c.x, c.prev, c.hasPrev)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("GrowthOf(%s, %v, %v, %v) = %v, %v; want %v, %v", c.m, c.x, c.prev, c.hasPrev, got, ok, c.want, c.ok)
		}
	}
}

func TestMoveToTop(t *testing.T) {
	// ranked is best first in the direction sign; the move reaches the n-th best of the others.
	for _, c := range []struct {
		ranked []float64
		i      int
		sign   float64
		n      int
		want   float64
	}{
		{[]float64{66, 60, 20, 20}, 2, 1, 1, 46}, // others 66, 60, 20: 66 − 20
		{[]float64{66, 60, 20, 20}, 2, 1, 2, 40}, // 60 − 20
		{[]float64{66, 60, 20, 20}, 2, 1, 3, 0},  // the 3rd other is the tied 20
		{[]float64{66, 60, 20, 20}, 2, 1, 4, 0},  // only 3 others
		{[]float64{66, 60, 20, 20}, 0, 1, 1, 0},  // the leader: the best other is 60
		{[]float64{40, 40, 30}, 1, 1, 1, 0},      // tied first: the best other equals it
		{[]float64{2, 3, 3, 5}, 2, -1, 1, -1},    // lower is better: 2 − 3
		{[]float64{2, 3, 3, 5}, 3, -1, 2, -2},    // others 2, 3, 3: the 2nd is 3; 3 − 5
		{[]float64{9.62, 9.02}, 1, 1, 1, 0.6},    // rounded to 12 digits, not 0.5999999999999996
		{[]float64{7}, 0, 1, 1, 0},               // alone
	} {
		d, ok := MoveToTop(c.ranked, c.i, c.sign, c.n)
		if !ok || d != c.want {
			t.Errorf("MoveToTop(%v, %d, %v, %d) = %v, %v; want %v", c.ranked, c.i, c.sign, c.n, d, ok, c.want)
		}
	}
	if _, ok := MoveToTop([]float64{1e308, -1e308}, 1, 1, 1); ok {
		t.Error("a move beyond ±1.8e308 must not be ok")
	}
}

// Weighted means worked by hand: (10·1 + 20·3) / 4 = 17.5; equal weights give the plain mean; a zero
// weight drops its value; overflowing products are taken exactly.
func TestWeightedMean(t *testing.T) {
	for _, c := range []struct {
		v, w []float64
		want float64
		ok   bool
	}{
		{[]float64{10, 20}, []float64{1, 3}, 17.5, true},
		{[]float64{1, 2, 3, 4}, []float64{5, 5, 5, 5}, 2.5, true},
		{[]float64{100, 7}, []float64{0, 2}, 7, true},
		{[]float64{-4, 4}, []float64{1, 1}, 0, true},
		{[]float64{1e300, 1e300}, []float64{1e10, 3e10}, 1e300, true},
		{[]float64{1e308, -1e308}, []float64{1e10, 1e10}, 0, true},
		{nil, nil, 0, false},
		{[]float64{1}, []float64{0}, 0, false},
		{[]float64{1, 2}, []float64{1, -1}, 0, false},
		{[]float64{1, 2}, []float64{1}, 0, false},
	} {
		got, ok := WeightedMean(c.v, c.w)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("WeightedMean(%v, %v) = %v, %v; want %v, %v", c.v, c.w, got, ok, c.want, c.ok)
		}
	}
}

// TestSum checks the exact sum against math/big's (the exact sum of the same doubles, rounded once) on
// values chosen to lose digits in a running sum, in every order, and 29/3 reached by two roads.
func TestSum(t *testing.T) {
	cases := [][]float64{
		{},
		{1e100, 1, -1e100},
		{0.1, 0.2, 0.3},
		{1, 1e-16, 1e-16},
		{1e308, 1e308, -1e308},
		{10 * 2.0 / 3, 3}, // 29/3
		{10.0 / 3, 10.0 / 3, 3},
		{-0.0},
	}
	for _, vs := range cases {
		want, _ := exactSum(vs).Float64()
		for range 4 {
			if got := Sum(vs); got != want {
				t.Errorf("Sum(%v) = %v, math/big says %v", vs, got, want)
			}
			slices.Reverse(vs)
			if len(vs) > 1 {
				vs[0], vs[len(vs)-1] = vs[len(vs)-1], vs[0]
			}
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 2000 {
		vs := make([]float64, 1+rng.IntN(30))
		for i := range vs {
			vs[i] = (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(40)-20))
		}
		if want, _ := exactSum(vs).Float64(); Sum(vs) != want {
			t.Fatalf("Sum(%v) = %v, math/big says %v", vs, Sum(vs), want)
		}
	}
	// Sum12's shortcut gives what the exact sum gives, near 12-digit boundaries too.
	for range 20000 {
		vs := make([]float64, 1+rng.IntN(12))
		for i := range vs {
			vs[i] = float64(rng.IntN(2000)) / float64(1+rng.IntN(30))
		}
		if got, want := Sum12(vs), Round12(Sum(vs)); got != want {
			t.Fatalf("Sum12(%v) = %v, the exact sum rounds to %v", vs, got, want)
		}
	}
	if a, b := Sum12([]float64{10 * 2.0 / 3, 3}), Sum12([]float64{10.0 / 3, 10.0 / 3, 3}); a != b {
		t.Errorf("29/3 by two roads: %v and %v", a, b)
	}
}
