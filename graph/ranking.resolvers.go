package graph

import (
	"context"
	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

func (r *queryResolver) Ranking(ctx context.Context, indicator *string, formula *string, direction *analytics.Direction, measure *analytics.Measure, unit *string, year *int, period *string, group *string, parent *string, level *string, regions []string, asOf *analytics.Date, ties *analytics.TieRule, basis *analytics.RankBasis) (*analytics.Ranking, error) {
	sc, err := scopeArgs(group, parent, level, regions)
	if err != nil {
		return nil, err
	}
	code, f, err := formulaArg(indicator, formula, direction, measure, unit)
	if err != nil {
		return nil, err
	}
	p, err := periodArg("period", period)
	if err != nil {
		return nil, err
	}
	return r.Engine.Ranking(ctx, analytics.RankingQuery{Indicator: code, Formula: f, Year: year, Period: p, ScopeQuery: sc, AsOf: asOf,
		Ties: enum(ties), Basis: enum(basis)})
}

func (r *queryResolver) Standings(ctx context.Context, region string, year *int, period *string, group *string, parent *string, level *string, regions []string, asOf *analytics.Date, top int, ties *analytics.TieRule, basis *analytics.RankBasis, indicators []string, category *string, scheme *string, orderBy *analytics.StandingsOrder) (*analytics.Standings, error) {
	sc, err := scopeArgs(group, parent, level, regions)
	if err != nil {
		return nil, err
	}
	if category != nil && *category == "" {
		return nil, analytics.Errorf(analytics.BadUserInput, "category is empty: give a category, or leave category out")
	}
	if scheme != nil && *scheme == "" {
		return nil, analytics.Errorf(analytics.BadUserInput, "scheme is empty: give a scheme's code, or leave scheme out")
	}
	p, err := periodArg("period", period)
	if err != nil {
		return nil, err
	}
	y := 0
	switch {
	case year != nil && p != nil:
		return nil, analytics.Errorf(analytics.BadUserInput, "both year and period are given: give one of them")
	case year != nil:
		y = *year
	case p != nil:
		y = p.Year
		if p.Freq == analytics.Annual {
			p = nil // period "2025" is the year 2025
		}
	default:
		return nil, analytics.Errorf(analytics.BadUserInput, "give year (annual indicators) or period (e.g. \"2025-09\": the indicators of its frequency)")
	}
	return r.Engine.Standings(ctx, analytics.StandingsQuery{Region: region, Year: y, Period: p, ScopeQuery: sc, AsOf: asOf,
		Top: top, Ties: enum(ties), Basis: enum(basis), Indicators: indicators, Category: str(category), Scheme: str(scheme), OrderBy: enum(orderBy)})
}

func (r *rankingResolver) WeightedMean(ctx context.Context, obj *analytics.Ranking, weight string) (*float64, error) {
	return r.Engine.WeightedMean(ctx, obj, weight)
}

func (r *rankingResolver) Entries(ctx context.Context, obj *analytics.Ranking, top *int, first *int, offset *int) ([]*analytics.RankingEntry, error) {
	return obj.Page(top, first, offset)
}

func (r *rankingEntryResolver) VsWeightedMean(ctx context.Context, obj *analytics.RankingEntry, weight string) (*float64, error) {
	rk := enclosingRanking(ctx)
	if rk == nil {
		return nil, analytics.Errorf(analytics.BadUserInput, "vsWeightedMean is answered on the entries of a ranking")
	}
	m, err := r.Engine.WeightedMean(ctx, rk, weight)
	if err != nil || m == nil {
		return nil, err
	}
	if d, ok := calc.Diff(obj.Value, *m); ok {
		return &d, nil
	}
	return nil, nil
}

func (r *standingEntryResolver) MoveToTop(ctx context.Context, obj *analytics.StandingEntry, n int) (*float64, error) {
	if n < 1 {
		return nil, analytics.Errorf(analytics.BadUserInput, "moveToTop needs n of at least 1, got %d", n)
	}
	d, ok := calc.MoveToTop(obj.Ranked, obj.Position, obj.Indicator.Sign(), n)
	if !ok {
		return nil, nil
	}
	return &d, nil
}

func (r *Resolver) Ranking() RankingResolver { return &rankingResolver{r} }

func (r *Resolver) RankingEntry() RankingEntryResolver { return &rankingEntryResolver{r} }

func (r *Resolver) StandingEntry() StandingEntryResolver { return &standingEntryResolver{r} }

type (
	rankingResolver       struct{ *Resolver }
	rankingEntryResolver  struct{ *Resolver }
	standingEntryResolver struct{ *Resolver }
)
