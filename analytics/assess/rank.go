package assess

import (
	"cmp"
	"math"
	"slices"

	"pacesetter/analytics"
)

// Ranks ranks scores best (highest) first under the tie rule; a NaN score is not ranked and gets NaN.
// COMPETITION and DENSE give integers, FRACTIONAL the average of the tied positions. An unknown or
// empty rule ranks as COMPETITION (Compute refuses unknown rules before it gets here).
func Ranks(scores []float64, t analytics.TieRule) []float64 {
	out := make([]float64, len(scores))
	buf := make([]keyed, 0, len(scores))
	for i, s := range scores {
		if math.IsNaN(s) {
			out[i] = math.NaN()
			continue
		}
		buf = append(buf, keyed{s, int32(i)})
	}
	rankInto(buf, t, out)
	return out
}

// keyed is a score and the index its rank is written to: sorting these pairs keeps the compared scores
// next to each other in memory, which is what makes a Monte Carlo run's ranking cheap.
type keyed struct {
	s float64
	i int32
}

// rankInto sorts buf best first and writes each element's rank to out[element's index]. A rank depends
// only on the scores, never on the order equal scores end up in, so the sort need not be stable.
func rankInto(buf []keyed, t analytics.TieRule, out []float64) {
	slices.SortFunc(buf, func(a, b keyed) int { // no NaN here: plain comparisons, cheaper than cmp.Compare
		switch {
		case a.s > b.s:
			return -1
		case a.s < b.s:
			return 1
		}
		return 0
	})
	dense := 0
	for pos := 0; pos < len(buf); {
		end := pos + 1
		for end < len(buf) && buf[end].s == buf[pos].s {
			end++
		}
		dense++
		var r float64
		switch t {
		case analytics.Dense:
			r = float64(dense)
		case analytics.Fractional:
			r = float64(pos+1+end) / 2 // the mean of positions pos+1 … end
		default:
			r = float64(pos + 1)
		}
		for k := pos; k < end; k++ {
			out[buf[k].i] = r
		}
		pos = end
	}
}

// competitionRanks gives the competition rank (1 = largest key) of keys[r] for each r in present; the
// other entries of the answer are 0.
func competitionRanks(keys []float64, present []int) []int {
	buf := make([]keyed, len(present))
	for k, r := range present {
		buf[k] = keyed{keys[r], int32(r)}
	}
	ranks := make([]float64, len(keys))
	rankInto(buf, analytics.Competition, ranks)
	out := make([]int, len(keys))
	for _, r := range present {
		out[r] = int(ranks[r])
	}
	return out
}

// sortByScoreDesc sorts regions by score, best first.
func sortByScoreDesc(regions []int32, score func(int32) float64) {
	slices.SortFunc(regions, func(a, b int32) int { return cmp.Compare(score(b), score(a)) })
}

// TierOf is the tier of a scored region. By cut-offs (strictly descending): 1 if score ≥ c[0], 2 if
// ≥ c[1], …, len(c)+1 otherwise. By quotas (positive): tier k holds the competition ranks
// ≤ q[0]+…+q[k−1], so regions tied at a cut share the better tier, and the rest are tier len(q)+1.
// It is 0 without a tier rule, and for a NaN score (cut-offs) or a competition rank below 1 (quotas).
func TierOf(t Tiers, score float64, competitionRank int) int {
	switch {
	case len(t.Cutoffs) > 0:
		if math.IsNaN(score) {
			return 0
		}
		for k, c := range t.Cutoffs {
			if score >= c {
				return k + 1
			}
		}
		return len(t.Cutoffs) + 1
	case len(t.Quotas) > 0:
		if competitionRank < 1 {
			return 0
		}
		cum := 0
		for k, q := range t.Quotas {
			if q > 0 && cum > math.MaxInt-q { // saturate: no rank is that large
				cum = math.MaxInt
			} else {
				cum += q
			}
			if competitionRank <= cum {
				return k + 1
			}
		}
		return len(t.Quotas) + 1
	}
	return 0
}
