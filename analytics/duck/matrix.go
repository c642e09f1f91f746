package duck

import (
	"context"
	"database/sql"
	"slices"

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
	i, ok := slices.BinarySearchFunc(cs, int32(y), func(c Cell, y int32) int { return int(c.Year - y) })
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
// ever joined into these queries are the ones below.
const (
	matrixSelect = `SELECT i.ord, r.ord, o.year, o.value, o.flags FROM observations o
		JOIN regions r ON r.code = o.region JOIN indicators i ON i.code = o.indicator WHERE `
	latestRows   = `o.latest AND $1 = ''`
	oneIndicator = `o.indicator = $2 AND `
	matrixOrder  = ` ORDER BY 1, 2, 3`
)

// releasedBy keeps, of each value, the newest vintage released by the date in the parameter (a value
// without a vintage counts as released before every date): the one statement of asOf, for the loads here
// and for observations.
func releasedBy(param string) string {
	return `(vintage IS NULL OR vintage <= CAST(` + param + ` AS DATE))
		QUALIFY row_number() OVER (PARTITION BY indicator, region, year ORDER BY vintage DESC NULLS LAST) = 1`
}

// Values reads the values of the indicators in codes (all of them in one query) as of a vintage: "" for the
// newest, "0" for the undated ones only, else a release date. An indicator without values then maps to nil.
func (rd *Reader) Values(ctx context.Context, s *Catalog, vintage string, codes []string) (map[string]*Matrix, error) {
	want := map[int]string{}
	for _, c := range codes {
		want[s.IndicatorAt[c]] = c
	}
	query, args := matrixSelect, []any{""}
	if len(codes) == 1 {
		query += oneIndicator
		args = append(args, codes[0])
	}
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
	out := map[string]*Matrix{}
	var cur *Matrix
	curInd, lastReg := -1, -1
	// off[r] is where region r starts: set for every region up to the one a row belongs to, and at the end
	// for the regions after the last one with a value.
	finish := func() {
		if cur != nil {
			for r := lastReg + 1; r <= len(s.Regions); r++ {
				cur.Off[r] = int32(len(cur.Cells))
			}
			cur.Cells = slices.Clip(cur.Cells)
		}
	}
	// Rows come by indicator, region and year: each matrix is filled in order.
	err := rd.each(ctx, query+matrixOrder, func(rows *sql.Rows) error {
		var ind, reg, year int
		var c Cell
		if err := rows.Scan(&ind, &reg, &year, &c.Value, &c.Flags); err != nil {
			return err
		}
		if _, ok := want[ind]; !ok {
			return nil
		}
		if ind != curInd {
			finish()
			cur = &Matrix{Off: make([]int32, len(s.Regions)+1)}
			out[want[ind]], curInd, lastReg = cur, ind, -1
		}
		for r := lastReg + 1; r <= reg; r++ {
			cur.Off[r] = int32(len(cur.Cells))
		}
		lastReg = reg
		c.Year = int32(year)
		cur.Cells = append(cur.Cells, c)
		return nil
	}, args...)
	if err != nil {
		return nil, dbError(ctx, "load values", err)
	}
	finish()
	for _, c := range codes {
		if _, ok := out[c]; !ok {
			out[c] = nil // an indicator without values as of that vintage
		}
	}
	return out, nil
}
