package query

import (
	"slices"
	"strings"
	"sync"
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
	return &snapshot{windows: &sync.Map{}, Catalog: &duck.Catalog{
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

func TestPlanCompare(t *testing.T) {
	s := planCatalog()
	first, last := 2018, 2022
	s.Info.FirstYear, s.Info.LastYear = &first, &last
	_, err := planCompare(s, analytics.CompareQuery{Regions: []string{"AX"}, Indicators: []string{"gdp"}, From: 2019, To: 2020})
	if err == nil || !strings.Contains(err.Error(), `unknown region or group code "AX" (did you mean "AA"?)`) {
		t.Errorf("unknown region: %v", err)
	}
	p, err := planCompare(s, analytics.CompareQuery{Regions: []string{"BB", "G"}, Indicators: []string{"gdp", "pop", "gdp"}, From: 2010, To: 2020})
	if err != nil {
		t.Fatal(err)
	}
	if p.q.Ties != analytics.Competition || p.scope != nil || p.baseline != nil {
		t.Errorf("defaults: ties %q scope %v baseline %v, want COMPETITION and none", p.q.Ties, p.scope, p.baseline)
	}
	if p.from != 2018 || p.to != 2020 || p.q.From != 2010 {
		t.Errorf("years visited %d to %d (asked from %d), want 2018 to 2020 (asked from 2010)", p.from, p.to, p.q.From)
	}
	// BB named first, then AA through the group; BB came in by name, not through G.
	if len(p.regions) != 2 || p.regions[0].region.Code != "BB" || !p.regions[0].named || len(p.regions[0].groups) != 1 ||
		p.regions[1].region.Code != "AA" || p.regions[1].named || p.regions[1].groups[0] != s.GroupBy["G"] {
		t.Errorf("regions: %+v", p.regions)
	}
	if len(p.indicators) != 2 || p.indicators[0].Code != "gdp" || p.indicators[1].Code != "pop" {
		t.Errorf("indicators: %v, want gdp and pop once each", p.indicators)
	}
	p, err = planCompare(s, analytics.CompareQuery{Regions: []string{"AA"}, Indicators: []string{"gdp"}, From: 2019, To: 2020,
		Baseline: &analytics.BaselineQuery{Region: "BB"}, Scope: &analytics.ScopeQuery{Group: "G"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.baseline == nil || p.baseline.Region != s.RegionBy["BB"] || p.scope == nil || p.scope.Group != s.GroupBy["G"] {
		t.Errorf("baseline %+v scope %+v, want region BB and group G", p.baseline, p.scope)
	}
	_, err = planCompare(s, analytics.CompareQuery{Regions: []string{"AA"}, Indicators: []string{"gdp"}, From: 2019, To: 2020,
		Baseline: &analytics.BaselineQuery{Region: "BB", Stat: analytics.BaselineMean}})
	if err == nil || !strings.Contains(err.Error(), "baseline takes exactly one of region and stat") {
		t.Errorf("baseline of both: %v", err)
	}
}

func TestPlanStandings(t *testing.T) {
	s := planCatalog()
	econ := "econ"
	s.IndicatorBy["gdp"].Category = &econ
	_, err := planStandings(s, analytics.StandingsQuery{Region: "AA", Year: 2020, Top: 3, Category: "ecno"})
	if err == nil || !strings.Contains(err.Error(), `unknown category "ecno" (did you mean "econ"?)`) {
		t.Errorf("unknown category: %v", err)
	}
	p, err := planStandings(s, analytics.StandingsQuery{Region: "AA", Year: 2020, Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	if p.q.Ties != analytics.Competition || p.q.Basis != analytics.ByValue || p.q.OrderBy != analytics.OrderDataset {
		t.Errorf("defaults: ties %q basis %q orderBy %q", p.q.Ties, p.q.Basis, p.q.OrderBy)
	}
	if p.region != s.RegionBy["AA"] || p.scope.Kind != analytics.ScopeAll || len(p.indicators) != 2 {
		t.Errorf("region %v scope %+v indicators %v, want AA, all regions and every indicator", p.region, p.scope, p.indicators)
	}
	p, err = planStandings(s, analytics.StandingsQuery{Region: "AA", Year: 2020, Top: 3, Category: "econ"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.indicators) != 1 || p.indicators[0].Code != "gdp" {
		t.Errorf("category econ: %v, want gdp", p.indicators)
	}
	// The scheme's scope stands in for none, and makes the plan's request (its key).
	s.SchemeBy["S"].Scope = analytics.ScopeQuery{Group: "G"}
	p, err = planStandings(s, analytics.StandingsQuery{Region: "AA", Year: 2020, Top: 3, Scheme: "S"})
	if err != nil {
		t.Fatal(err)
	}
	if p.scope.Kind != analytics.ScopeGroup || p.q.Group != "G" {
		t.Errorf("scheme's scope: %+v, request's %+v", p.scope, p.q.ScopeQuery)
	}
}

func TestPlanTargets(t *testing.T) {
	s := planCatalog()
	y20, y21 := 2020, 2021
	_, err := planTargets(s, analytics.TargetQuery{From: &y21, To: &y20})
	if err == nil || !strings.Contains(err.Error(), "from 2021 is after to 2020") {
		t.Errorf("from after to: %v", err)
	}
	_, err = planTargets(s, analytics.TargetQuery{Year: &y20, From: &y20})
	if err == nil || !strings.Contains(err.Error(), "give year, or from and to, not both") {
		t.Errorf("year and from: %v", err)
	}
	// An unknown region is reported before the years: the order of the checks is the answer's.
	_, err = planTargets(s, analytics.TargetQuery{Region: "AX", From: &y21, To: &y20})
	if err == nil || !strings.Contains(err.Error(), `unknown region "AX"`) {
		t.Errorf("unknown region with from after to: %v", err)
	}
	p, err := planTargets(s, analytics.TargetQuery{Region: "AA", Group: "G", Year: &y20})
	if err != nil {
		t.Fatal(err)
	}
	if p.region != s.RegionBy["AA"] || p.group != s.GroupBy["G"] || p.req.From == nil || *p.req.From != 2020 || p.req.To == nil || *p.req.To != 2020 {
		t.Errorf("plan %+v, want region AA, group G and 2020 as from and to", p)
	}
}

// A composite's plan resolves the year before too, for rank and tier changes, and a history's plan each of
// its years; a year the input cannot be resolved for (a scheme without lines yet) has no plan, which the run
// reads as "no ranks to compare" or "not in the history".
func TestPlanCompositeYearBeforeAndHistory(t *testing.T) {
	s := planCatalog()
	from := 2020
	gdp := s.IndicatorBy["gdp"]
	late := &analytics.Scheme{Code: "LATE", Name: "From 2020", Normalisation: analytics.MinMax,
		Indicators: []*analytics.SchemeIndicator{{Indicator: gdp, Weight: 1, From: &from}}}
	s.Schemes, s.SchemeBy["LATE"] = append(s.Schemes, late), late

	cp, err := planComposite(s, analytics.CompositeQuery{Year: 2021, Scheme: "LATE"})
	if err != nil {
		t.Fatal(err)
	}
	if cp.cur == nil || cp.prev == nil || len(cp.prev.parts[0].inds) != 1 {
		t.Errorf("2021 and its year before 2020 both resolve: %+v", cp)
	}
	cp, err = planComposite(s, analytics.CompositeQuery{Year: 2020, Scheme: "LATE"})
	if err != nil {
		t.Fatal(err)
	}
	if cp.cur == nil || cp.prev != nil {
		t.Errorf("2020 resolves and 2019, before the scheme's first line, does not: %+v", cp)
	}
	if _, err := planComposite(s, analytics.CompositeQuery{Year: 2019, Scheme: "LATE"}); err == nil ||
		!strings.Contains(err.Error(), `scheme "LATE" has no indicators in 2019`) {
		t.Errorf("the year asked for without lines: %v", err)
	}

	hp, err := planHistory(s, analytics.CompositeHistoryQuery{CompositeQuery: analytics.CompositeQuery{Year: 2021, Scheme: "LATE"}, From: 2018})
	if err != nil {
		t.Fatal(err)
	}
	var resolved []bool
	for _, p := range hp.years {
		resolved = append(resolved, p != nil)
	}
	if want := []bool{false, false, true, true}; !slices.Equal(resolved, want) {
		t.Errorf("years 2018–2021 resolved %v, want %v", resolved, want)
	}
	if _, err := planHistory(s, analytics.CompositeHistoryQuery{CompositeQuery: analytics.CompositeQuery{Year: 2019, Scheme: "LATE"}, From: 2018}); err == nil {
		t.Error("a history whose last year has no lines is refused")
	}
}
