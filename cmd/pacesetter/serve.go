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
	"pacesetter/graph/server"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	db := fs.String("db", "", "DuckDB file made by import (default: the embedded NBS dataset, in memory)")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	timeout := duration(fs, "timeout", server.DefaultOptions.Timeout, "most time the queries of one request may take together")
	complexity := fs.Int("max-complexity", server.DefaultOptions.Complexity, "most an operation may cost (the fields its answer can hold, plus the work of each query)")
	corsOrigins := fs.String("cors-origins", "", "comma-separated origins whose browser pages may call the API (e.g. https://dash.example.org; * for any); none by default")
	inFlight := fs.Int("max-inflight", server.DefaultOptions.InFlight, "most requests at work at once (0: no limit); more wait in a queue")
	queue := fs.Int("max-queue", server.DefaultOptions.Queue, "most requests waiting for a place; more are refused with 503 and Retry-After")
	rateLimit := fs.Float64("rate-limit", 0, "requests a second each client (by bearer token with --tokens, else by address) may send; more are refused with 429 (0: no limit)")
	rateBurst := fs.Int("rate-burst", 20, "requests a client may send at once within --rate-limit")
	tokensFile := fs.String("tokens", "", "file of the SHA-256 hashes (hex, one a line, # comments) of the bearer tokens to require; none: the API is open")
	tlsCert := fs.String("tls-cert", "", "PEM certificate (chain) to serve HTTPS with, with --tls-key")
	tlsKey := fs.String("tls-key", "", "PEM private key of --tls-cert")
	watch := duration(fs, "watch", time.Second, "how often to look whether the --db or --tokens file was replaced, to reload it (0: on SIGHUP only)")
	noGraphiQL := fs.Bool("no-graphiql", false, "serve no GraphiQL page at /")
	noIntrospection := fs.Bool("no-introspection", false, "refuse GraphQL introspection (__schema, __type) and leave \"Did you mean\" out of validation errors")
	otlpEndpoint := fs.String("otlp-endpoint", "", "send traces over OTLP/HTTP to this URL (e.g. http://127.0.0.1:4318); default: $OTEL_EXPORTER_OTLP_ENDPOINT, else no tracing")
	noAccessLog := fs.Bool("no-access-log", false, "write no line per request (the server's events are still logged)")
	logJSON := fs.Bool("log-json", false, "write the log (one line per request, and the server's events) as JSON lines instead of text")
	metricsPublic := fs.Bool("metrics-public", false, "with --tokens, leave /metrics open (without it, /metrics needs a bearer token like /graphql)")
	noMetrics := fs.Bool("no-metrics", false, hidden+"record no metrics and serve no /metrics, to measure what they cost (pacebench overhead)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	}

	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError{errors.New("give both --tls-cert and --tls-key, or neither")}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if *logJSON {
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	}
	// One registry for the handler's and the engine's metrics, served at /metrics.
	metrics := server.NewMetrics()
	eopt := query.DefaultOptions
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

	opt := server.DefaultOptions
	opt.Timeout, opt.Complexity, opt.Logger, opt.InFlight, opt.Queue = *timeout, *complexity, logger, *inFlight, *queue
	opt.RateLimit, opt.RateBurst = *rateLimit, *rateBurst
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
	if *tlsCert != "" {
		// Read before serving, so that a bad certificate stops the start rather than the first handshake.
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--tls-cert %s, --tls-key %s: %w", *tlsCert, *tlsKey, err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	// Watching (and SIGHUP's handler) starts before the address is announced: a SIGHUP sent once a client
	// can connect reloads rather than ending the process, as SIGHUP does by default.
	stopReload := watchReloads(ctx, served, opt.Tokens, *watch, logger, metrics)
	defer stopReload()
	fmt.Fprintf(stdout, "pacesetter serving %s (version %s: %d regions, %d indicators, %d observations)\n",
		info.Source, info.Version, info.Regions, info.Indicators, info.Observations)
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
	// Requests in flight finish: no answer may take longer than the write timeout, so that is the grace.
	logger.Info("shutting down: finishing the requests in flight", "grace", writeTimeout)
	shutdown, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return srv.Shutdown(shutdown)
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

// watchReloads reloads the snapshot and the tokens on SIGHUP, and each when its file is seen replaced (a
// poll every interval; 0: SIGHUP only). A file that fails to load is logged and the old one kept. The
// function returned stops watching and returns once a reload under way has finished.
func watchReloads(ctx context.Context, served *query.Served, tokens *server.Tokens, interval time.Duration, logger *slog.Logger, metrics *server.Metrics) func() {
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
				logger.Info("reload: serving the new snapshot", "file", served.Path(), "version", info.Version, "observations", info.Observations)
			}
		}
		if tokens != nil && (always || tokens.Changed()) {
			if err := tokens.Reload(); err != nil {
				logger.Error("reload: kept the tokens", "err", err)
			} else {
				logger.Info("reload: tokens read", "tokens", tokens.Len())
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
