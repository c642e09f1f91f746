package query

import (
	"context"
	"strings"
	"time"
)

// Warm-up: after a start or a reload every indicator's values would be loaded again by the first request
// that needs them (the first touch). Warm loads them before requests need them: at start, every indicator
// in dataset order; before a reload switches, the indicators the old snapshot served most recently, newest
// first. Either way at most half the matrix cache's bound (the other half stays for what requests ask
// next), in statements of warmBatch indicators each (one statement for several: the scan is shared).

// warmBatch is how many indicators one warm-up statement loads.
const warmBatch = 16

// Hottest lists the indicators whose newest values the engine holds, the most recently used first, with
// the bytes each takes: what a reload warms in the new snapshot. An indicator of which only a window of
// years is held (matricesWindow) counts, at the dataset's mean size of an indicator.
func (e *Engine) Hottest() ([]string, []int64) {
	s := e.snap.Load()
	prefix := s.Key + "|"
	mean := s.meanMatrixBytes()
	e.matrixCache.mu.Lock()
	keys := e.matrixCache.lru.Keys() // oldest first
	var codes []string
	var sizes []int64
	seen := map[string]bool{}
	for i := len(keys) - 1; i >= 0; i-- {
		k := keys[i]
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || !strings.HasSuffix(rest, "|") { // another snapshot's, or of an asOf vintage
			continue
		}
		code := strings.TrimSuffix(rest, "|")
		size := int64(0)
		if c, _, window := strings.Cut(code, "\x00window\x00"); window {
			code, size = c, mean
		} else if strings.Contains(code, "\x00") { // a formula's
			continue
		} else {
			m, _ := e.matrixCache.lru.Peek(k)
			size = m.Bytes()
		}
		if !seen[code] {
			seen[code] = true
			codes, sizes = append(codes, code), append(sizes, size)
		}
	}
	e.matrixCache.mu.Unlock()
	return codes, sizes
}

// meanMatrixBytes is the size of an indicator's matrix with the dataset's mean count of values (as
// Matrix.Bytes counts them).
func (s *snapshot) meanMatrixBytes() int64 {
	if n := len(s.Indicators); n > 0 {
		return int64(s.Info.Observations)/int64(n)*16 + int64(len(s.Regions))*4
	}
	return 0
}

// WarmResult is what a warm-up did.
type WarmResult struct {
	Indicators int           // loaded
	Bytes      int64         // their matrices' size
	Took       time.Duration // wall time
}

// Warm loads the newest values of the indicators in codes, in that order, until their size reaches half the
// matrix cache's bound; sizes, if not nil, is each one's expected size (else the dataset's mean per
// indicator). Codes the snapshot does not know (gone in a new dataset) are skipped. The engine answers all
// along: a request for an indicator being warmed shares its load.
func (e *Engine) Warm(ctx context.Context, codes []string, sizes []int64) (WarmResult, error) {
	start := time.Now()
	s := e.snap.Load()
	budget := e.matrixCache.maxBytes / 2
	mean := s.meanMatrixBytes()
	var pick []string
	var planned int64
	for i, c := range codes {
		if _, ok := s.IndicatorBy[c]; !ok {
			continue
		}
		size := mean
		if sizes != nil {
			size = sizes[i]
		}
		if planned+size > budget {
			break
		}
		planned += size
		pick = append(pick, c)
	}
	var res WarmResult
	for len(pick) > 0 {
		batch := pick[:min(warmBatch, len(pick))]
		pick = pick[len(batch):]
		ms, err := e.matrices(ctx, s, nil, batch...)
		if err != nil {
			res.Took = time.Since(start)
			return res, err
		}
		for _, m := range ms {
			res.Indicators++
			res.Bytes += m.Bytes()
		}
	}
	res.Took = time.Since(start)
	return res, nil
}

// StartWarm marks the engine warming (Warming) until WarmAll, to be run next, ends: a server's readiness
// check then says so from its start.
func (e *Engine) StartWarm() { e.warming.Store(true) }

// Warming says whether the warm-up at start is under way.
func (e *Engine) Warming() bool { return e.warming.Load() }

// WarmAll is the warm-up at start: every indicator in dataset order, within the bound.
func (e *Engine) WarmAll(ctx context.Context) (WarmResult, error) {
	defer e.warming.Store(false)
	s := e.snap.Load()
	codes := make([]string, len(s.Indicators))
	for i, in := range s.Indicators {
		codes[i] = in.Code
	}
	return e.Warm(ctx, codes, nil)
}
