package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"pacesetter/analytics"
)

// pivotPlan is a pivot request checked and resolved against the catalog: the request with its defaults
// applied, its indicator (nil when INDICATOR or CATEGORY is an axis), the indicators it lays out, and the
// aggregate it reshapes (whose plan makes the cached answer's key).
type pivotPlan struct {
	q   analytics.PivotQuery
	in  *analytics.Indicator
	ins []*analytics.Indicator
	agg analytics.AggregateQuery
}

// planPivot checks a pivot request against the catalog and resolves it; no I/O.
func planPivot(s *snapshot, q analytics.PivotQuery) (*pivotPlan, error) {
	if q.Rows == "" {
		q.Rows = analytics.DimRegion
	}
	if q.Columns == "" {
		q.Columns = analytics.DimYear
	}
	if q.Rows == q.Columns {
		return nil, analytics.Errorf(analytics.BadUserInput, "rows and columns are both %s: give two dimensions", q.Rows)
	}
	p := &pivotPlan{q: q}
	across := func(d analytics.Dimension) bool { return q.Rows == d || q.Columns == d }
	if across(analytics.DimIndicator) || across(analytics.DimCategory) {
		// Several indicators: those of the filter (its list, its category, or every one).
		if q.Indicator != "" {
			return nil, analytics.Errorf(analytics.BadUserInput, "indicator %q is for a pivot of one indicator: with INDICATOR or CATEGORY as rows or columns, the indicators are the filter's (indicators or category); leave indicator out", analytics.Cut(q.Indicator))
		}
		switch {
		case q.Filter.Indicators != nil:
			for _, code := range q.Filter.Indicators {
				in, err := s.indicatorOrFormula(code)
				if err != nil {
					return nil, err
				}
				p.ins = append(p.ins, in)
			}
		default:
			for _, in := range s.Indicators {
				if q.Filter.Category == "" || in.Category != nil && *in.Category == q.Filter.Category {
					p.ins = append(p.ins, in)
				}
			}
		}
		if q.Measure == "" { // each indicator's default is the same for a cell of one value; a sum only where every one adds up
			q.Measure = analytics.MeasureSum
			for _, in := range p.ins {
				if in.Rollup != analytics.RollupSum {
					q.Measure = analytics.MeasureMean
				}
			}
		}
	} else {
		if q.Indicator == "" {
			return nil, analytics.Errorf(analytics.BadUserInput, "indicator is missing: a pivot of %s × %s shows one indicator (or put INDICATOR on rows or columns to lay out the filter's indicators)", q.Rows, q.Columns)
		}
		in, err := s.indicatorOrFormula(q.Indicator)
		if err != nil {
			return nil, err
		}
		if q.Filter.Indicators != nil || q.Filter.Category != "" {
			return nil, analytics.Errorf(analytics.BadUserInput, "a pivot's indicator is its indicator argument: leave indicators and category out of the filter (or put INDICATOR on rows or columns)")
		}
		if q.Measure == "" {
			q.Measure = analytics.MeasureMean
			if in.Rollup == analytics.RollupSum {
				q.Measure = analytics.MeasureSum
			}
		}
		q.Filter.Indicators = []string{in.Code}
		p.in, p.ins = in, []*analytics.Indicator{in}
	}
	if q.Measure == analytics.MeasureShare {
		return nil, analytics.Errorf(analytics.BadUserInput, "a pivot's cells cannot be shares: use aggregate")
	}
	p.q = q
	p.agg = analytics.AggregateQuery{By: []analytics.Dimension{q.Rows, q.Columns}, Filter: q.Filter,
		Measures: []analytics.AggregateMeasure{q.Measure}, First: MaxPivotCells, NoTotalCount: true} // a pivot has no count of rows
	return p, nil
}

// Pivot lays values out as a table: the aggregate of one indicator's (or the filter's indicators') values by
// two dimensions, reshaped. It keeps no answer of its own: the aggregate it reads is cached.
func (e *Engine) Pivot(ctx context.Context, q analytics.PivotQuery) (*analytics.Pivot, error) {
	s := e.snap.Load()
	p, err := planPivot(s, q)
	if err != nil {
		return nil, err
	}
	// Its cells are read in one page: the cost model prices them (graph/limits.go), so a pivot of 265
	// regions × 64 years of one indicator is answered, as the dashboard asks for it.
	agg, err := e.aggregateUpTo(ctx, s, p.agg, MaxPivotCells)
	if err != nil {
		return nil, err
	}
	if agg.HasNextPage {
		return nil, analytics.Errorf(analytics.BadUserInput, "the pivot would have more than %d cells with values: narrow the filter", MaxPivotCells)
	}
	return s.pivot(p, agg)
}

