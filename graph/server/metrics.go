package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"pacesetter/analytics"
	"pacesetter/analytics/query"
	"pacesetter/graph"
)

// Observability in one place: Prometheus metrics on a registry of the server's own (so tests read theirs),
// the access log, and request IDs. The engine reports its statements and answer-cache look-ups through
// query.Observer, which *Metrics implements.

// Metrics are the server's Prometheus metrics. Give the same *Metrics to query.Options.Observer and to
// Options.Metrics so that DuckDB's time and the answer cache show up beside the requests.
type Metrics struct {
	Registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	cache      *prometheus.CounterVec
	statements prometheus.Histogram
	rows       *prometheus.CounterVec
	loads      *prometheus.HistogramVec
	exportsCut *prometheus.CounterVec
	tracer     atomic.Value // a trace.Tracer once a handler traces (trace.go); unset: no statement spans
}

var _ query.Observer = (*Metrics)(nil)

// NewMetrics registers the metrics, and Go's and the process's, on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pacesetter_requests_total",
		Help: "HTTP requests by handler, GraphQL operation (its root fields, sorted) and outcome code (OK or the first error's extensions.code)."},
		[]string{"handler", "operation", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pacesetter_request_duration_seconds",
		Help:    "Time from a request's arrival to the end of its answer, by handler and operation.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
		[]string{"handler", "operation"})
	m.cache = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pacesetter_cache_lookups_total",
		Help: "Look-ups in the response cache (whole answers) and the engine's answer cache, by result (hit or miss)."},
		[]string{"cache", "result"})
	m.statements = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "pacesetter_duckdb_query_duration_seconds",
		Help:    "Time of each DuckDB statement the engine runs while serving, rows read included.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}})
	m.rows = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pacesetter_rows_served_total",
		Help: "Rows served: observations in pages of the observations connection (an export's pages included), and rows written to exported files."},
		[]string{"kind"})
	m.loads = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pacesetter_dataset_load_duration_seconds",
		Help:    "Time to load the dataset served: at start (kind initial: the embedded dataset imported into memory, or the --db file opened) and on each reload of a new snapshot (kind reload), by outcome (ok or error; a reload that fails keeps the old snapshot).",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)},
		[]string{"kind", "outcome"})
	m.exportsCut = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pacesetter_exports_cut_total",
		Help: "Exports broken off after their answer had begun, by reason: shutdown (the --shutdown-grace ran out), client (it went away) or error."},
		[]string{"reason"})
	m.Registry.MustRegister(m.requests, m.latency, m.cache, m.statements, m.rows, m.loads, m.exportsCut,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// Statement times one DuckDB statement (query.Observer), and traces it when tracing is on (trace.go).
func (m *Metrics) Statement(ctx context.Context, sql string) (context.Context, func(error)) {
	start := time.Now()
	end := func(error) {}
	if t, ok := m.tracer.Load().(trace.Tracer); ok {
		ctx, end = statementSpan(ctx, t, sql)
	}
	return ctx, func(err error) {
		m.statements.Observe(time.Since(start).Seconds())
		end(err)
	}
}

// AnswerCache counts a look-up in the engine's answer cache (query.Observer).
func (m *Metrics) AnswerCache(hit bool) { m.cacheLookup("answer", hit) }

// Load kinds for DatasetLoaded.
const (
	LoadInitial = "initial" // the dataset loaded at start
	LoadReload  = "reload"  // a new snapshot switched to while serving
)

// DatasetLoaded records the time a load of the dataset took (kind LoadInitial or LoadReload) and whether it
// failed (err not nil).
func (m *Metrics) DatasetLoaded(kind string, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.loads.WithLabelValues(kind, outcome).Observe(d.Seconds())
}

func (m *Metrics) cacheLookup(cache string, hit bool) {
	if m == nil { // Options.NoMetrics
		return
	}
	result := "miss"
	if hit {
		result = "hit"
	}
	m.cache.WithLabelValues(cache, result).Inc()
}

// handler serves /metrics in Prometheus's text format.
func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// requestInfo is what the layers of a request learn about it for its log line and metrics: gqlgen the
// operation and the outcome code, the response cache a hit.
type requestInfo struct {
	mu        sync.Mutex
	id        string
	operation string
	code      string
	metrics   *Metrics
}

type requestInfoKey struct{}

func infoOf(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

// setCode keeps the first error's code: it is what the request failed of.
func (ri *requestInfo) setCode(code string) {
	if ri == nil {
		return
	}
	ri.mu.Lock()
	if ri.code == "" {
		ri.code = code
	}
	ri.mu.Unlock()
}

func (ri *requestInfo) setOperation(op string) {
	if ri == nil {
		return
	}
	ri.mu.Lock()
	ri.operation = op
	ri.mu.Unlock()
}

func (ri *requestInfo) get() (op, code string) {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return ri.operation, ri.code
}

// countRows adds rows served of a kind (observations, export) to the request's metrics.
func countRows(ctx context.Context, kind string, n int) {
	infoOf(ctx).CountRows(kind, n)
}

// CountRows adds n rows served of a kind to the request's metrics: it is the graph.RowCounter that observe
// sets for the resolvers, which count the observations they serve.
func (ri *requestInfo) CountRows(kind string, n int) {
	if ri != nil && ri.metrics != nil && n > 0 {
		ri.metrics.rows.WithLabelValues(kind).Add(float64(n))
	}
}

// maxOperationFields bounds the operation label: an operation of more root fields is "several", so that
// dashboards' many combinations do not make a series each.
const maxOperationFields = 3

// operationName names an operation by its distinct root fields, sorted and joined by "+": validation has
// run, so they are fields of the schema, and the label's values are bounded.
func operationName(ctx context.Context) string {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil {
		return "none"
	}
	seen := map[string]bool{}
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, nil) {
		seen[f.Name] = true
	}
	if len(seen) > maxOperationFields {
		return "several"
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "+")
}

// codeOfStatus is the outcome of an answer no GraphQL error named: the layers in front of gqlgen (tokens,
// rate limits, admission) answer with these statuses and codes.
func codeOfStatus(status int) string {
	switch {
	case status < 400:
		return "OK"
	case status == http.StatusUnauthorized:
		return analytics.Unauthenticated
	case status == http.StatusTooManyRequests:
		return analytics.RateLimited
	case status == http.StatusServiceUnavailable:
		return analytics.Overloaded
	case status < 500:
		return analytics.BadUserInput
	}
	return analytics.Internal
}

// requestID is the client's X-Request-ID when it is short and plain (so it can go into a log line and a
// header as it is), else a new random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-ID"); id != "" && len(id) <= 64 && strings.IndexFunc(id, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':')
	}) < 0 {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// observe wraps the whole handler: a request ID echoed in X-Request-ID, then, once answered, one access log
// line (if log is not nil) and the request's metrics.
func observe(next http.Handler, m *Metrics, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{id: requestID(r), metrics: m}
		w.Header().Set("X-Request-ID", ri.id)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		aborted := true // until ServeHTTP returns: an export broken off mid-file panics with http.ErrAbortHandler
		defer func() {
			took := time.Since(start)
			op, code := ri.get()
			switch {
			case aborted:
				code = "ABORTED"
			case code == "":
				code = codeOfStatus(sw.status)
			}
			handler := handlerName(r.URL.Path)
			if m != nil && (handler == "graphql" || handler == "export") {
				if op == "" {
					op = "none"
				}
				m.requests.WithLabelValues(handler, op, code).Inc()
				m.latency.WithLabelValues(handler, op).Observe(took.Seconds())
			}
			if log != nil {
				log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.Int("status", sw.status), slog.Duration("duration", took), slog.Int64("bytes", sw.bytes),
					slog.String("operation", op), slog.String("code", code), slog.String("request_id", ri.id))
			}
		}()
		next.ServeHTTP(sw, r.WithContext(graph.WithRowCounter(context.WithValue(r.Context(), requestInfoKey{}, ri), ri)))
		aborted = false
	})
}

// handlerName is the label of a path: the API's two endpoints by name, everything else as "other".
func handlerName(path string) string {
	switch path {
	case "/graphql":
		return "graphql"
	case "/export":
		return "export"
	}
	return "other"
}

// statusWriter notes the status and the bytes of an answer on their way to the client.
type statusWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer (exports flush page by page).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a flush on, for the writers that look for http.Flusher directly.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
