package duck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// ImportDir replaces the dataset held in the store with the dataset folder at dir, in one transaction, as
// Import(ReadDir(dir)) would, with the same refusals and messages, but at DuckDB's pace: the small files are
// read in Go, observations.csv by DuckDB's read_csv straight into the table, every rule of the Go reader
// checked in SQL on the way. When a check finds anything (or the file is one the two readers could split
// differently), the transaction is rolled back and the Go reader runs instead, so that a refusal names
// every line as it always has; if it finds nothing after all, its dataset is imported.
func (s *Store) ImportDir(ctx context.Context, dir, source string) (ImportStats, error) {
	start := time.Now()
	m, err := dataset.ReadDirMeta(dir)
	var scan dataset.Scan
	if err == nil {
		scan, err = m.Scan()
	}
	if err == nil && scan.Plain {
		read := time.Since(start)
		st, err := s.importFast(ctx, m, scan, source)
		st.Read = read
		var inv *dataset.Invalid
		if err == nil || ctx.Err() != nil || errors.As(err, &inv) {
			return st, err
		}
	}
	start = time.Now()
	d, err := dataset.ReadDir(dir)
	if err != nil {
		return ImportStats{}, err
	}
	read := time.Since(start)
	st, err := s.Import(ctx, d, source)
	st.Read = read
	return st, err
}

// errUnclean is importFast's answer when a check finds something: the Go reader says what.
var errUnclean = errors.New("observations.csv breaks a rule")

