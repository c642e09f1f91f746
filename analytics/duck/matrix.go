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
// standings and trends touch a few thousand numbers each; DuckDB takes longer to plan a query than Go takes
// to rank them, so the values are read once per dataset version (and vintage) and kept, bounded in bytes.
// DuckDB stays the store and runs what is set-based over many rows: import, observations, and the load.
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

// matrixSelect is the load of the indicators codes[0…] (bound to $2…): each row's place in codes (NULL for
// a row of another indicator when named is true, else 0 for a load of one code), its key and its value.
func matrixSelect(s *Catalog, codes []string, named bool) string {
	which := "0"
	if len(codes) > 1 || named {
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
	if len(codes) == 0 {
		return map[string]*Matrix{}, nil
	}
	spans, ranged := s.spans(codes)
	ranged = ranged && vintage == "" // a vintage's QUALIFY beside a rowid filter fails in DuckDB 1.5.6 ("Failed to bind column reference")
	first, last := s.Info.Counts.Span()
	return rd.load(ctx, s, vintage, codes, spans, ranged, first, last)
}

// ValuesWindow reads one indicator's newest values of the years from to to only, as Values does, when its
// rows lie together (Catalog.Rows); ok is false when they do not, or for another vintage, and nothing was
// read. A request that reads no
// other years is answered from these while the indicator's whole load runs: the first ranking of an
// indicator in a year reads 3 of its 20 years.
func (rd *Reader) ValuesWindow(ctx context.Context, s *Catalog, vintage, code string, from, to int) (m *Matrix, ok bool, err error) {
	r, known := s.Rows[code]
	if !known || r.Apart || vintage != "" {
		return nil, false, nil
	}
	var span *RowRange
	for _, y := range r.Years {
		if y.Year < from || y.Year > to {
			continue
		}
		if span == nil {
			span = &RowRange{First: y.First, Last: y.Last}
		}
		span.Last = y.Last // the years are in order and together: the span holds every row between
	}
	if span == nil {
		return nil, true, nil // no values in those years
	}
	ms, err := rd.load(ctx, s, vintage, []string{code}, []RowRange{*span}, true, from, to)
	if err != nil {
		return nil, false, err
	}
	return ms[code], true, nil
}

// load reads the values of the indicators in codes: by the rowids in spans when ranged, else by their
// codes; first and last are the years read (each indicator's slice of rows is sized from the catalog's
// counts of them).
func (rd *Reader) load(ctx context.Context, s *Catalog, vintage string, codes []string, spans []RowRange, ranged bool, first, last int) (map[string]*Matrix, error) {
	args := []any{""}
	for _, c := range codes {
		args = append(args, c)
	}
	var filter string
	switch vintage {
	case "":
		filter = latestRows
	case "0":
		args[0] = "0001-01-01" // before every release: only undated values
		filter = releasedBy("$1")
	default:
		args[0] = vintage
		filter = releasedBy("$1")
	}
	query := ""
	if ranged {
		// One branch per span of rowids: an OR of ranges is not sought, a UNION ALL of them is. A span's
		// rows are every row of the indicators (and years) in it, so a vintage's window over a branch sees
		// all of a value's vintages.
		sel := matrixSelect(s, codes, true)
		for i, r := range spans {
			if i > 0 {
				query += " UNION ALL "
			}
			query += sel + "o.rowid BETWEEN " + strconv.FormatInt(r.First, 10) + " AND " + strconv.FormatInt(r.Last, 10) + " AND " + filter
		}
	} else {
		var in strings.Builder
		in.WriteString("o.indicator IN (")
		for i := range codes {
			if i > 0 {
				in.WriteString(", ")
			}
			in.WriteString("$" + strconv.Itoa(i+2))
		}
		in.WriteString(") AND ")
		query = matrixSelect(s, codes, false) + in.String() + filter
	}
	// Each indicator's rows in a slice as long as the catalog counts its newest values (growing one cost a
	// tenth of a load in copies).
	rows := make([][]packed, len(codes))
	for i, c := range codes {
		if n := s.Info.Counts.Values([]string{c}, first, last, 0); n > 0 && n <= 1<<24 {
			rows[i] = make([]packed, 0, n)
		}
	}
	err := rd.eachRaw(ctx, query, func(row []driver.Value) error {
		if row[0] == nil && ranged {
			return nil // another indicator's row in a span: none when the catalog's ranges are the table's
		}
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

// spans is the rowids to read for the indicators in codes, adjacent ranges merged, and whether the rows of
// every one of them lie together (Catalog.Rows); codes without rows add none.
func (s *Catalog) spans(codes []string) ([]RowRange, bool) {
	var out []RowRange
	for _, c := range codes {
		r, ok := s.Rows[c]
		if r.Apart {
			return nil, false
		}
		if ok {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, false
	}
	slices.SortFunc(out, func(a, b RowRange) int { return cmp.Compare(a.First, b.First) })
	merged := out[:1]
	for _, r := range out[1:] {
		last := &merged[len(merged)-1]
		switch {
		case r.First <= last.Last: // a code listed twice
			last.Last = max(last.Last, r.Last)
		case r.First == last.Last+1:
			last.Last = r.Last
		default:
			merged = append(merged, r)
		}
	}
	return merged, true
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
