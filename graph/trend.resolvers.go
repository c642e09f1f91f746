package graph

import (
	"context"
	"pacesetter/analytics"
)

func (r *queryResolver) Trend(ctx context.Context, region string, indicator *string, formula *string, direction *analytics.Direction, measure *analytics.Measure, unit *string, from *analytics.PeriodOrYear, to *analytics.PeriodOrYear, asOf *analytics.Date, group *string, parent *string, level *string, regions []string, ties *analytics.TieRule) (*analytics.Trend, error) {
	code, f, err := formulaArg(indicator, formula, direction, measure, unit)
	if err != nil {
		return nil, err
	}
	q := analytics.TrendQuery{Region: region, Indicator: code, Formula: f, AsOf: asOf, Ties: enum(ties)}
	q.From, q.FromPeriod = boundArg(from)
	q.To, q.ToPeriod = boundArg(to)
	if group != nil || parent != nil || level != nil || regions != nil {
		sc, err := scopeArgs(group, parent, level, regions)
		if err != nil {
			return nil, err
		}
		q.Scope = &sc
	}
	return r.Engine.Trend(ctx, q)
}
