package query

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"pacesetter/analytics"
	"pacesetter/analytics/duck"
)

// MaxAggregatePage is the most aggregate rows one page may hold; MaxPivotCells the most cells a pivot may.
const (
	MaxAggregatePage = 10000
	MaxPivotCells    = 100000
)

// planAggregate checks an aggregate request against the catalog and decodes its page: what is left for
// duck is to run the statement.
func planAggregate(s *snapshot, q analytics.AggregateQuery) (duck.AggregateSpec, error) {
	return planAggregateUpTo(s, q, MaxAggregatePage)
}

// planAggregateUpTo is planAggregate with pages of up to most rows: a client's pages hold MaxAggregatePage
// at most, a pivot reads its cells (MaxPivotCells at most) in one.
func planAggregateUpTo(s *snapshot, q analytics.AggregateQuery, most int) (duck.AggregateSpec, error) {
	if q.First < 0 || q.First > most {
		return duck.AggregateSpec{}, analytics.Errorf(analytics.BadUserInput, "first must be from 0 to %d, got %d", most, q.First)
	}
	spec := duck.AggregateSpec{Query: q}
	if q.After != "" {
		var err error
		if spec.Offset, err = duck.DecodeOffset(q.After); err != nil {
			return duck.AggregateSpec{}, err
		}
	}
	if err := checkAggregateShape(q); err != nil {
		return duck.AggregateSpec{}, err
	}
	if err := checkFilter(s, &spec.Query.Filter); err != nil {
		return duck.AggregateSpec{}, err
	}
	return spec, nil
}

// checkAggregateShape checks by, quantiles, totals, having and orderBy, in that order.
func checkAggregateShape(q analytics.AggregateQuery) error {
	if len(q.By) == 0 {
		return analytics.Errorf(analytics.BadUserInput, "by is empty: give the dimensions to group by (REGION, GROUP, PARENT, LEVEL, INDICATOR, CATEGORY, YEAR)")
	}
	for i, d := range q.By {
		if slices.Contains(q.By[:i], d) {
			return analytics.Errorf(analytics.BadUserInput, "by lists %s twice", d)
		}
	}
	for _, p := range q.Quantiles {
		if !(p >= 0 && p <= 1) {
			return analytics.Errorf(analytics.BadUserInput, "quantile p must be from 0 to 1, got %v", p)
		}
	}
	if slices.Contains(q.Totals, analytics.MeasureShare) {
		return analytics.Errorf(analytics.BadUserInput, "totals have no share")
	}
	for _, h := range q.Having {
		if h.Measure == analytics.MeasureQuantile {
			return analytics.Errorf(analytics.BadUserInput, "having cannot test a quantile")
		}
		if math.IsNaN(h.Value) || math.IsInf(h.Value, 0) {
			return analytics.Errorf(analytics.BadUserInput, "having needs a finite value")
		}
	}
	for _, o := range q.OrderBy {
		if d := analytics.Dimension(o.Key); slices.Contains(analytics.AllDimensions, d) && !slices.Contains(q.By, d) {
			return analytics.Errorf(analytics.BadUserInput, "orderBy %s: the rows are not grouped by %s (by lists %v)", o.Key, o.Key, q.By)
		}
	}
	return nil
}

// Aggregate groups the filtered observations and computes the measures asked for (see duck.Reader.Aggregate).
func (e *Engine) Aggregate(ctx context.Context, q analytics.AggregateQuery) (*analytics.Aggregate, error) {
	s := e.snap.Load()
	previous := q.Previous
	q.Previous = false // the page itself is the same whether or not previous years are asked for
	agg, err := e.aggregate(ctx, s, q)
	if err != nil || !previous || len(agg.Rows) == 0 {
		return agg, err
	}
	if !slices.Contains(q.By, analytics.DimYear) {
		// Null, and a warning that says why: an error would blank the rows a generic selection asked for.
		out := *agg
		out.Warnings = append(slices.Clone(agg.Warnings), &analytics.Warning{Message: "previous, change and changeRatio compare a row with its group a year earlier: they are null unless YEAR is in by"})
		return &out, nil
	}
	return e.withPrevious(ctx, s, q, agg)
}

