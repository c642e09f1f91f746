package duck

import (
	"context"
	"database/sql"
	"fmt"
)

// Observer is told of each statement a Reader runs: the query service's observer, which also hears of its
// answer cache (query.Observer).
type Observer interface {
	// Statement is called as a statement starts, with its SQL; it returns the context to run it under (a
	// span, say) and the function to call when it has ended.
	Statement(ctx context.Context, sql string) (context.Context, func(err error))
}

// Reader runs one engine's statements on a store: its loads of values, aggregates and observation pages.
// The observer is the engine's, not the store's: engines of different options (a benchmark's cold and hot
// ones) may share a store. Observation pages read ahead into the Reader's chunk cache.
type Reader struct {
	store  *Store
	obs    Observer // nil: none
	chunks *chunkCache
}

// NewReader returns a Reader over the store; obs may be nil.
func NewReader(s *Store, obs Observer) *Reader {
	return &Reader{store: s, obs: obs, chunks: newChunkCache()}
}

// each runs one of the reader's statements on its store, told to the observer.
func (rd *Reader) each(ctx context.Context, query string, fn func(*sql.Rows) error, args ...any) error {
	if rd.obs == nil {
		return each(ctx, rd.store.db, query, fn, args...)
	}
	ctx, done := rd.obs.Statement(ctx, query)
	err := each(ctx, rd.store.db, query, fn, args...)
	done(err)
	return err
}

// queryer is a *sql.DB or, inside a transaction, a *sql.Conn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// each runs a query and calls fn for each row. A request already past its deadline does not start one:
// DuckDB only checks the context while a query runs, and a short query would otherwise still answer.
func each(ctx context.Context, db queryer, query string, fn func(*sql.Rows) error, args ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// dbError turns a failed query into what a client may see: TIMEOUT for a deadline, else INTERNAL. The
// DuckDB message (which quotes SQL) is kept for the server log only.
func dbError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return fmt.Errorf("%s: %w", op, err)
}
