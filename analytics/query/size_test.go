package query

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"sync"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
)

// uncached are the Engine's results the answer cache never keeps, and why. An Engine method returning a
// type neither here nor in answerTypes fails TestAnswerBytesMatchHeap: a new answer type needs a measure
// (its place in answerTypes and a filler below) before the cache can be trusted with it.
var uncached = map[reflect.Type]string{
	reflect.TypeFor[*analytics.DatasetInfo]():      "the catalog's",
	reflect.TypeFor[[]*analytics.Region]():         "the catalog's",
	reflect.TypeFor[*analytics.Region]():           "the catalog's",
	reflect.TypeFor[[]*analytics.Group]():          "the catalog's",
	reflect.TypeFor[*analytics.Group]():            "the catalog's",
	reflect.TypeFor[[]*analytics.Indicator]():      "the catalog's",
	reflect.TypeFor[*analytics.Indicator]():        "the catalog's",
	reflect.TypeFor[[]*analytics.Scheme]():         "the catalog's",
	reflect.TypeFor[*analytics.Scheme]():           "the catalog's",
	reflect.TypeFor[*analytics.ObservationPage]():  "pages are read from DuckDB each time",
	reflect.TypeFor[*analytics.Pivot]():            "reshaped each time from a cached Aggregate",
	reflect.TypeFor[[]*float64]():                  "dataloader batches read off the matrices",
	reflect.TypeFor[[]*analytics.SearchHit]():      "a search: a look-up over the catalog, never kept",
	reflect.TypeFor[[]*int]():                      "dataloader batches read off the matrices",
	reflect.TypeFor[[]*analytics.BaselineSource](): "dataloader batches read off the matrices",
}

// sizeDataset is a synthetic dataset of 400 regions × 12 indicators × 8 years, with a level target of
// every region, indicator and year (for the targets answers).
func sizeDataset() *dataset.Dataset {
	d := dataset.Synthetic(7, 400, 12, 8)
	for _, r := range d.Regions {
		if r.Code == "ROOT" {
			continue
		}
		for _, in := range d.Indicators {
			for y := 2001; y <= 2008; y++ {
				d.Targets = append(d.Targets, dataset.Target{Region: r.Code, Indicator: in.Code, Year: y,
					Comparator: analytics.AtLeast, Value: 100, Kind: analytics.TargetLevel})
			}
		}
	}
	return d
}

// fillers ask the engine the i-th distinct question of each cached answer type.
var fillers = map[reflect.Type]func(ctx context.Context, e *Engine, i int) error{
	reflect.TypeFor[*analytics.Ranking](): func(ctx context.Context, e *Engine, i int) error {
		y := 2001 + i%8
		_, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: ind(i / 8), Year: &y})
		return err
	},
	reflect.TypeFor[*analytics.Standings](): func(ctx context.Context, e *Engine, i int) error {
		_, err := e.Standings(ctx, analytics.StandingsQuery{Region: fmt.Sprintf("R%04d", 1+i%400), Year: 2002 + i/400%7, Top: 3})
		return err
	},
	reflect.TypeFor[*analytics.Trend](): func(ctx context.Context, e *Engine, i int) error {
		_, err := e.Trend(ctx, analytics.TrendQuery{Region: fmt.Sprintf("R%04d", 1+i%400), Indicator: ind(i / 400),
			Scope: &analytics.ScopeQuery{}})
		return err
	},
	reflect.TypeFor[*analytics.Comparison](): func(ctx context.Context, e *Engine, i int) error {
		var regions []string
		for k := range 20 {
			regions = append(regions, fmt.Sprintf("R%04d", 1+(i*7+k)%400))
		}
		_, err := e.Compare(ctx, analytics.CompareQuery{Regions: regions, Indicators: []string{ind(i), ind(i + 1), ind(i + 2)}, From: 2001, To: 2008})
		return err
	},
	reflect.TypeFor[*analytics.Aggregate](): func(ctx context.Context, e *Engine, i int) error {
		from := 2001 + i%8
		_, err := e.Aggregate(ctx, analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimRegion, analytics.DimYear},
			Filter:   analytics.ValueFilter{Indicators: []string{ind(i / 8)}, From: &from},
			Measures: []analytics.AggregateMeasure{analytics.MeasureMean, analytics.MeasureMax}, First: MaxAggregatePage})
		return err
	},
	reflect.TypeFor[*analytics.Composite](): func(ctx context.Context, e *Engine, i int) error {
		_, err := e.Composite(ctx, compositeQuery(i))
		return err
	},
	reflect.TypeFor[*analytics.Robustness](): func(ctx context.Context, e *Engine, i int) error {
		_, err := e.Robustness(ctx, analytics.RobustnessQuery{CompositeQuery: compositeQuery(i), Runs: 20, WeightNoise: 0.1, Seed: 1})
		return err
	},
	reflect.TypeFor[*analytics.CompositeHistory](): func(ctx context.Context, e *Engine, i int) error {
		_, err := e.CompositeHistory(ctx, analytics.CompositeHistoryQuery{CompositeQuery: compositeQuery(i), From: 2001})
		return err
	},
	// A weighted mean of a ranking of five regions (another five for each i) weighted by another indicator;
	// the rankings are kept too, and counted alike.
	reflect.TypeFor[*float64](): func(ctx context.Context, e *Engine, i int) error {
		y := 2001 + i%8
		var regions []string
		for k := range 5 {
			regions = append(regions, fmt.Sprintf("R%04d", 1+(i/8+k)%400))
		}
		rk, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: ind(0), Year: &y, ScopeQuery: analytics.ScopeQuery{Regions: regions}})
		if err != nil {
			return err
		}
		_, err = e.WeightedMean(ctx, rk, ind(1+i/3200))
		return err
	},
	reflect.TypeFor[*analytics.Threshold](): func(ctx context.Context, e *Engine, i int) error {
		_, err := e.Threshold(ctx, analytics.ThresholdQuery{Region: fmt.Sprintf("R%04d", 1+i%400), Indicator: ind(i / 400),
			Value: float64(1000 + i), Years: 5})
		return err
	},
	reflect.TypeFor[[]*analytics.TargetResult](): func(ctx context.Context, e *Engine, i int) error {
		q := analytics.TargetQuery{Region: fmt.Sprintf("R%04d", 1+i%400)}
		if i >= 400 {
			y := 2001 + i/400%8
			q.Year = &y
		}
		_, err := e.Targets(ctx, q)
		return err
	},
}

