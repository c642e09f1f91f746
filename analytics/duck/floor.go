package duck

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FloorRow is one row of FloorRanking.
type FloorRow struct {
	Region string
	Value  float64
	Rank   int
}

// FloorRanking is the simplest hand-written DuckDB query that ranks one indicator in one year, over every
// region with a value or the members of one group in that year: the floor benchmarks measure the API
// against, and a second statement of the VALUE/COMPETITION rule that tests compare the Go path with.
// sign is +1 for higher_is_better and −1 for lower_is_better.
func (s *Store) FloorRanking(ctx context.Context, indicator string, year int, group string, sign float64) ([]FloorRow, error) {
	return s.FloorRankingPeriod(ctx, indicator, year, 0, group, sign) // a year's own value is its period 0
}

// FloorLoadCSV is DuckDB's own load of a CSV file, the floor ImportDir is measured against: read_csv with
// its sniffing into a table of a fresh database file in a temporary folder (an import writes a file too),
// removed afterwards. It returns the number of rows loaded.
//
//	go test -run '^$' -bench BenchmarkImportDir -benchtime 1x ./analytics/duck/   (PACESETTER_BENCH_DIR=/tmp/big)
func FloorLoadCSV(ctx context.Context, path string) (rows int64, err error) {
	dir, err := os.MkdirTemp("", "pacesetter-floor-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	store, err := Open(filepath.Join(dir, "floor.db"))
	if err != nil {
		return 0, err
	}
	defer store.Close()
	if _, err := store.db.ExecContext(ctx, `CREATE TABLE floor AS SELECT * FROM read_csv($1)`, path); err != nil {
		return 0, err
	}
	err = store.db.QueryRowContext(ctx, `SELECT count(*) FROM floor`).Scan(&rows)
	return rows, err
}

// FloorTop is the floor of a top-n question: the simplest DuckDB query for the n best values of one
// indicator in one year over every region with a value.
func (s *Store) FloorTop(ctx context.Context, indicator string, year int, sign float64, n int) ([]FloorRow, error) {
	var out []FloorRow
	err := each(ctx, s.db, `SELECT region, value, rank() OVER (ORDER BY value * $3 DESC) AS r
		FROM observations WHERE indicator = $1 AND year = $2 AND latest ORDER BY r, region LIMIT `+strconv.Itoa(n), func(rows *sql.Rows) error {
		var r FloorRow
		if err := rows.Scan(&r.Region, &r.Value, &r.Rank); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	}, indicator, year, sign)
	return out, err
}

// FloorGroupRow is one row of FloorGroupRanks.
type FloorGroupRow struct {
	Group string
	FloorRow
}

// FloorGroupRanks is the floor of "rank in every peer group": one statement ranking one indicator in one
// year within each group (its members in that year), rank() OVER (PARTITION BY group …).
func (s *Store) FloorGroupRanks(ctx context.Context, indicator string, year int, sign float64) ([]FloorGroupRow, error) {
	var out []FloorGroupRow
	err := each(ctx, s.db, `SELECT m.group_code, o.region, o.value, rank() OVER (PARTITION BY m.group_code ORDER BY o.value * $3 DESC) AS r
		FROM observations o JOIN memberships m ON m.region_code = o.region
			AND (m.from_year IS NULL OR m.from_year <= $2) AND (m.to_year IS NULL OR m.to_year >= $2)
		WHERE o.indicator = $1 AND o.year = $2 AND o.latest ORDER BY m.group_code, r, o.region`, func(rows *sql.Rows) error {
		var r FloorGroupRow
		if err := rows.Scan(&r.Group, &r.Region, &r.Value, &r.Rank); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	}, indicator, year, sign)
	return out, err
}

// FloorAggregate is the floor of aggregate(by: [INDICATOR, YEAR]) with count and mean, from a year on:
// DuckDB's GROUP BY over the newest values. It returns the number of rows.
func (s *Store) FloorAggregate(ctx context.Context, from int) (int, error) {
	n := 0
	err := each(ctx, s.db, `SELECT indicator, year, count(*), avg(value) FROM observations WHERE latest AND year >= $1
		GROUP BY indicator, year ORDER BY indicator, year`, func(rows *sql.Rows) error {
		var in string
		var y, c int
		var mean float64
		n++
		return rows.Scan(&in, &y, &c, &mean)
	}, from)
	return n, err
}

// FloorLine is one indicator of FloorCompositeHistory: its weight, and its sign (+1 for higher_is_better,
// −1 for lower_is_better).
type FloorLine struct {
	Indicator    string
	Weight, Sign float64
}

// FloorCompositeHistory is the floor of compositeHistory with the defaults (MIN_MAX, ARITHMETIC, RESCALE,
// COMPETITION) over every region with a value, each year from from to to: one statement normalising each
// indicator in each year by its min and max, averaging each region's normalised values by weight over the
// indicators it has, and ranking each year. It returns the number of (region, year) rows.
func (s *Store) FloorCompositeHistory(ctx context.Context, lines []FloorLine, from, to int) (int, error) {
	var vals strings.Builder
	args := []any{from, to}
	for i, l := range lines {
		if i > 0 {
			vals.WriteString(", ")
		}
		fmt.Fprintf(&vals, "($%d, $%d::DOUBLE, $%d::DOUBLE)", len(args)+1, len(args)+2, len(args)+3)
		args = append(args, l.Indicator, l.Weight, l.Sign)
	}
	n := 0
	err := each(ctx, s.db, `WITH l(code, w, d) AS (VALUES `+vals.String()+`),
		v AS (SELECT o.region, o.year, o.indicator, o.value * l.d AS x, l.w FROM observations o JOIN l ON l.code = o.indicator
			WHERE o.latest AND o.year BETWEEN $1 AND $2),
		nv AS (SELECT region, year, w, CASE WHEN max(x) OVER p = min(x) OVER p THEN 100
			ELSE 100 * (x - min(x) OVER p) / (max(x) OVER p - min(x) OVER p) END AS nx FROM v WINDOW p AS (PARTITION BY indicator, year)),
		c AS (SELECT region, year, sum(w * nx) / sum(w) AS score FROM nv GROUP BY region, year)
		SELECT region, year, score, rank() OVER (PARTITION BY year ORDER BY score DESC) AS r FROM c ORDER BY year, r, region`,
		func(rows *sql.Rows) error {
			var region string
			var y, r int
			var score float64
			n++
			return rows.Scan(&region, &y, &score, &r)
		}, args...)
	return n, err
}

// FloorAggregateGroups is the floor of aggregate(by: [GROUP, YEAR]) of one indicator with count and mean,
// from a year on: DuckDB's GROUP BY over the newest values joined to the memberships of each value's year.
// It returns the number of rows.
func (s *Store) FloorAggregateGroups(ctx context.Context, indicator string, from int) (int, error) {
	n := 0
	err := each(ctx, s.db, `SELECT m.group_code, o.year, count(*), avg(o.value) FROM observations o
		JOIN memberships m ON m.region_code = o.region AND (m.from_year IS NULL OR m.from_year <= o.year) AND (m.to_year IS NULL OR m.to_year >= o.year)
		WHERE o.latest AND o.indicator = $1 AND o.year >= $2 GROUP BY m.group_code, o.year ORDER BY m.group_code, o.year`, func(rows *sql.Rows) error {
		var g string
		var y, c int
		var mean float64
		n++
		return rows.Scan(&g, &y, &c, &mean)
	}, indicator, from)
	return n, err
}

// FloorRankingPeriod is FloorRanking for one period as stored: 0 for a year's own value, else the month
// 1–12 or quarter 1–4 of a sub-annual indicator (the floor of a monthly league table).
func (s *Store) FloorRankingPeriod(ctx context.Context, indicator string, year, period int, group string, sign float64) ([]FloorRow, error) {
	query := `SELECT o.region, o.value, rank() OVER (ORDER BY o.value * $3 DESC) AS r
		FROM observations o WHERE o.indicator = $1 AND o.year = $2 AND o.period = $5 AND o.latest AND $4 = '' ORDER BY r, o.region`
	if group != "" {
		query = `SELECT o.region, o.value, rank() OVER (ORDER BY o.value * $3 DESC) AS r
		FROM observations o JOIN memberships m ON m.region_code = o.region AND m.group_code = $4
			AND (m.from_year IS NULL OR m.from_year <= $2) AND (m.to_year IS NULL OR m.to_year >= $2)
		WHERE o.indicator = $1 AND o.year = $2 AND o.period = $5 AND o.latest ORDER BY r, o.region`
	}
	var out []FloorRow
	err := each(ctx, s.db, query, func(rows *sql.Rows) error {
		var r FloorRow
		if err := rows.Scan(&r.Region, &r.Value, &r.Rank); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	}, indicator, year, sign, group, period)
	return out, err
}
