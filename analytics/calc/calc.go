// Package calc is pacesetter's pure math: rank rules, percentiles, growth by measure and the trend measures
// (records, streaks, CAGR), and the rounding of derived numbers. No I/O: the engine (analytics/duck) reads
// values from DuckDB and calls these.
package calc

import (
	"cmp"
	"math"
	"math/big"
	"slices"
	"strconv"

	"pacesetter/analytics"
)

// Ranks ranks values, best first: the largest sign·value gets rank 1 (sign is +1 for higher_is_better,
// −1 for lower_is_better). Equal values share a rank: COMPETITION gives 1,2,2,4 and DENSE 1,2,2,3.
func Ranks(values []float64, sign float64, tie analytics.TieRule) []int {
	comp, dense := RanksBoth(values, sign)
	if tie == analytics.Dense {
		return dense
	}
	return comp
}

// RanksBoth gives the COMPETITION and the DENSE ranks of values in one sort. A rank depends only on the
// values, never on the order equal values are sorted in, so the sort need not be stable.
func RanksBoth(values []float64, sign float64) (competition, dense []int) {
	idx := make([]int32, len(values))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Compare(sign*values[b], sign*values[a]) })
	sorted := make([]float64, len(values))
	for pos, i := range idx {
		sorted[pos] = values[i]
	}
	c, d := RanksInOrder(sorted)
	competition, dense = make([]int, len(values)), make([]int, len(values))
	for pos, i := range idx {
		competition[i], dense[i] = c[pos], d[pos]
	}
	return competition, dense
}

// RanksInOrder gives the COMPETITION and DENSE ranks of values already sorted best first: equal neighbours
// share a rank.
func RanksInOrder(sorted []float64) (competition, dense []int) {
	competition, dense = make([]int, len(sorted)), make([]int, len(sorted))
	d := 0
	for pos, v := range sorted {
		if pos > 0 && v == sorted[pos-1] {
			competition[pos], dense[pos] = competition[pos-1], dense[pos-1]
			continue
		}
		d++
		competition[pos], dense[pos] = pos+1, d
	}
	return competition, dense
}

// Percentile is the share of the other n−1 ranked regions that a region with this competition rank is
// ahead of or tied with: (n − rank)/(n − 1). A lone region is at 1.
func Percentile(n, competitionRank int) float64 {
	if n <= 1 {
		return 1
	}
	return float64(n-competitionRank) / float64(n-1)
}

// Mean of values; NaN for none. The mean of finite values lies between their least and greatest, so it
// is always finite: when the running sum overflows (two values of 1e308), the sum is taken again exactly
// (math/big) and divided by the count, rounded once.
func Mean(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range values {
		s += v
	}
	if !math.IsInf(s, 0) && !math.IsNaN(s) {
		return s / float64(len(values))
	}
	sum := exactSum(values)
	m, _ := sum.Quo(sum, new(big.Float).SetInt64(int64(len(values)))).Float64()
	return m
}

// WeightedMean is Σ v·w / Σ w over the pairs given (values[i] with weights[i]), as a statistics bureau
// averages a per-capita figure or a rate over regions (weights: population, say); ok is false for no pair,
// a negative weight, weights summing to 0, or a sum beyond the doubles (then the products are taken
// exactly, with math/big, and the quotient rounded once).
func WeightedMean(values, weights []float64) (float64, bool) {
	if len(values) == 0 || len(values) != len(weights) {
		return 0, false
	}
	num, den := 0.0, 0.0
	for i, v := range values {
		if weights[i] < 0 {
			return 0, false
		}
		num += v * weights[i]
		den += weights[i]
	}
	if den == 0 || math.IsInf(den, 0) {
		return 0, false
	}
	if !math.IsInf(num, 0) && !math.IsNaN(num) {
		if m := num / den; !math.IsInf(m, 0) {
			return m, true
		}
	}
	n, d := new(big.Float).SetPrec(4400), new(big.Float).SetPrec(2200)
	x, y := new(big.Float), new(big.Float)
	for i, v := range values {
		n.Add(n, new(big.Float).SetPrec(4400).Mul(x.SetFloat64(v), y.SetFloat64(weights[i])))
		d.Add(d, y)
	}
	m, _ := n.Quo(n, d).Float64()
	return m, !math.IsInf(m, 0)
}

// exactSum is the exact sum of finite values: 2,200 bits hold any sum of fewer than 2^100 doubles, whose
// bits span 2^-1074 to 2^1024.
func exactSum(values []float64) *big.Float {
	acc := new(big.Float).SetPrec(2200)
	x := new(big.Float)
	for _, v := range values {
		acc.Add(acc, x.SetFloat64(v))
	}
	return acc
}

