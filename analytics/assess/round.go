package assess

import (
	"math"

	"pacesetter/analytics/calc"
)

// round12 is calc.Round12 (12 significant digits, −0 → 0), with the decimal exponent guessed from the
// binary one instead of math.Log10: a Monte Carlo rounds millions of scores, and the logarithm was most of
// the rounding's cost. The guess is the true exponent or one below it, and the scaled rounding below moves
// p by one when it is off, as calc.Round12 does; whatever it cannot settle (far magnitudes, a product
// within rounding of a half) goes to calc.Round12 itself, so the two agree on every input (tested).
func round12(x float64) float64 {
	b := int((math.Float64bits(x)>>52)&0x7ff) - 1023 // the binary exponent: 2^b ≤ |x| < 2^(b+1)
	if x == 0 || b < -30 || b > 60 {                 // also NaN and ±Inf (b = 1024)
		return calc.Round12(x)
	}
	e := (b * 78913) >> 18 // ⌊b·log₁₀2⌋ (78913/2¹⁸ ≈ log₁₀2), so ⌊log₁₀|x|⌋ is e or e + 1
	for p, try := 11-e, 0; try < 3; try++ {
		var scaled float64
		if p < 0 {
			scaled = x / round10[-p]
		} else {
			scaled = x * round10[p]
		}
		m := math.RoundToEven(scaled)
		if a := math.Abs(m); a >= 1e12 {
			p--
			continue
		} else if a < 1e11 {
			p++
			continue
		}
		if frac := math.Abs(scaled - math.Trunc(scaled)); math.Abs(frac-0.5) < 1e-3 {
			break
		}
		if p < 0 {
			return m*round10[-p] + 0
		}
		return m/round10[p] + 0
	}
	return calc.Round12(x)
}

// round10 are the powers of ten a float64 holds exactly; b ∈ [−30, 60] keeps p within −8..22.
var round10 = [23]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}
