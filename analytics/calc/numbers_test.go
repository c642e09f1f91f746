package calc

import (
	"math"
	"testing"

	"pacesetter/analytics"
)

// Numbers at the edges of float64: the largest (1e308, MaxFloat64 ≈ 1.7976931348623157e308), the smallest
// subnormal (5e-324 = 2^-1074), −0, and mixes of them. Every expected value is worked out by hand beside it;
// the ones that need more than a double's precision were computed with exact rationals (Python's
// fractions.Fraction of the doubles, or decimal at 60 digits) and rounded once, as noted.

const (
	maxF = math.MaxFloat64
	tiny = 5e-324 // math.SmallestNonzeroFloat64, 2^-1074
)

// same says whether got is want, telling −0 from 0.
func same(got, want float64) bool {
	return got == want && math.Signbit(got) == math.Signbit(want) || math.IsNaN(got) && math.IsNaN(want)
}

func TestMeanAtTheEdges(t *testing.T) {
	h := 1e308 // a variable: h/4 is then the double 1e308 divided, not the constant 2.5e307 rounded
	for _, c := range []struct {
		name   string
		values []float64
		want   float64
	}{
		// The running sum 2e308 overflows; the exact sum over 2 is 1e308.
		{"two 1e308", []float64{1e308, 1e308}, 1e308},
		{"three of the largest", []float64{maxF, maxF, maxF}, maxF},
		{"1e308 and −1e308", []float64{1e308, -1e308}, 0},
		{"overflow then cancel", []float64{1e308, 1e308, -1e308, -1e308}, 0},
		// (1e308 + 1e308 − 1e308 + 1)/4: the 1 is far below 1e308's last digit, so it is 1e308/4 (exact: /4
		// only shifts the exponent).
		{"overflow, cancel, a one", []float64{1e308, 1e308, -1e308, 1}, h / 4},
		// (2·1e308 + 5e-324)/3 = round(2·1e308/3) = round(1e308/3)·2 (doubling is exact); Fraction gives
		// 6.666666666666666e307.
		{"huge and tiny", []float64{1e308, 1e308, tiny}, 6.666666666666666e307},
		// Subnormals add exactly: (2^-1074 + 2^-1074)/2 = 2^-1074.
		{"two 5e-324", []float64{tiny, tiny}, tiny},
		{"5e-324 and −5e-324", []float64{tiny, -tiny}, 0},
		// 3·2^-1074/2 = 1.5 units: halfway, rounded to even, 2 units = 1e-323.
		{"5e-324 and 1e-323", []float64{tiny, 1e-323}, 1e-323},
		{"−0 alone", []float64{math.Copysign(0, -1)}, 0},
	} {
		if got := Mean(c.values); !same(got, c.want) {
			t.Errorf("%s: Mean(%v) = %v, want %v", c.name, c.values, got, c.want)
		}
	}
}

func TestMedianAtTheEdges(t *testing.T) {
	for _, c := range []struct {
		name   string
		values []float64
		want   float64
	}{
		// (a + b)/2 of two equal subnormals: 2^-1074 + 2^-1074 is exact, halving it is exact.
		{"two 5e-324", []float64{tiny, tiny}, tiny},
		{"two −5e-324", []float64{-tiny, -tiny}, -tiny},
		{"−5e-324 and 5e-324", []float64{-tiny, tiny}, 0},
		// 0 and 2^-1074: half a unit, a tie, rounded to even: 0.
		{"0 and 5e-324", []float64{0, tiny}, 0},
		// 2^-1074 and 3·2^-1074: 2 units = 1e-323.
		{"5e-324 and 1.5e-323", []float64{tiny, 1.5e-323}, 1e-323},
		{"two 1e308", []float64{1e308, 1e308}, 1e308},
		{"two of the largest", []float64{maxF, maxF}, maxF},
		{"−largest and largest", []float64{-maxF, maxF}, 0},
		// a + b overflows; a/2 + b/2 is exact halves rounded once. Fraction((a+b)/2) rounds to 1.35e308.
		{"1e308 and 1.7e308", []float64{1.7e308, 1e308}, 1.35e308},
		{"odd count takes the middle", []float64{-1e308, tiny, 1e308}, tiny},
		{"−0 and 0", []float64{math.Copysign(0, -1), 0}, 0},
	} {
		if got := Median(c.values); !same(got, c.want) && !(c.want == 0 && got == 0) {
			t.Errorf("%s: Median(%v) = %v, want %v", c.name, c.values, got, c.want)
		}
	}
}