// Median of values, the mean of the two middle ones for an even count; NaN for none.
func Median(values []float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	return MedianSorted(s)
}

// MedianSorted is the median of values already sorted, either way up.
func MedianSorted(s []float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return Midpoint(s[m-1], s[m])
}

// Midpoint is (a + b)/2 of finite a and b, correctly rounded and never beyond them: a + b is exact when it
// is subnormal and halving is exact when it is not, so (a + b)/2 rounds once; when a + b overflows (1e308 and
// 1.5e308), both are far from the subnormals, so a/2 and b/2 are exact and their sum rounds once.
func Midpoint(a, b float64) float64 {
	if s := a + b; !math.IsInf(s, 0) {
		return s / 2
	}
	return a/2 + b/2
}

// Diff is a − b rounded to 12 significant digits (Round12); ok is false when it is beyond ±1.8e308, the
// largest double (a gap between 1e308 and −1e308): one IEEE subtraction rounds correctly, so it overflows
// exactly when the difference cannot be represented.
func Diff(a, b float64) (d float64, ok bool) {
	d = a - b
	if math.IsInf(d, 0) {
		return d, false
	}
	return Round12(d), true
}

// Round12 rounds a derived number (a growth, a difference, a mean) to 12 significant digits, so that
// 9.62 − 9.02 reads 0.6 and not 0.5999999999999996. Stored values are never passed through it. −0 becomes 0.
// It never overflows (the largest double, 1.7976931348623157e308, rounds down to 1.79769313486e308), and a
// subnormal keeps the digits it has.
func Round12(x float64) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x + 0
	}
	// Scaled so that 12 digits are left of the point, rounded to an integer (exact below 2^53) and scaled
	// back by an exact power of ten, which rounds once, correctly. Outside the exact powers of ten, and for
	// the one case scaling cannot settle (a product within rounding of a half), the decimal conversion does it.
	// The decimal exponent is guessed from the binary one, ⌊b·log₁₀2⌋ for 2^b ≤ |x| < 2^(b+1) (78913/2¹⁸ ≈
	// log₁₀2), which is the true one or one below it: math.Log10 was most of the cost of rounding the
	// millions of scores of a Monte Carlo. A wrong guess moves p by one per try; a subnormal's or an
	// extreme magnitude's p is out of range and goes to the decimal conversion.
	b := int((math.Float64bits(x)>>52)&0x7ff) - 1023
	e := (b * 78913) >> 18
	for p, try := 11-e, 0; p >= -22 && p <= 22 && try < 3; try++ {
		var scaled float64
		if p < 0 {
			scaled = x / pow10[-p]
		} else {
			scaled = x * pow10[p]
		}
		// p is judged on the product before it is rounded: 999999999999.5 (9.999999999995e-11 at p = 22)
		// is a half to settle, not 1e12 to be scaled again (where 99999999999.95 would round up, wrongly).
		if a := math.Abs(scaled); a >= 1e12 {
			p--
			continue
		} else if a < 1e11 {
			p++
			continue
		}
		m := math.RoundToEven(scaled)
		if frac := math.Abs(scaled - math.Trunc(scaled)); math.Abs(frac-0.5) < 1e-3 {
			break // near a half: let the exact conversion decide
		}
		if p < 0 {
			return m*pow10[-p] + 0
		}
		return m/pow10[p] + 0
	}
	return round12Decimal(x)
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [23]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
	1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// round12Decimal is Round12 by way of a decimal string: slow, exact, and the reference the fast path is
// tested against.
func round12Decimal(x float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	if err != nil { // cannot happen for a finite x
		return x
	}
	return r + 0
}

// GrowthOf is a year's growth as the indicator's measure defines it, rounded to 12 significant digits:
//
//   - LEVEL: x_t/x_{t−1} − 1 (needs x_{t−1} ≠ 0);
//   - RATE: x_t − x_{t−1}, in points of the indicator's unit;
//   - GROWTH: x_t/100 (the value already is the growth, in percent);
//   - INDEX: x_t/100 − 1 (previous year = 100).
//
// ok is false when the measure needs the year before and hasPrev is false (or, for a level, prev is 0), and
// when the growth is beyond ±1.8e308 (1e300 after 1e-300, or 1e308 after −1e308 in points): then g is ±Inf,
// so that a caller can tell the two apart. A single division or subtraction rounds correctly, so it
// overflows exactly when the growth cannot be represented; GROWTH and INDEX never do.
func GrowthOf(m analytics.Measure, x, prev float64, hasPrev bool) (g float64, ok bool) {
	switch m {
	case analytics.Rate:
		if !hasPrev {
			return 0, false
		}
		return Diff(x, prev)
	case analytics.Growth:
		return Round12(x / 100), true
	case analytics.Index:
		return Round12(x/100 - 1), true
	}
	if !hasPrev || prev == 0 {
		return 0, false
	}
	if r := x / prev; math.IsInf(r, 0) {
		return r, false
	}
	return Round12(x/prev - 1), true
}

