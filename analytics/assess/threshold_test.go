package assess

import (
	"math"
	"strings"
	"testing"

	"pacesetter/analytics/calc"
)

// Worked by hand: 800, 900, 1000 (2021–2023) towards 1210 reaches it after two years of 10 %; 1000 → 1210
// in two years needs 10 % a year.
func TestThreshold(t *testing.T) {
	s := []calc.YearValue{{Year: 2021, Value: 800}, {Year: 2022, Value: 900}, {Year: 2023, Value: 1000}}
	f := func(x *float64) float64 {
		if x == nil {
			return math.NaN()
		}
		return *x
	}
	by := 2025
	got, err := Threshold(ThresholdInput{Series: s, Sign: 1, Value: 1210, By: &by, Years: 1, Level: true})
	if err != nil {
		t.Fatal(err)
	}
	// growth over 1 year: 1000/900 − 1 = 1/9; years: ln(1.21)/ln(10/9) = 1.80906…
	if got.ReachedIn != nil || got.LatestYear != 2023 || got.Latest != 1000 || got.Gap != 210 ||
		math.Abs(f(got.GrowthUsed)-1.0/9) > 1e-12 || math.Abs(f(got.YearsToReach)-math.Log(1.21)/math.Log(10.0/9)) > 1e-9 ||
		math.Abs(f(got.RequiredGrowth)-0.1) > 1e-12 {
		t.Errorf("%+v growth %v years %v required %v", got, f(got.GrowthUsed), f(got.YearsToReach), f(got.RequiredGrowth))
	}
	// Over 2 years: (1000/800)^(1/2) − 1.
	got, _ = Threshold(ThresholdInput{Series: s, Sign: 1, Value: 1210, Years: 5, Level: true})
	if math.Abs(f(got.GrowthUsed)-(math.Sqrt(1.25)-1)) > 1e-12 || got.RequiredGrowth != nil {
		t.Errorf("growth over the span there is: %v", f(got.GrowthUsed))
	}
	// Reached in 2022 at 900 (at or past it), lower-is-better reached when at or below.
	got, _ = Threshold(ThresholdInput{Series: s, Sign: 1, Value: 900, Years: 5, Level: true})
	if got.ReachedIn == nil || *got.ReachedIn != 2022 || got.YearsToReach != nil || got.Gap != -100 {
		t.Errorf("reached: %+v", got)
	}
	got, _ = Threshold(ThresholdInput{Series: s, Sign: -1, Value: 850, Years: 5, Level: true})
	if got.ReachedIn == nil || *got.ReachedIn != 2021 || got.YearsToReach != nil {
		t.Errorf("lower is better: %+v", got)
	}
	// Not a level: growth fields null with why.
	got, _ = Threshold(ThresholdInput{Series: s, Sign: 1, Value: 1210, Years: 5})
	if got.GrowthUsed != nil || len(got.Why) == 0 || !strings.Contains(got.Why[0], "LEVEL") {
		t.Errorf("not a level: %+v", got)
	}
	// Falling away from it: no years to reach.
	down := []calc.YearValue{{Year: 2021, Value: 1000}, {Year: 2022, Value: 900}}
	got, _ = Threshold(ThresholdInput{Series: down, Sign: 1, Value: 1210, Years: 5, Level: true})
	if got.YearsToReach != nil || len(got.Why) == 0 {
		t.Errorf("falling: %+v", got)
	}
	for _, bad := range []struct {
		in   ThresholdInput
		want string
	}{
		{ThresholdInput{Series: s, Sign: 1, Value: 1210, By: &[]int{2023}[0], Years: 5, Level: true}, "by is 2023, not after the latest year"},
		{ThresholdInput{Series: s, Sign: 1, Value: -5, By: &by, Years: 5, Level: true}, "needs a positive threshold"},
		{ThresholdInput{Series: s, Sign: 1, Value: 5, Years: 0, Level: true}, "years is 0"},
		{ThresholdInput{Sign: 1, Value: 5, Years: 5, Level: true}, "no value"},
	} {
		if _, err := Threshold(bad.in); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v, want %q", err, bad.want)
		}
	}
}