// withPrevious links each row of a page to its group one year earlier: the same aggregate (no having, no
// order, no paging) over the years before the page's, looked up by every dimension but the year. The
// cached page is not changed: the answer has copies of its rows.
func (e *Engine) withPrevious(ctx context.Context, s *snapshot, q analytics.AggregateQuery, agg *analytics.Aggregate) (*analytics.Aggregate, error) {
	from, to := 1<<30, -1<<30
	for _, r := range agg.Rows {
		if r.Year != nil {
			from, to = min(from, *r.Year-1), max(to, *r.Year-1)
		}
	}
	if from > to {
		return agg, nil
	}
	pq := q
	pq.Filter.From, pq.Filter.To = &from, &to
	pq.Having, pq.OrderBy, pq.Totals, pq.After, pq.First = nil, nil, nil, "", MaxPivotCells
	pq.NoTotalCount = true // only its rows are read
	// Only the page's groups are looked up: by indicator, its indicators' values alone (a row of one
	// indicator aggregates only its own values); by region, its regions' where the filter names regions
	// itself by a list or every region with a value is in the scope ALL (Flat: no rollups, no region above
	// others with values of their own). Otherwise a list of regions would let a parent's rolled-up values
	// in, which an aggregate without one leaves out; and a filter by group, parent or level takes no list
	// beside them (checkFilter refuses both).
	if slices.Contains(q.By, analytics.DimIndicator) {
		pq.Filter.Indicators = pageCodes(agg.Rows, func(r *analytics.AggregateRow) *string {
			if r.Indicator == nil {
				return nil
			}
			return &r.Indicator.Code
		})
	}
	if slices.Contains(q.By, analytics.DimRegion) && (q.Filter.Regions != nil || s.Flat && !q.Filter.NarrowsRegions()) {
		pq.Filter.Regions = pageCodes(agg.Rows, func(r *analytics.AggregateRow) *string {
			if r.Region == nil {
				return nil
			}
			return &r.Region.Code
		})
	}
	prev, err := e.aggregateUpTo(ctx, s, pq, MaxPivotCells)
	if err != nil {
		return nil, err
	}
	if prev.HasNextPage {
		return nil, analytics.Errorf(analytics.BadUserInput, "the years before these rows hold more than %d groups: narrow the filter to compare with the previous year", MaxPivotCells)
	}
	byKey := make(map[string]*analytics.AggregateRow, len(prev.Rows))
	for _, r := range prev.Rows {
		byKey[groupKey(r, q.By, 0)] = r
	}
	out := *agg
	out.Rows = make([]*analytics.AggregateRow, len(agg.Rows))
	for i, r := range agg.Rows {
		c := *r
		if r.Year != nil {
			c.Prev = byKey[groupKey(r, q.By, -1)]
		}
		out.Rows[i] = &c
	}
	return &out, nil
}

// pageCodes are the distinct codes the rows name (code of a row: nil for none), in order of first sight.
func pageCodes(rows []*analytics.AggregateRow, code func(*analytics.AggregateRow) *string) []string {
	out, seen := []string{}, map[string]bool{}
	for _, r := range rows {
		if c := code(r); c != nil && !seen[*c] {
			seen[*c] = true
			out = append(out, *c)
		}
	}
	return out
}

// groupKey names a row's group by its dimensions, its year moved by shift.
func groupKey(r *analytics.AggregateRow, by []analytics.Dimension, shift int) string {
	var b strings.Builder
	code := func(s string) { b.WriteString(s); b.WriteByte(0) }
	for _, d := range by {
		switch d {
		case analytics.DimRegion:
			if r.Region != nil {
				code(r.Region.Code)
			}
		case analytics.DimGroup:
			if r.Group != nil {
				code(r.Group.Code)
			}
		case analytics.DimParent:
			if r.Parent != nil {
				code(r.Parent.Code)
			}
		case analytics.DimLevel:
			if r.Level != nil {
				code(*r.Level)
			}
		case analytics.DimIndicator:
			if r.Indicator != nil {
				code(r.Indicator.Code)
			}
		case analytics.DimCategory:
			if r.Category != nil {
				code(*r.Category)
			}
		case analytics.DimYear:
			if r.Year != nil {
				code(strconv.Itoa(*r.Year + shift))
			}
		case analytics.DimPeriod:
			if r.Period != nil {
				p, _ := analytics.ParsePeriod(*r.Period) // written by the store: always a period
				p.Year += shift                          // the same period a year earlier
				code(p.String())
			}
		}
		b.WriteByte(1)
	}
	return b.String()
}

// aggregate answers an aggregate over the snapshot s: a pivot passes its own, so that its plan and the rows
// it reshapes come from one dataset even if the engine is refreshed meanwhile.
func (e *Engine) aggregate(ctx context.Context, s *snapshot, q analytics.AggregateQuery) (*analytics.Aggregate, error) {
	return e.aggregateUpTo(ctx, s, q, MaxAggregatePage)
}

func (e *Engine) aggregateUpTo(ctx context.Context, s *snapshot, q analytics.AggregateQuery, most int) (*analytics.Aggregate, error) {
	spec, err := planAggregateUpTo(s, q, most)
	if err != nil {
		return nil, err
	}
	return cached(e, s, keyOf("aggregate", spec), func() (*analytics.Aggregate, error) {
		if agg, ok := e.aggregateInMemory(s, spec); ok {
			return agg, nil
		}
		// Only formula values of the scope ALL, as duck keeps stored ones (see aggregateStatement).
		cat, c, warns, err := e.computedOf(ctx, s, spec.Query.Filter, !s.Flat && !spec.Query.Filter.NarrowsRegions())
		if err != nil {
			return nil, err
		}
		spec.Computed = c
		agg, err := e.reader.Aggregate(ctx, cat, spec)
		if err != nil || len(warns) == 0 {
			return agg, err
		}
		agg.Warnings = append(agg.Warnings, warns...)
		return agg, nil
	})
}
