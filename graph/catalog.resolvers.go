package graph

import (
	"context"
	"pacesetter/analytics"
	"pacesetter/graph/model"
)

func (r *queryResolver) Dataset(ctx context.Context) (*analytics.DatasetInfo, error) {
	return r.Engine.Dataset(ctx)
}

func (r *queryResolver) Regions(ctx context.Context, group *string, parent *string, level *string) ([]*analytics.Region, error) {
	sc, err := scopeArgs(group, parent, level, nil)
	if err != nil {
		return nil, err
	}
	return r.Engine.Regions(ctx, analytics.RegionFilter{Group: sc.Group, Parent: sc.Parent, Level: sc.Level})
}

func (r *queryResolver) Region(ctx context.Context, code string) (*analytics.Region, error) {
	return r.Engine.Region(ctx, code)
}

func (r *queryResolver) Groups(ctx context.Context) ([]*analytics.Group, error) {
	return r.Engine.Groups(ctx)
}

func (r *queryResolver) Group(ctx context.Context, code string) (*analytics.Group, error) {
	return r.Engine.Group(ctx, code)
}

func (r *queryResolver) Indicators(ctx context.Context) ([]*analytics.Indicator, error) {
	return r.Engine.Indicators(ctx)
}

func (r *queryResolver) Indicator(ctx context.Context, code string) (*analytics.Indicator, error) {
	return r.Engine.Indicator(ctx, code)
}

func (r *queryResolver) Observations(ctx context.Context, regions []string, indicators []string, from *int, to *int, asOf *analytics.Date, first int, after *string) (*model.ObservationConnection, error) {
	page, err := r.Engine.Observations(ctx, analytics.ObservationQuery{Regions: regions, Indicators: indicators,
		From: from, To: to, AsOf: asOf, First: first, After: str(after)})
	if err != nil {
		return nil, err
	}
	return observationConnection(page), nil
}

func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

type queryResolver struct{ *Resolver }
