// Package duck is pacesetter's engine over embedded DuckDB: the store (open, schema, import) and the
// queries behind every analytics.Engine method. All SQL of the project lives in this package.
package duck

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// schemaVersion is bumped with every change to the tables below; a file of another version must be
// imported again.
const schemaVersion = 4

var schemaSQL = []string{
	`CREATE TABLE IF NOT EXISTS pacesetter_schema (version INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS dataset_info (version VARCHAR NOT NULL, imported_at TIMESTAMPTZ NOT NULL, source VARCHAR NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS regions (code VARCHAR NOT NULL, name VARCHAR NOT NULL, name_en VARCHAR, parent_code VARCHAR, level VARCHAR, ord INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS groups (code VARCHAR NOT NULL, name VARCHAR NOT NULL, name_en VARCHAR, ord INTEGER NOT NULL)`,
	// A membership may be bounded in years (NULL: unbounded), so a peer group can change over time, and a
	// region may be in several groups at once.
	`CREATE TABLE IF NOT EXISTS memberships (group_code VARCHAR NOT NULL, region_code VARCHAR NOT NULL, from_year INTEGER, to_year INTEGER)`,
	`CREATE TABLE IF NOT EXISTS indicators (code VARCHAR NOT NULL, name VARCHAR NOT NULL, name_en VARCHAR, unit VARCHAR NOT NULL, direction VARCHAR NOT NULL,
		measure VARCHAR NOT NULL, category VARCHAR, rollup VARCHAR NOT NULL, decimals INTEGER, source VARCHAR, formula VARCHAR, ord INTEGER NOT NULL,
		frequency VARCHAR NOT NULL DEFAULT 'A', cumulative BOOLEAN NOT NULL DEFAULT false)`,
	// Stored sorted by indicator, year, region and vintage: DuckDB's zone maps then skip every row group
	// outside the indicator and years a query reads. flags is an analytics.FlagSet; vintage the release
	// date (NULL: undated); latest marks the newest vintage of each value, the one answers use by default.
	// period is the quarter or month of a sub-annual indicator's value (its indicator's frequency says
	// which), 0 for a year's: the key is indicator, year, period, region, vintage.
	`CREATE TABLE IF NOT EXISTS observations (indicator VARCHAR NOT NULL, year INTEGER NOT NULL, region VARCHAR NOT NULL, value DOUBLE NOT NULL,
		flags UTINYINT NOT NULL, vintage DATE, latest BOOLEAN NOT NULL, period UTINYINT NOT NULL DEFAULT 0)`,
	// Which region has any value of which indicator, and whether one of them is its own rather than a rollup
	// of its children's: the scope of a ranking without a group, parent or level is the regions with one.
	// first_ord and last_ord are the first and last period's ordinals (analytics.Period.Ord: the year itself
	// for an annual indicator).
	`CREATE TABLE IF NOT EXISTS series (indicator VARCHAR NOT NULL, region VARCHAR NOT NULL, first_year INTEGER NOT NULL, last_year INTEGER NOT NULL,
		n INTEGER NOT NULL, own BOOLEAN NOT NULL, first_ord INTEGER NOT NULL, last_ord INTEGER NOT NULL)`,
	// Assessment schemes (schemes.yaml) with their indicator lines, and targets (targets.csv), as the dataset
	// reader checked them, defaults filled in. A file written before these tables existed has none of them:
	// it is read as a dataset without schemes or targets (loadAssessment looks before it reads).
	`CREATE TABLE IF NOT EXISTS schemes (code VARCHAR NOT NULL, name VARCHAR NOT NULL, name_en VARCHAR, note VARCHAR, scope_group VARCHAR,
		scope_parent VARCHAR, scope_level VARCHAR, normalisation VARCHAR NOT NULL, aggregation VARCHAR NOT NULL, missing VARCHAR NOT NULL,
		min_weight_share DOUBLE, ties VARCHAR NOT NULL, cutoffs DOUBLE[], quotas INTEGER[], ord INTEGER NOT NULL,
		rank_by VARCHAR NOT NULL, classes VARCHAR[])`,
	`CREATE TABLE IF NOT EXISTS scheme_indicators (scheme VARCHAR NOT NULL, ord INTEGER NOT NULL, indicator VARCHAR NOT NULL, weight DOUBLE NOT NULL,
		points DOUBLE, category VARCHAR, department VARCHAR, low DOUBLE, high DOUBLE, target DOUBLE, from_year INTEGER, to_year INTEGER,
		rule_kind VARCHAR NOT NULL, rule_met DOUBLE NOT NULL, rule_missed DOUBLE NOT NULL, rule_step DOUBLE NOT NULL, rule_cap DOUBLE NOT NULL,
		basis VARCHAR NOT NULL)`,
	// The names schemes.yaml gives categories and departments (kind 'category' or 'department'); a file
	// written before this table existed has none (readLabels looks before it reads).
	`CREATE TABLE IF NOT EXISTS labels (kind VARCHAR NOT NULL, code VARCHAR NOT NULL, name VARCHAR, name_en VARCHAR, ord INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS targets (region VARCHAR NOT NULL, indicator VARCHAR NOT NULL, year INTEGER NOT NULL, comparator VARCHAR NOT NULL,
		value DOUBLE NOT NULL, kind VARCHAR NOT NULL, group_code VARCHAR, ord INTEGER NOT NULL)`,
}