// OutOfRange says whether a growth or CAGR that GrowthOf or CAGR refused exists but is beyond ±1.8e308.
func OutOfRange(g float64) bool { return math.IsInf(g, 0) }

// NeedsPrevious says whether a measure's growth in a year depends on the value of the year before.
func NeedsPrevious(m analytics.Measure) bool { return m != analytics.Growth && m != analytics.Index }

// YearValue is one year of a series.
type YearValue struct {
	Year  int
	Value float64
}

// Trend computes, for a series sorted by year with one value per year, each year's growth, whether it is a
// record in the indicator's direction, and how many consecutive years up to it improved.
//
//   - Yoy: GrowthOf the measure; nil when it needs year t−1 and t−1 has no value (or, for a level, it is 0),
//     or when it is beyond ±1.8e308 (then YoyHuge).
//   - BestEver: nil for the first value; else whether sign·x_t > sign·x_s for every earlier s (strictly).
//   - Streak: the number of consecutive years ending at t that improved in the indicator's direction: for a
//     LEVEL or RATE, sign·x_t > sign·x_{t−1}; for a GROWTH or INDEX, sign·growth_t > 0 (the year grew).
//     0 when year t did not improve; a missing year ends a streak.
func Trend(series []YearValue, sign float64, m analytics.Measure) []analytics.TrendPoint {
	out := make([]analytics.TrendPoint, len(series))
	best := math.Inf(-1)
	for i, p := range series {
		tp := analytics.TrendPoint{Year: p.Year, Ord: p.Year, Value: p.Value}
		hasPrev := i > 0 && series[i-1].Year == p.Year-1
		prev := 0.0
		if hasPrev {
			prev = series[i-1].Value
		}
		if g, ok := GrowthOf(m, p.Value, prev, hasPrev); ok {
			tp.Yoy = &g
		} else {
			tp.YoyHuge = OutOfRange(g)
		}
		if i > 0 {
			record := sign*p.Value > best
			tp.BestEver = &record
		}
		improved := false
		if NeedsPrevious(m) {
			improved = hasPrev && sign*p.Value > sign*prev
		} else {
			improved = tp.Yoy != nil && sign**tp.Yoy > 0
		}
		if improved {
			tp.Streak = 1
			if hasPrev {
				tp.Streak += out[i-1].Streak
			}
		}
		best = max(best, sign*p.Value)
		out[i] = tp
	}
	return out
}

// CAGR is the compound annual growth rate over a series sorted by year, from its first to its last point,
// rounded to 12 significant digits:
//
//   - LEVEL: (x_last/x_first)^(1/(t_last − t_first)) − 1; both values must be positive;
//   - GROWTH and INDEX: the years' growth factors chained, (Π_{t_first<t≤t_last} (1 + growth_t))^(1/(t_last − t_first)) − 1;
//     every year after the first must be present and the product positive;
//   - RATE: none (a rate's change is in points, not compounded).
//
// ok is false when there is none: a single year, or the conditions above unmet; and when the rate is beyond
// 1.8e308 (1e-300 to 1e300 in one or two years), with rate +Inf (OutOfRange). A ratio or product that
// leaves the normal doubles (1e300/1e-300 overflows, 5e-324/1e308 underflows to 0) is taken in log space,
// exp((ln x_last − ln x_first)/years) − 1, so that the rate is found whenever it can be represented; within
// them the direct formula stands, as it always did.
func CAGR(series []YearValue, m analytics.Measure) (rate float64, ok bool) {
	if len(series) < 2 {
		return 0, false
	}
	first, last := series[0], series[len(series)-1]
	years := float64(last.Year - first.Year)
	switch m {
	case analytics.Rate:
		return 0, false
	case analytics.Growth, analytics.Index:
		if len(series) != last.Year-first.Year+1 {
			return 0, false // a gap: the growth of a missing year is unknown
		}
		prod, logSum, negative := 1.0, 0.0, false
		for _, p := range series[1:] {
			g, _ := GrowthOf(m, p.Value, 0, false)
			f := 1 + g
			if f == 0 {
				return 0, false
			}
			prod *= f
			logSum += ln(math.Abs(f))
			negative = negative != (f < 0)
		}
		if negative {
			return 0, false
		}
		if isNormal(prod) {
			return Round12(math.Pow(prod, 1/years) - 1), true
		}
		return fromLog(logSum / years)
	}
	if first.Value <= 0 || last.Value <= 0 {
		return 0, false
	}
	if r := last.Value / first.Value; isNormal(r) {
		return Round12(math.Pow(r, 1/years) - 1), true
	}
	return fromLog((ln(last.Value) - ln(first.Value)) / years)
}

