package assess

import (
	"math"
	"math/rand/v2"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

// radixRank must rank exactly as rankInto (a comparison sort) does, for scores of both signs, zeros,
// ties, magnitudes far apart and every tie rule.
func TestRadixRankMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for c := range 3000 {
		n := rng.IntN(70)
		scores := make([]float64, n)
		for j := range scores {
			switch rng.IntN(6) {
			case 0:
				scores[j] = float64(rng.IntN(5) - 2) // ties, zeros, negatives
			case 1:
				scores[j] = -rng.Float64() * math.Pow(10, float64(rng.IntN(40)-20))
			case 2:
				scores[j] = rng.NormFloat64()
			case 3:
				scores[j] = math.Copysign(0, -1) + 0 // calc.Round12 turns −0 into 0 before ranking
			default:
				scores[j] = calc.Round12(100 * rng.Float64())
			}
		}
		for _, ties := range []analytics.TieRule{analytics.Competition, analytics.Dense, analytics.Fractional} {
			want := Ranks(scores, ties)
			keys, tmp, got := make([]rkey, n), make([]rkey, n), make([]float64, n)
			for j, s := range scores {
				keys[j] = rkey{descKey(s), int32(j)}
			}
			radixRank(keys, tmp, ties, got)
			for j := range want {
				if got[j] != want[j] {
					t.Fatalf("case %d %s: score %v ranks %v by radix, %v by sort (scores %v)", c, ties, scores[j], got[j], want[j], scores)
				}
			}
		}
	}
}
