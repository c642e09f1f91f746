package assess

import (
	"errors"
	"math"
	"strings"
	"testing"

	"pacesetter/analytics"
)

var nan = math.NaN()

// The worked example of these tests: five regions A..E (indexes 0..4) and three indicators.
//
//	gdp   (+1, ties at 20):      A 10  B 20  C 20  D 40  E 60
//	unemp (−1, lower is better): A 4   B 2   C 8   D 5   E 6
//	green (+1, B missing):       A 3   B –   C 9   D 6   E 12
var (
	exGDP   = []float64{10, 20, 20, 40, 60}
	exUnemp = []float64{4, 2, 8, 5, 6}
	exGreen = []float64{3, nan, 9, 6, 12}
)

func exIndicators() []Indicator {
	return []Indicator{
		{Code: "gdp", Weight: 2, Sign: 1, Low: 0, High: 50, HasGoalposts: true, Targets: []float64{20, 20, 40, nan, 50}},
		{Code: "unemp", Weight: 1, Sign: -1, Low: 2, High: 7, HasGoalposts: true, Targets: []float64{4, 4, 4, 4, 4}},
		{Code: "green", Weight: 1, Sign: 1, Low: 5, High: 10, HasGoalposts: true, Targets: []float64{6, 6, 6, 6, 6}},
	}
}

func exValues() [][]float64 { return [][]float64{exGDP, exUnemp, exGreen} }

// close9 is equality within 1e-9 relative (absolute near 0); NaN equals NaN.
func close9(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b))
}