// pivot reshapes the aggregate's rows into the plan's table.
func (s *snapshot) pivot(p *pivotPlan, agg *analytics.Aggregate) (*analytics.Pivot, error) {
	q, in := p.q, p.in
	pv := &analytics.Pivot{Indicator: in, RowDimension: q.Rows, ColumnDimension: q.Columns, Measure: q.Measure, Columns: []*analytics.PivotColumn{}, Rows: []*analytics.PivotRow{}, Warnings: agg.Warnings}
	// The aggregate's rows come ordered by the row dimension, then the column one (dataset order for codes):
	// the row keys are in order already, the column keys are sorted the same way here.
	type colKey struct {
		code string
		at   int
		row  *analytics.AggregateRow // the first row of the column: what it is
	}
	var cols []colKey
	colAt := map[string]int{}
	for _, r := range agg.Rows {
		c, at := s.dimKey(r, q.Columns)
		if _, ok := colAt[c]; !ok {
			colAt[c] = 0
			cols = append(cols, colKey{c, at, r})
		}
	}
	slices.SortFunc(cols, func(a, b colKey) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.code, b.code)) })
	unit := sharedUnit(p.ins)
	for i, c := range cols {
		colAt[c.code] = i
		col := &analytics.PivotColumn{Key: c.code, Label: s.dimLabel(c.row, q.Columns), Unit: unit}
		switch q.Columns {
		case analytics.DimYear:
			col.Year = c.row.Year
		case analytics.DimIndicator:
			col.Indicator = c.row.Indicator
			if c.row.Indicator != nil {
				col.Unit = &c.row.Indicator.Unit
			}
		}
		if q.Measure == analytics.MeasureCount {
			col.Unit = nil // a count of values has no unit
		}
		pv.Columns = append(pv.Columns, col)
	}
	var line *analytics.PivotRow
	for _, r := range agg.Rows {
		code, _ := s.dimKey(r, q.Rows)
		if line == nil || line.Code != code {
			line = &analytics.PivotRow{Code: code, Label: s.dimLabel(r, q.Rows), Cells: make([]*float64, len(cols))}
			pv.Rows = append(pv.Rows, line)
		}
		c, _ := s.dimKey(r, q.Columns)
		line.Cells[colAt[c]] = r.Measure(q.Measure)
	}
	if len(pv.Rows)*len(cols) > MaxPivotCells {
		return nil, analytics.Errorf(analytics.BadUserInput, "the pivot has %d × %d cells, more than %d: narrow the filter", len(pv.Rows), len(cols), MaxPivotCells)
	}
	return pv, nil
}

// sharedUnit is the unit every one of ins has; nil when they have different ones (or there are none).
func sharedUnit(ins []*analytics.Indicator) *string {
	if len(ins) == 0 {
		return nil
	}
	for _, in := range ins[1:] {
		if in.Unit != ins[0].Unit {
			return nil
		}
	}
	u := ins[0].Unit
	return &u
}

// dimKey is a row's code of one dimension ("" for none), and where it sorts: dataset order for regions,
// groups and indicators, the year for years, a category's first indicator's place for categories.
func (s *snapshot) dimKey(r *analytics.AggregateRow, d analytics.Dimension) (string, int) {
	switch d {
	case analytics.DimRegion:
		if r.Region != nil {
			return r.Region.Code, s.RegionAt[r.Region.Code]
		}
	case analytics.DimParent:
		if r.Parent != nil {
			return r.Parent.Code, s.RegionAt[r.Parent.Code]
		}
	case analytics.DimGroup:
		if r.Group != nil {
			return r.Group.Code, slices.Index(s.Groups, r.Group)
		}
	case analytics.DimLevel:
		if r.Level != nil {
			return *r.Level, slices.Index(s.Levels, *r.Level)
		}
	case analytics.DimYear:
		if r.Year != nil {
			return strconv.Itoa(*r.Year), *r.Year
		}
	case analytics.DimPeriod:
		if r.Period != nil {
			p, _ := analytics.ParsePeriod(*r.Period)
			return *r.Period, p.Year*16 + p.Sub // in time order: a year's value, then its months or quarters
		}
	case analytics.DimIndicator:
		if r.Indicator != nil {
			return r.Indicator.Code, s.IndicatorAt[r.Indicator.Code]
		}
	case analytics.DimCategory:
		if r.Category != nil {
			return *r.Category, slices.IndexFunc(s.Indicators, func(in *analytics.Indicator) bool { return in.Category != nil && *in.Category == *r.Category })
		}
	}
	return "", -1 << 31
}

