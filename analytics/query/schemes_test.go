package query

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/internal/fixture"
)

// Schemes and targets survive the trip through a DuckDB file: every field, lists and nulls included.
func TestSchemesRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	ctx := context.Background()
	if _, err := duck.WriteSnapshot(ctx, path, func(s *duck.Store) (duck.ImportStats, error) { return s.Import(ctx, fixture.AssessDataset(t), "t") }); err != nil {
		t.Fatal(err)
	}
	store, err := duck.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	e, err := NewEngine(ctx, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	schemes, _ := e.Schemes(ctx)
	if len(schemes) != 2 {
		t.Fatalf("%d schemes", len(schemes))
	}
	f := func(x float64) *float64 { return &x }
	i := func(x int) *int { return &x }
	s := e.snap.Load()
	x, y := s.IndicatorBy["x"], s.IndicatorBy["y"]
	want := &analytics.Scheme{Code: "q", Name: "Q", Scope: analytics.ScopeQuery{Group: "G", Level: "province"},
		Normalisation: analytics.MinMax, Aggregation: analytics.Arithmetic, Missing: analytics.Rescale, Ties: analytics.Competition,
		Quotas: []int{1}, RankBy: analytics.RankByScore, Indicators: []*analytics.SchemeIndicator{
			{Indicator: x, Weight: 1.5, Low: f(0), High: f(10), To: i(2021), Rule: analytics.PointsRule{Kind: analytics.PointsScaled}, Basis: analytics.BasisValue},
			{Indicator: y, Weight: 4, Points: f(4), From: i(2020), Rule: analytics.PointsRule{Kind: analytics.PointsTarget, Met: 1, Missed: 0.5, Cap: 1.5}, Basis: analytics.BasisValue},
		}}
	if !reflect.DeepEqual(schemes[0], want) {
		t.Errorf("scheme q\n got %+v\nwant %+v", *schemes[0], *want)
	}
	r, err := e.Scheme(ctx, "r")
	if err != nil || !reflect.DeepEqual(r.Cutoffs, []float64{80, 60.5}) || r.Quotas != nil || *r.MinWeightShare != 0.25 ||
		*r.Indicators[0].Target != 3 || r.Indicators[0].From != nil {
		t.Errorf("scheme r %+v %v", r, err)
	}
	if got := schemes[0].IndicatorsIn(2022); len(got) != 1 || got[0].Indicator != y {
		t.Errorf("IndicatorsIn(2022) %v", got)
	}
	if got := schemes[0].IndicatorsIn(2019); len(got) != 1 || got[0].Indicator != x {
		t.Errorf("IndicatorsIn(2019) %v", got)
	}
	if tg := s.target("A", "x", 2020, analytics.TargetRank); tg == nil || tg.Group == nil || tg.Group.Code != "G" || tg.Comparator != analytics.AtMost {
		t.Errorf("target of A %+v", tg)
	}
	if s.target("B", "y", 2021, analytics.TargetLevel) == nil || s.target("B", "y", 2021, analytics.TargetGrowth) != nil {
		t.Error("target of B")
	}
	if info, _ := e.Dataset(ctx); info.Schemes != 2 || info.Targets != 4 {
		t.Errorf("dataset info %+v", info)
	}
}

// A points rule is judged by the level target, else the growth target, else the rank target.
func TestRuleTarget(t *testing.T) {
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Import(context.Background(), fixture.AssessDataset(t), "t"); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(context.Background(), store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := e.snap.Load()
	// A x 2020 has a growth and a rank target: growth comes first; B y 2021 a level and a rank target: level.
	if tg := s.ruleTarget("A", "x", 2020); tg == nil || tg.Kind != analytics.TargetGrowth {
		t.Errorf("A x 2020: %+v, want its growth target", tg)
	}
	if tg := s.ruleTarget("B", "y", 2021); tg == nil || tg.Kind != analytics.TargetLevel {
		t.Errorf("B y 2021: %+v, want its level target", tg)
	}
	if tg := s.ruleTarget("B", "y", 2022); tg != nil {
		t.Errorf("B y 2022: %+v, want none", tg)
	}
}
