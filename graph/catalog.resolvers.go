package graph

import (
	"context"
	"pacesetter/analytics"
	"pacesetter/graph/model"
)

func (r *groupResolver) Name(ctx context.Context, obj *analytics.Group, lang *analytics.Lang) (string, error) {
	return analytics.NameIn(lang, obj.Name, obj.NameEn), nil
}

func (r *indicatorResolver) Name(ctx context.Context, obj *analytics.Indicator, lang *analytics.Lang) (string, error) {
	return analytics.NameIn(lang, obj.Name, obj.NameEn), nil
}

func (r *labelResolver) Name(ctx context.Context, obj *analytics.Label, lang *analytics.Lang) (string, error) {
	return analytics.NameIn(lang, obj.Name, obj.NameEn), nil
}

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

func (r *queryResolver) Observations(ctx context.Context, regions []string, indicators []string, group *string, parent *string, level *string, from *int, to *int, asOf *analytics.Date, fromPeriod *string, toPeriod *string, frequency *analytics.Frequency, orderBy []*analytics.ObservationOrder, first int, after *string) (*model.ObservationConnection, error) {
	sc, err := scopeArgs(group, parent, level, regions)
	if err != nil {
		return nil, err
	}
	fp, err := periodArg("fromPeriod", fromPeriod)
	if err != nil {
		return nil, err
	}
	tp, err := periodArg("toPeriod", toPeriod)
	if err != nil {
		return nil, err
	}
	q := analytics.ObservationQuery{ValueFilter: analytics.ValueFilter{Regions: regions, Indicators: indicators, Group: sc.Group,
		Parent: sc.Parent, Level: sc.Level, From: from, To: to, AsOf: asOf, FromPeriod: fp, ToPeriod: tp, Frequency: frequency}, First: first, After: str(after)}
	for _, o := range orderBy {
		q.OrderBy = append(q.OrderBy, *o)
	}
	page, err := r.Engine.Observations(ctx, q)
	if err != nil {
		return nil, err
	}
	countRows(ctx, "observations", len(page.Items)) // for the server's metrics (schema.go)
	return observationConnection(page), nil
}

func (r *queryResolver) Search(ctx context.Context, text string, kinds []analytics.SearchKind, first *int) ([]*analytics.SearchHit, error) {
	n := 10
	if first != nil {
		n = *first
	}
	return r.Engine.Search(ctx, analytics.SearchQuery{Text: text, Kinds: kinds, First: n})
}

func (r *regionResolver) Name(ctx context.Context, obj *analytics.Region, lang *analytics.Lang) (string, error) {
	return analytics.NameIn(lang, obj.Name, obj.NameEn), nil
}

func (r *regionResolver) Value(ctx context.Context, obj *analytics.Region, indicator string, year int) (*float64, error) {
	return loadersOf(ctx, r.Engine).values.Load(ctx, analytics.ValueKey{Region: obj.Code, Indicator: indicator, Year: year})
}

func (r *regionResolver) ValueSource(ctx context.Context, obj *analytics.Region, indicator string, year int) (*analytics.BaselineSource, error) {
	return loadersOf(ctx, r.Engine).sources.Load(ctx, analytics.ValueKey{Region: obj.Code, Indicator: indicator, Year: year})
}

func (r *regionResolver) Rank(ctx context.Context, obj *analytics.Region, indicator string, year int, group *string) (*int, error) {
	sc, err := scopeArgs(group, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	return loadersOf(ctx, r.Engine).ranks.Load(ctx, analytics.RankKey{Region: obj.Code, Indicator: indicator, Year: year, Group: sc.Group})
}

func (r *Resolver) Group() GroupResolver { return &groupResolver{r} }

func (r *Resolver) Indicator() IndicatorResolver { return &indicatorResolver{r} }

func (r *Resolver) Label() LabelResolver { return &labelResolver{r} }

func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

func (r *Resolver) Region() RegionResolver { return &regionResolver{r} }

type (
	groupResolver     struct{ *Resolver }
	indicatorResolver struct{ *Resolver }
	labelResolver     struct{ *Resolver }
	queryResolver     struct{ *Resolver }
	regionResolver    struct{ *Resolver }
)
