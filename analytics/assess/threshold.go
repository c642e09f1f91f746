package assess

import (
	"fmt"
	"math"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

// ThresholdInput is a region's series of an indicator (years ascending, values present only) and a
// threshold to reach («两个万亿»: a trillion of GRP).
type ThresholdInput struct {
	Series []calc.YearValue
	Sign   float64 // +1: reached at or above Value; −1: at or below
	Value  float64
	By     *int // the year to reach it by; nil: no required growth
	Years  int  // the span of the growth used, in years (≥ 1)
	Level  bool // a LEVEL indicator: only then are growths compounded
}

// ThresholdResult: see schema/assess.graphqls (type Threshold). Nil numbers are none; Why says why the
// growth fields are none when they are.
type ThresholdResult struct {
	ReachedIn                                *int
	LatestYear                               int
	Latest, Gap                              float64
	GrowthUsed, YearsToReach, RequiredGrowth *float64
	Why                                      []string
}

// Threshold answers when a series reached a threshold, how far its latest value is from it, and at what
// growth it gets there:
//
//   - ReachedIn: the first year with Sign·x ≥ Sign·Value;
//   - Gap: Value − latest (rounded to 12 significant digits);
//   - GrowthUsed: the CAGR from the value Years years before the latest year (the earliest value within
//     that span when that year has none) to the latest; none for a single year;
//   - YearsToReach: ln(Value/latest)/ln(1 + GrowthUsed), when not reached yet and moving towards it;
//   - RequiredGrowth: (Value/latest)^(1/(By − latestYear)) − 1.
//
// The growth fields need a LEVEL indicator and positive values and threshold (else none, with Why). An
// empty series, By not after the latest year, or Years below 1 is an error.
func Threshold(in ThresholdInput) (ThresholdResult, error) {
	var out ThresholdResult
	if len(in.Series) == 0 {
		return out, errf(-1, -1, "the region has no value of the indicator")
	}
	if in.Years < 1 {
		return out, errf(-1, -1, "years is %d: give the span of the growth used, from 1 year", in.Years)
	}
	for _, p := range in.Series {
		if in.Sign*p.Value >= in.Sign*in.Value {
			y := p.Year
			out.ReachedIn = &y
			break
		}
	}
	last := in.Series[len(in.Series)-1]
	out.LatestYear, out.Latest = last.Year, last.Value
	out.Gap = calc.Round12(in.Value - last.Value)
	if in.By != nil && *in.By <= last.Year {
		return out, errf(-1, -1, "by is %d, not after the latest year with a value (%d): give a later year", *in.By, last.Year)
	}
	switch {
	case !in.Level:
		out.Why = append(out.Why, "growth is compounded only for a LEVEL indicator: growthUsed, yearsToReach and requiredGrowth are null")
		return out, nil
	case !(in.Value > 0):
		if in.By != nil {
			return out, errf(-1, -1, "value is %v: a growth projection (by) needs a positive threshold", in.Value)
		}
		out.Why = append(out.Why, fmt.Sprintf("the threshold %v is not positive: no growth reaches it", in.Value))
		return out, nil
	case !(last.Value > 0):
		out.Why = append(out.Why, fmt.Sprintf("the latest value %v is not positive: no growth from it is defined", last.Value))
		return out, nil
	}
	from := last.Year - in.Years
	var window []calc.YearValue
	for _, p := range in.Series {
		if p.Year >= from {
			window = append(window, p)
		}
	}
	if g, ok := calc.CAGR([]calc.YearValue{window[0], last}, analytics.Level); ok {
		out.GrowthUsed = &g
	} else {
		out.Why = append(out.Why, fmt.Sprintf("no growth over the %d years to %d (a single value, or a value not positive)", in.Years, last.Year))
	}
	reached := in.Sign*last.Value >= in.Sign*in.Value
	if g := out.GrowthUsed; g != nil && !reached {
		if n := math.Log(in.Value/last.Value) / math.Log1p(*g); n > 0 && !math.IsInf(n, 0) && !math.IsNaN(n) {
			n = calc.Round12(n)
			out.YearsToReach = &n
		} else {
			out.Why = append(out.Why, "at the growth used the value moves away from the threshold (or stands still): yearsToReach is null")
		}
	}
	if in.By != nil {
		r := calc.Round12(math.Pow(in.Value/last.Value, 1/float64(*in.By-last.Year)) - 1)
		out.RequiredGrowth = &r
	}
	return out, nil
}
