package duck

import (
	"context"
	"database/sql"
	"math"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"pacesetter/analytics"
)

// A matrix holds one indicator's values as regions × years, with their flags, in memory. Rankings,
// standings and trends touch a few thousand numbers each; DuckDB takes longer to plan a query than Go takes
// to rank them, so the values are read once per dataset version (and asOf date) and kept, bounded in bytes.
// DuckDB stays the store and runs what is set-based over many rows: import, observations, and the load.
type matrix struct {
	first, years int // the indicator's first year with a value, and how many years from it to its last
	val          []float64
	flg          []analytics.FlagSet
}

func newMatrix(regions, first, last int) *matrix {
	n := regions * (last - first + 1)
	m := &matrix{first: first, years: last - first + 1, val: make([]float64, n), flg: make([]analytics.FlagSet, n)}
	for i := range m.val {
		m.val[i] = math.NaN()
	}
	return m
}

// get is the value of region r (its index in the snapshot) in year y.
func (m *matrix) get(r, y int) (float64, analytics.FlagSet, bool) {
	if m == nil || y < m.first || y >= m.first+m.years {
		return 0, 0, false
	}
	i := r*m.years + y - m.first
	v := m.val[i]
	return v, m.flg[i], !math.IsNaN(v)
}

func (m *matrix) bytes() int64 {
	if m == nil {
		return 64
	}
	return int64(len(m.val)*9 + 64)
}

// The loads: the newest vintage of every value, or what had been released by a date. The only fragments
// ever joined into these queries are the ones below.
const (
	matrixSelect = `SELECT i.ord, r.ord, o.year, o.value, o.flags FROM observations o
		JOIN regions r ON r.code = o.region JOIN indicators i ON i.code = o.indicator WHERE `
	latestRows = `o.latest`
	asOfRows   = `(o.vintage IS NULL OR o.vintage <= CAST($1 AS DATE))
		QUALIFY row_number() OVER (PARTITION BY o.indicator, o.region, o.year ORDER BY o.vintage DESC NULLS LAST) = 1`
	oneIndicator = `o.indicator = $2 AND `
)

// matrixCache keeps matrices by snapshot, indicator and asOf, the least recently used going first once they
// hold more than maxBytes together.
type matrixCache struct {
	mu       sync.Mutex
	lru      *lru.Cache[string, *matrix]
	bytes    int64
	maxBytes int64
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

func matrixKey(s *snapshot, code string, asOf *analytics.Date) string {
	k := s.info.Version + "|" + s.info.ImportedAt.String() + "|" + code + "|"
	if asOf != nil {
		k += string(*asOf)
	}
	return k
}

// matrices returns the matrix of each indicator in codes (nil for one without values), loading the ones not
// kept in one query.
func (e *Engine) matrices(ctx context.Context, s *snapshot, asOf *analytics.Date, codes ...string) (map[string]*matrix, error) {
	out := make(map[string]*matrix, len(codes))
	var missing []string
	for _, c := range codes {
		if m, ok := e.matrixCache.get(matrixKey(s, c, asOf)); ok {
			out[c] = m
		} else {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	loaded := map[int]*matrix{} // by indicator position
	for _, c := range missing {
		in := s.indicatorBy[c]
		if in.FirstYear != nil {
			loaded[s.indicatorAt[c]] = newMatrix(len(s.regions), *in.FirstYear, *in.LastYear)
		}
	}
	query, args := matrixSelect, []any{""}
	if asOf != nil {
		args[0] = string(*asOf)
	}
	if len(missing) == 1 {
		query += oneIndicator
		args = append(args, missing[0])
	}
	if asOf != nil {
		query += asOfRows
	} else {
		query += latestRows + ` AND $1 = ''`
	}
	err := each(ctx, e.store.db, query, func(rows *sql.Rows) error {
		var ind, reg, year int
		var v float64
		var f uint8
		if err := rows.Scan(&ind, &reg, &year, &v, &f); err != nil {
			return err
		}
		if m := loaded[ind]; m != nil && year >= m.first && year < m.first+m.years {
			i := reg*m.years + year - m.first
			m.val[i], m.flg[i] = v, analytics.FlagSet(f)
		}
		return nil
	}, args...)
	if err != nil {
		return nil, dbError(ctx, "load values", err)
	}
	for _, c := range missing {
		m := loaded[s.indicatorAt[c]]
		e.matrixCache.add(matrixKey(s, c, asOf), m)
		out[c] = m
	}
	return out, nil
}