func ind(i int) string { return fmt.Sprintf("I%03d", 1+i%12) }

// compositeQuery: every indicator, weights varied by i so that each i is another question.
func compositeQuery(i int) analytics.CompositeQuery {
	q := analytics.CompositeQuery{Year: 2008}
	for k := range 12 {
		q.Indicators = append(q.Indicators, analytics.WeightedIndicator{Indicator: ind(k), Weight: float64(1 + (i>>k)&1 + k)})
	}
	return q
}

// TestAnswerBytesMatchHeap: for each answer type the cache keeps, the bytes it charges for many distinct
// answers are what the Go heap grew by when it kept them (runtime.MemStats.HeapAlloc after a GC, values
// already loaded so that only answers are new), within 15 %. The answer-size estimate this replaced
// charged composites and histories 4 KiB whatever their size: it fails here by far.
func TestAnswerBytesMatchHeap(t *testing.T) {
	for m := range reflect.TypeFor[analytics.Engine]().Methods() {
		out := m.Type.Out(0)
		if _, ok := uncached[out]; ok {
			continue
		}
		if !answerTypes[out] {
			t.Errorf("Engine.%s returns %v, which has no size rule: add it to answerTypes (size.go) and a filler here, or to uncached with why", m.Name, out)
		} else if fillers[out] == nil {
			t.Errorf("Engine.%s returns %v: it has a size rule but no filler in this test", m.Name, out)
		}
	}
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	if _, err := store.Import(ctx, sizeDataset(), "test"); err != nil {
		t.Fatal(err)
	}
	for out := range answerTypes {
		t.Run(out.String(), func(t *testing.T) {
			fill := fillers[out]
			if fill == nil {
				t.Skipf("no filler (reported above)")
			}
			e, err := NewEngine(ctx, store, Options{CacheEntries: 1 << 20, CacheBytes: 8 << 30})
			if err != nil {
				t.Fatal(err)
			}
			// Load every value and warm what answers share (a first answer of each kind), outside the count.
			for i := range 12 {
				if _, err := e.Trend(ctx, analytics.TrendQuery{Region: "R0001", Indicator: ind(i)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := fill(ctx, e, 0); err != nil {
				t.Fatal(err)
			}
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			heap0, acc0, n0 := ms.HeapAlloc, e.cache.bytes, e.cache.lru.Len()
			for i := 1; e.cache.bytes-acc0 < 8<<20 && i < 20000; i++ {
				if err := fill(ctx, e, i); err != nil {
					t.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			heap, acc := float64(ms.HeapAlloc)-float64(heap0), float64(e.cache.bytes-acc0)
			t.Logf("%d answers: charged %.1f MiB, heap grew %.1f MiB (%.3f)", e.cache.lru.Len()-n0, acc/(1<<20), heap/(1<<20), acc/heap)
			if heap < 2<<20 {
				t.Fatalf("the answers took %.0f bytes of heap: too little to compare", heap)
			}
			if acc < 0.85*heap || acc > 1.15*heap {
				t.Errorf("the cache charged %.0f bytes for answers that took %.0f bytes of heap (%.2f of it), outside 0.85–1.15", acc, heap, acc/heap)
			}
			runtime.KeepAlive(e)
		})
	}
}

// TestCompositeLoadStaysInBudget is the load that took a server to 1.8 GB: 64 clients each asking
// distinct composites (here 160 of them, over 400 regions × 20 indicators, about 0.8 MiB each). With the
// answer cache given 8 MiB, the Go heap after the load (after a GC) may exceed what it held with every
// value loaded by the cache's budget + 10 %, no more. Charged 4 KiB each, as before, they were all kept:
// about 130 MiB (measured with 256 of 2 MiB: 457 MiB against a budget of 24).
func TestCompositeLoadStaysInBudget(t *testing.T) {
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	const regions, indicators = 400, 20
	if _, err := store.Import(ctx, dataset.Synthetic(3, regions, indicators, 3), "test"); err != nil {
		t.Fatal(err)
	}
	const budget = 8 << 20
	e, err := NewEngine(ctx, store, Options{CacheEntries: 4096, CacheBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	code := func(k int) string { return fmt.Sprintf("I%03d", 1+k) }
	query := func(i int) analytics.CompositeQuery {
		q := analytics.CompositeQuery{Year: 2003}
		for k := range indicators {
			q.Indicators = append(q.Indicators, analytics.WeightedIndicator{Indicator: code(k), Weight: float64(1 + (i>>(k%8))&1 + k)})
		}
		q.Indicators[0].Weight += float64(i) // every i another question
		return q
	}
	if _, err := e.Composite(ctx, query(-1)); err != nil { // loads every value
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var wg sync.WaitGroup
	next := make(chan int)
	for range 64 {
		wg.Go(func() {
			for i := range next {
				if _, err := e.Composite(ctx, query(i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range 160 {
		next <- i
	}
	close(next)
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	grew := int64(ms.HeapAlloc) - int64(base)
	t.Logf("160 composites from 64 clients: the cache keeps %d answers, charged %.1f MiB; the heap grew %.1f MiB (budget %d MiB)",
		e.cache.lru.Len(), float64(e.cache.bytes)/(1<<20), float64(grew)/(1<<20), budget>>20)
	if e.cache.bytes > budget {
		t.Errorf("the cache charges %d bytes, over its %d", e.cache.bytes, budget)
	}
	if grew > budget*11/10 {
		t.Errorf("the heap grew by %d bytes under a cache budget of %d: more than the budget + 10 %%", grew, budget)
	}
}

// TestAnswerBytesStopsPastLimit: an answer is walked only until it is known to be over the limit (the
// answer cache's quarter), so that an answer too big to keep costs no more to turn away than the limit's
// worth of walking. For a composite of 400 regions × 12 indicators with its breakdowns, measured whole with
// no limit, a limit of a tenth of it stops the walk a little past the limit (within a fiftieth of the
// whole: the allocation that crossed it), and a limit at or above its size measures it whole.
func TestAnswerBytesStopsPastLimit(t *testing.T) {
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	if _, err := store.Import(ctx, sizeDataset(), "test"); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(ctx, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.Composite(ctx, compositeQuery(0))
	if err != nil {
		t.Fatal(err)
	}
	whole, ok := answerBytes(c, math.MaxInt64)
	if !ok || whole < 400*12*64 {
		t.Fatalf("a composite of 400 regions × 12 indicators measured %d bytes (%v)", whole, ok)
	}
	for _, limit := range []int64{whole / 10, whole / 2, whole - 1} {
		if n, _ := answerBytes(c, limit); n <= limit || n > limit+whole/50 {
			t.Errorf("limit %d of %d: counted %d, want a little over the limit", limit, whole, n)
		}
	}
	for _, limit := range []int64{whole, whole + 1} {
		if n, _ := answerBytes(c, limit); n != whole {
			t.Errorf("limit %d: counted %d, want the whole %d", limit, n, whole)
		}
	}
}
