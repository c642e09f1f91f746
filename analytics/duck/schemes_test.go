package duck

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

func assessDataset(t *testing.T) *dataset.Dataset {
	t.Helper()
	d, err := dataset.Read(fstest.MapFS{
		"regions.csv":      {Data: []byte("region_code,region_name,parent_code,group,level\nA,Alpha,,G,province\nB,Beta,,G,province\n")},
		"indicators.csv":   {Data: []byte("indicator_code,name,unit,direction\nx,X,u,higher_is_better\ny,Y,u,lower_is_better\n")},
		"observations.csv": {Data: []byte("region_code,indicator_code,year,value\nA,x,2020,1\nB,x,2020,2\n")},
		"schemes.yaml": {Data: []byte("schemes:\n  - code: q\n    name: Q\n    scope: {group: G, level: province}\n    tiers: {quotas: [1]}\n" +
			"    indicators:\n      - {indicator: x, weight: 1.5, low: 0, high: 10, to: 2021}\n      - {indicator: y, points: 4, from: 2020, rule: {kind: target, missed: 0.5, cap: 1.5}}\n" +
			"  - code: r\n    name: R\n    min_weight_share: 0.25\n    tiers: {cutoffs: [80, 60.5]}\n    indicators: [{indicator: y, weight: 1, target: 3}]\n")},
		"targets.csv": {Data: []byte("region_code,indicator_code,year,comparator,value,kind,group\nA,x,2020,<=,1,rank,G\nB,y,2021,<=,3.5,level,\n" +
			"A,x,2020,>=,1,growth,\nB,y,2021,<=,1,rank,\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Schemes and targets survive the trip through a DuckDB file: every field, lists and nulls included.
func TestSchemesRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	ctx := context.Background()
	if _, err := WriteSnapshot(ctx, path, func(s *Store) (ImportStats, error) { return s.Import(ctx, assessDataset(t), "t") }); err != nil {
		t.Fatal(err)
	}
	store, err := OpenReadOnly(path)
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
	x, y := s.indicatorBy["x"], s.indicatorBy["y"]
	want := &analytics.Scheme{Code: "q", Name: "Q", Scope: analytics.ScopeQuery{Group: "G", Level: "province"},
		Normalisation: analytics.MinMax, Aggregation: analytics.Arithmetic, Missing: analytics.Rescale, Ties: analytics.Competition,
		Quotas: []int{1}, Indicators: []*analytics.SchemeIndicator{
			{Indicator: x, Weight: 1.5, Low: f(0), High: f(10), To: i(2021), Rule: analytics.PointsRule{Kind: analytics.PointsScaled}},
			{Indicator: y, Weight: 4, Points: f(4), From: i(2020), Rule: analytics.PointsRule{Kind: analytics.PointsTarget, Met: 1, Missed: 0.5, Cap: 1.5}},
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

// A snapshot file written before schemes and targets were stored (no such tables) still loads, with none.
func TestSnapshotWithoutSchemeTables(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	ctx := context.Background()
	_, err := WriteSnapshot(ctx, path, func(s *Store) (ImportStats, error) {
		st, err := s.Import(ctx, assessDataset(t), "t")
		if err != nil {
			return st, err
		}
		for _, table := range []string{"schemes", "scheme_indicators", "targets"} {
			if _, err := s.db.ExecContext(ctx, `DROP TABLE `+table); err != nil {
				return st, err
			}
		}
		return st, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	served, err := OpenServed(ctx, path, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer served.Close()
	schemes, err := served.Schemes(ctx)
	if err != nil || len(schemes) != 0 {
		t.Errorf("schemes %v %v", schemes, err)
	}
	ts, err := served.Targets(ctx, analytics.TargetQuery{})
	if err != nil || len(ts) != 0 {
		t.Errorf("targets %v %v", ts, err)
	}
	if _, err := served.Scheme(ctx, "q"); err == nil || !strings.Contains(err.Error(), "this dataset has no schemes") {
		t.Errorf("scheme q: %v", err)
	}
	if info, _ := served.Dataset(ctx); info.Regions != 2 || info.Schemes != 0 {
		t.Errorf("dataset %+v", info)
	}
}

// A points rule is judged by the level target, else the growth target, else the rank target.
func TestRuleTarget(t *testing.T) {
	store, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Import(context.Background(), assessDataset(t), "t"); err != nil {
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
