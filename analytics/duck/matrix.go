package duck

import (
	"cmp"
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"pacesetter/analytics"
)

// A matrix holds one indicator's values by region and year, with their flags, in memory. Rankings,
// standings, trends, composites (and aggregates by indicator and year, when every matrix they need is
// held) touch a few thousand numbers each; DuckDB takes longer to plan a query than Go takes to rank them,
// so the values are read once per dataset version (and vintage) and kept, bounded in bytes. DuckDB stays
// the store and runs what is set-based over many rows: import, observations, the other aggregates, and the
// load.
//
// Storage follows the values, not the span of years: each region's values sit together, sorted by year,
// so a region with one value in year 1 and one in 2024 costs two cells, not 2,024.
type Matrix struct {
	Off   []int32 // region r's cells are cells[off[r]:off[r+1]]
	Cells []Cell
}

type Cell struct {
	Year  int32
	Flags analytics.FlagSet
	Value float64
}

// Get is the value of region r (its position in the snapshot) in year y.
func (m *Matrix) Get(r, y int) (float64, analytics.FlagSet, bool) {
	if m == nil {
		return 0, 0, false
	}
	cs := m.Cells[m.Off[r]:m.Off[r+1]]
	// A region's years are distinct and sorted, so y sits at y − its first year or before; with no year
	// missing in between (most data) exactly there, read without a search: one year of 50 indicators ×
	// 3,000 regions, a composite's reads, took 4.3 ms against 6.0 ms with the search alone.
	if len(cs) > 0 {
		if i := int64(y) - int64(cs[0].Year); i >= 0 && i < int64(len(cs)) && int64(cs[i].Year) == int64(y) {
			return cs[i].Value, cs[i].Flags, true
		}
	}
	i, ok := slices.BinarySearchFunc(cs, int32(y), func(c Cell, y int32) int { return cmp.Compare(c.Year, y) }) // not c.Year - y, which overflows
	if !ok {
		return 0, 0, false
	}
	return cs[i].Value, cs[i].Flags, true
}

// Bytes is an estimate of the memory the matrix holds.
func (m *Matrix) Bytes() int64 {
	if m == nil {
		return 96
	}
	return int64(len(m.Cells)*16+len(m.Off)*4) + 96
}

// The loads: the newest vintage of every value, or what had been released by a date. The only fragments
// ever joined into these queries are the ones below and a list of $n placeholders.
//
// A load reads its rows in whatever order DuckDB scans them and sorts them into matrices in Go: an ORDER
// BY made DuckDB sort and then hand over every row, which cost three times the scan (90,000 values: 74 ms
// against 23 ms). Each row is the indicator's place, the region's code, the period's ordinal and the flags
// packed into one BIGINT (every column a row has costs a conversion in the driver), and the value.
//
// Indicators are not joined: a row's indicator is its place in the load's list of codes and its period's
// ordinal follows its indicator's frequency, both written into the statement from the catalog (a join of
// indicators for its position and frequency cost 40 % of a one-indicator load).
const latestRows = `o.latest AND $1 = ''`

// matrixSelect is the load of the indicators codes[0…] (bound to $2…): each row's place in codes, its key
// and its value.
func matrixSelect(s *Catalog, codes []string) string {
	which := "0"
	if len(codes) > 1 {
		var b strings.Builder
		b.WriteString("CASE o.indicator")
		for i := range codes {
			fmt.Fprintf(&b, " WHEN $%d THEN %d", i+2, i)
		}
		b.WriteString(" END")
		which = b.String()
	}
	// The ordinal of a period (analytics.Period.Ord, as ordSQL): the year itself unless an indicator loaded
	// is sub-annual.
	var monthly, quarterly []string
	for i, c := range codes {
		if in := s.IndicatorBy[c]; in != nil {
			switch in.Freq() {
			case analytics.Monthly:
				monthly = append(monthly, "$"+strconv.Itoa(i+2))
			case analytics.Quarterly:
				quarterly = append(quarterly, "$"+strconv.Itoa(i+2))
			}
		}
	}
	ord := "o.year"
	switch {
	case len(monthly) > 0 && len(quarterly) == 0:
		ord = "(CASE WHEN o.period = 0 THEN o.year ELSE o.year * 12 + o.period - 1 END)"
	case len(quarterly) > 0 && len(monthly) == 0:
		ord = "(CASE WHEN o.period = 0 THEN o.year ELSE o.year * 4 + o.period - 1 END)"
	case len(monthly) > 0:
		ord = "(CASE WHEN o.period = 0 THEN o.year WHEN o.indicator IN (" + strings.Join(monthly, ", ") +
			") THEN o.year * 12 + o.period - 1 ELSE o.year * 4 + o.period - 1 END)"
	}
	// The region comes as its code, placed by the catalog's map in Go: joining regions for their position
	// cost half a one-indicator load (6,000 values: 2.9 ms with the join, 1.7 ms reading the code).
	return `SELECT (` + which + `)::INTEGER, o.region, ((` + ord + `::BIGINT + 2147483648) << 8) | o.flags, o.value
		FROM observations o WHERE `
}

// releasedBy keeps, of each value, the newest vintage released by the date in the parameter (a value
// without a vintage counts as released before every date): the one statement of asOf, for the loads here
// and for observations.
func releasedBy(param string) string {
	return `(vintage IS NULL OR vintage <= CAST(` + param + ` AS DATE))
		QUALIFY row_number() OVER (PARTITION BY indicator, region, year, period ORDER BY vintage DESC NULLS LAST) = 1`
}

// packed is one loaded value: its region, year and flags in key (as matrixSelect packs them), and the value.
type packed struct {
	key   int64
	value float64
}

