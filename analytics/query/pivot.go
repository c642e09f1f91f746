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
// applied, its indicator, and the aggregate it reshapes (whose plan makes the cached answer's key).
type pivotPlan struct {
	q   analytics.PivotQuery
	in  *analytics.Indicator
	agg analytics.AggregateQuery
}

// planPivot checks a pivot request against the catalog and resolves it; no I/O.
func planPivot(s *snapshot, q analytics.PivotQuery) (*pivotPlan, error) {
	in, err := s.indicator(q.Indicator)
	if err != nil {
		return nil, err
	}
	if q.Rows == "" {
		q.Rows = analytics.DimRegion
	}
	if q.Columns == "" {
		q.Columns = analytics.DimYear
	}
	if q.Rows == q.Columns {
		return nil, analytics.Errorf(analytics.BadUserInput, "rows and columns are both %s: give two dimensions", q.Rows)
	}
	if q.Rows == analytics.DimIndicator || q.Columns == analytics.DimIndicator || q.Rows == analytics.DimCategory || q.Columns == analytics.DimCategory {
		return nil, analytics.Errorf(analytics.BadUserInput, "a pivot shows one indicator: rows and columns cannot be INDICATOR or CATEGORY (use aggregate)")
	}
	if q.Filter.Indicators != nil || q.Filter.Category != "" {
		return nil, analytics.Errorf(analytics.BadUserInput, "a pivot's indicator is its indicator argument: leave indicators and category out of the filter")
	}
	if q.Measure == "" {
		q.Measure = analytics.MeasureMean
		if in.Rollup == analytics.RollupSum {
			q.Measure = analytics.MeasureSum
		}
	}
	if q.Measure == analytics.MeasureShare {
		return nil, analytics.Errorf(analytics.BadUserInput, "a pivot's cells cannot be shares: use aggregate")
	}
	q.Filter.Indicators = []string{in.Code}
	agg := analytics.AggregateQuery{By: []analytics.Dimension{q.Rows, q.Columns}, Filter: q.Filter,
		Measures: []analytics.AggregateMeasure{q.Measure}, First: MaxPivotCells}
	return &pivotPlan{q: q, in: in, agg: agg}, nil
}

// Pivot lays one indicator out as a table: the aggregate of its values by two dimensions, reshaped. It
// keeps no answer of its own: the aggregate it reads is cached.
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
	pv := &analytics.Pivot{Indicator: in, RowDimension: q.Rows, ColumnDimension: q.Columns, Measure: q.Measure, Columns: []string{}, Rows: []*analytics.PivotRow{}, Warnings: agg.Warnings}
	// The aggregate's rows come ordered by the row dimension, then the column one (dataset order for codes):
	// the row keys are in order already, the column keys are sorted the same way here.
	type colKey struct {
		code string
		at   int
	}
	var cols []colKey
	colAt := map[string]int{}
	for _, r := range agg.Rows {
		c, at := s.dimKey(r, q.Columns)
		if _, ok := colAt[c]; !ok {
			colAt[c] = 0
			cols = append(cols, colKey{c, at})
		}
	}
	slices.SortFunc(cols, func(a, b colKey) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.code, b.code)) })
	for i, c := range cols {
		colAt[c.code] = i
		pv.Columns = append(pv.Columns, c.code)
	}
	var line *analytics.PivotRow
	for _, r := range agg.Rows {
		code, _ := s.dimKey(r, q.Rows)
		if line == nil || line.Code != code {
			line = &analytics.PivotRow{Code: code, Label: s.dimLabel(r, q.Rows), Cells: make([]*float64, len(cols))}
			pv.Rows = append(pv.Rows, line)
		}
		c, _ := s.dimKey(r, q.Columns)
		line.Cells[colAt[c]] = measureOf(r, q.Measure)
	}
	if len(pv.Rows)*len(cols) > MaxPivotCells {
		return nil, analytics.Errorf(analytics.BadUserInput, "the pivot has %d × %d cells, more than %d: narrow the filter", len(pv.Rows), len(cols), MaxPivotCells)
	}
	return pv, nil
}

// dimKey is a row's code of one dimension ("" for none), and where it sorts: dataset order for regions and
// groups, the year for years.
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
	}
	return "", -1 << 31
}

// dimLabel is what a pivot row is called: a region's or group's name, else its code.
func (s *snapshot) dimLabel(r *analytics.AggregateRow, d analytics.Dimension) string {
	switch {
	case d == analytics.DimRegion && r.Region != nil:
		return r.Region.Name
	case d == analytics.DimParent && r.Parent != nil:
		return r.Parent.Name
	case d == analytics.DimGroup && r.Group != nil:
		return r.Group.Name
	}
	code, _ := s.dimKey(r, d)
	return code
}

func measureOf(r *analytics.AggregateRow, m analytics.AggregateMeasure) *float64 {
	switch m {
	case analytics.MeasureCount:
		if r.Count == nil {
			return nil
		}
		n := float64(*r.Count)
		return &n
	case analytics.MeasureSum:
		return r.Sum
	case analytics.MeasureMedian:
		return r.Median
	case analytics.MeasureMin:
		return r.Min
	case analytics.MeasureMax:
		return r.Max
	case analytics.MeasureStddev:
		return r.Stddev
	}
	return r.Mean
}

// Values answers Region.value for many keys: the indicators' values are loaded together (one query for
// those not in memory yet), then read.
func (e *Engine) Values(ctx context.Context, keys []analytics.ValueKey) ([]*float64, error) {
	s := e.snap.Load()
	var codes []string
	for _, k := range keys {
		if _, err := s.indicator(k.Indicator); err != nil {
			return nil, err
		}
		if !slices.Contains(codes, k.Indicator) {
			codes = append(codes, k.Indicator)
		}
	}
	ms, err := e.matrices(ctx, s, nil, codes...)
	if err != nil {
		return nil, err
	}
	out := make([]*float64, len(keys))
	for i, k := range keys {
		if v, _, ok := ms[k.Indicator].Get(s.RegionAt[k.Region], k.Year); ok {
			out[i] = &v
		}
	}
	return out, nil
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
