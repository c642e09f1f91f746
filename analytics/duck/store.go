// Package duck is pacesetter's engine over embedded DuckDB: the store (open, schema, import) and the
// queries behind every analytics.Engine method. All SQL of the project lives in this package.
package duck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// schemaVersion is bumped with every change to the tables below; a file of another version must be
// imported again.
const schemaVersion = 2

var schemaSQL = []string{
	`CREATE TABLE IF NOT EXISTS pacesetter_schema (version INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS dataset_info (version VARCHAR NOT NULL, imported_at TIMESTAMPTZ NOT NULL, source VARCHAR NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS regions (code VARCHAR NOT NULL, name VARCHAR NOT NULL, name_en VARCHAR, parent_code VARCHAR, level VARCHAR, ord INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS groups (code VARCHAR NOT NULL, name VARCHAR NOT NULL, name_en VARCHAR, ord INTEGER NOT NULL)`,
	// A membership may be bounded in years (NULL: unbounded), so a peer group can change over time, and a
	// region may be in several groups at once.
	`CREATE TABLE IF NOT EXISTS memberships (group_code VARCHAR NOT NULL, region_code VARCHAR NOT NULL, from_year INTEGER, to_year INTEGER)`,
	`CREATE TABLE IF NOT EXISTS indicators (code VARCHAR NOT NULL, name VARCHAR NOT NULL, name_en VARCHAR, unit VARCHAR NOT NULL, direction VARCHAR NOT NULL,
		measure VARCHAR NOT NULL, category VARCHAR, rollup VARCHAR NOT NULL, decimals INTEGER, source VARCHAR, formula VARCHAR, ord INTEGER NOT NULL)`,
	// Stored sorted by indicator, year, region and vintage: DuckDB's zone maps then skip every row group
	// outside the indicator and years a query reads. flags is an analytics.FlagSet; vintage the release
	// date (NULL: undated); latest marks the newest vintage of each value, the one answers use by default.
	`CREATE TABLE IF NOT EXISTS observations (indicator VARCHAR NOT NULL, year INTEGER NOT NULL, region VARCHAR NOT NULL, value DOUBLE NOT NULL,
		flags UTINYINT NOT NULL, vintage DATE, latest BOOLEAN NOT NULL)`,
	// Which region has any value of which indicator, and whether one of them is its own rather than a rollup
	// of its children's: the scope of a ranking without a group, parent or level is the regions with one.
	`CREATE TABLE IF NOT EXISTS series (indicator VARCHAR NOT NULL, region VARCHAR NOT NULL, first_year INTEGER NOT NULL, last_year INTEGER NOT NULL,
		n INTEGER NOT NULL, own BOOLEAN NOT NULL)`,
}

var datasetTables = []string{"dataset_info", "regions", "groups", "memberships", "indicators", "observations", "series"}

// Store is a DuckDB database holding one dataset.
type Store struct {
	db         *sql.DB
	readOnly   bool
	statements atomic.Int64 // queries run by the engine: tests count them to catch N+1 patterns
}

// Statements is how many queries the engine has run on the store since it was opened.
func (s *Store) Statements() int64 { return s.statements.Load() }

// each runs one of the engine's queries on the store, counting it.
func (s *Store) each(ctx context.Context, query string, fn func(*sql.Rows) error, args ...any) error {
	s.statements.Add(1)
	return each(ctx, s.db, query, fn, args...)
}

// Open opens (creating it if needed) the DuckDB file at path for import and serving; path "" is an
// in-memory database.
func Open(path string) (*Store, error) {
	return open(path, false)
}

// OpenReadOnly opens an existing DuckDB file that an import has filled, for serving only.
func OpenReadOnly(path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("cannot serve %s: %w (create it with: pacesetter import --db %s DIR)", path, err, path)
	}
	return open(path, true)
}

