package query

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
	"pacesetter/data"
)

// An aggregate answered from the matrices in memory (aggregateInMemory) is the one DuckDB's statement
// gives for the same spec (Reader.Aggregate, which TestAggregateMatchesReference holds to a plain-Go
// reference): at three sizes, for random groupings by INDICATOR and YEAR in either order or alone, random
// measures among count, sum, mean, min and max, filters of indicators and years, and pages through to the
// end — the same rows in the same order with the same dimensions, counts, minima and maxima, means and sums
// equal to 1e-12 of their size (DuckDB adds in its own order), and the same cursors, next page, count of
// rows and warnings. It is not taken when a matrix is not held, for another measure or dimension, a filter
// by region, or on a dataset with regions above others (the NBS data): the statement answers those.
func TestAggregateInMemoryMatchesStatement(t *testing.T) {
	ctx := context.Background()
	for _, sz := range [][3]int{{7, 4, 5}, {300, 12, 20}, {2000, 5, 9}} {
		t.Run(fmt.Sprint(sz), func(t *testing.T) {
			d := dataset.Synthetic(31, sz[0], sz[1], sz[2])
			e := newTestEngine(t, d, Options{CacheEntries: 0})
			s := e.snap.Load()
			if !s.Flat {
				t.Fatal("the synthetic data is not flat: the path under test is never taken")
			}
			spec := func(q analytics.AggregateQuery) duck.AggregateSpec {
				t.Helper()
				sp, err := planAggregateUpTo(s, q, MaxAggregatePage)
				if err != nil {
					t.Fatal(err)
				}
				return sp
			}
			q0 := analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimIndicator, analytics.DimYear},
				Measures: []analytics.AggregateMeasure{analytics.MeasureMean}, First: 10}
			if _, ok := e.aggregateInMemory(s, spec(q0)); ok {
				t.Error("answered in memory before any matrix was loaded")
			}
			if _, err := e.WarmAll(ctx); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, uint64(sz[0])))
			first, last := *s.Info.FirstYear, *s.Info.LastYear
			measures := []analytics.AggregateMeasure{analytics.MeasureCount, analytics.MeasureSum, analytics.MeasureMean, analytics.MeasureMin, analytics.MeasureMax}
			bys := [][]analytics.Dimension{{analytics.DimIndicator, analytics.DimYear}, {analytics.DimYear, analytics.DimIndicator},
				{analytics.DimIndicator}, {analytics.DimYear}}
			for trial := range 40 {
				q := analytics.AggregateQuery{By: bys[trial%len(bys)], First: 1 + rng.IntN(60)}
				for _, m := range measures {
					if rng.IntN(2) == 0 {
						q.Measures = append(q.Measures, m)
					}
				}
				if len(q.Measures) == 0 {
					q.Measures = []analytics.AggregateMeasure{analytics.MeasureCount}
				}
				if rng.IntN(2) == 0 {
					for _, in := range d.Indicators {
						if rng.IntN(3) == 0 {
							q.Filter.Indicators = append(q.Filter.Indicators, in.Code)
						}
					}
					if q.Filter.Indicators == nil {
						q.Filter.Indicators = []string{d.Indicators[len(d.Indicators)-1].Code}
					}
				}
				if rng.IntN(2) == 0 {
					from := first - 1 + rng.IntN(last-first+2)
					q.Filter.From = &from
				}
				if rng.IntN(3) == 0 {
					to := first + rng.IntN(last-first+2)
					if q.Filter.From != nil {
						to = max(to, *q.Filter.From)
					}
					q.Filter.To = &to
				}
				for page := 0; page < 50; page++ {
					sp := spec(q)
					got, ok := e.aggregateInMemory(s, sp)
					if !ok {
						t.Fatalf("trial %d %+v: not answered in memory", trial, q)
					}
					want, err := e.reader.Aggregate(ctx, s.Catalog, sp)
					if err != nil {
						t.Fatal(err)
					}
					sameAggregate(t, fmt.Sprintf("trial %d page %d %+v", trial, page, q), got, want)
					if !want.HasNextPage {
						break
					}
					q.After = want.Cursors[len(want.Cursors)-1]
				}
			}
			// Not taken: another measure, another dimension, a filter by region, a matrix not held.
			for _, q := range []analytics.AggregateQuery{
				{By: q0.By, Measures: []analytics.AggregateMeasure{analytics.MeasureMedian}, First: 10},
				{By: []analytics.Dimension{analytics.DimGroup, analytics.DimYear}, Measures: q0.Measures, First: 10},
				{By: q0.By, Measures: q0.Measures, First: 10, Filter: analytics.ValueFilter{Regions: []string{d.Regions[0].Code}}},
			} {
				if _, ok := e.aggregateInMemory(s, spec(q)); ok {
					t.Errorf("%+v: answered in memory", q)
				}
			}
			e.matrixCache.drop(matrixKey(s, d.Indicators[0].Code, ""))
			if _, ok := e.aggregateInMemory(s, spec(q0)); ok {
				t.Error("answered in memory without the first indicator's matrix")
			}
		})
	}
	// The NBS data has regions above others (CN over its provinces): not flat, never in memory.
	nbs, err := dataset.Read(data.Default())
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, nbs, Options{})
	if _, err := e.WarmAll(ctx); err != nil {
		t.Fatal(err)
	}
	s := e.snap.Load()
	sp, err := planAggregateUpTo(s, analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimIndicator, analytics.DimYear},
		Measures: []analytics.AggregateMeasure{analytics.MeasureMean}, First: 10}, MaxAggregatePage)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.aggregateInMemory(s, sp); s.Flat || ok {
		t.Errorf("the NBS data: flat %v, answered in memory %v; want neither", s.Flat, ok)
	}
}

