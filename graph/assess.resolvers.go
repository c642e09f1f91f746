package graph

import (
	"context"
	"pacesetter/analytics"
	"pacesetter/graph/model"
)

func (r *queryResolver) Composite(ctx context.Context, input model.CompositeInput) (*analytics.Composite, error) {
	q, err := compositeArgs(input)
	if err != nil {
		return nil, err
	}
	q.Without = unread(ctx)
	return r.Engine.Composite(ctx, q)
}

func (r *queryResolver) Robustness(ctx context.Context, input model.CompositeInput, runs *int, weightNoise *float64, seed *int, normalisations []analytics.Normalisation, aggregations []analytics.Aggregation) (*analytics.Robustness, error) {
	q, err := compositeArgs(input)
	if err != nil {
		return nil, err
	}
	rq := analytics.RobustnessQuery{CompositeQuery: q, Runs: 1000, WeightNoise: 0.25, Seed: 1,
		Normalisations: normalisations, Aggregations: aggregations}
	if runs != nil {
		rq.Runs = *runs
	}
	if weightNoise != nil {
		rq.WeightNoise = *weightNoise
	}
	if seed != nil {
		rq.Seed = *seed
	}
	return r.Engine.Robustness(ctx, rq)
}

func (r *queryResolver) CompositeHistory(ctx context.Context, input model.CompositeInput, from *int, fromPeriod *string) (*analytics.CompositeHistory, error) {
	q, err := compositeArgs(input)
	if err != nil {
		return nil, err
	}
	fp, err := periodArg("fromPeriod", fromPeriod)
	if err != nil {
		return nil, err
	}
	hq := analytics.CompositeHistoryQuery{CompositeQuery: q, FromPeriod: fp}
	switch {
	case from != nil && fp != nil:
		return nil, analytics.Errorf(analytics.BadUserInput, "both from and fromPeriod are given: give from for a year, fromPeriod for a quarter or month")
	case from != nil:
		hq.From = *from
	case fp == nil:
		return nil, analytics.Errorf(analytics.BadUserInput, "give from (the first year) or fromPeriod (the first quarter or month, e.g. \"2024-01\")")
	}
	return r.Engine.CompositeHistory(ctx, hq)
}

func (r *queryResolver) Departments(ctx context.Context, input model.CompositeInput, region *string, department *string) ([]*analytics.PointsGroup, error) {
	c, err := r.pointsOf(ctx, input, region)
	if err != nil {
		return nil, err
	}
	return c.DepartmentsOf(str(region), str(department)), nil
}

func (r *queryResolver) Categories(ctx context.Context, input model.CompositeInput, region *string, category *string) ([]*analytics.PointsGroup, error) {
	c, err := r.pointsOf(ctx, input, region)
	if err != nil {
		return nil, err
	}
	return c.CategoriesOf(str(region), str(category)), nil
}

func (r *queryResolver) Threshold(ctx context.Context, region string, indicator string, value float64, by *int, years *int) (*analytics.Threshold, error) {
	q := analytics.ThresholdQuery{Region: region, Indicator: indicator, Value: value, By: by, Years: 5}
	if years != nil {
		q.Years = *years
	}
	return r.Engine.Threshold(ctx, q)
}