func (s *Store) importFast(ctx context.Context, m *dataset.Meta, scan dataset.Scan, source string) (ImportStats, error) {
	d := m.Dataset
	st := ImportStats{Regions: len(d.Regions), Groups: len(d.Groups), Indicators: len(d.Indicators), Schemes: len(d.Schemes), Targets: len(d.Targets), Fast: true}
	path := m.ObservationsPath()
	err := s.inTransaction(ctx, func(conn *sql.Conn) error {
		if err := loadMeta(ctx, conn, d); err != nil {
			return err
		}
		if scan.Sorted && !m.Derives() {
			// Already in the stored order and without duplicates: straight into the table. With periods, each
			// row's kind of period (year, quarter, month) must be its indicator's frequency, checked here
			// (the staging table held all 10 M rows of a monthly set to check it: 2.2 GB).
			query := `INSERT INTO observations (indicator, year, region, value, flags, vintage, latest) SELECT indicator, year, region, value, flags, vintage, true FROM (` +
				observationsSelect(m) + `)`
			args := []any{path}
			if m.Periodic() {
				var monthly, quarterly []string
				for _, in := range m.Dataset.Indicators {
					switch in.Frequency {
					case analytics.Monthly:
						monthly = append(monthly, in.Code)
					case analytics.Quarterly:
						quarterly = append(quarterly, in.Code)
					}
				}
				query = `INSERT INTO observations (indicator, year, region, value, flags, vintage, latest, period)
					SELECT indicator, year, region, value, flags, vintage, true,
						CASE WHEN kind = (CASE WHEN list_contains($2::VARCHAR[], indicator) THEN 'M' WHEN list_contains($3::VARCHAR[], indicator) THEN 'Q' ELSE 'A' END)
							THEN period ELSE error('frequency') END
					FROM (` + observationsSelect(m) + `)`
				args = append(args, monthly, quarterly)
			}
			if _, err := conn.ExecContext(ctx, query, args...); err != nil {
				return fmt.Errorf("%w: %v", errUnclean, err)
			}
			if err := markSuperseded(ctx, conn, scan.Superseded); err != nil {
				return err
			}
		} else if err := loadStaged(ctx, conn, m, scan, path); err != nil {
			return err
		}
		if err := finish(ctx, conn, d, source, &st); err != nil {
			return err
		}
		// Every region and indicator is known: series lists each pair once. (loadStaged has checked its
		// rows already, before derived indicators joined them.)
		var unknown int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM series WHERE region NOT IN (SELECT code FROM regions)
			OR indicator NOT IN (SELECT code FROM indicators)`).Scan(&unknown); err != nil {
			return err
		}
		if unknown > 0 {
			return errUnclean
		}
		return nil
	})
	return st, err
}

// loadStaged loads observations.csv into a staging table, checks what the order of the file could not
// prove (duplicates) and what needs every row (known codes, no values of derived indicators), adds the
// derived values, and inserts it all sorted.
func loadStaged(ctx context.Context, conn *sql.Conn, m *dataset.Meta, scan dataset.Scan, path string) error {
	for _, q := range []string{`DROP TABLE IF EXISTS temp.staging`,
		`CREATE TEMP TABLE staging (indicator VARCHAR, year INTEGER, region VARCHAR, value DOUBLE, flags UTINYINT, vintage DATE,
			period UTINYINT, kind VARCHAR)`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO staging `+observationsSelect(m), path); err != nil {
		return fmt.Errorf("%w: %v", errUnclean, err)
	}
	var bad int
	err := conn.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM (SELECT DISTINCT region FROM staging) WHERE region NOT IN (SELECT code FROM regions)) +
		(SELECT count(*) FROM (SELECT DISTINCT indicator FROM staging) WHERE indicator NOT IN (SELECT code FROM indicators WHERE formula IS NULL)) +
		(SELECT count(*) FROM staging s JOIN indicators i ON i.code = s.indicator WHERE s.kind <> i.frequency)`).Scan(&bad)
	if err != nil {
		return err
	}
	if bad == 0 && !scan.Sorted {
		err = conn.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM staging GROUP BY indicator, year, period, region, vintage HAVING count(*) > 1)`).Scan(&bad)
		if err != nil {
			return err
		}
	}
	if bad > 0 {
		return errUnclean
	}
	vintages := scan.Vintages
	if m.Derives() {
		derived, err := derive(ctx, conn, m)
		if err != nil {
			return err
		}
		err = appendRowsTo(ctx, conn, "temp", "staging", func(add func(...driver.Value) error) error {
			for _, o := range derived {
				vintage, err := dateValue(o.Vintage)
				if err != nil {
					return err
				}
				vintages = vintages || o.Vintage != ""
				if err := add(o.Indicator, int32(o.Year), o.Region, o.Value, uint8(o.Flags), vintage, uint8(o.Period), ""); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	latest := `true`
	if vintages {
		// The newest vintage of each value; an undated one (NULL) counts only when there is no other.
		latest = `vintage IS NOT DISTINCT FROM max(vintage) OVER (PARTITION BY indicator, year, period, region)`
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO observations (indicator, year, region, value, flags, vintage, latest, period)
		SELECT indicator, year, region, value, flags, vintage, `+latest+`, period
		FROM staging ORDER BY indicator, year, period, region, vintage NULLS FIRST`); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `DROP TABLE temp.staging`)
	return err
}

// derive reads back the published values derived values are computed from and has dataset compute them.
func derive(ctx context.Context, conn *sql.Conn, m *dataset.Meta) ([]dataset.Observation, error) {
	codes := m.DerivedInputs()
	args := []any{}
	marks := make([]string, len(codes))
	for i, c := range codes {
		args = append(args, c)
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	var obs []dataset.Observation
	err := each(ctx, conn, `SELECT region, indicator, year, value, flags, strftime(vintage, '%Y-%m-%d'), period FROM staging
		WHERE indicator IN (`+strings.Join(marks, ", ")+`) ORDER BY indicator, year, period, region, vintage NULLS FIRST`,
		func(rows *sql.Rows) error {
			var o dataset.Observation
			var vintage sql.NullString
			if err := rows.Scan(&o.Region, &o.Indicator, &o.Year, &o.Value, &o.Flags, &vintage, &o.Period); err != nil {
				return err
			}
			o.Vintage = analytics.Date(vintage.String)
			obs = append(obs, o)
			return nil
		}, args...)
	if err != nil {
		return nil, err
	}
	return m.Derive(obs)
}

// markSuperseded clears the latest mark of the rows a newer vintage of the same value follows.
func markSuperseded(ctx context.Context, conn *sql.Conn, rows []dataset.Observation) error {
	if len(rows) == 0 {
		return nil
	}
	for _, q := range []string{`DROP TABLE IF EXISTS temp.superseded`,
		`CREATE TEMP TABLE superseded (indicator VARCHAR, year INTEGER, period UTINYINT, region VARCHAR, vintage DATE)`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	err := appendRowsTo(ctx, conn, "temp", "superseded", func(add func(...driver.Value) error) error {
		for _, o := range rows {
			vintage, err := dateValue(o.Vintage)
			if err != nil {
				return err
			}
			if err := add(o.Indicator, int32(o.Year), uint8(o.Period), o.Region, vintage); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, q := range []string{`UPDATE observations o SET latest = false FROM superseded s
		WHERE o.indicator = s.indicator AND o.year = s.year AND o.period = s.period AND o.region = s.region
			AND o.vintage IS NOT DISTINCT FROM s.vintage`,
		`DROP TABLE temp.superseded`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// observationsSelect reads observations.csv ($1) with read_csv as the Go reader reads it, every record
// split the same way (the caller has made sure of that: dataset.Scan.Plain) and every field a VARCHAR in
// a column named c0, c1… by position, so that nothing is sniffed; and checks each row as the Go reader
// does, with error() failing the statement on the first that breaks a rule. Each check lets through only
// text the Go reader reads the same way (strictly so: " 2020" fails here and the Go reader takes it), so a
// row passes only when the Go reader would accept it with the same value.
//
// The SQL is made of fixed text and column names c<n> with n from the header: nothing from the data.
func observationsSelect(m *dataset.Meta) string {
	col := func(i int) string { return fmt.Sprintf("c%d", m.Columns[i]) }
	names := make([]string, m.Fields)
	for i := range names {
		names[i] = fmt.Sprintf("'c%d': 'VARCHAR'", i)
	}
	value := col(dataset.ColValue)
	// The year, and the period (0 for a year's value) and its kind (A, Q, M): from the year column, the
	// period column, or both agreeing. A period is taken only as ParsePeriod would read it the same way
	// (an upper-case Q); anything else fails here, and the Go reader says what.
	year, period, kind := col(dataset.ColYear), "0", "'A'"
	if m.Columns[dataset.ColPeriod] >= 0 {
		p := col(dataset.ColPeriod)
		py := "substr(" + p + ", 1, 4)"
		if m.Columns[dataset.ColYear] >= 0 {
			y := col(dataset.ColYear)
			year = fmt.Sprintf(`(CASE WHEN %[1]s IS NULL THEN %[2]s WHEN %[3]s IS NULL OR regexp_full_match(%[1]s, '[0-9]{1,4}')
				AND regexp_full_match(%[3]s, '[0-9]{4}.*') AND %[1]s::INTEGER = %[2]s::INTEGER THEN %[1]s ELSE error('year and period') END)`, y, py, p)
		} else {
			year = py
		}
		period = fmt.Sprintf(`CASE WHEN %[1]s IS NULL OR regexp_full_match(%[1]s, '[0-9]{4}') THEN 0
			WHEN regexp_full_match(%[1]s, '[0-9]{4}-Q[1-4]') THEN substr(%[1]s, 7, 1)::INTEGER
			WHEN regexp_full_match(%[1]s, '[0-9]{4}-(0[1-9]|1[0-2])') THEN substr(%[1]s, 6, 2)::INTEGER ELSE error('period') END`, p)
		kind = fmt.Sprintf(`CASE WHEN %[1]s IS NULL OR length(%[1]s) = 4 THEN 'A' WHEN substr(%[1]s, 6, 1) = 'Q' THEN 'Q' ELSE 'M' END`, p)
	}
	flags := "0"
	if m.Columns[dataset.ColFlag] >= 0 {
		f := col(dataset.ColFlag)
		var bits []string
		for _, letter := range "pebru" { // the bits are ParseFlags' own
			bit, _ := analytics.ParseFlags(string(letter))
			bits = append(bits, fmt.Sprintf("CASE WHEN contains(lower(%s), '%c') THEN %d ELSE 0 END", f, letter, bit))
		}
		flags = fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN 0 WHEN regexp_full_match(%[1]s, '[pebruPEBRU ,]*') THEN %[2]s ELSE error('flag') END",
			f, strings.Join(bits, " + "))
	}
	vintage := "NULL::DATE"
	if m.Columns[dataset.ColVintage] >= 0 {
		// Only a date DuckDB writes back the same is taken as it is (the Go reader requires two-digit months
		// and days; DuckDB's cast would take more).
		vintage = fmt.Sprintf(`CASE WHEN %[1]s IS NULL THEN NULL
			WHEN regexp_full_match(%[1]s, '[0-9]{4}-[0-9]{2}-[0-9]{2}') AND strftime(TRY_CAST(%[1]s AS DATE), '%%Y-%%m-%%d') = %[1]s THEN %[1]s::DATE
			ELSE error('vintage') END`, col(dataset.ColVintage))
	}
	return fmt.Sprintf(`SELECT coalesce(%s, '') AS indicator,
		CASE WHEN regexp_full_match(%[2]s, '[0-9]{1,4}') AND %[2]s::INTEGER >= 1 THEN %[2]s::INTEGER ELSE error('year') END AS year,
		coalesce(%[3]s, '') AS region,
		CASE WHEN regexp_full_match(%[4]s, '[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?') AND isfinite(TRY_CAST(%[4]s AS DOUBLE))
			THEN (CASE WHEN %[4]s::DOUBLE = 0 THEN 0.0 ELSE %[4]s::DOUBLE END) ELSE error('value') END AS value,
		(%[5]s)::UTINYINT AS flags,
		%[6]s AS vintage,
		(%[8]s)::UTINYINT AS period,
		%[9]s AS kind
		FROM read_csv($1, auto_detect = false, header = true, delim = ',', quote = '"', escape = '"', strict_mode = true,
			null_padding = false, columns = {%[7]s})`,
		col(dataset.ColIndicator), year, col(dataset.ColRegion), value, flags, vintage, strings.Join(names, ", "), period, kind)
}
