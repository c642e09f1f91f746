package duck

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// A deadline must really stop a running DuckDB query, and the pool must stay usable after it.
func TestDeadlineInterruptsDuckDB(t *testing.T) {
	store, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	// Summing ten billion rows takes minutes; only an interrupt ends it within the test's time.
	var n float64
	err = store.db.QueryRowContext(ctx, `SELECT sum(range) FROM range(10000000000)`).Scan(&n)
	if !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		t.Fatalf("query was not interrupted: %v", err)
	}
	if err == nil {
		t.Fatal("query finished instead of being interrupted")
	}
	if err := store.db.QueryRowContext(context.Background(), `SELECT 41 + 1`).Scan(&n); err != nil || n != 42 {
		t.Fatalf("pool unusable after an interrupt: %v", err)
	}
}

// An import that fails half-way leaves the previous dataset exactly as it was: the file-backed store is
// loaded, a second import fails after writing its observations, and every answer is unchanged, also after
// the file is closed and opened again.
func TestFailedImportChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	store, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	first := randomDataset(rand.New(rand.NewPCG(1, 2)))
	if _, err := store.Import(ctx, first, "first"); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(ctx, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshotOf(t, e, first)

	// A second dataset whose import fails once its observations are appended, before the transaction ends.
	second := randomDataset(rand.New(rand.NewPCG(3, 4)))
	failAfterAppend = func(table string) error {
		if table == "observations" {
			return errors.New("injected failure")
		}
		return nil
	}
	defer func() { failAfterAppend = nil }()
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
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	e2, err := NewEngine(ctx, ro, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshotOf(t, e2, first); after != before {
		t.Errorf("file changed by a failed import:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshotOf summarises everything the engine serves of d.
func snapshotOf(t *testing.T, e *Engine, d *dataset.Dataset) string {
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

// After LockDown, SQL can neither read nor write files nor turn the setting back on.
func TestLockDown(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.csv")
	if err := os.WriteFile(secret, []byte("a\n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	var n int
	if err := store.db.QueryRowContext(ctx, `SELECT count(*) FROM read_csv($1)`, secret).Scan(&n); err != nil || n != 1 {
		t.Fatalf("before lock-down the file should be readable: %v", err)
	}
	if err := store.LockDown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT count(*) FROM read_csv('` + secret + `')`,
		`COPY (SELECT 1) TO '` + filepath.Join(dir, "out.csv") + `'`,
		`SET enable_external_access = true`,
		`SET lock_configuration = false`,
	} {
		if _, err := store.db.ExecContext(ctx, q); err == nil {
			t.Errorf("allowed after lock-down: %s", q)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written after lock-down: %v", err)
	}
}

// A matrix holds the values there are, not the span of years: 2,000 regions with a value in year 1 and
// one in 9999 cost two cells each, not 9,999.
func TestMatrixFollowsTheValues(t *testing.T) {
	d := &dataset.Dataset{Indicators: []dataset.Indicator{{Code: "x", Name: "x", Unit: "u", Direction: analytics.HigherIsBetter,
		Measure: analytics.Level, Rollup: analytics.RollupNone, Decimals: -1}}}
	for i := range 2000 {
		code := fmt.Sprintf("R%04d", i)
		d.Regions = append(d.Regions, dataset.Region{Code: code, Name: code})
		d.Observations = append(d.Observations, dataset.Observation{Region: code, Indicator: "x", Year: 1, Value: float64(i)},
			dataset.Observation{Region: code, Indicator: "x", Year: 9999, Value: float64(-i)})
	}
	d.SortObservations()
	e := newTestEngine(t, d, Options{})
	rk, err := e.Ranking(context.Background(), analytics.RankingQuery{Indicator: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if rk.Year != 9999 || rk.Count != 2000 || rk.Leader.Code != "R0000" {
		t.Errorf("year %d, %d ranked, leader %s", rk.Year, rk.Count, rk.Leader.Code)
	}
	if b := e.matrixCache.bytes; b > 4000*16+2001*4+96 {
		t.Errorf("the matrix of 4,000 values takes %d bytes", b)
	}
}

// TestObservationPagesCrossChunks pages through a dataset's observations with chunks (the rows a page reads
// ahead) far smaller than the data, in two orders and several page sizes, and checks that the pages join up
// to the rows sorted in Go: every latest value once, in order, with the count on every page.
func TestObservationPagesCrossChunks(t *testing.T) {
	defer func(n int) { chunkRows = n }(chunkRows)
	chunkRows = 7
	d := dataset.Synthetic(3, 12, 4, 5) // its root region has no values: a chunk by regions may come up empty
	store, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Import(context.Background(), d, "test"); err != nil {
		t.Fatal(err)
	}
	counts := &sqlCounter{match: "count(*)"}
	e, err := NewEngine(context.Background(), store, Options{CacheEntries: 100, Observer: counts})
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