// Values reads the values of the indicators in codes (all of them in one statement) as of a vintage: ""
// for the newest, "0" for the undated ones only, else a release date. An indicator without values then maps
// to nil.
func (rd *Reader) Values(ctx context.Context, s *Catalog, vintage string, codes []string) (map[string]*Matrix, error) {
	first, last := s.Info.Counts.Span()
	return rd.load(ctx, s, vintage, codes, "", nil, first, last, false)
}

// ValuesWindow is Values for the indicators' values of the years from to to only, and of those only the
// month or quarter period (1–12 or 1–4) unless it is 0: a request that reads no others is answered from
// these (the first ranking of an indicator in a year reads 3 of its 20 years; of a monthly one in a month,
// that month of 3 years). Observations are stored sorted by indicator, year and period, so DuckDB's zone
// maps skip the rest: on 17.5 M values, 9,000 of them in 1.3 ms against 8.9 ms for the indicator's 90,000.
// (Seeking them by rowid was faster only in memory: in a file it decompressed whole row groups, 3.1 ms.)
func (rd *Reader) ValuesWindow(ctx context.Context, s *Catalog, vintage string, codes []string, from, to, period int) (map[string]*Matrix, error) {
	n := len(codes) + 2 // the parameters after the vintage and the codes
	where, extra := fmt.Sprintf("o.year BETWEEN $%d AND $%d AND ", n, n+1), []any{from, to}
	if period > 0 {
		where, extra = where+fmt.Sprintf("o.period = $%d AND ", n+2), append(extra, period)
	}
	return rd.load(ctx, s, vintage, codes, where, extra, from, to, period > 0)
}

// load reads the values of the indicators in codes (bound to $2…) that where (conditions each followed by
// AND, whose further parameters are extra) selects; first and last are the years read (each indicator's
// slice of rows is sized from the catalog's counts of them, of one period of each when onePeriod).
func (rd *Reader) load(ctx context.Context, s *Catalog, vintage string, codes []string, where string, extra []any, first, last int, onePeriod bool) (map[string]*Matrix, error) {
	if len(codes) == 0 {
		return map[string]*Matrix{}, nil
	}
	args := []any{""}
	var in strings.Builder
	in.WriteString("o.indicator IN (")
	for i, c := range codes {
		args = append(args, c)
		if i > 0 {
			in.WriteString(", ")
		}
		in.WriteString("$" + strconv.Itoa(i+2))
	}
	in.WriteString(") AND ")
	args = append(args, extra...)
	query := matrixSelect(s, codes) + in.String() + where
	switch vintage {
	case "":
		query += latestRows
	case "0":
		args[0] = "0001-01-01" // before every release: only undated values
		query += releasedBy("$1")
	default:
		args[0] = vintage
		query += releasedBy("$1")
	}
	// Each indicator's rows in a slice as long as the catalog counts its newest values (growing one cost a
	// tenth of a load in copies).
	rows := make([][]packed, len(codes))
	for i, c := range codes {
		n := s.Info.Counts.Values([]string{c}, first, last, 0)
		if in := s.IndicatorBy[c]; onePeriod && in != nil {
			n /= in.PerYear()
		}
		if n > 0 && n <= 1<<24 {
			rows[i] = make([]packed, 0, n)
		}
	}
	err := rd.eachRaw(ctx, query, func(row []driver.Value) error {
		i, ok1 := row[0].(int32)
		region, ok2 := row[1].(string)
		k, ok3 := row[2].(int64)
		v, ok4 := row[3].(float64)
		if !ok1 || !ok2 || !ok3 || !ok4 || int(i) < 0 || int(i) >= len(rows) {
			return fmt.Errorf("unexpected row %T %v, %T, %T, %T", row[0], row[0], row[1], row[2], row[3])
		}
		r, ok := s.RegionAt[region]
		if !ok {
			return fmt.Errorf("a value of region %q, which is not in the catalog", region)
		}
		rows[i] = append(rows[i], packed{k | int64(r)<<40, v})
		return nil
	}, args...)
	if err != nil {
		return nil, dbError(ctx, "load values", err)
	}
	out := make(map[string]*Matrix, len(codes))
	for i, c := range codes {
		if _, done := out[c]; done {
			continue // a code listed twice: its rows carry its first place (matrixSelect's CASE)
		}
		if _, ok := s.IndicatorAt[c]; ok {
			out[c] = buildMatrix(len(s.Regions), rows[i]) // nil: no values as of that vintage
		} else {
			out[c] = nil // not an indicator of the catalog: it has no values (not indicator 0's)
		}
	}
	return out, nil
}

// buildMatrix sorts one indicator's values, in any order, into a matrix of n regions: a counting sort by
// region, then each region's few values by year.
func buildMatrix(n int, vs []packed) *Matrix {
	if len(vs) == 0 {
		return nil
	}
	m := &Matrix{Off: make([]int32, n+1), Cells: make([]Cell, len(vs))}
	for _, p := range vs {
		m.Off[p.key>>40+1]++
	}
	for r := range n {
		m.Off[r+1] += m.Off[r]
	}
	next := slices.Clone(m.Off[:n])
	for _, p := range vs {
		r := p.key >> 40
		m.Cells[next[r]] = Cell{Year: int32(p.key>>8&0xffffffff - 2147483648), Flags: analytics.FlagSet(p.key & 0xff), Value: p.value}
		next[r]++
	}
	for r := range n {
		cs := m.Cells[m.Off[r]:m.Off[r+1]]
		if !slices.IsSortedFunc(cs, byYear) {
			slices.SortFunc(cs, byYear)
		}
	}
	return m
}

func byYear(a, b Cell) int { return cmp.Compare(a.Year, b.Year) }
