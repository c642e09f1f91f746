package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/query"
	"pacesetter/data"
	"pacesetter/graph"
	"pacesetter/graph/server"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	db := fs.String("db", "", "DuckDB file made by import (default: the embedded NBS dataset, in memory)")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	timeout := duration(fs, "timeout", server.DefaultOptions.Timeout, "most time the queries of one request may take together")
	complexity := fs.Int("max-complexity", server.DefaultOptions.Complexity, "most an operation may cost (the fields its answer can hold, plus the work of each query)")
	corsOrigins := fs.String("cors-origins", "", "comma-separated origins whose browser pages may call the API (e.g. https://dash.example.org; * for any); none by default")
	inFlight := fs.Int("max-inflight", server.DefaultOptions.InFlight, "most costly operations (those over --cheap-cost) at work at once (0: no admission control at all); more wait in a queue")
	queue := fs.Int("max-queue", server.DefaultOptions.Queue, "most requests waiting for a place in each lane; more are refused with 503 and Retry-After")
	cheapCost := fs.Int("cheap-cost", 0, fmt.Sprintf("GraphQL operations whose estimated cost is at most this, and its work at most --cheap-work, are admitted in the cheap lane, with places of its own, so that they never wait behind expensive ones (default: %d, or --max-complexity if less; -1: one lane for all)", graph.DefaultCheapCost))
	cheapWork := fs.Int("cheap-work", 0, fmt.Sprintf("the most work (values scored in memory / 20, or scanned / 1,000, the cost model's units) an operation in the cheap lane may do (default: %d)", graph.DefaultCheapWork))
	cheapInFlight := fs.Int("cheap-inflight", 0, "most cheap operations at work at once (default: 2 × cores, at least 4); exports have half as many places of their own")
	rateLimit := fs.Float64("rate-limit", 0, "requests a second each client (by bearer token with --tokens, else by address) may send; more are refused with 429 (0: no limit)")
	rateBurst := fs.Int("rate-burst", 20, "requests a client may send at once within --rate-limit")
	trusted := fs.String("trusted-proxies", "", "comma-separated CIDRs or addresses of the reverse proxies / load balancers in front: from these peers only, the client address (for --rate-limit) is read from X-Forwarded-For")
	tokensFile := fs.String("tokens", "", "file of the SHA-256 hashes (hex, one a line, # comments) of the bearer tokens to require; none: the API is open")
	tlsCert := fs.String("tls-cert", "", "PEM certificate (chain) to serve HTTPS with, with --tls-key")
	tlsKey := fs.String("tls-key", "", "PEM private key of --tls-cert")
	grace := duration(fs, "shutdown-grace", 0, "on SIGTERM or SIGINT, how long the requests in flight (long exports too) may take to finish before they are cut; the process exits 0 either way, and a cut export is logged and counted (default: --timeout + 30s)")
	drainDelay := duration(fs, "drain-delay", 2*time.Second, "on SIGTERM or SIGINT, how long /healthz and /readyz answer 503 while the server still accepts and answers requests, before it stops accepting and --shutdown-grace begins: a load balancer's health checks take it out of rotation meanwhile (set it to their interval × failures to go down); a second signal ends it early (0: stop accepting at once)")
	watch := duration(fs, "watch", time.Second, "how often to look whether the --db, --tokens or --tls-cert/--tls-key files were replaced, to reload them (0: on SIGHUP only)")
	noGraphiQL := fs.Bool("no-graphiql", false, "serve no GraphiQL page at /")
	noIntrospection := fs.Bool("no-introspection", false, "refuse GraphQL introspection (__schema, __type) and leave \"Did you mean\" out of validation errors")
	otlpEndpoint := fs.String("otlp-endpoint", "", "send traces over OTLP/HTTP to this URL (e.g. http://127.0.0.1:4318); default: $OTEL_EXPORTER_OTLP_ENDPOINT, else no tracing")
	noAccessLog := fs.Bool("no-access-log", false, "write no line per request (the server's events are still logged)")
	logJSON := fs.Bool("log-json", false, "write the log (one line per request, and the server's events) as JSON lines instead of text")
	metricsPublic := fs.Bool("metrics-public", false, "with --tokens, leave /metrics open (without it, /metrics needs a bearer token like /graphql)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiles (net/http/pprof) at http://ADDR/debug/pprof/ on a listener of their own, e.g. 127.0.0.1:6060; loopback only, unless --pprof-public (default: off)")
	pprofPublic := fs.Bool("pprof-public", false, "let --pprof listen on an address that is not loopback")
	noWarm := fs.Bool("no-warm", false, "load no values at start: each indicator's load on its first use")
	memory := fs.String("memory", "", "memory budget (e.g. 2GiB): value matrices 40 %, answer cache 10 %, response cache 5 %, DuckDB 25 %, requests at work the rest (default: half the machine's or the container's memory)")
	noMetrics := fs.Bool("no-metrics", false, hidden+"record no metrics and serve no /metrics, to measure what they cost (pacebench overhead)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	}

	mem := defaultMemory()
	if *memory != "" {
		if mem, err = parseBytes(*memory); err != nil {
			return usageError{fmt.Errorf("--memory: %w", err)}
		}
		if mem < minMemory {
			return usageError{fmt.Errorf("--memory %s is less than the least the server runs in, %s", *memory, formatBytes(minMemory))}
		}
	}
	mb := carve(mem)
	debug.SetMemoryLimit(mb.GoLimit())
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError{errors.New("give both --tls-cert and --tls-key, or neither")}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if *logJSON {
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	}
	if *pprofAddr != "" {
		// Before the dataset loads, so that the load itself can be profiled.
		at, stop, err := startPprof(*pprofAddr, *pprofPublic, logger)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(stdout, "profiles (pprof) at http://%s/debug/pprof/\n", at)
	}
	// One registry for the handler's and the engine's metrics, served at /metrics.
	metrics := server.NewMetrics()
	eopt := query.DefaultOptions
	eopt.MatrixBytes, eopt.CacheBytes, eopt.DuckDBBytes = mb.Matrices, mb.Answers, mb.DuckDB
	if !*noMetrics {
		eopt.Observer = metrics
	}
	var engine analytics.Engine
	var served *query.Served // nil for the embedded dataset, which never changes
	start := time.Now()
	if *db != "" {
		if served, err = query.OpenServed(ctx, *db, eopt); err != nil {
			return err
		}
		defer served.Close()
		engine = served
	} else {
		store, err := openDefault(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
		if err := store.SetMemoryLimit(ctx, mb.DuckDB); err != nil {
			return err
		}
		if err := store.LockDown(ctx); err != nil {
			return err
		}
		if engine, err = query.NewEngine(ctx, store, eopt); err != nil {
			return err
		}
	}
	info, _ := engine.Dataset(ctx)
	// A start that fails to load exits, so the initial load is only ever recorded as ok.
	metrics.DatasetLoaded(server.LoadInitial, time.Since(start), nil)
	// The warm-up: every indicator's values loaded (within half the matrix cache's bound) while the server
	// already answers; /readyz says "warming" until it is done.
	if wm, ok := engine.(warmer); ok && !*noWarm {
		wm.StartWarm()
		// serve returns only once the warm-up has stopped (cancelled on the way out): it logs, and reads the
		// store closed after it.
		warmCtx, stopWarm := context.WithCancel(ctx)
		warmed := make(chan struct{})
		defer func() {
			stopWarm()
			<-warmed
		}()
		go func() {
			defer close(warmed)
			res, err := wm.WarmAll(warmCtx)
			if err != nil {
				if warmCtx.Err() == nil { // not merely stopped by the shutdown
					logger.Warn("warm-up stopped: the rest load on first use", "indicators", res.Indicators, "err", err)
				}
				return
			}
			logger.Info("warm-up done", "indicators", res.Indicators, "MiB", res.Bytes>>20, "took", res.Took.Round(time.Millisecond),
				"since_start", time.Since(start).Round(time.Millisecond))
		}()
	}

	opt := server.DefaultOptions
	opt.Timeout, opt.Complexity, opt.Logger, opt.InFlight, opt.Queue = *timeout, *complexity, logger, *inFlight, *queue
	opt.RateLimit, opt.RateBurst = *rateLimit, *rateBurst
	opt.ResponseCacheBytes = mb.Responses
	opt.CheapCost, opt.CheapWork = *cheapCost, *cheapWork
	if *cheapInFlight > 0 {
		opt.CheapInFlight = *cheapInFlight
	}
	opt.HSTS = *tlsCert != ""
	if opt.TrustedProxies, err = server.ParseTrustedProxies(*trusted); err != nil {
		return usageError{fmt.Errorf("--trusted-proxies: %w", err)}
	}
	opt.NoGraphiQL, opt.NoIntrospection = *noGraphiQL, *noIntrospection
	opt.Metrics, opt.MetricsPublic, opt.NoMetrics = metrics, *metricsPublic, *noMetrics
	if !*noAccessLog {
		opt.AccessLog = logger
	}
	if opt.TracerProvider, err = tracing(ctx, *otlpEndpoint); err != nil {
		return err
	}
	if tp, ok := opt.TracerProvider.(*sdktrace.TracerProvider); ok {
		// Spans still buffered go out on shutdown, within a few seconds.
		defer func() {
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = tp.Shutdown(c)
		}()
	}
	for _, o := range strings.Split(*corsOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			opt.CORSOrigins = append(opt.CORSOrigins, o)
		}
	}
	if *tokensFile != "" {
		if opt.Tokens, err = server.LoadTokens(*tokensFile); err != nil {
			return err
		}
	}
	drain := server.NewDrain()
	opt.Drain = drain
	h := server.NewHandler(engine, opt)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// Slow clients are cut off too: a request must arrive within 30 s and its answer leave within the query
	// timeout plus 30 s.
	writeTimeout := *timeout + 30*time.Second
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: writeTimeout, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	scheme := "http"
	var certs *certFiles
	if *tlsCert != "" {
		// Read before serving, so that a bad certificate stops the start rather than the first handshake.
		if certs, err = loadCertFiles(*tlsCert, *tlsKey); err != nil {
			ln.Close()
			return err
		}
		srv.TLSConfig = &tls.Config{GetCertificate: certs.get, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	// Watching (and SIGHUP's handler) starts before the address is announced: a SIGHUP sent once a client
	// can connect reloads rather than ending the process, as SIGHUP does by default.
	stopReload := watchReloads(ctx, served, opt.Tokens, certs, *watch, logger, metrics)
	defer stopReload()
	fmt.Fprintf(stdout, "pacesetter serving %s (version %s: %d regions, %d indicators, %d observations)\n",
		info.Source, info.Version, info.Regions, info.Indicators, info.Observations)
	fmt.Fprintf(stdout, "memory budget %s\n", mb)
	if opt.Tokens != nil {
		fmt.Fprintf(stdout, "requests to /graphql and /export need one of the %d bearer tokens of %s\n", opt.Tokens.Len(), *tokensFile)
	}
	if *noGraphiQL {
		fmt.Fprintf(stdout, "the endpoint at %s://%s/graphql\n", scheme, ln.Addr())
	} else {
		fmt.Fprintf(stdout, "GraphiQL at %s://%s/ and the endpoint at %s://%s/graphql\n", scheme, ln.Addr(), scheme, ln.Addr())
	}

	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Health and readiness answer 503 from now on. For the drain delay the listener stays open and every
	// request is still answered, so a load balancer probing now sees 503 and takes the server out of
	// rotation, rather than a refused connection (which it would count as a failed request to retry).
	// Then the listener closes and the requests in flight finish within the grace. What is still at work
	// then (a long export to a slow reader) is cut, logged and counted: the shutdown itself went as asked,
	// so the process exits 0 either way.
	if *grace <= 0 {
		*grace = writeTimeout
	}
	// Listening for a second signal before the 503s begin: one sent once a probe has seen them counts.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	drain.Start()
	if *drainDelay > 0 {
		// Answers from now on close their connections, so clients holding one open (a balancer's pool)
		// reconnect, through a balancer that by then sends them elsewhere.
		srv.SetKeepAlivesEnabled(false)
		logger.Info("shutting down: health answers 503, still serving for the drain delay (a second signal ends it)", "drain_delay", *drainDelay)
		delay := time.NewTimer(*drainDelay)
		select {
		case <-delay.C:
		case <-again:
			logger.Info("shutting down: a second signal ended the drain delay")
		case err := <-errc:
			return err
		}
		delay.Stop()
	}
	logger.Info("shutting down: finishing the requests in flight", "grace", *grace, "exports", drain.Exports())
	shutdown, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		logger.Warn("shutdown: the grace is over, cutting the requests still in flight", "grace", *grace, "exports", drain.Exports())
		drain.Cut()
		_ = srv.Close()
		if !drain.Wait(5 * time.Second) {
			logger.Warn("shutdown: requests still at work 5 s after they were cut")
		}
	}
	logger.Info("shut down")
	return nil
}

// warmer is an engine that loads its values ahead of requests (query.Engine, query.Served).
type warmer interface {
	StartWarm()
	WarmAll(ctx context.Context) (query.WarmResult, error)
}

// tracing is the tracer provider that exports spans over OTLP/HTTP to endpoint, or to the standard
// OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT); with neither, nil: no tracing at all.
func tracing(ctx context.Context, endpoint string) (trace.TracerProvider, error) {
	var opts []otlptracehttp.Option
	switch {
	case endpoint != "":
		// The collector's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT is: traces go to its /v1/traces.
		if u, err := url.Parse(endpoint); err == nil && (u.Path == "" || u.Path == "/") {
			endpoint = strings.TrimSuffix(endpoint, "/") + "/v1/traces"
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(endpoint))
	case os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "":
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("--otlp-endpoint: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "pacesetter"))
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// watchReloads reloads the snapshot, the tokens and the TLS certificate on SIGHUP, and each when its file is seen replaced (a
// poll every interval; 0: SIGHUP only). A file that fails to load is logged and the old one kept. The
// function returned stops watching and returns once a reload under way has finished.
func watchReloads(ctx context.Context, served *query.Served, tokens *server.Tokens, certs *certFiles, interval time.Duration, logger *slog.Logger, metrics *server.Metrics) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := func(always bool) {
		if served != nil && (always || served.Changed()) {
			start := time.Now()
			info, err := served.Reload(ctx)
			metrics.DatasetLoaded(server.LoadReload, time.Since(start), err)
			if err != nil {
				logger.Error("reload: kept the dataset served", "err", err)
			} else {
				var warmed []any
				if w := served.LastWarm(); w != nil {
					warmed = []any{"warmed_indicators", w.Indicators, "warm_took", w.Took.Round(time.Millisecond)}
				}
				logger.Info("reload: serving the new snapshot", append([]any{"file", served.Path(), "version", info.Version,
					"observations", info.Observations, "took", time.Since(start).Round(time.Millisecond)}, warmed...)...)
			}
		}
		if tokens != nil && (always || tokens.Changed()) {
			if err := tokens.Reload(); err != nil {
				logger.Error("reload: kept the tokens", "err", err)
			} else {
				logger.Info("reload: tokens read", "tokens", tokens.Len())
			}
		}
		if certs != nil && (always || certs.changed()) {
			if err := certs.reload(); err != nil {
				logger.Error("reload: kept the TLS certificate", "err", err)
			} else {
				logger.Info("reload: TLS certificate read", "cert", certs.cert)
			}
		}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		var tick <-chan time.Time
		if interval > 0 {
			t := time.NewTicker(interval)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-done:
				return
			case <-hup:
				reload(true)
			case <-tick:
				reload(false)
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
		<-finished
	}
}

// openDefault loads the embedded dataset into an in-memory database.
func openDefault(ctx context.Context) (*duck.Store, error) {
	d, err := dataset.Read(data.Default())
	if err != nil {
		return nil, fmt.Errorf("embedded dataset: %w", err)
	}
	store, err := duck.Open("")
	if err != nil {
		return nil, err
	}
	if _, err := store.Import(ctx, d, data.DefaultName); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}
