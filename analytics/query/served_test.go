package query

import (
	"context"
	"os"
	"path/filepath"
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
