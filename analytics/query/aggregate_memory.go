package query

import (
	"math"
	"reflect"
	"slices"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
	"pacesetter/analytics/duck"
)

// aggregateInMemory answers an aggregate from the matrices the engine holds, as rankings are, instead of
// having DuckDB group the values again: the mean and count of every indicator in every year of 300 regions
// × 50 indicators × 20 years take about 0.5 ms of Go against 3 ms for DuckDB's GROUP BY alone. It answers
// only what it answers exactly as the statement does (ok false otherwise, and the statement answers):
//   - grouped by INDICATOR, YEAR or both, with count, sum, mean, min and max, and no quantiles, totals,
//     having or order (rows in dataset order, as the statement's);
//   - a filter of indicators and years alone, over the newest values (no asOf), of annual indicators
//     whose matrices are all held (it loads none: a first request goes to DuckDB);
//   - a dataset where every region with a value is in the scope ALL (Flat: no region adds up others
//     beside them) and no value is beyond ±2^400 (not Wide).
//
// Means and sums are added up with Neumaier's compensation and rounded to 12 significant digits, as the
// statement's are; DuckDB adds in its own order, so the two may differ past the 15th digit.
func (e *Engine) aggregateInMemory(s *snapshot, spec duck.AggregateSpec) (*analytics.Aggregate, bool) {
	q, f := spec.Query, spec.Query.Filter
	rest := f // the filter but its indicators and years: nothing else (a field added later included)
	rest.Indicators, rest.From, rest.To = nil, nil, nil
	if !s.Flat || s.Wide || len(q.Quantiles) > 0 || len(q.Totals) > 0 || len(q.Having) > 0 || len(q.OrderBy) > 0 ||
		!reflect.ValueOf(rest).IsZero() || s.Info.FirstYear == nil || q.First <= 0 {
		return nil, false
	}
	byInd, byYear := -1, -1
	for i, d := range q.By {
		switch d {
		case analytics.DimIndicator:
			byInd = i
		case analytics.DimYear:
			byYear = i
		default:
			return nil, false
		}
	}
	for _, m := range q.Measures {
		switch m {
		case analytics.MeasureCount, analytics.MeasureSum, analytics.MeasureMean, analytics.MeasureMin, analytics.MeasureMax:
		default:
			return nil, false
		}
	}
	// The indicators, in dataset order, each with its matrix.
	var inds []*analytics.Indicator
	if f.Indicators == nil {
		inds = s.Indicators
	} else {
		for _, c := range f.Indicators {
			in := s.IndicatorBy[c]
			if in == nil { // a formula
				return nil, false
			}
			if !slices.Contains(inds, in) {
				inds = append(inds, in)
			}
		}
		slices.SortFunc(inds, func(a, b *analytics.Indicator) int { return s.IndicatorAt[a.Code] - s.IndicatorAt[b.Code] })
	}
	ms := make([]*duck.Matrix, len(inds))
	for i, in := range inds {
		if in.PerYear() != 1 {
			return nil, false
		}
		if in.FirstYear == nil {
			continue // no values
		}
		m, ok := e.matrixCache.get(matrixKey(s, in.Code, ""))
		if !ok {
			return nil, false
		}
		ms[i] = m
	}
	first, last := *s.Info.FirstYear, *s.Info.LastYear
	if f.From != nil {
		first = max(first, *f.From)
	}
	if f.To != nil {
		last = min(last, *f.To)
	}
	span := max(last-first+1, 0)
	// One accumulator for each group: an indicator's year, or an indicator's or a year's alone.
	ni, ny := 1, 1
	if byInd >= 0 {
		ni = len(inds)
	}
	if byYear >= 0 {
		ny = span
	}
	if ni*ny > 1<<16 { // many indicators over a long span: DuckDB groups them without an accumulator each
		return nil, false
	}
	accs := make([]groupAcc, ni*ny)
	for i, m := range ms {
		if m == nil {
			continue
		}
		sum := inds[i].Rollup == analytics.RollupSum
		row := accs[min(i, ni-1)*ny:]
		for r := range len(m.Off) - 1 {
			for _, c := range m.Cells[m.Off[r]:m.Off[r+1]] {
				if y := int(c.Year); y >= first && y <= last {
					row[min(y-first, ny-1)].add(c.Value, sum)
				}
			}
		}
	}
	// The groups with values, in the statement's order: by the first dimension of by, then the second.
	var groups []groupAcc
	var dims [][2]int // of each group: the indicator's place in inds and the year, −1 where not grouped by
	for k := range ni * ny {
		i, y := k/ny, k%ny
		if byYear >= 0 && byInd > byYear { // by YEAR, INDICATOR: year-major
			i, y = k%ni, k/ni
		}
		if a := accs[i*ny+y]; a.n > 0 {
			d := [2]int{-1, -1}
			if byInd >= 0 {
				d[0] = i
			}
			if byYear >= 0 {
				d[1] = first + y
			}
			groups, dims = append(groups, a), append(dims, d)
		}
	}
	out := &analytics.Aggregate{Rows: []*analytics.AggregateRow{}, Totals: &analytics.AggregateRow{},
		Warnings: s.SumWarnings(q), TotalCount: len(groups), HasNextPage: len(groups) > spec.Offset+q.First}
	page := groups[min(spec.Offset, len(groups)):min(spec.Offset+q.First, len(groups))]
	rows := make([]analytics.AggregateRow, len(page))
	years := make([]int, len(page))
	counts := make([]int, len(page))
	nums := make([]float64, 4*len(page))
	for k, a := range page {
		row, d := &rows[k], dims[spec.Offset+k]
		if d[0] >= 0 {
			row.Indicator = inds[d[0]]
		}
		if d[1] >= 0 {
			years[k] = d[1]
			row.Year = &years[k]
		}
		for _, m := range q.Measures {
			switch m {
			case analytics.MeasureCount:
				counts[k] = a.n
				row.Count = &counts[k]
			case analytics.MeasureSum:
				if a.allSum {
					nums[4*k] = calc.Round12(a.total())
					row.Sum = &nums[4*k]
				}
			case analytics.MeasureMean:
				nums[4*k+1] = calc.Round12(a.total() / float64(a.n))
				row.Mean = &nums[4*k+1]
			case analytics.MeasureMin:
				nums[4*k+2] = a.min
				row.Min = &nums[4*k+2]
			case analytics.MeasureMax:
				nums[4*k+3] = a.max
				row.Max = &nums[4*k+3]
			}
		}
		out.Rows = append(out.Rows, row)
		out.Cursors = append(out.Cursors, duck.EncodeOffset(spec.Offset+k+1))
	}
	return out, true
}

// groupAcc is one group's count, compensated sum (Neumaier's: sum plus the low-order parts lost, comp),
// least and greatest value, and whether every value in it adds up (rollup SUM).
type groupAcc struct {
	n         int
	sum, comp float64
	min, max  float64
	allSum    bool
}

func (a *groupAcc) add(v float64, sum bool) {
	if a.n == 0 {
		a.min, a.max, a.allSum = v, v, true
	}
	a.n++
	t := a.sum + v
	if math.Abs(a.sum) >= math.Abs(v) {
		a.comp += (a.sum - t) + v
	} else {
		a.comp += (v - t) + a.sum
	}
	a.sum = t
	a.min, a.max = min(a.min, v), max(a.max, v)
	a.allSum = a.allSum && sum
}

func (a *groupAcc) total() float64 { return a.sum + a.comp }
