package graph

import (
	"context"
	"pacesetter/analytics"
)

func (r *queryResolver) Trend(ctx context.Context, region string, indicator string, from *int, to *int) (*analytics.Trend, error) {
	return r.Engine.Trend(ctx, analytics.TrendQuery{Region: region, Indicator: indicator, From: from, To: to})
}