func TestNormaliseWorkedExample(t *testing.T) {
	s5, s15 := math.Sqrt(5), math.Sqrt(15)
	tests := []struct {
		n    analytics.Normalisation
		want [3][]float64 // gdp, unemp, green
	}{
		// MIN_MAX. gdp: min 10, max 60, range 50: A 0, B C 100·10/50 = 20, D 100·30/50 = 60, E 100.
		// unemp (−1): min 2, max 8, range 6, 100·(8 − x)/6: A 400/6, B 100, C 0, D 50, E 200/6.
		// green over A C D E: min 3, max 12, range 9: A 0, C 600/9, D 300/9, E 100.
		{analytics.MinMax, [3][]float64{
			{0, 20, 20, 60, 100},
			{400.0 / 6, 100, 0, 50, 200.0 / 6},
			{0, nan, 600.0 / 9, 300.0 / 9, 100}}},
		// Z_SCORE. gdp: mean 150/5 = 30, deviations −20 −10 −10 10 30, squares 1600, s = √(1600/4) = 20:
		// −1, −0.5, −0.5, 0.5, 1.5. unemp: mean 25/5 = 5, deviations −1 −3 3 0 1, squares 20, s = √(20/4)
		// = √5, times −1: 1/√5, 3/√5, −3/√5, 0, −1/√5. green: mean 30/4 = 7.5, deviations −4.5 1.5 −1.5 4.5,
		// squares 45, s = √(45/3) = √15: −4.5/√15, –, 1.5/√15, −1.5/√15, 4.5/√15.
		{analytics.ZScore, [3][]float64{
			{-1, -0.5, -0.5, 0.5, 1.5},
			{1 / s5, 3 / s5, -3 / s5, 0, -1 / s5},
			{-4.5 / s15, nan, 1.5 / s15, -1.5 / s15, 4.5 / s15}}},
		// RANK, n − r + 1. gdp competition ranks E 1, D 2, B C 3, A 5 → E 5, D 4, B C 3, A 1.
		// unemp (−1: lowest best): B 2 → r 1, A 4 → 2, D 5 → 3, E 6 → 4, C 8 → 5 → B 5, A 4, D 3, E 2, C 1.
		// green, n = 4: E 1, C 2, D 3, A 4 → E 4, C 3, D 2, A 1.
		{analytics.Rank, [3][]float64{
			{1, 3, 3, 4, 5},
			{4, 5, 1, 3, 2},
			{1, nan, 3, 2, 4}}},
		// PERCENTILE_RANK, 100·(n − r)/(n − 1) with the ranks above. gdp (n 5): E 100, D 75, B C 50, A 0.
		// unemp: B 100, A 75, D 50, E 25, C 0. green (n 4): E 100, C 200/3, D 100/3, A 0.
		{analytics.PercentileRank, [3][]float64{
			{0, 50, 50, 75, 100},
			{75, 100, 0, 50, 25},
			{0, nan, 200.0 / 3, 100.0 / 3, 100}}},
		// DISTANCE_TO_LEADER. gdp 100·x/60: 1000/60, 2000/60, 2000/60, 4000/60, 100. unemp (−1) 100·2/x:
		// 50, 100, 25, 40, 200/6. green 100·x/12: 25, –, 75, 50, 100.
		{analytics.DistanceToLeader, [3][]float64{
			{1000.0 / 60, 2000.0 / 60, 2000.0 / 60, 4000.0 / 60, 100},
			{50, 100, 25, 40, 200.0 / 6},
			{25, nan, 75, 50, 100}}},
		// DISTANCE_TO_TARGET. gdp, targets 20 20 40 – 50: 100·min(x/t, 1): 50, 100, 50, – (no target),
		// 100 (60/50 capped). unemp (−1), target 4: 100·min(4/x, 1): 100, 100 (4/2 capped), 50, 80, 400/6.
		// green, target 6: 50, –, 100 (capped), 100, 100 (capped).
		{analytics.DistanceToTarget, [3][]float64{
			{50, 100, 50, nan, 100},
			{100, 100, 50, 80, 400.0 / 6},
			{50, nan, 100, 100, 100}}},
		// GOALPOSTS. gdp 0..50: 100·c/50: 20, 40, 40, 80, 100 (60 clipped to 50). unemp (−1) 2..7:
		// 100·(7 − c)/5: 60, 100, 0 (8 clipped to 7), 40, 20. green 5..10: 100·(c − 5)/5: 0 (3 clipped to
		// 5), –, 80, 20, 100 (12 clipped to 10).
		{analytics.Goalposts, [3][]float64{
			{20, 40, 40, 80, 100},
			{60, 100, 0, 40, 20},
			{0, nan, 80, 20, 100}}},
	}
	inds := exIndicators()
	for _, tc := range tests {
		for i, x := range exValues() {
			got, err := Normalise(tc.n, inds[i], x)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.n, inds[i].Code, err)
			}
			for r := range x {
				if !close9(got[r], tc.want[i][r]) {
					t.Errorf("%s %s region %d: got %v, want %v", tc.n, inds[i].Code, r, got[r], tc.want[i][r])
				}
			}
		}
	}
}

func TestNormaliseEdgeCases(t *testing.T) {
	up := Indicator{Code: "x", Weight: 1, Sign: 1}
	down := Indicator{Code: "x", Weight: 1, Sign: -1}
	tests := []struct {
		name string
		n    analytics.Normalisation
		ind  Indicator
		x    []float64
		want []float64
	}{
		{"min-max all equal → 100", analytics.MinMax, up, []float64{7, nan, 7}, []float64{100, nan, 100}},
		{"min-max one value → 100", analytics.MinMax, down, []float64{nan, 3}, []float64{nan, 100}},
		// 0.1 three times: the mean may be off by an ulp, the z-scores must still be exactly 0.
		{"z-score all equal → 0", analytics.ZScore, up, []float64{0.1, 0.1, 0.1}, []float64{0, 0, 0}},
		{"z-score one value → 0", analytics.ZScore, up, []float64{nan, 5}, []float64{nan, 0}},
		{"rank one value → 1", analytics.Rank, up, []float64{nan, 5}, []float64{nan, 1}},
		{"percentile rank one value → 100", analytics.PercentileRank, up, []float64{5, nan}, []float64{100, nan}},
		// Lower is better: −x ranks 1 (for 1), 2 (for both 3s), 4 (for 9): 100·(4 − r)/3 = 100, 200/3, 200/3, 0.
		{"percentile rank ties, lower better", analytics.PercentileRank, down, []float64{3, 1, 9, 3}, []float64{200.0 / 3, 100, 0, 200.0 / 3}},
		{"all missing", analytics.MinMax, up, []float64{nan, nan}, []float64{nan, nan}},
		{"no regions", analytics.ZScore, up, []float64{}, []float64{}},
	}
	for _, tc := range tests {
		got, err := Normalise(tc.n, tc.ind, tc.x)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for r := range tc.want {
			if !close9(got[r], tc.want[r]) || (tc.want[r] == 0 && got[r] != 0) {
				t.Errorf("%s: region %d got %v, want %v", tc.name, r, got[r], tc.want[r])
			}
		}
	}
}

