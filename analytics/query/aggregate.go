package query

import (
	"context"
	"math"
	"slices"

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
	if err := checkFilter(s, q.Filter); err != nil {
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
	return e.aggregate(ctx, e.snap.Load(), q)
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
		return e.reader.Aggregate(ctx, s.Catalog, spec)
	})
}
