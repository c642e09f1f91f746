package query

import (
	"strings"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/duck"
)

// planCatalog is a catalog built in memory: the plans read nothing else, so no DuckDB is needed.
func planCatalog() *snapshot {
	first, last := 2018, 2022
	a := &analytics.Region{Code: "AA", Name: "A"}
	b := &analytics.Region{Code: "BB", Name: "B"}
	g := &analytics.Group{Code: "G", Name: "Group"}
	for _, r := range []*analytics.Region{a, b} {
		m := &analytics.Membership{Group: g, Region: r}
		g.Memberships = append(g.Memberships, m)
		r.Memberships = append(r.Memberships, m)
	}
	gdp := &analytics.Indicator{Code: "gdp", Name: "GDP", Direction: analytics.HigherIsBetter, FirstYear: &first, LastYear: &last}
	pop := &analytics.Indicator{Code: "pop", Name: "Population", Direction: analytics.HigherIsBetter, FirstYear: &first, LastYear: &last}
	share := 0.5
	sc := &analytics.Scheme{Code: "S", Name: "Scheme", Normalisation: analytics.Rank, Aggregation: analytics.Geometric,
		Missing: analytics.Exclude, MinWeightShare: &share, Ties: analytics.Dense,
		Indicators: []*analytics.SchemeIndicator{{Indicator: gdp, Weight: 2}, {Indicator: pop, Weight: 1}}}
	return &snapshot{&duck.Catalog{
		Regions: []*analytics.Region{a, b}, RegionBy: map[string]*analytics.Region{"AA": a, "BB": b},
		RegionAt: map[string]int{"AA": 0, "BB": 1},
		Groups:   []*analytics.Group{g}, GroupBy: map[string]*analytics.Group{"G": g},
		Indicators: []*analytics.Indicator{gdp, pop}, IndicatorBy: map[string]*analytics.Indicator{"gdp": gdp, "pop": pop},
		IndicatorAt: map[string]int{"gdp": 0, "pop": 1},
		Schemes:     []*analytics.Scheme{sc}, SchemeBy: map[string]*analytics.Scheme{"S": sc},
	}}
}

func TestPlanRanking(t *testing.T) {
	s := planCatalog()
	p, err := planRanking(s, analytics.RankingQuery{Indicator: "gdp", ScopeQuery: analytics.ScopeQuery{Group: "G"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.scope.Kind != analytics.ScopeGroup || p.scope.Group != s.GroupBy["G"] || p.in != s.IndicatorBy["gdp"] {
		t.Errorf("scope %+v indicator %v, want group G and gdp", p.scope, p.in)
	}
	if p.q.Ties != analytics.Competition || p.q.Basis == "" {
		t.Errorf("defaults not applied: ties %q basis %q", p.q.Ties, p.q.Basis)
	}
	_, err = planRanking(s, analytics.RankingQuery{Indicator: "gpd"})
	if err == nil || !strings.Contains(err.Error(), `unknown indicator "gpd" (did you mean "gdp"?)`) {
		t.Errorf("unknown indicator: %v", err)
	}
}

func TestPlanComposite(t *testing.T) {
	s := planCatalog()
	p, err := s.resolve(analytics.CompositeQuery{Year: 2020, Scheme: "S"})
	if err != nil {
		t.Fatal(err)
	}
	if p.norm != analytics.Rank || p.agg != analytics.Geometric || p.miss != analytics.Exclude || p.ties != analytics.Dense ||
		p.opt.MinWeightShare != 0.5 || len(p.inds) != 2 {
		t.Errorf("the scheme's settings: %+v", p)
	}
	z := analytics.ZScore
	ar := analytics.Arithmetic
	p, err = s.resolve(analytics.CompositeQuery{Year: 2020, Scheme: "S", Normalisation: &z, Aggregation: &ar})
	if err != nil {
		t.Fatal(err)
	}
	if p.norm != analytics.ZScore || p.agg != analytics.Arithmetic || p.ties != analytics.Dense {
		t.Errorf("inline override: %s %s %s, want Z_SCORE ARITHMETIC and the scheme's DENSE", p.norm, p.agg, p.ties)
	}
}

func TestPlanAggregateRefusesBadFilter(t *testing.T) {
	s := planCatalog()
	by := []analytics.Dimension{analytics.DimRegion}
	for _, tc := range []struct {
		f    analytics.ValueFilter
		want string
	}{
		{analytics.ValueFilter{Regions: []string{"AB"}}, `unknown region "AB"`},
		{analytics.ValueFilter{Regions: []string{}}, "regions is an empty list"},
		{analytics.ValueFilter{Regions: []string{"AA"}, Group: "G"}, "give regions or group, parent and level, not both"},
		{analytics.ValueFilter{Level: "x"}, `unknown level "x"`},
	} {
		if _, err := planAggregate(s, analytics.AggregateQuery{By: by, Filter: tc.f, First: 10}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("filter %+v: %v, want %q", tc.f, err, tc.want)
		}
	}
	if _, err := planAggregate(s, analytics.AggregateQuery{By: by, First: 10}); err != nil {
		t.Errorf("a good request: %v", err)
	}
}
