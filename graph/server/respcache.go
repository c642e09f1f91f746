package server

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"

	"pacesetter/analytics"
)

// Most of the cost of a large answer is not the query but turning it into GraphQL JSON (gqlgen marshals
// each list element in a goroutine of its own). Dashboards send the same requests again and again, and the
// data cannot change under a dataset version, so whole answers are kept: keyed by the dataset version and
// everything the answer depends on (method, URL query, Accept, Content-Type, body).

const (
	maxCachedRequest  = 64 << 10 // larger requests are answered, not cached
	maxCachedResponse = 4 << 20  // nor larger answers (nor any over a quarter of the cache's bytes)
	maxCachedBytes    = 64 << 20 // all kept answers together by default; the oldest go first
	// responseOverhead is what keeping an answer costs beyond its body: the LRU's element and map slot, the
	// key, the content type and operation strings.
	responseOverhead = 256
)

type cachedResponse struct {
	contentType string
	body        []byte
	operation   string // for the metrics and log line of a hit, which gqlgen never sees
}

func (v cachedResponse) size() int64 { return int64(cap(v.body)) + responseOverhead }

type responseCache struct {
	engine  analytics.Engine
	metrics *Metrics
	next    http.Handler
	lru     *lru.Cache[[32]byte, cachedResponse]
	bytes   atomic.Int64 // what the answers kept take: their bodies and responseOverhead each
	max     int64

	// Identical requests that miss at once are computed once: the first computes, the others wait for its
	// answer (or their own deadline) and are served it as a hit; when it cannot be kept (an error, a timeout,
	// too long), each computes its own.
	mu      sync.Mutex
	flights map[[32]byte]*flight
}

// flight is one request being computed for the requests identical to it that wait.
type flight struct {
	done chan struct{}
	resp cachedResponse
	ok   bool // resp may be served
}

func newResponseCache(engine analytics.Engine, entries int, maxBytes int64, m *Metrics, next http.Handler) http.Handler {
	if entries <= 0 {
		return next
	}
	if maxBytes <= 0 {
		maxBytes = maxCachedBytes
	}
	rc := &responseCache{engine: engine, metrics: m, next: next, max: maxBytes}
	c, err := lru.NewWithEvict(entries, func(_ [32]byte, v cachedResponse) { rc.bytes.Add(-v.size()) })
	if err != nil {
		panic(err) // entries > 0, the only way New fails
	}
	rc.lru = c
	return rc
}

func (c *responseCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		c.next.ServeHTTP(w, r)
		return
	}
	// limitBody, in front, has read the body (at most MaxRequestBytes) into memory already.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "cannot read the request body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) > maxCachedRequest {
		c.next.ServeHTTP(w, r)
		return
	}
	info, err := c.engine.Dataset(r.Context())
	if err != nil {
		c.next.ServeHTTP(w, r)
		return
	}
	h := sha256.New()
	for _, part := range []string{info.Version, info.ImportedAt.String(), r.Method, r.URL.RawQuery, r.Header.Get("Accept"), r.Header.Get("Content-Type"), string(body)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	var key [32]byte
	h.Sum(key[:0])
	ri := infoOf(r.Context())
	serve := func(hit cachedResponse) {
		c.metrics.cacheLookup("response", true)
		ri.setOperation(hit.operation)
		w.Header().Set("Content-Type", hit.contentType)
		w.Header().Set("X-Cache", "hit")
		_, _ = w.Write(hit.body)
	}
	if hit, ok := c.lru.Get(key); ok {
		serve(hit)
		return
	}
	c.mu.Lock()
	if f, ok := c.flights[key]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			if f.ok {
				serve(f.resp)
				return
			}
		case <-r.Context().Done():
			// Its own deadline has passed: next answers that as it answers any late request.
		}
	} else {
		f = &flight{done: make(chan struct{})}
		if c.flights == nil {
			c.flights = map[[32]byte]*flight{}
		}
		c.flights[key] = f
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			delete(c.flights, key)
			c.mu.Unlock()
			close(f.done)
		}()
		c.serveAndKeep(w, r, key, ri, f)
		return
	}
	c.serveAndKeep(w, r, key, ri, nil)
}

// serveAndKeep computes a request that missed and keeps its answer if it may be kept, also in f (if not
// nil) for the identical requests waiting on it.
func (c *responseCache) serveAndKeep(w http.ResponseWriter, r *http.Request, key [32]byte, ri *requestInfo, f *flight) {
	c.metrics.cacheLookup("response", false)
	rec := &recorder{ResponseWriter: w, status: http.StatusOK, max: min(maxCachedResponse, int(c.max/4))}
	c.next.ServeHTTP(rec, r)
	// Only complete, error-free answers are kept: an error may be a timeout, which must not stick. A body
	// that merely contains the text (an alias named errors) is not kept either, which is only a lost hit.
	if rec.status == http.StatusOK && !rec.overflow && rec.buf.Len() > 0 && !bytes.Contains(rec.buf.Bytes(), []byte(`"errors":`)) &&
		r.Context().Err() == nil {
		body := bytes.Clone(rec.buf.Bytes())
		var op string
		if ri != nil {
			op, _ = ri.get()
		}
		resp := cachedResponse{contentType: w.Header().Get("Content-Type"), body: body, operation: op}
		if f != nil {
			f.resp, f.ok = resp, true
		}
		if found, _ := c.lru.ContainsOrAdd(key, resp); !found {
			c.bytes.Add(resp.size())
		}
		for c.bytes.Load() > c.max {
			if _, _, ok := c.lru.RemoveOldest(); !ok {
				break
			}
		}
	}
}

// recorder passes an answer through to the client and keeps a copy of it, up to max bytes.
type recorder struct {
	http.ResponseWriter
	status   int
	max      int
	buf      bytes.Buffer
	overflow bool
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.overflow {
		if r.buf.Len()+len(b) > r.max {
			r.overflow = true
			r.buf = bytes.Buffer{}
		} else {
			r.buf.Write(b)
		}
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
