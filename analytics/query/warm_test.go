package query

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
)

// statementCounter counts the statements an engine runs: a request that finds its values in memory runs
// none.
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) Statement(ctx context.Context, _ string) (context.Context, func(error)) {
	c.n.Add(1)
	return ctx, func(error) {}
}
func (c *statementCounter) AnswerCache(bool) {}

// WarmAll loads every indicator (16 a statement) when they fit in half the matrix bound, and then a
// ranking of each runs no statement and answers as an engine that was never warmed; with a bound that
// holds only some, it loads no more than half the bound, in dataset order. At several sizes.
func TestWarmAll(t *testing.T) {
	ctx := context.Background()
	for _, sz := range [][3]int{{40, 3, 4}, {300, 20, 5}, {3000, 17, 3}} {
		t.Run(fmt.Sprint(sz), func(t *testing.T) {
			store, err := duck.Open("")
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			if _, err := store.Import(ctx, dataset.Synthetic(5, sz[0], sz[1], sz[2]), "t"); err != nil {
				t.Fatal(err)
			}
			obs := &statementCounter{}
			e, err := NewEngine(ctx, store, Options{Observer: obs})
			if err != nil {
				t.Fatal(err)
			}
			cold, err := NewEngine(ctx, store, Options{})
			if err != nil {
				t.Fatal(err)
			}
			e.StartWarm()
			if !e.Warming() {
				t.Error("not warming after StartWarm")
			}
			res, err := e.WarmAll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if e.Warming() {
				t.Error("still warming after WarmAll")
			}
			if want := int64((sz[1] + warmBatch - 1) / warmBatch); res.Indicators != sz[1] || obs.n.Load() != want {
				t.Errorf("warmed %d indicators in %d statements; want %d in %d", res.Indicators, obs.n.Load(), sz[1], want)
			}
			before := obs.n.Load()
			for k := 1; k <= sz[1]; k++ {
				y := 2001 + k%sz[2]
				q := analytics.RankingQuery{Indicator: fmt.Sprintf("I%03d", k), Year: &y}
				got, err := e.Ranking(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				want, err := cold.Ranking(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: the warmed engine answers otherwise", q.Indicator)
				}
			}
			if n := obs.n.Load() - before; n != 0 {
				t.Errorf("rankings after the warm-up ran %d statements; want 0", n)
			}

			// A bound that holds about a third of the indicators: half of it is warmed.
			per := e.matrixCache.bytes / int64(sz[1])
			small, err := NewEngine(ctx, store, Options{MatrixBytes: per * int64(sz[1]) / 3})
			if err != nil {
				t.Fatal(err)
			}
			res, err = small.WarmAll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Bytes > small.matrixCache.maxBytes/2+per/4 || res.Indicators >= sz[1] || (sz[1] >= 6 && res.Indicators == 0) {
				t.Errorf("bound %d: warmed %d indicators, %d bytes; want at most half the bound", small.matrixCache.maxBytes, res.Indicators, res.Bytes)
			}
			for i, c := range []string{"I001", "I002"}[:min(2, res.Indicators)] {
				if _, ok := small.matrixCache.get(matrixKey(small.snap.Load(), c, "")); !ok {
					t.Errorf("indicator %d (%s) of the dataset's order not warmed", i, c)
				}
			}
		})
	}
}

// A reload warms, before it switches, the indicators the old snapshot served most recently, newest first:
// after it, rankings of those run no statement, while one of an indicator not asked for before does.
func TestReloadWarmsTheHottest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stats.db")
	write := func(seed uint64) {
		t.Helper()
		if _, err := duck.WriteSnapshot(ctx, path, func(s *duck.Store) (duck.ImportStats, error) {
			return s.Import(ctx, dataset.Synthetic(seed, 200, 6, 4), "synth")
		}); err != nil {
			t.Fatal(err)
		}
	}
	write(1)
	obs := &statementCounter{}
	s, err := OpenServed(ctx, path, Options{Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rank := func(code string) {
		t.Helper()
		y := 2002
		if _, err := s.Ranking(ctx, analytics.RankingQuery{Indicator: code, Year: &y}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"I004", "I002", "I005"} {
		rank(c)
	}
	if codes, _ := s.cur.Load().Hottest(); !reflect.DeepEqual(codes, []string{"I005", "I002", "I004"}) {
		t.Errorf("hottest: %v, want the most recent first", codes)
	}
	write(2)
	if _, err := s.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if w := s.LastWarm(); w == nil || w.Indicators != 3 {
		t.Fatalf("the reload warmed %+v; want 3 indicators", w)
	}
	before := obs.n.Load()
	for _, c := range []string{"I004", "I002", "I005"} {
		rank(c)
	}
	if n := obs.n.Load() - before; n != 0 {
		t.Errorf("rankings of the warmed indicators after the reload ran %d statements; want 0", n)
	}
	rank("I001")
	if n := obs.n.Load() - before; n != 1 {
		t.Errorf("a ranking of an indicator not warmed ran %d statements; want 1 (the load of its year and the two before)", n)
	}
}
