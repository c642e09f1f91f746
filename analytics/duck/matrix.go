package duck

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"pacesetter/analytics"
)

// A matrix holds one indicator's values by region and year, with their flags, in memory. Rankings,
// standings and trends touch a few thousand numbers each; DuckDB takes longer to plan a query than Go takes
// to rank them, so the values are read once per dataset version (and vintage) and kept, bounded in bytes.
// DuckDB stays the store and runs what is set-based over many rows: import, observations, and the load.
//
// Storage follows the values, not the span of years: each region's values sit together, sorted by year,
// so a region with one value in year 1 and one in 2024 costs two cells, not 2,024.
type matrix struct {
	off   []int32 // region r's cells are cells[off[r]:off[r+1]]
	cells []cell
}

type cell struct {
	year  int32
	flags analytics.FlagSet
	value float64
}

// get is the value of region r (its position in the snapshot) in year y.
func (m *matrix) get(r, y int) (float64, analytics.FlagSet, bool) {
	if m == nil {
		return 0, 0, false
	}
	cs := m.cells[m.off[r]:m.off[r+1]]
	i, ok := slices.BinarySearchFunc(cs, int32(y), func(c cell, y int32) int { return int(c.year - y) })
	if !ok {
		return 0, 0, false
	}
	return cs[i].value, cs[i].flags, true
}

func (m *matrix) bytes() int64 {
	if m == nil {
		return 96
	}
	return int64(len(m.cells)*16+len(m.off)*4) + 96
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

// matrixCache keeps matrices by snapshot, indicator and vintage, the least recently used going first once
// they hold more than maxBytes together; concurrent loads of the same matrices run once.
type matrixCache struct {
	mu       sync.Mutex
	lru      *lru.Cache[string, *matrix]
	bytes    int64
	maxBytes int64
	loads    singleflight.Group
}

func newMatrixCache(maxBytes int64) *matrixCache {
	c := &matrixCache{maxBytes: maxBytes}
	c.lru, _ = lru.NewWithEvict(1<<20, func(_ string, m *matrix) { c.bytes -= m.bytes() })
	return c
}

func (c *matrixCache) get(key string) (*matrix, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

func (c *matrixCache) add(key string, m *matrix) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Contains(key) {
		return
	}
	c.lru.Add(key, m)
	c.bytes += m.bytes()
	for c.bytes > c.maxBytes && c.lru.Len() > 1 {
		c.lru.RemoveOldest()
	}
}

// vintage is the release a request reads: "" for the newest values, else the last vintage of the dataset
// released by asOf ("0" when none was), so every date between two releases shares one load of values.
func (s *snapshot) vintage(asOf *analytics.Date) string {
	if asOf == nil {
		return ""
	}
	i, found := slices.BinarySearch(s.vintages, *asOf)
	switch {
	case found:
		i++
	case i == len(s.vintages):
		return "" // after the last release: the newest values
	}
	if i == 0 {
		return "0"
	}
	return string(s.vintages[i-1])
}

// checkAsOf refuses asOf on a dataset without release dates: it could not tell what was known when.
func (s *snapshot) checkAsOf(asOf *analytics.Date) error {
	if asOf != nil && len(s.vintages) == 0 {
		return analytics.Errorf(analytics.BadUserInput, "asOf needs release dates, and this dataset gives none (observations.csv has no vintage column): leave asOf out")
	}
	return nil
}

func matrixKey(s *snapshot, code, vintage string) string {
	return s.key + "|" + code + "|" + vintage
}

// matrices returns the matrix of each indicator in codes (nil for one without values), loading the ones not
// kept in one query.
func (e *Engine) matrices(ctx context.Context, s *snapshot, asOf *analytics.Date, codes ...string) (map[string]*matrix, error) {
	v := s.vintage(asOf)
	out := make(map[string]*matrix, len(codes))
	var missing []string
	for _, c := range codes {
		if m, ok := e.matrixCache.get(matrixKey(s, c, v)); ok {
			out[c] = m
		} else {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	// A load is shared by every request that needs it while it runs: it runs to its end (at most maxLoad)
	// even if the request that started it leaves, and each request waits only as long as its own deadline.
	flight := matrixKey(s, strings.Join(missing, "\x00"), v)
	done := e.matrixCache.loads.DoChan(flight, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxLoad)
		defer cancel()
		return e.loadMatrices(lctx, s, v, missing)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-done:
		if res.Err != nil {
			return nil, res.Err
		}
		for c, m := range res.Val.(map[string]*matrix) {
			out[c] = m
		}
		return out, nil
	}
}

// maxLoad bounds a shared load of values, which no single request's deadline does.
const maxLoad = time.Minute

// loadMatrices reads the values of the indicators in codes (all of them in one query) as of a vintage.
func (e *Engine) loadMatrices(ctx context.Context, s *snapshot, vintage string, codes []string) (map[string]*matrix, error) {
	want := map[int]string{}
	for _, c := range codes {
		want[s.indicatorAt[c]] = c
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
	out := map[string]*matrix{}
	var cur *matrix
	curInd, lastReg := -1, -1
	// off[r] is where region r starts: set for every region up to the one a row belongs to, and at the end
	// for the regions after the last one with a value.
	finish := func() {
		if cur != nil {
			for r := lastReg + 1; r <= len(s.regions); r++ {
				cur.off[r] = int32(len(cur.cells))
			}
			cur.cells = slices.Clip(cur.cells)
		}
	}
	// Rows come by indicator, region and year: each matrix is filled in order.
	err := e.each(ctx, query+matrixOrder, func(rows *sql.Rows) error {
		var ind, reg, year int
		var c cell
		if err := rows.Scan(&ind, &reg, &year, &c.value, &c.flags); err != nil {
			return err
		}
		if _, ok := want[ind]; !ok {
			return nil
		}
		if ind != curInd {
			finish()
			cur = &matrix{off: make([]int32, len(s.regions)+1)}
			out[want[ind]], curInd, lastReg = cur, ind, -1
		}
		for r := lastReg + 1; r <= reg; r++ {
			cur.off[r] = int32(len(cur.cells))
		}
		lastReg = reg
		c.year = int32(year)
		cur.cells = append(cur.cells, c)
		return nil
	}, args...)
	if err != nil {
		return nil, dbError(ctx, "load values", err)
	}
	finish()
	for _, c := range codes {
		m := out[c] // nil for an indicator without values as of that vintage
		e.matrixCache.add(matrixKey(s, c, vintage), m)
		out[c] = m
	}
	return out, nil
}
