package query

import (
	"math"
	"sync"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/duck"
)

// One question, one key; two questions, two keys: across kinds and on what today's keys tell apart.
func TestKeyOf(t *testing.T) {
	y0, y1 := 0, 2020
	d1, d2 := analytics.Date("2020-01-01"), analytics.Date("2021-01-01")
	rank := func(f func(*analytics.RankingQuery)) string {
		q := analytics.RankingQuery{Indicator: "gdp", Ties: analytics.Competition, Basis: analytics.ByValue}
		f(&q)
		return keyOf("ranking", q)
	}
	same := func(*analytics.RankingQuery) {}
	targets := func(q analytics.TargetQuery) string {
		p, err := planTargets(planCatalog(), q)
		if err != nil {
			t.Fatal(err)
		}
		return keyOf("targets", p.req)
	}
	compare := func(f func(*analytics.CompareQuery)) string {
		q := analytics.CompareQuery{Regions: []string{"AA", "G"}, Indicators: []string{"gdp"}, From: 2019, To: 2020}
		f(&q)
		p, err := planCompare(planCatalog(), q)
		if err != nil {
			t.Fatal(err)
		}
		return keyOf("compare", p.q)
	}
	base := func(b analytics.BaselineQuery) func(*analytics.CompareQuery) {
		return func(q *analytics.CompareQuery) { q.Baseline = &b }
	}
	for _, tc := range []struct {
		name string
		a, b string
		same bool
	}{
		{"identical rankings", rank(same), rank(same), true},
		{"asOf", rank(func(q *analytics.RankingQuery) { q.AsOf = &d1 }), rank(func(q *analytics.RankingQuery) { q.AsOf = &d2 }), false},
		{"asOf against none", rank(same), rank(func(q *analytics.RankingQuery) { q.AsOf = &d1 }), false},
		{"same asOf, other pointer", rank(func(q *analytics.RankingQuery) { d := d1; q.AsOf = &d }), rank(func(q *analytics.RankingQuery) { q.AsOf = &d1 }), true},
		{"scope", rank(func(q *analytics.RankingQuery) { q.Group = "G" }), rank(func(q *analytics.RankingQuery) { q.Parent = "G" }), false},
		{"regions nil and empty", rank(func(q *analytics.RankingQuery) { q.Regions = nil }), rank(func(q *analytics.RankingQuery) { q.Regions = []string{} }), false},
		{"ties", rank(same), rank(func(q *analytics.RankingQuery) { q.Ties = analytics.Dense }), false},
		{"basis", rank(same), rank(func(q *analytics.RankingQuery) { q.Basis = analytics.ByGrowth }), false},
		{"nil and 0 years", rank(func(q *analytics.RankingQuery) { q.Year = nil }), rank(func(q *analytics.RankingQuery) { q.Year = &y0 }), false},
		{"same year", rank(func(q *analytics.RankingQuery) { y := 2020; q.Year = &y }), rank(func(q *analytics.RankingQuery) { q.Year = &y1 }), true},
		{"kinds", keyOf("trend", analytics.TrendQuery{Region: "A", Indicator: "gdp"}), keyOf("ranking", analytics.TrendQuery{Region: "A", Indicator: "gdp"}), false},
		{"trend without and with an empty scope", keyOf("trend", analytics.TrendQuery{Region: "A"}), keyOf("trend", analytics.TrendQuery{Region: "A", Scope: &analytics.ScopeQuery{}}), false},
		{"compare to", keyOf("compare", analytics.CompareQuery{Regions: []string{"A"}, From: 2000, To: 2001}), keyOf("compare", analytics.CompareQuery{Regions: []string{"A"}, From: 2000, To: 2002}), false},
		{"compare baseline", keyOf("compare", analytics.CompareQuery{Baseline: &analytics.BaselineQuery{Region: "A"}}), keyOf("compare", analytics.CompareQuery{}), false},
		{"compare plans, ties left out and given", compare(func(*analytics.CompareQuery) {}), compare(func(q *analytics.CompareQuery) { q.Ties = analytics.Competition }), true},
		{"compare plans, baselines", compare(base(analytics.BaselineQuery{Region: "AA"})), compare(base(analytics.BaselineQuery{Region: "BB"})), false},
		{"compare plans, a baseline and none", compare(base(analytics.BaselineQuery{Stat: analytics.BaselineMean})), compare(func(*analytics.CompareQuery) {}), false},
		{"compare plans, ties", compare(func(*analytics.CompareQuery) {}), compare(func(q *analytics.CompareQuery) { q.Ties = analytics.Dense }), false},
		{"targets year as from and to", targets(analytics.TargetQuery{From: &y1, To: &y1}), targets(analytics.TargetQuery{Year: &y1}), true},
		{"targets nil and 0 from", keyOf("targets", targetsRequest{}), keyOf("targets", targetsRequest{From: &y0}), false},
		{"aggregate filter indicators nil and empty", keyOf("aggregate", analytics.AggregateQuery{}), keyOf("aggregate", analytics.AggregateQuery{Filter: analytics.ValueFilter{Indicators: []string{}}}), false},
		{"aggregate pages", keyOf("aggregate", analytics.AggregateQuery{First: 10}), keyOf("aggregate", analytics.AggregateQuery{First: 10, After: "x"}), false},
	} {
		if got := tc.a == tc.b; got != tc.same {
			t.Errorf("%s: same key %v, want %v (%s, %s)", tc.name, got, tc.same, tc.a, tc.b)
		}
	}
}

// A plan JSON cannot encode has no key, and its answer is computed every time and never kept: an entry under
// a key no request can build again would only take the place of answers that can be found.
func TestUnkeyablePlanIsNotCached(t *testing.T) {
	inf := math.Inf(1)
	q := analytics.CompositeQuery{Year: 2020, Indicators: []analytics.WeightedIndicator{{Indicator: "gdp", Weight: 1, Target: &inf}}}
	if k := keyOf("composite", q); k != "" {
		t.Fatalf("a plan with an infinite target has the key %q, want none", k)
	}
	e := &Engine{cache: newAnswerCache(16, 1<<20)}
	s := &snapshot{Catalog: &duck.Catalog{Key: "v1"}, windows: &sync.Map{}}
	runs := 0
	for range 2 {
		if _, err := cached(e, s, keyOf("composite", q), func() (int, error) { runs++; return runs, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if runs != 2 || e.cache.lru.Len() != 0 {
		t.Errorf("computed %d times with %d answers kept, want 2 and 0", runs, e.cache.lru.Len())
	}
}
