package graph

import (
	"context"
	"pacesetter/analytics"
	"pacesetter/graph/model"
)

func (r *queryResolver) Schemes(ctx context.Context) ([]*analytics.Scheme, error) {
	return r.Engine.Schemes(ctx)
}

func (r *queryResolver) Scheme(ctx context.Context, code string) (*analytics.Scheme, error) {
	return r.Engine.Scheme(ctx, code)
}

func (r *queryResolver) Targets(ctx context.Context, region *string, indicator *string, year *int, period *string, from *int, to *int, group *string, scheme *string, extra []*model.TargetInput) ([]*analytics.TargetResult, error) {
	for _, a := range []struct {
		name string
		p    *string
	}{{"region", region}, {"indicator", indicator}, {"group", group}, {"scheme", scheme}} {
		if a.p != nil && *a.p == "" {
			return nil, analytics.Errorf(analytics.BadUserInput, "%s is empty: give a code, or leave %s out", a.name, a.name)
		}
	}
	p, err := periodArg("period", period)
	if err != nil {
		return nil, err
	}
	return r.Engine.Targets(ctx, analytics.TargetQuery{Region: str(region), Indicator: str(indicator), Year: year, Period: p, From: from, To: to,
		Group: str(group), Scheme: str(scheme), Extra: targetSpecs(extra)})
}

func (r *schemeResolver) Scope(ctx context.Context, obj *analytics.Scheme) (*model.SchemeScope, error) {
	sc := obj.Scope
	if sc.Group == "" && sc.Parent == "" && sc.Level == "" {
		return nil, nil
	}
	out := &model.SchemeScope{}
	var err error
	if sc.Group != "" {
		if out.Group, err = r.Engine.Group(ctx, sc.Group); err != nil {
			return nil, err
		}
	}
	if sc.Parent != "" {
		if out.Parent, err = r.Engine.Region(ctx, sc.Parent); err != nil {
			return nil, err
		}
	}
	if sc.Level != "" {
		out.Level = &sc.Level
	}
	return out, nil
}

func (r *schemeResolver) Indicators(ctx context.Context, obj *analytics.Scheme, year *int) ([]*analytics.SchemeIndicator, error) {
	if year == nil {
		return obj.Indicators, nil
	}
	return obj.IndicatorsIn(*year), nil
}

func (r *Resolver) Scheme() SchemeResolver { return &schemeResolver{r} }

type schemeResolver struct{ *Resolver }
