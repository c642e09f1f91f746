// Package graph is pacesetter's GraphQL layer: thin resolvers that turn arguments into an engine request
// and hand back its answer, the dataloaders, the cost model and its limit (limits.go), the document guard
// (guard.go) and the plain writer (plain.go). It serves no HTTP: graph/server does, installing what
// schema.go hands it (a test keeps it so). generated.go and model/ are written by gqlgen from
// schema/*.graphqls; never edit them by hand.
package graph

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"pacesetter/analytics"
	"pacesetter/graph/model"
)

// Resolver is the root resolver; it holds nothing but the engine.
type Resolver struct {
	Engine analytics.Engine
}

// str reads an optional argument: "" when absent.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// scopeArgs reads the optional scope arguments: "" when absent, and an error when one is given but empty,
// which the engine would otherwise take for absent (group: "" is not "every region").
func scopeArgs(group, parent, level *string, regions []string) (analytics.ScopeQuery, error) {
	for _, a := range []struct {
		name string
		p    *string
	}{{"group", group}, {"parent", parent}, {"level", level}} {
		if a.p != nil && *a.p == "" {
			return analytics.ScopeQuery{}, analytics.Errorf(analytics.BadUserInput, "%s is empty: give a code, or leave %s out", a.name, a.name)
		}
	}
	return analytics.ScopeQuery{Group: str(group), Parent: str(parent), Level: str(level), Regions: regions}, nil
}

// formulaArg reads indicator or formula (the engine checks that exactly one is given) and what describes
// a formula; direction, measure and unit without a formula are refused rather than ignored.
func formulaArg(indicator, formula *string, direction *analytics.Direction, measure *analytics.Measure, unit *string) (string, *analytics.Formula, error) {
	if indicator != nil && *indicator == "" {
		return "", nil, analytics.Errorf(analytics.BadUserInput, "indicator is empty: give an indicator's code, or a formula instead")
	}
	if formula == nil {
		if direction != nil || measure != nil || unit != nil {
			return "", nil, analytics.Errorf(analytics.BadUserInput, "direction, measure and unit describe a formula: give formula, or leave them out (an indicator has its own)")
		}
		return str(indicator), nil, nil
	}
	return str(indicator), &analytics.Formula{Text: *formula, Direction: enum(direction), Measure: enum(measure), Unit: str(unit)}, nil
}

// enclosingRanking is the ranking whose entry is being resolved: gqlgen keeps each enclosing field's
// result in its field context, so an entry needs no pointer back to its ranking.
func enclosingRanking(ctx context.Context) *analytics.Ranking {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if rk, ok := fc.Result.(*analytics.Ranking); ok {
			return rk
		}
	}
	return nil
}

// enum reads an optional enum argument; absent leaves the engine's default.
func enum[T ~string](p *T) T {
	if p == nil {
		return ""
	}
	return *p
}

// observationConnection shapes an engine page as a Relay connection.
func observationConnection(p *analytics.ObservationPage) *model.ObservationConnection {
	c := &model.ObservationConnection{TotalCount: p.TotalCount, Nodes: p.Items,
		Edges: make([]*model.ObservationEdge, len(p.Items)), PageInfo: &model.PageInfo{HasNextPage: p.HasNextPage}}
	for i, o := range p.Items {
		c.Edges[i] = &model.ObservationEdge{Cursor: p.Cursors[i], Node: o}
	}
	if n := len(p.Cursors); n > 0 {
		c.PageInfo.EndCursor = &p.Cursors[n-1]
	}
	return c
}

// filterArgs reads an ObservationFilter: absent fields filter nothing, and an empty string is refused like
// an empty scope argument (the engine refuses empty lists).
func filterArgs(f *model.ObservationFilter) (analytics.ValueFilter, error) {
	if f == nil {
		return analytics.ValueFilter{}, nil
	}
	sc, err := scopeArgs(f.Group, f.Parent, f.Level, f.Regions)
	if err != nil {
		return analytics.ValueFilter{}, err
	}
	if f.Category != nil && *f.Category == "" {
		return analytics.ValueFilter{}, analytics.Errorf(analytics.BadUserInput, "category is empty: give a category, or leave category out")
	}
	from, err := periodArg("fromPeriod", f.FromPeriod)
	if err != nil {
		return analytics.ValueFilter{}, err
	}
	to, err := periodArg("toPeriod", f.ToPeriod)
	if err != nil {
		return analytics.ValueFilter{}, err
	}
	return analytics.ValueFilter{Regions: f.Regions, Indicators: f.Indicators, Group: sc.Group, Parent: sc.Parent, Level: sc.Level,
		Category: str(f.Category), From: f.From, To: f.To, AsOf: f.AsOf, FromPeriod: from, ToPeriod: to, Frequency: f.Frequency}, nil
}

// selectedMeasures reads which measures an aggregate's rows and totals select (fragments included), so the
// engine computes those and no others, the p of each quantile asked for, and whether a row's previous,
// change or changeRatio is (whose measures count among the rows').
func selectedMeasures(ctx context.Context) (rows []analytics.AggregateMeasure, quantiles []float64, totals []analytics.AggregateMeasure, previous bool, err error) {
	op := graphql.GetOperationContext(ctx)
	names := func(f graphql.CollectedField, quantile func(graphql.CollectedField) error) ([]analytics.AggregateMeasure, error) {
		var out []analytics.AggregateMeasure
		for _, c := range graphql.CollectFields(op, f.Selections, nil) {
			m := analytics.AggregateMeasure(strings.ToUpper(c.Name))
			switch {
			case c.Name == "quantile" && quantile != nil:
				if err := quantile(c); err != nil {
					return nil, err
				}
			case (c.Name == "previous" || c.Name == "change" || c.Name == "changeRatio") && quantile != nil:
				// The row's own measure and its group's a year earlier.
				previous = true
				if v, ok := c.ArgumentMap(op.Variables)["measure"].(string); ok && !slices.Contains(out, analytics.AggregateMeasure(v)) {
					out = append(out, analytics.AggregateMeasure(v))
				}
			case slices.Contains(analytics.AllMeasures, m) && !slices.Contains(out, m):
				out = append(out, m)
			}
		}
		return out, nil
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		switch f.Name {
		case "rows":
			rows, err = names(f, func(c graphql.CollectedField) error {
				p, ok := number(c.ArgumentMap(op.Variables)["p"])
				if !ok {
					return analytics.Errorf(analytics.BadUserInput, "quantile needs a number p from 0 to 1")
				}
				if !slices.Contains(quantiles, p) {
					quantiles = append(quantiles, p)
				}
				return nil
			})
		case "totals":
			totals, err = names(f, nil)
		}
		if err != nil {
			return nil, nil, nil, false, err
		}
	}
	return rows, quantiles, totals, previous, nil
}

// selects says whether the field being resolved selects the named field of its answer (fragments included).
func selects(ctx context.Context, name string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// number reads a Float argument as gqlgen hands it over: a float64, an int64 from a literal, or a
// json.Number from variables.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
