package query

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"pacesetter/analytics"
	"pacesetter/analytics/duck"

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
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-e.startLoad(ctx, s, v, missing):
		if res.Err != nil {
			return nil, res.Err
		}
		for c, m := range res.Val.(map[string]*duck.Matrix) {
			out[c] = m
		}
		return out, nil
	}
}

// startLoad starts the load of the matrices of codes as of vintage v, or joins the one running: a load is
// shared by every request that needs it while it runs, and runs to its end (at most maxLoad) even if the
// request that started it leaves; each request waits only as long as its own deadline. Its result is a
// map[string]*duck.Matrix.
func (e *Engine) startLoad(ctx context.Context, s *snapshot, v string, codes []string) <-chan singleflight.Result {
	flight := matrixKey(s, strings.Join(codes, "\x00"), v)
	return e.tracked(e.matrixCache.loads.DoChan(flight, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxLoad)
		defer cancel()
		ms, err := e.reader.Values(lctx, s.Catalog, v, codes)
		if err != nil {
			return nil, err
		}
		for _, c := range codes {
			e.matrixCache.add(matrixKey(s, c, v), ms[c])
		}
		return ms, nil
	}))
}

// tracked is ch, counted in e.loads until its load has ended and kept what it read.
func (e *Engine) tracked(ch <-chan singleflight.Result) <-chan singleflight.Result {
	e.loads.Add(1)
	out := make(chan singleflight.Result, 1)
	go func() {
		res := <-ch
		e.loads.Done()
		out <- res
	}()
	return out
}

// matricesWindow is matrices for a request that reads one indicator's values of the periods from to to
// (ordinals) and no others, a ranking of a given year, say. The first such request of an indicator whose
// values are not in memory is answered from a load of those periods' years alone (a ranking's 3 years of
// 20: 0.6 ms against 1.0 ms for all, the floor's one year 0.9 ms), kept for the requests of the same years;
// a request of other years loads the whole matrix. The whole load is not started beside the window's: on
// two cores it would contend with the requests that follow (a first touch right after another took 2.6 ms
// instead of 1.2 ms), and the warm-ups at start and before a reload load whole matrices anyway.
func (e *Engine) matricesWindow(ctx context.Context, s *snapshot, asOf *analytics.Date, code string, from, to int) (map[string]*duck.Matrix, error) {
	in := s.IndicatorBy[code]
	v := s.vintage(asOf)
	if in == nil || v != "" { // a formula (its operands' whole matrices), or an earlier vintage
		return e.matrices(ctx, s, asOf, code)
	}
	key := matrixKey(s, code, v)
	if m, ok := e.matrixCache.get(key); ok {
		return map[string]*duck.Matrix{code: m}, nil
	}
	fy, ty := calYear(in, from), calYear(in, to)
	// Of a monthly or quarterly indicator, periods a whole number of years apart are the same month or
	// quarter of each year: its rows alone (a monthly ranking's 3 months, not 36).
	period := 0
	if per := in.PerYear(); per > 1 && (to-from)%per == 0 {
		period = in.Period(to).Sub
	}
	wkey := windowKey(s, code, fy, ty, period, v)
	if m, ok := e.matrixCache.get(wkey); ok {
		return map[string]*duck.Matrix{code: m}, nil
	}
	// One window an indicator: the requests of its years share it (ten group rankings of one year at once),
	// any other loads the whole.
	if first, again := e.windows.LoadOrStore(key, wkey); again && first != wkey {
		return e.matrices(ctx, s, asOf, code)
	}
	part := e.tracked(e.matrixCache.loads.DoChan(wkey, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxLoad)
		defer cancel()
		m, err := e.reader.ValuesWindow(lctx, s.Catalog, v, code, fy, ty, period)
		if err != nil {
			return nil, err
		}
		e.matrixCache.add(wkey, m)
		return m, nil
	}))
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-part:
		if res.Err != nil {
			return nil, res.Err
		}
		return map[string]*duck.Matrix{code: res.Val.(*duck.Matrix)}, nil
	}
}

// windowKey is the key of a window's matrix: the indicator's values of the years from to to (of one month or
// quarter of each unless period is 0).
func windowKey(s *snapshot, code string, from, to, period int, vintage string) string {
	return matrixKey(s, code+"\x00window\x00"+strconv.Itoa(from)+"\x00"+strconv.Itoa(to)+"\x00"+strconv.Itoa(period), vintage)
}

// maxLoad bounds a shared load of values, which no single request's deadline does.
const maxLoad = time.Minute