func TestDiff(t *testing.T) {
	for _, c := range []struct {
		a, b float64
		want float64
		ok   bool
	}{
		{1e308, -1e308, 0, false}, // 2e308 is beyond the largest double
		{-1e308, 1e308, 0, false},
		{maxF, -maxF, 0, false},
		{maxF, 0, 1.79769313486e308, true}, // rounded to 12 digits, down: 1.79769313486|23157
		{1e308, 1e308, 0, true},
		{tiny, -tiny, 1e-323, true},        // 2 units, exact
		{-tiny, tiny, -1e-323, true},       //
		{0, math.Copysign(0, -1), 0, true}, // never −0
		{math.Copysign(0, -1), 0, 0, true},
		{9.62, 9.02, 0.6, true}, // the ordinary case: rounded to 12 digits
	} {
		got, ok := Diff(c.a, c.b)
		if ok != c.ok || ok && !same(got, c.want) {
			t.Errorf("Diff(%v, %v) = %v, %v; want %v, %v", c.a, c.b, got, ok, c.want, c.ok)
		}
		if !ok && !OutOfRange(got) {
			t.Errorf("Diff(%v, %v) refused but not out of range", c.a, c.b)
		}
	}
}

func TestRound12AtTheEdges(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{
		{maxF, 1.79769313486e308}, {-maxF, -1.79769313486e308},
		{tiny, tiny}, {-tiny, -tiny}, // 4.94065645841e-324 reads back as 2^-1074
		{math.Copysign(0, -1), 0},
		{1e308, 1e308},
	} {
		if got := Round12(c.x); !same(got, c.want) {
			t.Errorf("Round12(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

func TestGrowthAtTheEdges(t *testing.T) {
	for _, c := range []struct {
		name    string
		m       analytics.Measure
		x, prev float64
		want    float64
		ok      bool
		huge    bool
	}{
		{"level 1e-300 → 1e300", analytics.Level, 1e300, 1e-300, 0, false, true},  // 1e600 − 1
		{"level 1e300 → 1e-300", analytics.Level, 1e-300, 1e300, -1, true, false}, // 1e-600 − 1 rounds to −1
		{"level 5e-324 → 5e-324", analytics.Level, tiny, tiny, 0, true, false},
		{"level 1e308 → 1e308", analytics.Level, 1e308, 1e308, 0, true, false},
		{"level −1e308 → 1e308", analytics.Level, 1e308, -1e308, -2, true, false},
		{"level from 0", analytics.Level, 1, 0, 0, false, false},
		{"rate −1e308 → 1e308", analytics.Rate, 1e308, -1e308, 0, false, true}, // 2e308 points
		{"rate 5e-324 → −5e-324", analytics.Rate, -tiny, tiny, -1e-323, true, false},
		{"rate −0 → 0", analytics.Rate, 0, math.Copysign(0, -1), 0, true, false},
		{"index 1e308", analytics.Index, 1e308, 0, 1e306, true, false}, // 1e306 − 1 to 12 digits
		{"growth −1e308", analytics.Growth, -1e308, 0, -1e306, true, false},
		{"growth 5e-324", analytics.Growth, tiny, 0, 0, true, false}, // 2^-1074/100 underflows to 0
	} {
		hasPrev := c.m == analytics.Level || c.m == analytics.Rate
		g, ok := GrowthOf(c.m, c.x, c.prev, hasPrev)
		if ok != c.ok || ok && !same(g, c.want) || OutOfRange(g) != c.huge {
			t.Errorf("%s: GrowthOf = %v, %v (out of range %v); want %v, %v (%v)", c.name, g, ok, OutOfRange(g), c.want, c.ok, c.huge)
		}
	}
}

func TestCAGRAtTheEdges(t *testing.T) {
	series := func(first, last int, v0, v1 float64) []YearValue {
		return []YearValue{{first, v0}, {last, v1}}
	}
	chain := func(from, n int, v float64) []YearValue {
		var s []YearValue
		for k := range n {
			s = append(s, YearValue{from + k, v})
		}
		return s
	}
	for _, c := range []struct {
		name   string
		series []YearValue
		m      analytics.Measure
		want   float64
		ok     bool
		huge   bool
	}{
		// (1e300/1e-300)^(1/10) − 1 = 1e60 − 1: the ratio 1e600 overflows, the logs do not.
		{"1e-300 to 1e300 in 10 years", series(2000, 2010, 1e-300, 1e300), analytics.Level, 1e60, true, false},
		// √1e600 − 1 = 1e300.
		{"1e-300 to 1e300 in 2 years", series(2000, 2002, 1e-300, 1e300), analytics.Level, 1e300, true, false},
		{"1e-300 to 1e300 in 1 year", series(2000, 2001, 1e-300, 1e300), analytics.Level, 0, false, true},
		// (1e308/2^-1074)^(1/3) − 1: decimal at 60 digits gives 2.72524225686678…e210.
		{"5e-324 to 1e308 in 3 years", series(2000, 2003, tiny, 1e308), analytics.Level, 2.72524225687e210, true, false},
		// (2^-1074/1e308)^(1/1000) − 1: the ratio underflows to 0, which would read −1; decimal gives
		// −0.766281126356520…
		{"1e308 to 5e-324 in 1000 years", series(1000, 2000, 1e308, tiny), analytics.Level, -0.766281126357, true, false},
		{"1e308 to 1e308", series(2000, 2005, 1e308, 1e308), analytics.Level, 0, true, false},
		{"5e-324 to 5e-324", series(2000, 2005, tiny, tiny), analytics.Level, 0, true, false},
		{"from 0", series(2000, 2005, 0, 1), analytics.Level, 0, false, false},
		// Index 1e308 every year: factors of 1e306 (1e306 − 1 + 1), their product 1e612 overflows; the
		// geometric mean is 1e306, minus 1.
		{"index 1e308, 1e308", chain(2000, 3, 1e308), analytics.Index, 1e306, true, false},
		// A growth of −99.9999 % a year for 100 years: factors 1e-6, product 1e-600 underflows to 0; the rate
		// is 1e-6 − 1.
		{"growth −99.9999 for 100 years", chain(2000, 101, -99.9999), analytics.Growth, -0.999999, true, false},
		// One factor −1e306 (index −1e308): a negative product, no rate.
		{"negative product", chain(2000, 2, -1e308), analytics.Index, 0, false, false},
	} {
		got, ok := CAGR(c.series, c.m)
		if ok != c.ok || ok && !same(got, c.want) || OutOfRange(got) != c.huge {
			t.Errorf("%s: CAGR = %v, %v (out of range %v); want %v, %v (%v)", c.name, got, ok, OutOfRange(got), c.want, c.ok, c.huge)
		}
	}
}

func TestTrendMarksHugeGrowth(t *testing.T) {
	pts := Trend([]YearValue{{2000, 1e-300}, {2001, 1e300}, {2002, 1e300}}, 1, analytics.Level)
	if pts[1].Yoy != nil || !pts[1].YoyHuge || pts[2].Yoy == nil || *pts[2].Yoy != 0 || pts[0].YoyHuge {
		t.Errorf("trend: %+v %+v %+v", pts[0], pts[1], pts[2])
	}
	// 1e-300 → 1e300 still improved: the streak and the record do not need the ratio.
	if pts[1].Streak != 1 || pts[1].BestEver == nil || !*pts[1].BestEver {
		t.Errorf("streak or record lost with the ratio: %+v", pts[1])
	}
}
