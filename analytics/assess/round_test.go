package assess

import (
	"math"
	"math/rand/v2"
	"testing"

	"pacesetter/analytics/calc"
)

// round12 must agree with calc.Round12 on every input: random magnitudes from 1e−320 to 1e308, values
// next to powers of ten (where the exponent guess is off), 12-digit halves (where the scaling defers),
// and the special values.
func TestRound12MatchesCalc(t *testing.T) {
	same := func(a, b float64) bool {
		return a == b && math.Signbit(a) == math.Signbit(b) || math.IsNaN(a) && math.IsNaN(b)
	}
	check := func(x float64) {
		if got, want := round12(x), calc.Round12(x); !same(got, want) {
			t.Fatalf("round12(%v) = %v, calc.Round12 %v", x, got, want)
		}
	}
	for _, x := range []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64,
		1, -1, 0.1, 999999999999.5, 9.999999999995, 99.9999999999949, 100.00000000005, 1e-9, 1e18, 1e19, 2.5e-10} {
		check(x)
		check(-x)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		x := math.Float64frombits(rng.Uint64() &^ (1 << 63)) // any finite magnitude, both signs
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		check(x)
		check(-x)
	}
	for k := -25; k <= 25; k++ {
		p := math.Pow(10, float64(k))
		for _, x := range []float64{p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)), p * (1 - 5e-13), p * (1 + 5e-13), 5 * p, 9.99999999999 * p} {
			check(x)
			check(-x)
		}
		for range 2000 { // 12-digit numbers plus a half in the 13th digit, and scores of the usual range
			m := float64(100000000000+rng.Int64N(900000000000)) + 0.5
			check(m * p / 1e12)
			check(100 * rng.Float64() * p)
		}
	}
}