func open(path string, readOnly bool) (*Store, error) {
	dsn := path
	if readOnly {
		dsn += "?access_mode=READ_ONLY"
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", displayPath(path), err)
	}
	db := sql.OpenDB(connector)
	// Every query already uses all cores; a few connections cover concurrency, and idle ones are kept
	// because the database/sql default of 2 would close and reopen them under load.
	n := max(4, 2*runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	s := &Store{db: db, readOnly: readOnly}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func displayPath(path string) string {
	if path == "" {
		return "in-memory database"
	}
	return path
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) migrate(ctx context.Context) error {
	if s.readOnly {
		var v int
		err := s.db.QueryRowContext(ctx, `SELECT max(version) FROM pacesetter_schema`).Scan(&v)
		if err != nil {
			return fmt.Errorf("this file holds no pacesetter dataset; create it with: pacesetter import --db FILE DIR")
		}
		if v != schemaVersion {
			return fmt.Errorf("this file has schema version %d, this pacesetter reads %d: import the dataset again", v, schemaVersion)
		}
		return nil
	}
	for _, q := range schemaSQL {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(version) FROM pacesetter_schema`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case !v.Valid:
		_, err := s.db.ExecContext(ctx, `INSERT INTO pacesetter_schema VALUES ($1)`, schemaVersion)
		return err
	case v.Int64 != schemaVersion:
		return fmt.Errorf("this file has schema version %d, this pacesetter writes %d: import into a new file", v.Int64, schemaVersion)
	}
	return nil
}

// LockDown forbids SQL from reading or writing files and freezes the configuration: a serving database
// needs neither, so no query can reach the file system even if one were ever built wrongly.
func (s *Store) LockDown(ctx context.Context) error {
	for _, q := range []string{`SET enable_external_access = false`, `SET lock_configuration = true`} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("lock down: %w", err)
		}
	}
	return nil
}

// ImportStats says what an import loaded.
type ImportStats struct {
	Version                                   string
	Regions, Groups, Indicators, Observations int
	FirstYear, LastYear                       int
}

// Import replaces the dataset held in the store with d, in one transaction: either all of d is there
// afterwards or the previous dataset is, untouched.
func (s *Store) Import(ctx context.Context, d *dataset.Dataset, source string) (ImportStats, error) {
	st := ImportStats{Version: d.Version(), Regions: len(d.Regions), Groups: len(d.Groups),
		Indicators: len(d.Indicators), Observations: len(d.Observations)}
	if s.readOnly {
		return st, errors.New("the database is open read-only")
	}
	for i, o := range d.Observations {
		if i == 0 || o.Year < st.FirstYear {
			st.FirstYear = o.Year
		}
		st.LastYear = max(st.LastYear, o.Year)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return st, err
	}
	if err := load(ctx, conn, d, st.Version, source); err != nil {
		// A fresh context: the rollback must run even when ctx is what failed.
		if _, rerr := conn.ExecContext(context.Background(), `ROLLBACK`); rerr != nil {
			return st, fmt.Errorf("%w (and rollback failed: %v)", err, rerr)
		}
		return st, err
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		_, _ = conn.ExecContext(context.Background(), `ROLLBACK`)
		return st, err
	}
	return st, nil
}

func load(ctx context.Context, conn *sql.Conn, d *dataset.Dataset, version, source string) error {
	for _, t := range datasetTables {
		if _, err := conn.ExecContext(ctx, `DELETE FROM `+t); err != nil { // t is from the fixed list above
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO dataset_info VALUES ($1, $2, $3)`, version, time.Now().UTC(), source); err != nil {
		return err
	}
	err := appendRows(ctx, conn, "regions", func(add func(...driver.Value) error) error {
		for i, r := range d.Regions {
			if err := add(r.Code, r.Name, nullable(r.NameEn), nullable(r.Parent), nullable(r.Level), int32(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = appendRows(ctx, conn, "groups", func(add func(...driver.Value) error) error {
		for i, g := range d.Groups {
			if err := add(g.Code, g.Name, nullable(g.NameEn), int32(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = appendRows(ctx, conn, "memberships", func(add func(...driver.Value) error) error {
		for _, m := range d.Memberships {
			if err := add(m.Group, m.Region, nullableYear(m.From), nullableYear(m.To)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = appendRows(ctx, conn, "indicators", func(add func(...driver.Value) error) error {
		for i, in := range d.Indicators {
			var decimals any
			if in.Decimals >= 0 {
				decimals = int32(in.Decimals)
			}
			if err := add(in.Code, in.Name, nullable(in.NameEn), in.Unit, string(in.Direction), string(in.Measure),
				nullable(in.Category), string(in.Rollup), decimals, nullable(in.Source), nullable(in.Formula), int32(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = appendRows(ctx, conn, "observations", func(add func(...driver.Value) error) error {
		for i, o := range d.Observations {
			if i%65536 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			var vintage any
			if o.Vintage != "" {
				t, err := time.Parse(time.DateOnly, string(o.Vintage))
				if err != nil {
					return err
				}
				vintage = t
			}
			latest := i+1 == len(d.Observations) || !dataset.SameKey(o, d.Observations[i+1])
			if err := add(o.Indicator, int32(o.Year), o.Region, o.Value, uint8(o.Flags), vintage, latest); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `INSERT INTO series
		SELECT indicator, region, min(year), max(year), count(*), bool_or(flags & $1 = 0) FROM observations WHERE latest
		GROUP BY indicator, region ORDER BY indicator, region`, uint8(analytics.RolledUp))
	return err
}

// failAfterAppend, when set (by tests only), is called after each table is loaded, to fail an import
// part-way through and check that the transaction leaves the previous dataset as it was.
var failAfterAppend func(table string) error

// appendRows bulk-loads a table through DuckDB's appender on conn, inside conn's open transaction.
func appendRows(ctx context.Context, conn *sql.Conn, table string, rows func(add func(...driver.Value) error) error) error {
	return conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", table)
		if err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		if err := rows(a.AppendRow); err != nil {
			_ = a.Close()
			return fmt.Errorf("append to %s: %w", table, err)
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		if failAfterAppend != nil {
			if err := failAfterAppend(table); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}

func nullableYear(y int) any {
	if y == 0 {
		return nil
	}
	return int32(y)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
