package graph

import (
	"context"
	"pacesetter/analytics"
)

func (r *queryResolver) Trend(ctx context.Context, region string, indicator string, from *int, to *int, asOf *analytics.Date) (*analytics.Trend, error) {
	return r.Engine.Trend(ctx, analytics.TrendQuery{Region: region, Indicator: indicator, From: from, To: to, AsOf: asOf})
}
