package duck_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/internal/fixture"
	"pacesetter/analytics/query"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// These tests read the store through the query service, as a server does: an import that fails, pages of
// observations across read-ahead chunks, and a file from before schemes were stored. They live in duck's
// external test package, with the hooks of export_test.go, because query imports duck.

// An import that fails half-way leaves the previous dataset exactly as it was: the file-backed store is
// loaded, a second import fails after writing its observations, and every answer is unchanged, also after
// the file is closed and opened again.
func TestFailedImportChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	store, err := duck.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	first := fixture.RandomDataset(rand.New(rand.NewPCG(1, 2)))
	if _, err := store.Import(ctx, first, "first"); err != nil {
		t.Fatal(err)
	}
	e, err := query.NewEngine(ctx, store, query.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshotOf(t, e, first)

	// A second dataset whose import fails once its observations are appended, before the transaction ends.
	second := fixture.RandomDataset(rand.New(rand.NewPCG(3, 4)))
	*duck.FailAfterAppend = func(table string) error {
		if table == "observations" {
			return errors.New("injected failure")
		}
		return nil
	}
	defer func() { *duck.FailAfterAppend = nil }()
	if _, err := store.Import(ctx, second, "second"); err == nil || err.Error() != "injected failure" {
		t.Fatalf("import did not fail as injected: %v", err)
	}
	if err := e.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if after := snapshotOf(t, e, first); after != before {
		t.Errorf("data changed by a failed import:\nbefore %s\nafter  %s", before, after)
	}
	store.Close()
	ro, err := duck.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	e2, err := query.NewEngine(ctx, ro, query.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshotOf(t, e2, first); after != before {
		t.Errorf("file changed by a failed import:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshotOf summarises everything the engine serves of d.
func snapshotOf(t *testing.T, e *query.Engine, d *dataset.Dataset) string {
	t.Helper()
	ctx := context.Background()
	info, _ := e.Dataset(ctx)
	out := fmt.Sprintf("%s %s %d regions %d indicators", info.Version, info.Source, info.Regions, info.Indicators)
	page, err := e.Observations(ctx, analytics.ObservationQuery{First: 1000})
	if err != nil {
		t.Fatal(err)
	}
	latest := 0 // one value served per region, indicator and year: its newest vintage
	for i, o := range d.Observations {
		if i+1 == len(d.Observations) || !dataset.SameKey(o, d.Observations[i+1]) {
			latest++
		}
	}
	if page.TotalCount != latest {
		t.Errorf("%d observations served, %d imported", page.TotalCount, latest)
	}
	for _, o := range page.Items {
		out += fmt.Sprintf(" %s/%s/%d=%v", o.Region.Code, o.Indicator.Code, o.Year, o.Value)
	}
	return out
}

// TestObservationPagesCrossChunks pages through a dataset's observations with chunks (the rows a page reads
// ahead) far smaller than the data, in two orders and several page sizes, and checks that the pages join up
// to the rows sorted in Go: every latest value once, in order, with the count on every page.
func TestObservationPagesCrossChunks(t *testing.T) {
	defer func(n int) { *duck.ChunkRows = n }(*duck.ChunkRows)
	*duck.ChunkRows = 7
	d := dataset.Synthetic(3, 12, 4, 5) // its root region has no values: a chunk by regions may come up empty
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Import(context.Background(), d, "test"); err != nil {
		t.Fatal(err)
	}
	counts := &sqlCounter{match: "count(*)"}
	e, err := query.NewEngine(context.Background(), store, query.Options{CacheEntries: 100, Observer: counts})
	if err != nil {
		t.Fatal(err)
	}
	orders := 0
	for _, c := range []struct {
		order []analytics.ObservationOrder
		cmp   func(a, b dataset.Observation) int
	}{
		{nil, func(a, b dataset.Observation) int {
			return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Indicator, b.Indicator), cmp.Compare(a.Year, b.Year))
		}},
		{[]analytics.ObservationOrder{{Key: analytics.ObsRegion, Desc: true}, {Key: analytics.ObsYear, Desc: true}}, func(a, b dataset.Observation) int {
			return cmp.Or(cmp.Compare(b.Region, a.Region), cmp.Compare(b.Year, a.Year), cmp.Compare(a.Indicator, b.Indicator))
		}},
		{[]analytics.ObservationOrder{{Key: analytics.ObsValue, Desc: true}}, func(a, b dataset.Observation) int {
			return cmp.Or(cmp.Compare(b.Value, a.Value), cmp.Compare(a.Region, b.Region), cmp.Compare(a.Indicator, b.Indicator), cmp.Compare(a.Year, b.Year))
		}},
	} {
		orders++
		want := slices.Clone(d.Observations) // Synthetic has one vintage of each value: every row is latest
		slices.SortFunc(want, c.cmp)
		for _, first := range []int{1, 5, 6, 7, 8, 50} {
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				p, err := e.Observations(context.Background(), analytics.ObservationQuery{OrderBy: c.order, First: first, After: after})
				if err != nil {
					t.Fatal(err)
				}
				if p.TotalCount != len(want) {
					t.Fatalf("page %d: totalCount %d, want %d", pages, p.TotalCount, len(want))
				}
				for _, o := range p.Items {
					got = append(got, fmt.Sprintf("%s %s %d %v", o.Region.Code, o.Indicator.Code, o.Year, o.Value))
				}
				if !p.HasNextPage {
					break
				}
				after = p.Cursors[len(p.Cursors)-1]
			}
			if len(got) != len(want) {
				t.Fatalf("order %v, first %d: %d rows, want %d", c.order, first, len(got), len(want))
			}
			for i, o := range want {
				if w := fmt.Sprintf("%s %s %d %v", o.Region, o.Indicator, o.Year, o.Value); got[i] != w {
					t.Fatalf("order %v, first %d, row %d: %s, want %s", c.order, first, i, got[i], w)
				}
			}
		}
	}
	// The filter's count is taken once per filter and order, not again with every chunk read.
	if n := counts.n.Load(); n != int64(orders) {
		t.Errorf("the count ran %d times for %d orders of one filter", n, orders)
	}
}

// sqlCounter is an engine observer counting the statements that contain match.
type sqlCounter struct {
	match string
	n     atomic.Int64
}

func (c *sqlCounter) Statement(ctx context.Context, sql string) (context.Context, func(error)) {
	if strings.Contains(sql, c.match) {
		c.n.Add(1)
	}
	return ctx, func(error) {}
}

func (c *sqlCounter) AnswerCache(bool) {}

// A snapshot file written before schemes and targets were stored (no such tables) still loads, with none.
func TestSnapshotWithoutSchemeTables(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	ctx := context.Background()
	_, err := duck.WriteSnapshot(ctx, path, func(s *duck.Store) (duck.ImportStats, error) {
		st, err := s.Import(ctx, fixture.AssessDataset(t), "t")
		if err != nil {
			return st, err
		}
		for _, table := range []string{"schemes", "scheme_indicators", "targets"} {
			if _, err := duck.DB(s).ExecContext(ctx, `DROP TABLE `+table); err != nil {
				return st, err
			}
		}
		return st, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	served, err := query.OpenServed(ctx, path, query.DefaultOptions)
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

// Two imports into one file at once: the second is refused at once, naming the first's lock and process,
// while the first is still loading; the first then completes, and an import after it succeeds. Before the
// lock both succeeded and the last rename won.
func TestConcurrentImportsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.db")
	ctx := context.Background()
	loading, finish := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := duck.WriteSnapshot(ctx, path, func(s *duck.Store) (duck.ImportStats, error) {
			close(loading)
			<-finish
			return s.Import(ctx, fixture.AssessDataset(t), "first")
		})
		first <- err
	}()
	<-loading
	_, err := duck.WriteSnapshot(ctx, path, func(s *duck.Store) (duck.ImportStats, error) {
		t.Error("the second import loaded while the first held the file")
		return s.Import(ctx, dataset.Synthetic(1, 5, 2, 2), "second")
	})
	if err == nil || !strings.Contains(err.Error(), "being imported into by another import (PID ") || !strings.Contains(err.Error(), path) {
		t.Errorf("the second import at once: %v; want a refusal naming the file and the first's PID", err)
	}
	close(finish)
	if err := <-first; err != nil {
		t.Fatalf("the first import: %v", err)
	}
	if _, err := duck.WriteSnapshot(ctx, path, func(s *duck.Store) (duck.ImportStats, error) {
		return s.Import(ctx, dataset.Synthetic(1, 5, 2, 2), "third")
	}); err != nil {
		t.Errorf("an import after the first finished: %v", err)
	}
}

// Values of a code the catalog lacks are none (nil), not the first indicator's: the known code beside it
// still gets its own values, as many as the dataset's observations of it (counted from the dataset).
func TestValuesOfAnUnknownCode(t *testing.T) {
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	d := dataset.Synthetic(5, 30, 3, 4)
	if _, err := store.Import(ctx, d, "test"); err != nil {
		t.Fatal(err)
	}
	cat, err := duck.ReadCatalog(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, o := range d.Observations {
		if o.Indicator == "I001" {
			want++
		}
	}
	got, err := duck.NewReader(store, nil).Values(ctx, cat, "", []string{"I001", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := got["nope"]; !ok || m != nil {
		t.Errorf("an unknown code: %v (listed %v), want listed with no values", m, ok)
	}
	if m := got["I001"]; m == nil || len(m.Cells) != want {
		t.Errorf("I001 (the first indicator) beside an unknown code: %v, want %d values", m, want)
	}
}

// Values on a dataset of annual, quarterly and monthly indicators, loaded alone, together, in other orders,
// with an unknown code and a code listed twice: every matrix holds exactly its indicator's observations, at
// the ordinal of each one's period worked out here by hand (A: the year; Q: year·4 + quarter − 1; M:
// year·12 + month − 1), with its value and flags.
func TestValuesMixedFrequencies(t *testing.T) {
	ctx := context.Background()
	for _, regions := range []int{7, 120} {
		d := dataset.Synthetic(3, regions, 5, 3)
		subs := map[string]int{d.Indicators[1].Code: 4, d.Indicators[3].Code: 12} // quarters, months
		d.Indicators[1].Frequency, d.Indicators[3].Frequency = analytics.Quarterly, analytics.Monthly
		var obs []dataset.Observation
		for _, o := range d.Observations {
			n := subs[o.Indicator]
			if n == 0 {
				obs = append(obs, o)
				continue
			}
			for p := 1; p <= n; p++ {
				o2 := o
				o2.Period, o2.Value = p, o.Value+float64(p)/8
				obs = append(obs, o2)
			}
		}
		d.Observations = obs
		store, cat := storeOf(t, d)
		want := cellsOf(t, cat, d)
		c := func(i int) string { return d.Indicators[i].Code }
		for _, codes := range [][]string{{c(0)}, {c(1)}, {c(3)}, {c(0), c(3)}, {c(1), c(0)}, {c(3), c(1)},
			{c(3), "nope", c(1), c(0), c(3), c(4), c(2)}} {
			got, err := duck.NewReader(store, nil).Values(ctx, cat, "", codes)
			if err != nil {
				t.Fatalf("%v: %v", codes, err)
			}
			for _, code := range codes {
				m, ok := got[code]
				if code == "nope" {
					if !ok || m != nil {
						t.Errorf("%v: the unknown code got %v (listed %v)", codes, m, ok)
					}
					continue
				}
				if m == nil || len(m.Cells) != len(want[code]) {
					t.Errorf("%d regions, %v: %s has %v values, want %d", regions, codes, code, m, len(want[code]))
					continue
				}
				for r := range len(cat.Regions) {
					for _, cell := range m.Cells[m.Off[r]:m.Off[r+1]] {
						o, ok := want[code][cellKey{r, int(cell.Year)}]
						if !ok || o.Value != cell.Value || o.Flags != cell.Flags {
							t.Errorf("%d regions, %v: %s region %d ordinal %d: %v %v, want %+v (there: %v)", regions, codes, code, r, cell.Year, cell.Value, cell.Flags, o, ok)
						}
					}
				}
			}
		}
	}
}

// BenchmarkValuesLoad is the first touch of one indicator (300 regions × 20 years, the peer data's shape):
// its whole load and the load of a ranking's window of 3 years, beside the floor's read of one year of it:
//
//	go test -run '^$' -bench BenchmarkValuesLoad -benchtime 2s ./analytics/duck
func BenchmarkValuesLoad(b *testing.B) {
	ctx := context.Background()
	store, err := duck.Open("")
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Import(ctx, dataset.Synthetic(1, 300, 50, 20), "bench"); err != nil {
		b.Fatal(err)
	}
	cat, err := duck.ReadCatalog(ctx, store)
	if err != nil {
		b.Fatal(err)
	}
	rd := duck.NewReader(store, nil)
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			if m, err := rd.Values(ctx, cat, "", []string{"I007"}); err != nil || m["I007"] == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("window-3-years", func(b *testing.B) {
		for b.Loop() {
			if m, err := rd.ValuesWindow(ctx, cat, "", []string{"I007"}, 2008, 2010, 0); err != nil || m["I007"] == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("floor-top10-one-year", func(b *testing.B) {
		for b.Loop() {
			if _, err := store.FloorTop(ctx, "I007", 2010, 1, 10); err != nil {
				b.Fatal(err)
			}
		}
	})
}