// ln is the natural log of a positive finite x, subnormals included: math.Log on amd64 reads a subnormal as
// about 2^-1022 (math.Log(5e-324) is −709.09, not −744.44), so the exponent is split off first.
func ln(x float64) float64 {
	m, e := math.Frexp(x)
	return math.Log(m) + float64(e)*math.Ln2
}

// isNormal says whether x is a positive normal double: neither 0, subnormal nor +Inf.
func isNormal(x float64) bool { return x >= 0x1p-1022 && !math.IsInf(x, 0) }

// fromLog is e^l − 1, the rate whose growth factor has log l; +Inf and not ok when it is beyond range.
func fromLog(l float64) (float64, bool) {
	r := math.Expm1(l)
	if math.IsInf(r, 0) {
		return r, false
	}
	return Round12(r), true
}

// MoveToTop is the signed change of ranked[i] that reaches the n-th best of the other values of ranked
// (sorted best first in the direction sign): target − ranked[i], rounded as Diff; 0 when ranked[i] is
// already at least as good as that target, or when there are n or fewer others. ok is false when the
// change is beyond ±1.8e308. n must be at least 1.
func MoveToTop(ranked []float64, i int, sign float64, n int) (d float64, ok bool) {
	if n > len(ranked)-1 {
		return 0, true
	}
	t := ranked[n-1] // the n-th best other: the n-th value, or the (n+1)-th when the region is among the first n
	if n-1 >= i {
		t = ranked[n]
	}
	if sign*ranked[i] >= sign*t {
		return 0, true
	}
	return Diff(t, ranked[i])
}

// Sum is the sum of finite values taken exactly and rounded once to a double: Shewchuk's partials (the
// algorithm of Python's math.fsum) hold the exact sum as non-overlapping doubles, added from the smallest
// up at the end. So the sum does not depend on the order of the values, and points that add up to 29/3
// by different roads add up to the same double. A sum beyond the partials' range is taken with math/big.
func Sum(values []float64) float64 {
	var partials [8]float64
	ps := partials[:0]
	for _, x := range values {
		i := 0
		for _, y := range ps {
			if math.Abs(x) < math.Abs(y) {
				x, y = y, x
			}
			hi := x + y
			lo := y - (hi - x)
			if lo != 0 {
				ps[i] = lo
				i++
			}
			x = hi
		}
		ps = append(ps[:i], x)
	}
	hi := 0.0
	if n := len(ps); n > 0 {
		hi = ps[n-1]
		if math.IsInf(hi, 0) || math.IsNaN(hi) {
			s, _ := exactSum(values).Float64()
			return s
		}
		// Round half to even across the partials, as fsum does: add them from the top, and correct the last
		// step when the rest would tip a tie.
		lo := 0.0
		for n--; n > 0; {
			x, y := hi, ps[n-1]
			n--
			hi = x + y
			yr := hi - x
			lo = y - yr
			if lo != 0 {
				break
			}
		}
		if n > 0 && (lo < 0 && ps[n-1] < 0 || lo > 0 && ps[n-1] > 0) {
			y := lo * 2
			x := hi + y
			if y == x-hi {
				hi = x
			}
		}
	}
	return hi + 0
}

// Sum12 is Sum rounded to 12 significant digits (Round12): a total of points, rounded once. The running
// sum s is within n·2^-52·Σ|x| of the exact sum (twice the textbook bound); when both ends of that interval
// round to the same 12 digits, so does the exact sum (rounding is monotone), and the exact sum is skipped.
func Sum12(values []float64) float64 {
	s, a := 0.0, 0.0
	for _, v := range values {
		s += v
		a += math.Abs(v)
	}
	if !math.IsInf(a, 0) && !math.IsNaN(s) {
		e := float64(len(values)) * a * 0x1p-52
		if lo, hi := Round12(s-e), Round12(s+e); lo == hi {
			return lo
		}
	}
	return Round12(Sum(values))
}
