package query

import (
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
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
// entryOverhead is what keeping one answer costs beyond the answer and its key: the LRU's list element and
// map slot, and the sizes map's slot (measured by TestAnswerBytesMatchHeap along with the answers).
const entryOverhead = 160

func (c *answerCache) get(key string) (any, bool) { return c.lru.Get(key) }

func (c *answerCache) add(key string, v any) {
	n, ok := answerBytes(v, c.max/4)
	if !ok || n > c.max/4 {
		return // an answer of a type without a measure, or of more than a quarter of the cache, is not kept
	}
	n += int64(len(key)) + entryOverhead
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

// drop removes the answers whose keys start with prefix: a closed snapshot's.
func (c *answerCache) drop(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.lru.Keys() {
		if strings.HasPrefix(k, prefix) {
			c.lru.Remove(k) // the eviction subtracts its bytes
		}
	}
}
