package graph

import (
	"context"
	"pacesetter/analytics"
)

func (r *queryResolver) Ranking(ctx context.Context, indicator string, year int, group *string, parent *string, ties *analytics.TieRule, basis *analytics.RankBasis) (*analytics.Ranking, error) {
	g, p, err := scopeArgs(group, parent)
	if err != nil {
		return nil, err
	}
	return r.Engine.Ranking(ctx, analytics.RankingQuery{Indicator: indicator, Year: year, Group: g, Parent: p,
		Ties: enum(ties), Basis: enum(basis)})
}

func (r *queryResolver) Standings(ctx context.Context, region string, year int, group *string, parent *string, top int, ties *analytics.TieRule, basis *analytics.RankBasis) (*analytics.Standings, error) {
	g, p, err := scopeArgs(group, parent)
	if err != nil {
		return nil, err
	}
	return r.Engine.Standings(ctx, analytics.StandingsQuery{Region: region, Year: year, Group: g, Parent: p,
		Top: top, Ties: enum(ties), Basis: enum(basis)})
}

func (r *rankingResolver) Entries(ctx context.Context, obj *analytics.Ranking, top *int) ([]*analytics.RankingEntry, error) {
	return obj.Top(top)
}

func (r *Resolver) Ranking() RankingResolver { return &rankingResolver{r} }

type rankingResolver struct{ *Resolver }
