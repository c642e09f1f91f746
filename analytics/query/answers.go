package query

import (
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"pacesetter/analytics"
)

// answerCache keeps computed answers (rankings, standings, trends, aggregates) keyed by the dataset and the
// question, bounded in bytes rather than entries: one ranking of every region of a large dataset weighs as
// much as a thousand rankings of a peer group. Identical questions asked at once are computed once.
type answerCache struct {
	mu     sync.Mutex
	lru    *lru.Cache[string, any]
	sizes  map[string]int64
	bytes  int64
	max    int64
	flight singleflight.Group
}

func newAnswerCache(entries int, maxBytes int64) *answerCache {
	c := &answerCache{sizes: map[string]int64{}, max: maxBytes}
	c.lru, _ = lru.NewWithEvict(entries, func(key string, _ any) { // entries > 0: New cannot fail
		c.bytes -= c.sizes[key]
		delete(c.sizes, key)
	})
	return c
}

// get needs no lock of its own: the LRU is safe for concurrent use, and only add's evictions touch the sizes.
func (c *answerCache) get(key string) (any, bool) { return c.lru.Get(key) }

func (c *answerCache) add(key string, v any) {
	n := answerBytes(v)
	if n > c.max/4 {
		return // one answer never takes more than a quarter of the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Contains(key) {
		return
	}
	c.lru.Add(key, v) // may evict the oldest, which subtracts its size
	c.sizes[key] = n
	c.bytes += n
	for c.bytes > c.max {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// answerBytes estimates what an answer holds in memory: its entries, which dominate, at what their structs
// and the strings and pointers they own take. Regions and indicators are the snapshot's, shared, not counted.
func answerBytes(v any) int64 {
	const base = 256
	switch a := v.(type) {
	case *analytics.Ranking:
		return base + int64(len(a.Entries))*(176+24) + int64(len(a.Missing))*8
	case *analytics.Standings:
		n := int64(base) + int64(len(a.Entries))*(160+24+2*48) + int64(len(a.Entered)+len(a.Left)+len(a.Missing))*8
		for _, e := range a.Entries {
			n += int64(len(e.Ranked)) * 8 // held for moveToTop
		}
		return n
	case *analytics.Comparison:
		return base + int64(len(a.Rows))*(120+3*8+24) + int64(len(a.Leaders))*56 + int64(len(a.Leads))*32 +
			int64(len(a.Gaps))*(104+16) + int64(len(a.Regions)+len(a.Indicators))*8
	case *analytics.Trend:
		return base + int64(len(a.Points))*(144+24+16)
	case *analytics.Aggregate:
		return base + int64(len(a.Rows))*(200+8) + int64(len(a.Cursors))*40 + int64(len(a.Warnings))*96
	case *analytics.Pivot:
		n := int64(base)
		for _, r := range a.Rows {
			n += 96 + int64(len(r.Cells))*16
		}
		return n + int64(len(a.Columns))*24
	}
	return 4 << 10
}
