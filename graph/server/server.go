// Package server serves pacesetter's GraphQL layer (package graph) over HTTP: NewHandler assembles the
// GraphQL endpoint (transports, query cache, deadlines, errors, the response cache) with what stands in front
// of it (tokens, rate limits, body limits, admission, CORS), the /export endpoint and its file writers
// (export/), GraphiQL, the dashboard and their assets, health probes, metrics, traces and the access log.
// It imports graph, never the reverse.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"

	"pacesetter/analytics"
	"pacesetter/graph"
)

// Options bound what one request may cost.
type Options struct {
	// Timeout is the most the queries of one request may take together (one deadline for every root
	// field); the deadline interrupts DuckDB mid-query. A page of an export is one request.
	Timeout time.Duration
	// Complexity is the most one operation may cost: the fields its answer can hold plus the work of each
	// query (see costed in graph/limits.go).
	Complexity int
	// ResponseCache is how many whole answers to keep for repeated requests (0: none), and
	// ResponseCacheBytes the most memory they may take together (0: 64 MiB).
	ResponseCache      int
	ResponseCacheBytes int64
	// InFlight is how many costly operations may work at once (0: no admission at all), Queue how many may
	// wait for a place in each lane, and QueueWait the longest one waits before it is refused with 503
	// (admit.go). Exports have half the cheap lane's places of their own.
	InFlight, Queue int
	QueueWait       time.Duration
	// GraphQL operations are admitted in two lanes by the cost CostLimit estimates and the work part of it
	// (admit.go, graph.CheapOperation): those costing at most CheapCost (0: graph.DefaultCheapCost, or
	// Complexity if less; −1: none, one lane for all) with work at most CheapWork (0:
	// graph.DefaultCheapWork) in a cheap lane of CheapInFlight places (0: 2 × cores, at least 4), the others
	// in a lane of InFlight places; each lane queues up to Queue. A cheap query never waits behind expensive ones.
	CheapCost, CheapWork, CheapInFlight int
	// lanes, when set (by the tests), are the lanes used instead of new ones from the fields above.
	lanes *lanes
	// RateLimit is how many requests a second each client may send (0: no limit), RateBurst how many at once
	// (ratelimit.go).
	RateLimit float64
	RateBurst int
	// GqlgenOnly turns the plain writer (graph/plain.go) off, so that gqlgen marshals every answer: for the
	// tests and benchmarks that compare the two.
	GqlgenOnly bool
	// Logger receives the detail of internal errors, which clients never see.
	Logger *slog.Logger
	// CORSOrigins are the origins (https://dashboard.example.org, or * for any) whose pages may call the API
	// from a browser; none by default, so browsers keep other origins' pages out.
	CORSOrigins []string
	// Tokens, when set, are the bearer tokens /graphql and /export require (auth.go); nil leaves them open.
	Tokens *Tokens
	// NoGraphiQL leaves the GraphiQL page at / out, and NoIntrospection turns GraphQL introspection
	// (__schema, __type) off, and the "Did you mean" suggestions of validation errors with it: for a
	// deployment that only serves known clients.
	NoGraphiQL, NoIntrospection bool
	// Metrics receives the server's metrics, served at /metrics; nil: a registry of the handler's own.
	Metrics *Metrics
	// With Tokens set, /metrics needs a token like /graphql, unless MetricsPublic leaves it open.
	MetricsPublic bool
	// NoMetrics records no metrics and serves no /metrics: only for measuring what the metrics cost. The
	// DuckDB statements' spans, which come through the metrics' query.Observer, go with them.
	NoMetrics bool
	// TracerProvider, if not nil, traces each request: the HTTP request, its root fields, and the DuckDB
	// statements they run (trace.go). nil: no tracing.
	TracerProvider trace.TracerProvider
	// AccessLog, if not nil, gets one line per request (access logs are off without it).
	AccessLog *slog.Logger
	// HSTS sends Strict-Transport-Security on every answer: for a server on HTTPS (serve --tls-cert).
	HSTS bool
	// TrustedProxies are the reverse proxies (load balancers) whose X-Forwarded-For names the client
	// (proxies.go); a request from any other peer is its own client.
	TrustedProxies []netip.Prefix
	// Drain, if not nil, is told of the server's shutdown by the command serving it (drain.go).
	Drain *Drain
	// ExportRows is how many rows an export writes unless the client asks for more with limit=N, and
	// ExportMaxRows the most it may ask for.
	ExportRows, ExportMaxRows int
}

