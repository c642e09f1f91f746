package assess

import (
	"math"

	"pacesetter/analytics"
)

// A Monte Carlo run ranks thousands of scores, a thousand times: a comparison sort of them was half of
// the whole analysis. The runs therefore sort by an LSD radix sort on the scores' bits, 8 bits a pass,
// skipping the passes in which every score has the same byte (the sign and exponent bytes, usually).

// rkey is a score as an unsigned key that sorts best (highest score) first, and the index its rank goes to.
type rkey struct {
	k uint64
	i int32
}

// descKey maps a score to a key whose ascending order is the scores' descending order (−0 and 0 differ,
// but the scores ranked here went through calc.Round12, which makes −0 into 0).
func descKey(s float64) uint64 {
	b := math.Float64bits(s)
	if b>>63 == 1 {
		b = ^b
	} else {
		b |= 1 << 63
	}
	return ^b
}

// radixRank sorts keys (using tmp, of the same length, as the other buffer) and writes each one's rank
// under the tie rule to out[key's index], as rankInto does.
func radixRank(keys, tmp []rkey, t analytics.TieRule, out []float64) {
	n := len(keys)
	if n == 0 {
		return
	}
	var hist [8][256]int32
	for _, e := range keys {
		k := e.k
		for d := range 8 {
			hist[d][byte(k>>(8*d))]++
		}
	}
	src, dst := keys, tmp[:n]
	for d := range 8 {
		h := &hist[d]
		shift := uint(8 * d)
		if h[byte(src[0].k>>shift)] == int32(n) {
			continue
		}
		sum := int32(0)
		for v := range h {
			c := h[v]
			h[v] = sum
			sum += c
		}
		for _, e := range src {
			dig := byte(e.k >> shift)
			dst[h[dig]] = e
			h[dig]++
		}
		src, dst = dst, src
	}
	dense := 0
	for pos := 0; pos < n; {
		end := pos + 1
		for end < n && src[end].k == src[pos].k {
			end++
		}
		dense++
		var r float64
		switch t {
		case analytics.Dense:
			r = float64(dense)
		case analytics.Fractional:
			r = float64(pos+1+end) / 2
		default:
			r = float64(pos + 1)
		}
		for k := pos; k < end; k++ {
			out[src[k].i] = r
		}
		pos = end
	}
}