// sameAggregate fails unless got and want have the same rows, cursors, next page, count and warnings, with
// means and sums equal to 1e-12 of their size.
func sameAggregate(t *testing.T, what string, got, want *analytics.Aggregate) {
	t.Helper()
	if len(got.Rows) != len(want.Rows) || !slices.Equal(got.Cursors, want.Cursors) || got.HasNextPage != want.HasNextPage ||
		got.TotalCount != want.TotalCount || len(got.Warnings) != len(want.Warnings) {
		t.Fatalf("%s: %d rows, next %v, count %d, %d warnings; the statement %d, %v, %d, %d", what, len(got.Rows), got.HasNextPage,
			got.TotalCount, len(got.Warnings), len(want.Rows), want.HasNextPage, want.TotalCount, len(want.Warnings))
	}
	near := func(a, b *float64) bool {
		if a == nil || b == nil {
			return a == b
		}
		return math.Abs(*a-*b) <= 1e-12*math.Max(math.Abs(*a), math.Abs(*b))
	}
	exact := func(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	for i, g := range got.Rows {
		w := want.Rows[i]
		same := g.Indicator == w.Indicator && (g.Year == nil) == (w.Year == nil) && (g.Year == nil || *g.Year == *w.Year) &&
			(g.Count == nil) == (w.Count == nil) && (g.Count == nil || *g.Count == *w.Count) &&
			near(g.Sum, w.Sum) && near(g.Mean, w.Mean) && exact(g.Min, w.Min) && exact(g.Max, w.Max)
		if !same {
			t.Fatalf("%s: row %d is %s, the statement's %s", what, i, rowText(g), rowText(w))
		}
	}
}

func rowText(r *analytics.AggregateRow) string {
	s := ""
	if r.Indicator != nil {
		s += r.Indicator.Code + " "
	}
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	if r.Year != nil {
		s += fmt.Sprint(*r.Year, " ")
	}
	if r.Count != nil {
		s += fmt.Sprint("n=", *r.Count, " ")
	}
	return s + "sum=" + f(r.Sum) + " mean=" + f(r.Mean) + " min=" + f(r.Min) + " max=" + f(r.Max)
}
