package query

import (
	"context"
	"pacesetter/analytics"
	"pacesetter/analytics/duck"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// matrixCache keeps matrices by snapshot, indicator and vintage, the least recently used going first once
// they hold more than maxBytes together; concurrent loads of the same matrices run once.
type matrixCache struct {
	mu       sync.Mutex
	lru      *lru.Cache[string, *duck.Matrix]
	bytes    int64
	maxBytes int64
	peak     int64 // the most bytes held at once
	loads    singleflight.Group
}

func newMatrixCache(maxBytes int64) *matrixCache {
	c := &matrixCache{maxBytes: maxBytes}
	c.lru, _ = lru.NewWithEvict(1<<20, func(_ string, m *duck.Matrix) { c.bytes -= m.Bytes() })
	return c
}

func (c *matrixCache) get(key string) (*duck.Matrix, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

func (c *matrixCache) add(key string, m *duck.Matrix) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Contains(key) {
		return
	}
	c.lru.Add(key, m)
	c.bytes += m.Bytes()
	for c.bytes > c.maxBytes && c.lru.Len() > 1 {
		c.lru.RemoveOldest()
	}
	c.peak = max(c.peak, c.bytes)
}

// drop removes the matrices whose keys start with prefix: a closed snapshot's.
func (c *matrixCache) drop(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.lru.Keys() {
		if strings.HasPrefix(k, prefix) {
			c.lru.Remove(k) // the eviction subtracts its bytes
		}
	}
}

// held is the bytes held now and the most held at once.
func (c *matrixCache) held() (now, peak int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, c.peak
}

// vintage is the release a request reads: "" for the newest values, else the last vintage of the dataset
// released by asOf ("0" when none was), so every date between two releases shares one load of values.
func (s *snapshot) vintage(asOf *analytics.Date) string {
	if asOf == nil {
		return ""
	}
	i, found := slices.BinarySearch(s.Vintages, *asOf)
	switch {
	case found:
		i++
	case i == len(s.Vintages):
		return "" // after the last release: the newest values
	}
	if i == 0 {
		return "0"
	}
	return string(s.Vintages[i-1])
}

// checkAsOf refuses asOf on a dataset without release dates: it could not tell what was known when.
func (s *snapshot) checkAsOf(asOf *analytics.Date) error {
	if asOf != nil && len(s.Vintages) == 0 {
		return analytics.Errorf(analytics.BadUserInput, "asOf needs release dates, and this dataset gives none (observations.csv has no vintage column): leave asOf out")
	}
	return nil
}

func matrixKey(s *snapshot, code, vintage string) string {
	return s.Key + "|" + code + "|" + vintage
}

// loadMatrices returns the matrix of each indicator of the dataset in codes (nil for one without values),
// loading the ones not kept in one query (matrices adds formulas).
func (e *Engine) loadMatrices(ctx context.Context, s *snapshot, asOf *analytics.Date, codes ...string) (map[string]*duck.Matrix, error) {
	v := s.vintage(asOf)
	out := make(map[string]*duck.Matrix, len(codes))
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
		ms, err := e.reader.Values(lctx, s.Catalog, v, missing)
		if err != nil {
			return nil, err
		}
		for _, c := range missing {
			e.matrixCache.add(matrixKey(s, c, v), ms[c])
		}
		return ms, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-done:
		if res.Err != nil {
			return nil, res.Err
		}
		for c, m := range res.Val.(map[string]*duck.Matrix) {
			out[c] = m
		}
		return out, nil
	}
}

// maxLoad bounds a shared load of values, which no single request's deadline does.
const maxLoad = time.Minute
