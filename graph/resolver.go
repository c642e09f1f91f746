// Package graph is pacesetter's GraphQL layer: thin resolvers that turn arguments into an engine request
// and hand back its answer, and the HTTP server around them (transports, limits, errors). generated.go and
// model/ are written by gqlgen from schema/*.graphqls; never edit them by hand.
package graph

import (
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
