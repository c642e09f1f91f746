package query

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
)

// A reload swaps the dataset for new requests, while a request pinned before it keeps reading the old file
// until it is done, and only then is the old store closed. A refused file changes nothing.
func TestServedReload(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stats.db")
	write := func(seed uint64) string {
		t.Helper()
		st, err := duck.WriteSnapshot(ctx, path, func(s *duck.Store) (duck.ImportStats, error) {
			return s.Import(ctx, dataset.Synthetic(seed, 50, 3, 5), "synth")
		})
		if err != nil {
			t.Fatal(err)
		}
		return st.Version
	}
	v1 := write(1)
	s, err := OpenServed(ctx, path, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pinned, release := s.Pin(ctx)
	old := s.cur.Load()

	v2 := write(2) // the old file stays open under the served store
	if !s.Changed() {
		t.Fatal("a file renamed over the served one is not seen as changed")
	}
	if _, err := s.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	version := func(ctx context.Context) string {
		info, _ := s.Dataset(ctx)
		return info.Version
	}
	if got := version(ctx); got != v2 || v1 == v2 {
		t.Fatalf("after the reload: %s, want %s (before %s)", got, v2, v1)
	}
	// The pinned request still reads the old dataset, from DuckDB too.
	if got := version(pinned); got != v1 {
		t.Errorf("the pinned request reads %s, want %s", got, v1)
	}
	q := analytics.ObservationQuery{First: 10}
	if page, err := s.Observations(pinned, q); err != nil || len(page.Items) == 0 {
		t.Fatalf("a query of the pinned request: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := old.store.Ping(ctx); err != nil {
		t.Fatalf("the old store closed while a request was pinned to it: %v", err)
	}
	release()
	for deadline := time.Now().Add(5 * time.Second); old.store.Ping(ctx) == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the old store is still open after its last request")
		}
	}

	// Not a database: refused, the dataset served stays, and the same file is not tried again.
	if err := os.WriteFile(path+".junk", []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".junk", path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reload(ctx); err == nil {
		t.Error("a file that is no database was served")
	}
	if got := version(ctx); got != v2 {
		t.Errorf("after a refused reload: %s, want %s", got, v2)
	}
	if s.Changed() {
		t.Error("a refused file is seen as changed again")
	}
	// Nothing is left beside the file: neither the imports' temporary files nor the reload's link.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("beside the file: %v", names)
	}
}

// TestReloadOneMatrixBudget: the snapshots a Served holds during a reload share one matrix budget. The old
// snapshot holds every indicator's values (the whole budget); a request pinned to it keeps ranking every
// indicator while the reload warms the new one and new requests rank every indicator of it. The matrices
// accounted across both engines (their caches, counted once when shared) never pass the budget: before,
// each engine had a cache of its own, and the two held up to twice it. Every answer stays right: each
// entry's value is the dataset's own for that region, indicator and year (looked up in the generated
// observations, not through the engine), on the old snapshot for the pinned request and on the new one
// after. Once the pinned request ends, the old snapshot's matrices are released. At several sizes.
func TestReloadOneMatrixBudget(t *testing.T) {
	ctx := context.Background()
	for _, sz := range [][3]int{{60, 5, 4}, {400, 12, 5}, {1500, 20, 3}} {
		t.Run(fmt.Sprint(sz), func(t *testing.T) {
			regions, indicators, years := sz[0], sz[1], sz[2]
			path := filepath.Join(t.TempDir(), "stats.db")
			write := func(seed uint64) map[string]float64 {
				t.Helper()
				d := dataset.Synthetic(seed, regions, indicators, years)
				if _, err := duck.WriteSnapshot(ctx, path, func(s *duck.Store) (duck.ImportStats, error) {
					return s.Import(ctx, d, "synth")
				}); err != nil {
					t.Fatal(err)
				}
				values := map[string]float64{}
				for _, o := range d.Observations {
					values[fmt.Sprintf("%s|%s|%d", o.Region, o.Indicator, o.Year)] = o.Value
				}
				return values
			}
			v1 := write(1)
			// The budget: every indicator's matrix of this dataset, as one engine measures them.
			probe, err := OpenServed(ctx, path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := probe.WarmAll(ctx); err != nil { // half the default bound: all of them, here
				t.Fatal(err)
			}
			budget, _ := probe.cur.Load().matrixCache.held()
			probe.Close()

			s, err := OpenServed(ctx, path, Options{MatrixBytes: budget, CacheEntries: 0})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			old := s.cur.Load()
			// held is what the live engines' caches account together (a shared cache once).
			held := func() (now, peak int64) {
				seen := map[*matrixCache]bool{}
				for _, e := range []*Engine{old.Engine, s.cur.Load().Engine} {
					if !seen[e.matrixCache] {
						seen[e.matrixCache] = true
						n, p := e.matrixCache.held()
						now, peak = now+n, peak+p
					}
				}
				return now, peak
			}
			rankAll := func(ctx context.Context, values map[string]float64, when string) {
				t.Helper()
				for k := 1; k <= indicators; k++ {
					code, y := fmt.Sprintf("I%03d", k), 2001+k%years
					rk, err := s.Ranking(ctx, analytics.RankingQuery{Indicator: code, Year: &y})
					if err != nil {
						t.Fatal(err)
					}
					n := 0
					for r := range values {
						if strings.HasSuffix(r, fmt.Sprintf("|%s|%d", code, y)) {
							n++
						}
					}
					if rk.Count != n || len(rk.Entries) != n {
						t.Fatalf("%s: %s %d ranks %d regions, the data has %d", when, code, y, rk.Count, n)
					}
					for _, e := range rk.Entries {
						want := values[fmt.Sprintf("%s|%s|%d", e.Region.Code, code, y)]
						if math.Abs(e.Value-want) > 1e-9*math.Abs(want) {
							t.Fatalf("%s: %s %s %d = %v, the data has %v", when, e.Region.Code, code, y, e.Value, want)
						}
					}
					if now, _ := held(); now > budget {
						t.Fatalf("%s: %d bytes of matrices held, over the budget of %d", when, now, budget)
					}
				}
			}
			rankAll(ctx, v1, "before the reload")
			pinned, release := s.Pin(ctx)
			v2 := write(2)
			if _, err := s.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			if w := s.LastWarm(); w == nil || w.Indicators == 0 {
				t.Errorf("the reload warmed %+v; want some indicators", w)
			}
			rankAll(pinned, v1, "the pinned request, after the reload")
			rankAll(ctx, v2, "after the reload")
			rankAll(pinned, v1, "the pinned request, again")
			if now, peak := held(); now > budget || peak > budget {
				t.Errorf("%d bytes of matrices held, at most %d at once: over the budget of %d", now, peak, budget)
			}
			release()
			// The old snapshot closes once its last request is done, and its matrices go with it.
			oldPrefix := old.snap.Load().Key + "|"
			deadline := time.Now().Add(30 * time.Second)
			for {
				left := 0
				s.opt.caches.matrices.mu.Lock()
				for _, k := range s.opt.caches.matrices.lru.Keys() {
					if strings.HasPrefix(k, oldPrefix) {
						left++
					}
				}
				s.opt.caches.matrices.mu.Unlock()
				if left == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d matrices of the closed snapshot still held", left)
				}
				time.Sleep(10 * time.Millisecond)
			}
			rankAll(ctx, v2, "after the old snapshot closed")
		})
	}
}
