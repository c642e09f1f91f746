package assess

import (
	"math"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

// PointsEarned turns an indicator's result into points under its rule, for points available:
//
//   - SCALED: points × normalised / 100 (normalised on the scheme's scale: 0–100 for MIN_MAX, so the
//     best region earns every point and the worst none; not clamped, so a Z_SCORE can earn negative points).
//   - TARGET: clamp(points·Met + Step·margin, 0, points·Cap) when status is MET, clamp(points·Missed +
//     Step·margin, 0, points·Cap) when MISSED; margin is TargetMargin (positive = better than the target,
//     in its unit). PENDING, or no target at all (""), earns nothing yet: ok is false.
//
// ok is also false when normalised (SCALED) or margin (TARGET) is not finite. The result is rounded to 12
// significant digits.
func PointsEarned(rule analytics.PointsRule, points, normalised float64, status analytics.TargetStatus, margin float64) (float64, bool) {
	var p float64
	switch rule.Kind {
	case analytics.PointsTarget:
		var share float64
		switch status {
		case analytics.Met:
			share = rule.Met
		case analytics.Missed:
			share = rule.Missed
		default:
			return 0, false
		}
		if math.IsNaN(margin) || math.IsInf(margin, 0) {
			return 0, false
		}
		p = min(max(points*share+rule.Step*margin, 0), points*rule.Cap)
	default:
		if math.IsNaN(normalised) || math.IsInf(normalised, 0) {
			return 0, false
		}
		p = points * normalised / 100
	}
	return calc.Round12(p), true
}