var datasetTables = []string{"dataset_info", "regions", "groups", "memberships", "indicators", "observations", "series",
	"schemes", "scheme_indicators", "targets", "labels"}

// Store is a DuckDB database holding one dataset.
type Store struct {
	db       *sql.DB
	readOnly bool
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
		return nil, lockError(path, err)
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

// heldBy finds the process DuckDB names in its lock error.
var heldBy = regexp.MustCompile(`Conflicting lock is held in (.*) \(PID (\d+)\)`)

// lockError says what to do about a file another process has open for writing, instead of DuckDB's
// "Could not set lock on file" (pacesetter's own imports never hold the file served: they write a new one
// and rename it); other errors are returned as they are.
func lockError(path string, err error) error {
	if !strings.Contains(err.Error(), "Could not set lock on file") {
		return fmt.Errorf("open %s: %w", displayPath(path), err)
	}
	who := "another process"
	if m := heldBy.FindStringSubmatch(err.Error()); m != nil {
		who = fmt.Sprintf("another process (%s, PID %s)", filepath.Base(m[1]), m[2])
	}
	return fmt.Errorf("%s is open for writing in %s, so it cannot be opened here: close that program (a DuckDB shell, say), "+
		"or import the dataset into a new file with pacesetter import --db NEW.db DIR and serve that", displayPath(path), who)
}

func displayPath(path string) string {
	if path == "" {
		return "in-memory database"
	}
	return path
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping says whether the store is open: the served swap closes a replaced store once its last request ends.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

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

// SetMemoryLimit bounds what DuckDB itself may hold (its buffer pool: aggregates' hash tables, sorts,
// cached column blocks) to bytes, spilling or failing a statement beyond it; before LockDown, which freezes it.
func (s *Store) SetMemoryLimit(ctx context.Context, bytes int64) error {
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`SET memory_limit = '%dB'`, bytes)); err != nil {
		return fmt.Errorf("set memory_limit: %w", err)
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
	Schemes, Targets                          int
	FirstYear, LastYear                       int
	// Fast says ImportDir loaded observations.csv with DuckDB's read_csv (false: through the Go reader);
	// Read is the time spent reading and validating in Go before loading.
	Fast bool
	Read time.Duration
}

// Import replaces the dataset held in the store with d, in one transaction: either all of d is there
// afterwards or the previous dataset is, untouched.
func (s *Store) Import(ctx context.Context, d *dataset.Dataset, source string) (ImportStats, error) {
	st := ImportStats{Regions: len(d.Regions), Groups: len(d.Groups), Indicators: len(d.Indicators), Schemes: len(d.Schemes), Targets: len(d.Targets)}
	err := s.inTransaction(ctx, func(conn *sql.Conn) error {
		if err := loadMeta(ctx, conn, d); err != nil {
			return err
		}
		if err := appendObservations(ctx, conn, d.Observations); err != nil {
			return err
		}
		return finish(ctx, conn, d, source, &st)
	})
	return st, err
}

// inTransaction runs load on one connection inside a transaction, committed if load succeeds and rolled
// back otherwise.
func (s *Store) inTransaction(ctx context.Context, load func(conn *sql.Conn) error) error {
	if s.readOnly {
		return errors.New("the database is open read-only")
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return err
	}
	if err := load(conn); err != nil {
		// A fresh context: the rollback must run even when ctx is what failed.
		if _, rerr := conn.ExecContext(context.Background(), `ROLLBACK`); rerr != nil {
			return fmt.Errorf("%w (and rollback failed: %v)", err, rerr)
		}
		return err
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		_, _ = conn.ExecContext(context.Background(), `ROLLBACK`)
		return err
	}
	return nil
}

// loadMeta empties every table of the dataset and loads d's regions, groups, memberships and indicators.
func loadMeta(ctx context.Context, conn *sql.Conn, d *dataset.Dataset) error {
	for _, t := range datasetTables {
		if _, err := conn.ExecContext(ctx, `DELETE FROM `+t); err != nil { // t is from the fixed list above
			return err
		}
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
				nullable(in.Category), string(in.Rollup), decimals, nullable(in.Source), nullable(in.Formula), int32(i),
				string(cmp.Or(in.Frequency, analytics.Annual)), in.Cumulative); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return loadAssessment(ctx, conn, d)
}

// loadAssessment loads d's schemes, their indicator lines and its targets.
func loadAssessment(ctx context.Context, conn *sql.Conn, d *dataset.Dataset) error {
	err := appendRows(ctx, conn, "schemes", func(add func(...driver.Value) error) error {
		for i, sc := range d.Schemes {
			var cutoffs, quotas, classes any
			if sc.Classes != nil {
				classes = sc.Classes
			}
			if sc.Cutoffs != nil {
				cutoffs = sc.Cutoffs
			}
			if sc.Quotas != nil {
				q := make([]int32, len(sc.Quotas))
				for j, k := range sc.Quotas {
					q[j] = int32(k)
				}
				quotas = q
			}
			if err := add(sc.Code, sc.Name, nullable(sc.NameEn), nullable(sc.Note), nullable(sc.ScopeGroup), nullable(sc.ScopeParent),
				nullable(sc.ScopeLevel), string(sc.Normalisation), string(sc.Aggregation), string(sc.Missing), nullableFloat(sc.MinWeightShare),
				string(sc.Ties), cutoffs, quotas, int32(i), string(sc.RankBy), classes); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = appendRows(ctx, conn, "scheme_indicators", func(add func(...driver.Value) error) error {
		for _, sc := range d.Schemes {
			for i, si := range sc.Indicators {
				r := si.Rule
				if err := add(sc.Code, int32(i), si.Indicator, si.Weight, nullableFloat(si.Points), nullable(si.Category), nullable(si.Department),
					nullableFloat(si.Low), nullableFloat(si.High), nullableFloat(si.Target), nullableYear(si.From), nullableYear(si.To),
					string(r.Kind), r.Met, r.Missed, r.Step, r.Cap, string(si.Basis)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = appendRows(ctx, conn, "labels", func(add func(...driver.Value) error) error {
		for k, ls := range [][]dataset.Label{d.Categories, d.Departments} { // in order: two imports store the same rows
			kind := [...]string{"category", "department"}[k]
			for i, l := range ls {
				if err := add(kind, l.Code, nullable(l.Name), nullable(l.NameEn), int32(i)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return appendRows(ctx, conn, "targets", func(add func(...driver.Value) error) error {
		for i, t := range d.Targets {
			if err := add(t.Region, t.Indicator, int32(t.Year), string(t.Comparator), t.Value, string(t.Kind), nullable(t.Group), int32(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

func nullableFloat(x *float64) any {
	if x == nil {
		return nil
	}
	return *x
}

// appendObservations appends obs, sorted as Read returns them, with the latest mark on each key's last.
func appendObservations(ctx context.Context, conn *sql.Conn, obs []dataset.Observation) error {
	return appendRows(ctx, conn, "observations", func(add func(...driver.Value) error) error {
		for i, o := range obs {
			if i%65536 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			vintage, err := dateValue(o.Vintage)
			if err != nil {
				return err
			}
			latest := i+1 == len(obs) || !dataset.SameKey(o, obs[i+1])
			if err := add(o.Indicator, int32(o.Year), o.Region, o.Value, uint8(o.Flags), vintage, latest, uint8(o.Period)); err != nil {
				return err
			}
		}
		return nil
	})
}

// dateValue is a vintage as the appender takes a DATE (nil: undated).
func dateValue(d analytics.Date) (any, error) {
	if d == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return nil, err
	}
	return t, nil
}

// finish fills series from the loaded observations, works out the version, and records the import; st
// gets the counts of the observations as stored.
func finish(ctx context.Context, conn *sql.Conn, d *dataset.Dataset, source string, st *ImportStats) error {
	_, err := conn.ExecContext(ctx, `INSERT INTO series
		SELECT o.indicator, o.region, min(o.year), max(o.year), count(*), bool_or(o.flags & $1 = 0), min(`+ordSQL+`), max(`+ordSQL+`)
		FROM observations o JOIN indicators i ON i.code = o.indicator WHERE o.latest
		GROUP BY o.indicator, o.region ORDER BY o.indicator, o.region`, uint8(analytics.RolledUp))
	if err != nil {
		return err
	}
	// Every value of a key has the same year, so the years of the latest ones are those of all.
	var first, last sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT min(first_year), max(last_year) FROM series`).Scan(&first, &last); err != nil {
		return err
	}
	st.FirstYear, st.LastYear = int(first.Int64), int(last.Int64)
	var dg dataset.ObservationsDigest
	// hash() covers every column (latest follows from the others); the sum and the xor do not depend on the
	// order rows were loaded in.
	err = conn.QueryRowContext(ctx, `SELECT count(*), (coalesce(sum(h::HUGEINT), 0) % 18446744073709551616)::UBIGINT, coalesce(bit_xor(h), 0)
		FROM (SELECT CASE WHEN period = 0 THEN hash(indicator, year, region, value, flags, vintage)
			ELSE hash(indicator, year, region, value, flags, vintage, period) END AS h FROM observations)`).Scan(&dg.Count, &dg.Sum, &dg.Xor)
	if err != nil {
		return fmt.Errorf("digest of the observations: %w", err)
	}
	st.Observations = int(dg.Count)
	st.Version = d.VersionWith(dg)
	_, err = conn.ExecContext(ctx, `INSERT INTO dataset_info VALUES ($1, $2, $3)`, st.Version, time.Now().UTC(), source)
	return err
}

// ordSQL is the ordinal of observation o's period (analytics.Period.Ord) by its indicator i's frequency:
// the year for an annual value, year·4 + quarter − 1, year·12 + month − 1.
const ordSQL = `(CASE WHEN o.period = 0 THEN o.year WHEN i.frequency = 'M' THEN o.year * 12 + o.period - 1 ELSE o.year * 4 + o.period - 1 END)`

// failAfterAppend, when set (by tests only), is called after each table is loaded, to fail an import
// part-way through and check that the transaction leaves the previous dataset as it was.
var failAfterAppend func(table string) error

// appendRows bulk-loads a table through DuckDB's appender on conn, inside conn's open transaction.
func appendRows(ctx context.Context, conn *sql.Conn, table string, rows func(add func(...driver.Value) error) error) error {
	if err := appendRowsTo(ctx, conn, "", table, rows); err != nil {
		return err
	}
	if failAfterAppend != nil {
		return failAfterAppend(table)
	}
	return nil
}

// appendRowsTo bulk-loads a table of a catalog ("" for the database's own, "temp" for temporary tables)
// through DuckDB's appender on conn.
func appendRowsTo(ctx context.Context, conn *sql.Conn, catalog, table string, rows func(add func(...driver.Value) error) error) error {
	return conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), catalog, "main", table)
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
