package duck

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
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
