package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"pacesetter/analytics"
	"pacesetter/graph/model"
)

// compositeArgs reads a CompositeInput into the engine's query; the engine checks what it means.
func compositeArgs(in model.CompositeInput) (analytics.CompositeQuery, error) {
	sc, err := scopeArgs(in.Group, in.Parent, in.Level, in.Regions)
	if err != nil {
		return analytics.CompositeQuery{}, err
	}
	if in.Scheme != nil && *in.Scheme == "" {
		return analytics.CompositeQuery{}, analytics.Errorf(analytics.BadUserInput, "scheme is empty: give a scheme's code, or leave scheme out")
	}
	p, err := periodArg("period", in.Period)
	if err != nil {
		return analytics.CompositeQuery{}, err
	}
	if in.Year != nil && p != nil {
		return analytics.CompositeQuery{}, analytics.Errorf(analytics.BadUserInput, "both year and period are given: give one of them (neither: the latest)")
	}
	q := analytics.CompositeQuery{Period: p, ScopeQuery: sc, Scheme: str(in.Scheme), Normalisation: in.Normalisation,
		Aggregation: in.Aggregation, Missing: in.Missing, MinWeightShare: in.MinWeightShare, Ties: in.Ties, AsOf: in.AsOf,
		RankBy: in.RankBy, Classes: in.Classes}
	if in.Indicators != nil {
		q.Indicators = make([]analytics.WeightedIndicator, len(in.Indicators))
		for i, w := range in.Indicators {
			code, f, err := formulaArg(w.Indicator, w.Formula, w.Direction, nil, nil)
			if err != nil {
				return q, err
			}
			q.Indicators[i] = analytics.WeightedIndicator{Indicator: code, Formula: f, Weight: w.Weight, Low: w.Low, High: w.High, Target: w.Target}
			if w.Basis != nil {
				q.Indicators[i].Basis = *w.Basis
			}
		}
	}
	if in.Year != nil {
		q.Year = *in.Year
		if q.Year == 0 {
			return q, analytics.Errorf(analytics.BadUserInput, "year 0 is out of range: give a year from 1 to 9999")
		}
	}
	q.Targets = targetSpecs(in.Targets)
	// tiers: null drops a scheme's tiers; left out, the scheme's apply.
	if t, set := in.Tiers.ValueOK(); set {
		if t == nil {
			q.NoTiers = true
		} else {
			q.Tiers = &analytics.TierRule{Cutoffs: t.Cutoffs, Quotas: t.Quotas}
		}
	}
	return q, nil
}

// unread is what the selection of a composite field does not read of the answer, which the engine then does
// not compute: a one-year composite of 50 indicators × 3,000 regions asked for its entries' scores and ranks
// spent more than half its time on their breakdowns and on scoring the year before. Fragments, aliases and
// @skip/@include are followed as gqlgen follows them when it writes the answer.
func unread(ctx context.Context) analytics.CompositeParts {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return analytics.CompositeParts{}
	}
	op := graphql.GetOperationContext(ctx)
	breakdown, previous := false, false
	for _, f := range graphql.CollectFields(op, fc.Field.Selections, []string{"Composite"}) {
		if f.Name != "entries" {
			continue
		}
		for _, g := range graphql.CollectFields(op, f.Selections, []string{"CompositeEntry"}) {
			switch g.Name {
			case "breakdown", "versus": // versus sets the breakdowns of two entries side by side
				breakdown = true
			case "previousRank", "rankChange", "previousTier", "tierChange":
				previous = true
			}
		}
	}
	return analytics.CompositeParts{Breakdown: !breakdown, Previous: !previous}
}

// pointsOf is the composite departments and categories are read from, after checking the region asked for.
func (r *queryResolver) pointsOf(ctx context.Context, input model.CompositeInput, region *string) (*analytics.Composite, error) {
	if region != nil {
		if _, err := r.Engine.Region(ctx, *region); err != nil {
			return nil, err
		}
	}
	q, err := compositeArgs(input)
	if err != nil {
		return nil, err
	}
	return r.Engine.Composite(ctx, q)
}

// targetSpecs reads targets given in a request; the engine checks them against the catalog.
func targetSpecs(in []*model.TargetInput) []analytics.TargetSpec {
	if in == nil {
		return nil
	}
	out := make([]analytics.TargetSpec, len(in))
	for i, t := range in {
		out[i] = analytics.TargetSpec{Region: t.Region, Indicator: t.Indicator, Year: t.Year, Comparator: str(t.Comparator),
			Value: t.Value, Group: str(t.Group)}
		if t.Kind != nil {
			out[i].Kind = *t.Kind
		}
	}
	return out
}