// DefaultOptions are the serving defaults.
//
// Costly operations (a composite of every region) use every core each, and several at once only slow each
// other and starve the cheap lane of CPU: measured with pacebench lanes on 2 cores, one costly place gave
// one-group rankings a p99 of 98 ms against 696 ms with four, and more composites an hour, not fewer.
var DefaultOptions = Options{Timeout: 10 * time.Second, Complexity: 50000, ResponseCache: 512,
	InFlight: max(1, runtime.GOMAXPROCS(0)/2), Queue: 1024, QueueWait: 10 * time.Second,
	ExportRows: DefaultExportRows, ExportMaxRows: MaxExportRows}

func init() {
	// A query over the complexity limit is refused before it runs, like a validation failure: a request
	// error, so it is answered as one (no data; 400 under application/graphql-response+json).
	errcode.RegisterErrorType(analytics.QueryTooComplex, errcode.KindProtocol)
	// BAD_USER_INPUT raised before execution (the guard, graph/guard.go) is a request error too. The kind only
	// decides the status of errors raised before execution; a resolver's BAD_USER_INPUT is a field error.
	errcode.RegisterErrorType(analytics.BadUserInput, errcode.KindProtocol)
}

// NewHandler serves GraphiQL at /, the GraphQL endpoint at /graphql, /export (export.go), which runs
// queries through the same executor and writes their lists as files, and the pages' embedded assets at
// /assets/ and the dashboard at /dashboard (ui.go).
func NewHandler(engine analytics.Engine, opt Options) http.Handler {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.ExportMaxRows <= 0 {
		opt.ExportMaxRows = MaxExportRows
	}
	if opt.ExportRows <= 0 || opt.ExportRows > opt.ExportMaxRows {
		opt.ExportRows = min(DefaultExportRows, opt.ExportMaxRows)
	}
	switch {
	case opt.NoMetrics:
		opt.Metrics = nil
	case opt.Metrics == nil:
		opt.Metrics = NewMetrics()
	}
	if opt.TracerProvider != nil && opt.Metrics != nil {
		opt.Metrics.tracer.Store(opt.TracerProvider.Tracer(tracerName))
	}
	mux := http.NewServeMux()
	srv := NewGraphQLServer(engine, opt)
	// The token first: the rate is then counted per token a client really holds, not per one it made up.
	limit := rateLimit(opt.RateLimit, opt.RateBurst, opt.Tokens != nil)
	// Admission to /graphql is by lane, once the operation is parsed and priced (NewGraphQLServer).
	mux.Handle("/graphql", requireToken(opt.Tokens, limit(limitBody(newResponseCache(engine, opt.ResponseCache, opt.ResponseCacheBytes, opt.Metrics, laneStatus(srv))))))
	// Exports have places of their own (exportPlaces); each page then goes through the lanes, and a page its
	// lane refuses answers 503 with Retry-After (laneStatus), as on /graphql.
	mux.Handle("/export", requireToken(opt.Tokens, limit(limitBody(newAdmission(laneStatus(newExportHandler(srv, engine, opt)), exportPlaces(opt), opt.Queue, opt.QueueWait)))))
	if !opt.NoGraphiQL {
		mux.Handle("GET /{$}", page("graphiql.html"))
	}
	mux.Handle("GET /dashboard", page("dashboard.html"))
	mux.Handle("GET /assessment", page("assess.html"))
	mux.Handle("GET /assets/", assetHandler())
	// For load balancers and orchestrators: the server is up and serving this dataset (no token needed; the
	// version is public in every answer anyway).
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if opt.Drain.isDraining() {
			w.Header().Set("Cache-Control", "no-store")
			writeError(w, http.StatusServiceUnavailable, analytics.Overloaded, "shutting down")
			return
		}
		info, err := engine.Dataset(r.Context())
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, analytics.Internal, "no dataset")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "version": info.Version})
	})
	// Ready once the dataset is loaded and the engine answers a question of it (a statement on DuckDB):
	// an orchestrator sends traffic only then.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if opt.Drain.isDraining() {
			writeError(w, http.StatusServiceUnavailable, analytics.Overloaded, "not ready: shutting down")
			return
		}
		if _, err := engine.Indicators(r.Context()); err != nil {
			writeError(w, http.StatusServiceUnavailable, analytics.Internal, "not ready: no dataset answers")
			return
		}
		// While the values are being loaded at start (serve's warm-up), requests are answered but pay for
		// their loads: not ready yet, so that a balancer sends them elsewhere meanwhile.
		if wm, ok := engine.(interface{ Warming() bool }); ok && wm.Warming() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"warming"}` + "\n"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
	})
	// Counts and timings, no data, but they tell who uses what how much: with tokens, a scraper sends one
	// too (Prometheus's authorization: {credentials: …}) unless MetricsPublic; the probes stay open.
	if opt.Metrics != nil {
		metrics := opt.Metrics.handler()
		if !opt.MetricsPublic {
			metrics = requireToken(opt.Tokens, metrics)
		}
		mux.Handle("GET /metrics", metrics)
	}
	var h http.Handler = clientAddr(opt.TrustedProxies, opt.Drain.track(mux))
	if opt.HSTS {
		h = hsts(h)
	}
	if p, ok := engine.(Pinner); ok {
		h = pinned(p, h)
	}
	if opt.TracerProvider != nil {
		h = traced(h, opt.TracerProvider)
	}
	if len(opt.CORSOrigins) == 0 {
		return observe(noSniff(h), opt.Metrics, opt.AccessLog)
	}
	// The API is read-only and sends no cookies, so a page on an allowed origin may read any answer; a
	// preflight is answered here, before the GraphQL transports (which would refuse OPTIONS with a body).
	return observe(noSniff(cors.New(cors.Options{
		AllowedOrigins: opt.CORSOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Content-Type", "Accept", "Authorization"},
		MaxAge:         600,
	}).Handler(h)), opt.Metrics, opt.AccessLog)
}

// NewGraphQLServer is the GraphQL-over-HTTP endpoint: GET for queries, POST with JSON, answers as
// application/json (also when Accept is missing or */*) or application/graphql-response+json when the client
// asks for it. specTransport (httpspec.go) brings gqlgen's status codes for request errors in line with
// the spec; graph/server/audit_test.go checks the endpoint against graphql-http's audits.
func NewGraphQLServer(engine analytics.Engine, opt Options) *handler.Server {
	schema := graph.NewSchema(engine)
	srv := handler.New(schema.Executable())
	srv.AddTransport(grabExecutor{}) // answers no client request: hands the executor to /export (export.go)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(specTransport{transport.GET{}})
	srv.AddTransport(specTransport{transport.POST{}})
	srv.AddTransport(unsupported{})
	// Parsed and validated documents are kept, so a dashboard repeating its queries skips both; only short
	// queries are kept, and each is at most MaxQueryTokens long, so the cache stays bounded in bytes.
	queries := shortQueries{lru.New[*ast.QueryDocument](256)}
	srv.SetQueryCache(queries)
	srv.SetParserTokenLimit(graph.MaxQueryTokens)
	srv.Use(graph.Guard(queries)) // before gqlgen parses and validates (graph/guard.go)
	if !opt.NoIntrospection {
		srv.Use(extension.Introspection{})
	}
	// "Did you mean" in validation errors rebuilds the schema field by field; a server that hides its schema
	// hides those too.
	srv.SetDisableSuggestion(opt.NoIntrospection)
	srv.Use(graph.CostLimit(opt.Complexity, !opt.NoIntrospection))
	lanes := opt.lanes
	if lanes == nil {
		lanes = newLanes(opt)
	}
	operation := func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		ctx = schema.StartOperation(ctx)
		infoOf(ctx).setOperation(operationName(ctx))
		if opt.Timeout > 0 {
			ctx = context.WithValue(ctx, deadlineKey{}, time.Now().Add(opt.Timeout))
		}
		return next(ctx)
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if lanes != nil {
			// First: the operation's deadline, set below, starts once it is admitted.
			return lanes.admit(ctx, func(ctx context.Context) graphql.ResponseHandler { return operation(ctx, next) })
		}
		return operation(ctx, next)
	})
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		out := presentError(ctx, err, opt.Logger)
		if code, ok := out.Extensions["code"].(string); ok {
			infoOf(ctx).setCode(code)
		}
		return out
	})
	if opt.Timeout > 0 {
		// Every root field of an operation runs under the one deadline set when the operation started, which
		// reaches every DuckDB query through the context and interrupts it; the request's context, under it,
		// ends when the client leaves. The deadline is applied here, to each root field, rather than on the
		// operation's context because gqlgen answers an operation whose context is already done with an
		// empty body instead of an error: a root field past the deadline answers TIMEOUT.
		srv.AroundRootFields(func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
			if d, ok := ctx.Value(deadlineKey{}).(time.Time); ok {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, d)
				defer cancel()
			}
			return next(ctx)
		})
	}
	if opt.TracerProvider != nil {
		srv.AroundRootFields(rootFieldSpans(opt.TracerProvider.Tracer(tracerName)))
	}
	if !opt.GqlgenOnly {
		aroundRootField, aroundField := schema.PlainWriter()
		srv.AroundRootFields(aroundRootField)
		srv.AroundFields(aroundField)
	}
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		opt.Logger.Error("panic in resolver", "panic", p, "path", graphql.GetPath(ctx).String())
		return &analytics.Error{Code: analytics.Internal, Message: "internal error"}
	})
	return srv
}

// deadlineKey holds an operation's deadline (a time.Time).
type deadlineKey struct{}

// presentError gives every error an extensions.code and a message fit for a client: an analytics.Error as
// it is, a deadline as TIMEOUT, gqlgen's own request errors (parse, validation, complexity) with their
// messages, and anything else as INTERNAL with the detail logged, never sent.
func presentError(ctx context.Context, err error, log *slog.Logger) *gqlerror.Error {
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err == nil {
		// Raised by gqlgen itself: a request it could not decode, or a parse, validation or complexity error.
		// Its message is meant for clients, but for a body that is not JSON it quotes the whole body.
		if i := strings.Index(gqlErr.Message, " body:"); i > 0 && strings.HasPrefix(gqlErr.Message, "json request body could not be decoded") {
			gqlErr.Message = "the request body is not valid GraphQL-over-HTTP JSON: " + strings.TrimPrefix(gqlErr.Message[:i], "json request body could not be decoded: ")
		}
		gqlErr.Message = cutQuoted(gqlErr.Message)
		switch gqlErr.Extensions["code"] {
		case "COMPLEXITY_LIMIT_EXCEEDED":
			errcode.Set(gqlErr, analytics.QueryTooComplex)
		case nil:
			errcode.Set(gqlErr, analytics.BadUserInput)
		}
		return gqlErr
	}
	out := graphql.DefaultErrorPresenter(ctx, err)
	code := analytics.ErrorCode(err)
	if code == analytics.Internal && !errors.Is(err, context.Canceled) { // a client that left is no server fault
		log.Error("internal error", "path", out.Path.String(), "err", err)
	}
	out.Message = analytics.ErrorMessage(err)
	out.Err = nil
	if out.Extensions == nil {
		out.Extensions = map[string]any{}
	}
	out.Extensions["code"] = code
	return out
}
