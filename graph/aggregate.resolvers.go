package graph

import (
	"context"
	"pacesetter/analytics"
	"pacesetter/graph/model"
)

func (r *aggregateResolver) PageInfo(ctx context.Context, obj *analytics.Aggregate) (*model.PageInfo, error) {
	p := &model.PageInfo{HasNextPage: obj.HasNextPage}
	if n := len(obj.Cursors); n > 0 {
		p.EndCursor = &obj.Cursors[n-1]
	}
	return p, nil
}

func (r *queryResolver) Aggregate(ctx context.Context, by []analytics.Dimension, filter *model.ObservationFilter, having []*analytics.Having, orderBy []*analytics.AggregateOrder, first int, after *string) (*analytics.Aggregate, error) {
	f, err := filterArgs(filter)
	if err != nil {
		return nil, err
	}
	q := analytics.AggregateQuery{By: by, Filter: f, First: first, After: str(after)}
	q.Measures, q.Quantiles, q.Totals, q.Previous, err = selectedMeasures(ctx)
	if err != nil {
		return nil, err
	}
	q.NoTotalCount = !selects(ctx, "totalCount")
	for _, h := range having {
		q.Having = append(q.Having, *h)
	}
	for _, o := range orderBy {
		q.OrderBy = append(q.OrderBy, *o)
	}
	return r.Engine.Aggregate(ctx, q)
}

func (r *queryResolver) Pivot(ctx context.Context, indicator *string, rows *analytics.Dimension, columns *analytics.Dimension, filter *model.ObservationFilter, measure *analytics.AggregateMeasure) (*analytics.Pivot, error) {
	f, err := filterArgs(filter)
	if err != nil {
		return nil, err
	}
	return r.Engine.Pivot(ctx, analytics.PivotQuery{Indicator: str(indicator), Rows: enum(rows), Columns: enum(columns), Filter: f, Measure: enum(measure)})
}

func (r *Resolver) Aggregate() AggregateResolver { return &aggregateResolver{r} }

type aggregateResolver struct{ *Resolver }
