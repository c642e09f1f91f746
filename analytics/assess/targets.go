package assess

import (
	"math"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

// The rules of targets (targets.csv), pure: the engine finds the actual and calls these.

// TargetGrowth is a year's growth in percent as a growth target reads it, by the indicator's measure:
// LEVEL 100·(x/prev − 1) (none unless prev > 0); RATE x − prev, in points; GROWTH x (already a change in
// percent); INDEX x − 100 (previous year = 100). ok is false when there is none (no year before for LEVEL
// and RATE, or a LEVEL base that is not positive, or a growth beyond the range of a double). Rounded to 12
// significant digits, so 105.7 reads 5.7 and not 5.700000000000003.
func TargetGrowth(m analytics.Measure, x, prev float64, hasPrev bool) (float64, bool) {
	var g float64
	switch m {
	case analytics.Rate:
		if !hasPrev {
			return 0, false
		}
		g = x - prev
	case analytics.Growth:
		g = x
	case analytics.Index:
		g = x - 100
	default:
		if !hasPrev || prev <= 0 {
			return 0, false
		}
		g = 100 * (x/prev - 1)
	}
	if math.IsInf(g, 0) || math.IsNaN(g) {
		return 0, false
	}
	return calc.Round12(g), true
}

// TargetStatus is MET when actual is on the comparator's side of target (>= or <=, the target itself
// included), MISSED when not, and PENDING when there is no actual yet (nil).
func TargetStatus(c analytics.Comparator, actual *float64, target float64) analytics.TargetStatus {
	switch {
	case actual == nil:
		return analytics.Pending
	case c == analytics.AtMost && *actual <= target, c != analytics.AtMost && *actual >= target:
		return analytics.Met
	}
	return analytics.Missed
}

// TargetAttainment is how much of the target the actual achieves: actual/target for >=, target/actual for
// <= (so above 1 is better either way), rounded to 12 significant digits. ok is false when the divisor is
// not positive (a ratio to zero or across zero says nothing) or the ratio is beyond a double.
func TargetAttainment(c analytics.Comparator, actual, target float64) (float64, bool) {
	num, den := actual, target
	if c == analytics.AtMost {
		num, den = target, actual
	}
	if den <= 0 {
		return 0, false
	}
	r := num / den
	if math.IsInf(r, 0) {
		return 0, false
	}
	return calc.Round12(r), true
}

// TargetGap is actual − target in the target's unit (percentage points for a growth target, places for a
// rank), rounded to 12 significant digits; ok is false beyond ±1.8e308.
func TargetGap(actual, target float64) (float64, bool) { return calc.Diff(actual, target) }

// TargetMargin is how far the actual is past the target on its better side: actual − target for >=,
// target − actual for <= (a rank 2 against ≤ 3 is 1 better). Positive is better; a points rule's step
// multiplies it.
func TargetMargin(c analytics.Comparator, actual, target float64) float64 {
	if c == analytics.AtMost {
		return calc.Round12(target - actual)
	}
	return calc.Round12(actual - target)
}

// TargetStreaks gives, for each target of one region, indicator and kind, sorted by year, the number of
// consecutive years up to its year in which the target was met: 0 when it was not met (or is pending); a
// year without a target breaks the run.
func TargetStreaks(years []int, status []analytics.TargetStatus) []int {
	out := make([]int, len(years))
	for i, y := range years {
		if status[i] != analytics.Met {
			continue
		}
		out[i] = 1
		if i > 0 && years[i-1] == y-1 {
			out[i] += out[i-1]
		}
	}
	return out
}
