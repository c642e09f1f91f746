package duck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
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

// eachRaw is each for statements returning many rows of a few numbers (the loads of values): it runs on
// the driver's connection and hands fn the driver's values of each row in one reused slice, which skips
// database/sql's lock, copy and conversion of every row (half the time of a load of 90,000 values). fn must
// not keep the slice.
func (rd *Reader) eachRaw(ctx context.Context, query string, fn func(row []driver.Value) error, args ...any) (err error) {
	if rd.obs != nil {
		var done func(error)
		ctx, done = rd.obs.Statement(ctx, query)
		defer func() { done(err) }()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := rd.store.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot query", dc)
		}
		rows, err := q.QueryContext(ctx, query, named)
		if err != nil {
			return err
		}
		defer rows.Close()
		row := make([]driver.Value, len(rows.Columns()))
		for {
			if err := rows.Next(row); err != nil {
				if errors.Is(err, io.EOF) {
					return ctx.Err()
				}
				return err
			}
			if err := fn(row); err != nil {
				return err
			}
		}
	})
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