// dimLabel is what a pivot row or column is called: a region's, group's or indicator's name, else its code.
func (s *snapshot) dimLabel(r *analytics.AggregateRow, d analytics.Dimension) string {
	switch {
	case d == analytics.DimRegion && r.Region != nil:
		return r.Region.Name
	case d == analytics.DimParent && r.Parent != nil:
		return r.Parent.Name
	case d == analytics.DimGroup && r.Group != nil:
		return r.Group.Name
	case d == analytics.DimIndicator && r.Indicator != nil:
		return r.Indicator.Name
	}
	code, _ := s.dimKey(r, d)
	return code
}

// Values answers Region.value for many keys: the indicators' values are loaded together (one query for
// those not in memory yet), then read.
func (e *Engine) Values(ctx context.Context, keys []analytics.ValueKey) ([]*float64, error) {
	out := make([]*float64, len(keys))
	err := e.eachValue(ctx, keys, func(i int, v float64, _ analytics.FlagSet) { out[i] = &v })
	return out, err
}

// ValueSources answers Region.valueSource for many keys, as Values does Region.value.
func (e *Engine) ValueSources(ctx context.Context, keys []analytics.ValueKey) ([]*analytics.BaselineSource, error) {
	out := make([]*analytics.BaselineSource, len(keys))
	err := e.eachValue(ctx, keys, func(i int, _ float64, f analytics.FlagSet) { out[i] = analytics.SourceOf(f) })
	return out, err
}

// eachValue calls found with each key's value and flags, for the keys with one.
func (e *Engine) eachValue(ctx context.Context, keys []analytics.ValueKey, found func(i int, v float64, f analytics.FlagSet)) error {
	s := e.snap.Load()
	var codes []string
	for _, k := range keys {
		if _, err := s.indicator(k.Indicator); err != nil {
			return err
		}
		if !slices.Contains(codes, k.Indicator) {
			codes = append(codes, k.Indicator)
		}
	}
	ms, err := e.matrices(ctx, s, nil, codes...)
	if err != nil {
		return err
	}
	for i, k := range keys {
		if v, f, ok := ms[k.Indicator].Get(s.RegionAt[k.Region], k.Year); ok {
			found(i, v, f)
		}
	}
	return nil
}

// Ranks answers Region.rank for many keys: one ranking per indicator, year and group (cached like any
// ranking), over values loaded together.
func (e *Engine) Ranks(ctx context.Context, keys []analytics.RankKey) ([]*int, error) {
	s := e.snap.Load()
	var codes []string
	for _, k := range keys {
		if !slices.Contains(codes, k.Indicator) {
			codes = append(codes, k.Indicator)
		}
	}
	for _, c := range codes {
		if _, err := s.indicator(c); err != nil {
			return nil, err
		}
	}
	if _, err := e.matrices(ctx, s, nil, codes...); err != nil { // one load for all, before the rankings read them
		return nil, err
	}
	out := make([]*int, len(keys))
	rankings := map[analytics.RankKey]map[string]int{}
	for i, k := range keys {
		rk := analytics.RankKey{Indicator: k.Indicator, Year: k.Year, Group: k.Group}
		ranks, ok := rankings[rk]
		if !ok {
			y := k.Year
			r, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: k.Indicator, Year: &y, ScopeQuery: analytics.ScopeQuery{Group: k.Group}})
			if err != nil {
				return nil, fmt.Errorf("rank of %s: %w", k.Region, err)
			}
			ranks = map[string]int{}
			for _, e := range r.Entries {
				ranks[e.Region.Code] = e.Rank
			}
			rankings[rk] = ranks
		}
		if n, ok := ranks[k.Region]; ok {
			out[i] = &n
		}
	}
	return out, nil
}
