// Package calc is pacesetter's pure math: rank rules, percentiles and the trend measures (growth, records,
// streaks, CAGR). No I/O. The engine computes set-based ranks in SQL; Ranks here states the same rules in
// plain Go and serves as the oracle the SQL path is tested against.
package calc

import (
	"math"
	"slices"
	"sort"

	"pacesetter/analytics"
)

// Ranks ranks values, best first: the largest sign·value gets rank 1 (sign is +1 for higher_is_better,
// −1 for lower_is_better). Equal values share a rank: COMPETITION gives 1,2,2,4 and DENSE 1,2,2,3.
func Ranks(values []float64, sign float64, tie analytics.TieRule) []int {
	idx := make([]int, len(values))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return sign*values[idx[a]] > sign*values[idx[b]] })
	ranks := make([]int, len(values))
	dense := 0
	for pos, i := range idx {
		if pos > 0 && values[i] == values[idx[pos-1]] {
			ranks[i] = ranks[idx[pos-1]]
			continue
		}
		dense++
		if tie == analytics.Dense {
			ranks[i] = dense
		} else {
			ranks[i] = pos + 1
		}
	}
	return ranks
}

// Percentile is the share of the other n−1 ranked regions that a region with this competition rank is
// ahead of or tied with: (n − rank)/(n − 1). A lone region is at 1.
func Percentile(n, competitionRank int) float64 {
	if n <= 1 {
		return 1
	}
	return float64(n-competitionRank) / float64(n-1)
}

// Mean of values; NaN for none.
func Mean(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range values {
		s += v
	}
	return s / float64(len(values))
}

// Median of values, the mean of the two middle ones for an even count; NaN for none.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := slices.Clone(values)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// Growth is x/prev − 1; ok is false when prev is 0.
func Growth(x, prev float64) (g float64, ok bool) {
	if prev == 0 {
		return 0, false
	}
	return x/prev - 1, true
}

// YearValue is one year of a series.
type YearValue struct {
	Year  int
	Value float64
}

// Trend computes, for a series sorted by year with one value per year, each year's growth over the year
// before, whether it is a record in the indicator's direction, and how many consecutive years up to it improved.
//
//   - Yoy: x_t/x_{t−1} − 1; nil when t−1 has no value or it is 0.
//   - BestEver: nil for the first value; else whether sign·x_t > sign·x_s for every earlier s (strictly).
//   - Streak: the number of consecutive years ending at t in which sign·x improved over the year before;
//     0 when it did not, or when t−1 has no value.
func Trend(series []YearValue, sign float64) []analytics.TrendPoint {
	out := make([]analytics.TrendPoint, len(series))
	best := math.Inf(-1)
	for i, p := range series {
		tp := analytics.TrendPoint{Year: p.Year, Value: p.Value}
		if i > 0 {
			record := sign*p.Value > best
			tp.BestEver = &record
			prev := series[i-1]
			if prev.Year == p.Year-1 {
				if g, ok := Growth(p.Value, prev.Value); ok {
					tp.Yoy = &g
				}
				if sign*p.Value > sign*prev.Value {
					tp.Streak = out[i-1].Streak + 1
				}
			}
		}
		best = max(best, sign*p.Value)
		out[i] = tp
	}
	return out
}

// CAGR is the compound annual growth rate from the first to the last point: (x_last/x_first)^(1/years) − 1.
// ok is false when there is a single year, or either value is not positive.
func CAGR(first, last YearValue) (rate float64, ok bool) {
	if last.Year == first.Year || first.Value <= 0 || last.Value <= 0 {
		return 0, false
	}
	return math.Pow(last.Value/first.Value, 1/float64(last.Year-first.Year)) - 1, true
}