func TestNormaliseRefusals(t *testing.T) {
	tests := []struct {
		name    string
		n       analytics.Normalisation
		ind     Indicator
		x       []float64
		region  int
		wantMsg []string
	}{
		{"distance to leader with 0", analytics.DistanceToLeader, Indicator{Code: "pop", Sign: 1}, []float64{3, nan, 0}, 2,
			[]string{"pop", "region 2", "DISTANCE_TO_LEADER divides by values: use MIN_MAX or PERCENTILE_RANK"}},
		{"distance to leader with a negative", analytics.DistanceToLeader, Indicator{Code: "pop", Sign: -1}, []float64{-1, 2}, 0,
			[]string{"DISTANCE_TO_LEADER divides by values"}},
		{"no goalposts", analytics.Goalposts, Indicator{Code: "g", Sign: 1}, []float64{1}, -1, []string{"g has no goalposts", "give them"}},
		{"goalposts equal", analytics.Goalposts, Indicator{Code: "g", Sign: 1, Low: 5, High: 5, HasGoalposts: true}, []float64{1}, -1, []string{"low < high"}},
		{"goalposts reversed", analytics.Goalposts, Indicator{Code: "g", Sign: 1, Low: 9, High: 5, HasGoalposts: true}, []float64{1}, -1, []string{"low < high"}},
		{"no targets", analytics.DistanceToTarget, Indicator{Code: "t", Sign: 1}, []float64{1, 2}, -1, []string{"one target (or NaN for none) per region"}},
		{"target 0", analytics.DistanceToTarget, Indicator{Code: "t", Sign: 1, Targets: []float64{1, 0}}, []float64{1, 2}, 1, []string{"give a positive target"}},
		{"value 0 with a target", analytics.DistanceToTarget, Indicator{Code: "t", Sign: 1, Targets: []float64{1, 1}}, []float64{1, 0}, 1, []string{"DISTANCE_TO_TARGET divides by values"}},
		{"infinite value", analytics.MinMax, Indicator{Code: "v", Sign: 1}, []float64{1, math.Inf(1)}, 1, []string{"infinite value", "give a finite value"}},
		{"unknown", analytics.Normalisation("MAX"), Indicator{Code: "v", Sign: 1}, []float64{1}, -1, []string{`unknown normalisation "MAX"`, "MIN_MAX, Z_SCORE"}},
		{"bad sign", analytics.MinMax, Indicator{Code: "v", Sign: 0}, []float64{1}, -1, []string{"sign 0", "use 1"}},
		{"min-max overflow", analytics.MinMax, Indicator{Code: "v", Sign: 1}, []float64{-1e308, 1e308}, -1, []string{"larger unit"}},
	}
	for _, tc := range tests {
		_, err := Normalise(tc.n, tc.ind, tc.x)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: got %v, want an *Error", tc.name, err)
		}
		if e.Region != tc.region || e.Indicator != -1 {
			t.Errorf("%s: region %d indicator %d, want %d and -1", tc.name, e.Region, e.Indicator, tc.region)
		}
		for _, s := range tc.wantMsg {
			if !strings.Contains(e.Msg, s) {
				t.Errorf("%s: message %q lacks %q", tc.name, e.Msg, s)
			}
		}
	}
}
