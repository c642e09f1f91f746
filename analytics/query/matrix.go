package query

import (
	"context"
	"maps"
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
	read := func(ctx context.Context) (map[string]*duck.Matrix, error) {
		return e.reader.Values(ctx, s.Catalog, v, missing)
	}
	key := func(c string) string { return matrixKey(s, c, v) }
	if err := e.load(ctx, missing, matrixKey(s, strings.Join(missing, "\x00"), v), key, read, out); err != nil {
		return nil, err
	}
	return out, nil
}

// load reads the matrices of codes with read, in one statement, keeps each under key(code) in the matrix
// cache and adds it to out; or joins the load of the same flight running. A load is shared by every request
// that needs it while it runs, and runs to its end (at most maxLoad) even if the request that started it
// leaves; each request waits only as long as its own deadline.
func (e *Engine) load(ctx context.Context, codes []string, flight string, key func(code string) string,
	read func(context.Context) (map[string]*duck.Matrix, error), out map[string]*duck.Matrix) error {
	done := e.tracked(e.matrixCache.loads.DoChan(flight, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxLoad)
		defer cancel()
		ms, err := read(lctx)
		if err != nil {
			return nil, err
		}
		for _, c := range codes {
			e.matrixCache.add(key(c), ms[c])
		}
		return ms, nil
	}))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case res := <-done:
		if res.Err != nil {
			return res.Err
		}
		maps.Copy(out, res.Val.(map[string]*duck.Matrix))
		return nil
	}
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

// matricesWindow is matrices for a request that reads the values of codes in the periods from to to
// (ordinals, a whole number of years apart) and no others: a ranking or a composite of a given period, say.
// An indicator whose values are not in memory is read for those periods' years alone (a ranking's 3 years
// of 20: 0.6 ms against 1.0 ms for all, the floor's one year 0.9 ms; of a monthly or quarterly indicator
// only that month or quarter of each year), kept for the requests of the same periods; a request of other
// periods loads its whole matrix. The whole load is not started beside the window's: on two cores it would
// contend with the requests that follow (a first touch right after another took 2.6 ms instead of 1.2 ms),
// and the warm-ups at start and before a reload load whole matrices anyway. Formulas, and reads as of an
// earlier vintage, take whole matrices.
func (e *Engine) matricesWindow(ctx context.Context, s *snapshot, asOf *analytics.Date, codes []string, from, to int) (map[string]*duck.Matrix, error) {
	v := s.vintage(asOf)
	if v != "" {
		return e.matrices(ctx, s, asOf, codes...)
	}
	out := make(map[string]*duck.Matrix, len(codes))
	var whole, need []string
	fy, ty, period := 0, 0, 0
	for _, c := range codes {
		in := s.IndicatorBy[c]
		if _, done := out[c]; done || slices.Contains(whole, c) || slices.Contains(need, c) {
			continue
		}
		if in == nil { // a formula: its operands' whole matrices
			whole = append(whole, c)
			continue
		}
		key := matrixKey(s, c, v)
		if m, ok := e.matrixCache.get(key); ok {
			out[c] = m
			continue
		}
		// Of a monthly or quarterly indicator, periods a whole number of years apart are the same month
		// or quarter of each year: its rows alone (a monthly ranking's 3 months, not 36).
		wy, wt, wp := calYear(in, from), calYear(in, to), 0
		if per := in.PerYear(); per > 1 && (to-from)%per == 0 {
			wp = in.Period(to).Sub
		}
		// One window an indicator: the requests of periods within it share it (ten group rankings of one
		// year at once, a composite's year and the year before), any other loads the whole.
		w := window{wy, wt, wp}
		if first, again := s.windows.LoadOrStore(c, w); again {
			if f := first.(window); f.period == wp && f.from <= wy && wt <= f.to {
				w = f
			} else {
				whole = append(whole, c)
				continue
			}
		}
		if m, ok := e.matrixCache.get(windowKey(s, c, w.from, w.to, w.period, v)); ok {
			out[c] = m
			continue
		}
		if len(need) > 0 && w != (window{fy, ty, period}) { // indicators of several frequencies or windows
			whole = append(whole, c)
			continue
		}
		fy, ty, period = w.from, w.to, w.period
		need = append(need, c)
	}
	if len(whole) > 0 {
		ms, err := e.matrices(ctx, s, asOf, whole...)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, ms)
	}
	if len(need) == 0 {
		return out, nil
	}
	read := func(ctx context.Context) (map[string]*duck.Matrix, error) {
		return e.reader.ValuesWindow(ctx, s.Catalog, v, need, fy, ty, period)
	}
	key := func(c string) string { return windowKey(s, c, fy, ty, period, v) }
	if err := e.load(ctx, need, windowKey(s, strings.Join(need, "\x00"), fy, ty, period, v), key, read, out); err != nil {
		return nil, err
	}
	return out, nil
}

// window is the years from to to of one indicator's values held before its whole matrix (of one month or
// quarter of each unless period is 0).
type window struct{ from, to, period int }

// windowKey is the key of a window's matrix: the indicator's values of the years from to to (of one month or
// quarter of each unless period is 0).
func windowKey(s *snapshot, code string, from, to, period int, vintage string) string {
	return matrixKey(s, code+"\x00window\x00"+strconv.Itoa(from)+"\x00"+strconv.Itoa(to)+"\x00"+strconv.Itoa(period), vintage)
}

// maxLoad bounds a shared load of values, which no single request's deadline does.
const maxLoad = time.Minute
