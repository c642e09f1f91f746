package graph

import (
	"context"
	"pacesetter/analytics"
	"pacesetter/graph/model"
)

func (r *queryResolver) Compare(ctx context.Context, regions []string, indicators []string, from analytics.PeriodOrYear, to analytics.PeriodOrYear, scope *model.ScopeInput, baseline *model.BaselineInput, asOf *analytics.Date, ties *analytics.TieRule) (*analytics.Comparison, error) {
	q := analytics.CompareQuery{Regions: regions, Indicators: indicators, From: from.Year, To: to.Year, AsOf: asOf, Ties: enum(ties)}
	if from.Freq != analytics.Annual {
		q.FromPeriod = &from.Period
	}
	if to.Freq != analytics.Annual {
		q.ToPeriod = &to.Period
	}
	if scope != nil {
		sc, err := scopeArgs(scope.Group, scope.Parent, scope.Level, scope.Regions)
		if err != nil {
			return nil, err
		}
		q.Scope = &sc
	}
	if baseline != nil {
		if baseline.Region != nil && *baseline.Region == "" {
			return nil, analytics.Errorf(analytics.BadUserInput, "baseline.region is empty: give a region code")
		}
		q.Baseline = &analytics.BaselineQuery{Region: str(baseline.Region), Stat: enum(baseline.Stat), Weight: str(baseline.Weight)}
	}
	return r.Engine.Compare(ctx, q)
}
