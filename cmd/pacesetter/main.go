// Command pacesetter serves regional statistics and their rankings over GraphQL, and imports datasets.
//
//	pacesetter serve [--db FILE] [--addr HOST:PORT]   serve FILE, or the embedded NBS dataset without --db
//	pacesetter import --db FILE DIR                   load the dataset folder DIR into a new FILE, renamed over the old
//	pacesetter synth [--regions N] … DIR              write a synthetic dataset folder DIR, for benchmarks
//	pacesetter export [--db FILE] --format F --query Q  write a query's list as CSV, Parquet, XLSX or JSON lines
//
// This file is wiring only: flags, signals, and the calls into analytics/ and graph/.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
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
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/query"
	"pacesetter/data"
	"pacesetter/graph"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `pacesetter: a GraphQL analytics API for regional statistics

usage:
  pacesetter serve [--db FILE] [--addr HOST:PORT] [--timeout D] [--max-complexity N] [--max-inflight N] [--max-queue N]
                   [--rate-limit R] [--rate-burst N] [--cors-origins LIST] [--tokens FILE]
                   [--tls-cert FILE --tls-key FILE] [--watch D] [--no-graphiql] [--no-introspection] [--log-json] [--no-access-log]
                   [--otlp-endpoint URL] [--metrics-public]
      serve the dataset in FILE (the embedded NBS provincial dataset without --db);
      GraphiQL at / (unless --no-graphiql), the endpoint at /graphql; --cors-origins lets pages of those
      origins call it from a browser; --no-introspection refuses __schema and __type;
      --tokens requires a bearer token whose SHA-256 (hex) is a line of FILE; SIGHUP, or a new --db or
      --tokens file seen by the --watch poll (every 1s), reloads them without dropping a request;
      /metrics (Prometheus), /healthz and /readyz; one log line per request on standard error; traces
      over OTLP/HTTP with --otlp-endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT); with --tokens /metrics needs a
      token too, unless --metrics-public
  pacesetter health [URL]
      exit 0 if URL (default http://127.0.0.1:8080/readyz) answers 2xx within 5s, else 1: a probe for a
      container's HEALTHCHECK, where there is no curl
  pacesetter import --db FILE DIR | WDI.csv [--regions regions.csv] [--indicators indicators.csv]
      load the dataset folder DIR (regions.csv, indicators.csv, observations.csv or observations.parquet)
      or a World Bank WDI bulk CSV into a new file beside FILE, renamed over FILE when complete (a server
      of FILE switches to it on SIGHUP or when it sees it); a dataset with problems is refused whole and
      FILE is left as it was
  pacesetter synth [--regions 3000] [--indicators 50] [--years 20] [--seed 1] DIR
      write a synthetic dataset folder DIR (created if absent), the same for the same flags, for benchmarks
  pacesetter export [--db FILE] --format csv|parquet|xlsx|jsonl --query Q [--variables JSON] [--out FILE]
                    [--path a.b] [--decimals N] [--bom] [--limit N]
      run the GraphQL query Q as POST /export does and write the first list of objects in its answer (or the
      one at --path) as a file, one column per leaf field; to standard output without --out
`

// run is the whole program behind main, testable: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "import":
		err = importDataset(ctx, args[1:], stdout, stderr)
	case "synth":
		err = synth(args[1:], stdout, stderr)
	case "export":
		err = exportQuery(ctx, args[1:], stdout, stderr)
	case "health":
		err = health(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "pacesetter: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	var help helpRequested
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		// Asked for, so on standard output and a success: `pacesetter serve --help | less` works.
		fmt.Fprintf(stdout, "usage of pacesetter %s (flags and their defaults):\n", args[0])
		printDefaults(help.fs, stdout)
		fmt.Fprintf(stdout, "\n%s", usage)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "pacesetter %s: %v\n\n%s", args[0], err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "pacesetter %s: %v\n", args[0], err)
		return 1
	}
}

type usageError struct{ error }

// helpRequested is -h or --help given to a command: its flags are printed and the exit code is 0.
type helpRequested struct{ fs *flag.FlagSet }

func (helpRequested) Error() string { return "help requested" }

// hidden marks a flag's usage: a flag for measuring the server, not for running it, left out of --help.
const hidden = "(hidden) "

// printDefaults is fs.PrintDefaults without the hidden flags.
func printDefaults(fs *flag.FlagSet, w io.Writer) {
	shown := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.HasPrefix(f.Usage, hidden) {
			shown.Var(f.Value, f.Name, f.Usage)
			shown.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	shown.SetOutput(w)
	shown.PrintDefaults()
}

// parseFlags parses flags that may stand before or after the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return nil, helpRequested{fs}
		} else if err != nil {
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// durationFlag is a flag.Value of a time.Duration whose error for a bare number says what to write:
// flag.Duration's own is "parse error", which leaves a user guessing between 5, 5s and 5000.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	if s == "0" { // no unit needed for none: --watch 0
		*f.d = 0
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return fmt.Errorf("a duration needs a unit: write %ss (or %sms, %sm)", s, s, s)
		}
		return fmt.Errorf("not a duration: write it as 5s, 500ms or 2m")
	}
	*f.d = d
	return nil
}

// duration defines a duration flag that accepts 5s, 500ms, 2m and says so when given a bare number.
func duration(fs *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	d := value
	fs.Var(durationFlag{&d}, name, usage)
	return &d
}

func importDataset(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	db := fs.String("db", "", "DuckDB file to load the dataset into (created if absent)")
	regions := fs.String("regions", "", "for a WDI CSV: a regions.csv to use instead of the file's own countries")
	indicators := fs.String("indicators", "", "for a WDI CSV: an indicators.csv to use instead of the file's own indicators")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *db == "" || len(pos) != 1 {
		return usageError{errors.New("give --db FILE and exactly one dataset folder")}
	}
	dir := pos[0]
	start := time.Now()
	info, err := os.Stat(dir)
	if err != nil {
		return err // before the database file is created
	}
	wdi := !info.IsDir() && dataset.IsWDI(dir)
	if !wdi && (*regions != "" || *indicators != "") {
		return usageError{errors.New("--regions and --indicators go with a WDI CSV file, not a dataset folder")}
	}
	var d *dataset.Dataset
	if wdi { // a WDI file is read whole in Go: the World Bank's files are small
		if d, err = dataset.ReadWDI(dir, *regions, *indicators); err != nil {
			return err
		}
	}
	// The folder's name, not its path: the source is shown to clients, and the server's paths are not theirs.
	abs, _ := filepath.Abs(dir)
	// Into a new file renamed over *db when complete: a server of *db keeps serving the old one until it
	// reloads, and a failed or killed import leaves *db as it was.
	_, stopProgress := progress(stderr, "importing "+filepath.Base(abs))
	st, err := duck.WriteSnapshot(ctx, *db, func(store *duck.Store) (duck.ImportStats, error) {
		if wdi {
			read := time.Since(start)
			st, err := store.Import(ctx, d, filepath.Base(abs))
			st.Read = read
			return st, err
		}
		return store.ImportDir(ctx, dir, filepath.Base(abs))
	})
	stopProgress()
	var inv *dataset.Invalid
	if errors.As(err, &inv) || errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err != nil {
		return fmt.Errorf("import failed, %s is unchanged: %w", *db, err)
	}
	fmt.Fprintf(stdout, "imported %s into %s: %d regions, %d groups, %d indicators, %d observations (%d–%d), version %s\n",
		dir, *db, st.Regions, st.Groups, st.Indicators, st.Observations, st.FirstYear, st.LastYear, st.Version)
	if st.Schemes+st.Targets > 0 {
		fmt.Fprintf(stdout, "with %d assessment scheme(s) and %d target(s)\n", st.Schemes, st.Targets)
	}
	how := "the Go reader"
	if st.Fast {
		how = "DuckDB's read_csv, checked in SQL"
	}
	total := time.Since(start)
	fmt.Fprintf(stdout, "took %s (read and validate in Go %s, load %s; observations read by %s)\n",
		total.Round(time.Millisecond), st.Read.Round(time.Millisecond), (total - st.Read).Round(time.Millisecond), how)
	return nil
}

func synth(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	regions := fs.Int("regions", 3000, "number of regions (besides the root)")
	indicators := fs.Int("indicators", 50, "number of indicators")
	years := fs.Int("years", 20, "number of years, from 2001")
	seed := fs.Uint64("seed", 1, "random seed")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{errors.New("give exactly one folder to write")}
	}
	if *regions < 0 || *indicators < 0 || *years < 0 || *years > 7999 {
		return usageError{errors.New("--regions, --indicators and --years must not be negative, and --years at most 7999")}
	}
	start := time.Now()
	_, stopProgress := progress(stderr, "writing "+pos[0])
	d := dataset.Synthetic(*seed, *regions, *indicators, *years)
	err = d.WriteDir(pos[0])
	stopProgress()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d regions, %d indicators, %d observations (took %s)\n",
		pos[0], len(d.Regions), len(d.Indicators), len(d.Observations), time.Since(start).Round(time.Millisecond))
	return nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	db := fs.String("db", "", "DuckDB file made by import (default: the embedded NBS dataset, in memory)")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	timeout := duration(fs, "timeout", graph.DefaultOptions.Timeout, "most time the queries of one request may take together")
	complexity := fs.Int("max-complexity", graph.DefaultOptions.Complexity, "most an operation may cost (the fields its answer can hold, plus the work of each query)")
	corsOrigins := fs.String("cors-origins", "", "comma-separated origins whose browser pages may call the API (e.g. https://dash.example.org; * for any); none by default")
	inFlight := fs.Int("max-inflight", graph.DefaultOptions.InFlight, "most requests at work at once (0: no limit); more wait in a queue")
	queue := fs.Int("max-queue", graph.DefaultOptions.Queue, "most requests waiting for a place; more are refused with 503 and Retry-After")
	rateLimit := fs.Float64("rate-limit", 0, "requests a second each client (by bearer token with --tokens, else by address) may send; more are refused with 429 (0: no limit)")
	rateBurst := fs.Int("rate-burst", 20, "requests a client may send at once within --rate-limit")
	tokensFile := fs.String("tokens", "", "file of the SHA-256 hashes (hex, one a line, # comments) of the bearer tokens to require; none: the API is open")
	tlsCert := fs.String("tls-cert", "", "PEM certificate (chain) to serve HTTPS with, with --tls-key")
	tlsKey := fs.String("tls-key", "", "PEM private key of --tls-cert")
	watch := duration(fs, "watch", time.Second, "how often to look whether the --db or --tokens file was replaced, to reload it (0: on SIGHUP only)")
	noGraphiQL := fs.Bool("no-graphiql", false, "serve no GraphiQL page at /")
	noIntrospection := fs.Bool("no-introspection", false, "refuse GraphQL introspection (__schema, __type)")
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
	metrics := graph.NewMetrics()
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
	metrics.DatasetLoaded(graph.LoadInitial, time.Since(start), nil)

	opt := graph.DefaultOptions
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
		if opt.Tokens, err = graph.LoadTokens(*tokensFile); err != nil {
			return err
		}
	}
	h := graph.NewHandler(engine, opt)
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
func watchReloads(ctx context.Context, served *query.Served, tokens *graph.Tokens, interval time.Duration, logger *slog.Logger, metrics *graph.Metrics) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := func(always bool) {
		if served != nil && (always || served.Changed()) {
			start := time.Now()
			info, err := served.Reload(ctx)
			metrics.DatasetLoaded(graph.LoadReload, time.Since(start), err)
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

// health asks a URL, by default this machine's /readyz, and fails unless it answers 2xx within 5 s.
func health(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	timeout := duration(fs, "timeout", 5*time.Second, "how long to wait for the answer")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	u := "http://127.0.0.1:8080/readyz"
	switch len(pos) {
	case 0:
	case 1:
		u = pos[0]
	default:
		return usageError{fmt.Errorf("one URL at most, not %q", pos)}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return usageError{err}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s: %s", u, res.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "%s: %s\n", u, strings.TrimSpace(string(body)))
	return nil
}

// exportQuery runs a query through the same /export handler as serve, in this process, and writes the file.
// With --out the file is written beside its final name and renamed into place only when complete, so a
// failed export leaves no file that looks whole.
func exportQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	db := fs.String("db", "", "DuckDB file made by import (default: the embedded NBS dataset)")
	format := fs.String("format", "csv", "csv, parquet, xlsx or jsonl")
	gql := fs.String("query", "", "the GraphQL query")
	variables := fs.String("variables", "", "its variables, a JSON object")
	out := fs.String("out", "", "file to write (default: standard output)")
	path := fs.String("path", "", "response keys of the list to export, joined by dots (default: the first list of objects)")
	decimals := fs.Int("decimals", -1, "round numbers to this many decimals for display (default: as stored)")
	bom := fs.Bool("bom", false, "start a CSV with a UTF-8 byte-order mark, for Excel")
	limit := fs.Int("limit", graph.DefaultExportRows, fmt.Sprintf("most rows to write (at most %d)", graph.MaxExportRows))
	timeout := duration(fs, "timeout", graph.DefaultOptions.Timeout, "most time each query (each page of a connection) may take")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *gql == "" {
		return usageError{errors.New("give --query, and no other argument")}
	}
	body := map[string]any{"query": *gql}
	if *variables != "" {
		var v map[string]any
		if err := json.Unmarshal([]byte(*variables), &v); err != nil {
			return usageError{fmt.Errorf("--variables is not a JSON object: %v", err)}
		}
		body["variables"] = v
	}
	params := url.Values{"format": {*format}, "limit": {strconv.Itoa(*limit)}}
	if *path != "" {
		params.Set("path", *path)
	}
	if *decimals >= 0 {
		params.Set("decimals", strconv.Itoa(*decimals))
	}
	if *bom {
		params.Set("bom", "1")
	}

	var store *duck.Store
	if *db != "" {
		store, err = duck.OpenReadOnly(*db)
	} else {
		store, err = openDefault(ctx)
	}
	if err != nil {
		return err
	}
	defer store.Close()
	engine, err := query.NewEngine(ctx, store, query.DefaultOptions)
	if err != nil {
		return err
	}
	opt := graph.DefaultOptions
	opt.Timeout, opt.ResponseCache = *timeout, 0
	opt.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	h := graph.NewHandler(engine, opt)

	var dst io.Writer = stdout
	var tmp *os.File
	if *out != "" {
		if tmp, err = os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*"); err != nil {
			return err
		}
		defer os.Remove(tmp.Name()) // a no-op once renamed
		defer tmp.Close()
		dst = tmp
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/export?"+params.Encode(), strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	bar, stopProgress := progress(stderr, "exporting")
	if bar != nil {
		dst = io.MultiWriter(dst, bar) // the bytes written, as they are
	}
	w := &fileResponse{header: http.Header{}, dst: dst}
	err = serveOnce(h, w, req)
	stopProgress()
	if err != nil {
		return err
	}
	if w.status != http.StatusOK {
		var answer struct {
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		_ = json.Unmarshal([]byte(w.errBody.String()), &answer)
		var msgs []string
		for _, e := range answer.Errors {
			msgs = append(msgs, fmt.Sprintf("%s (%v)", e.Message, e.Extensions["code"]))
		}
		return fmt.Errorf("refused: %s", strings.Join(msgs, "; "))
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), *out); err != nil {
			return err
		}
	}
	rows, _ := strconv.Atoi(w.header.Get("X-Total-Rows"))
	if w.header.Get("X-Truncated") == "true" {
		fmt.Fprintf(stderr, "pacesetter export: wrote the first %s of %d rows (the cap); raise it with --limit (at most %d)\n",
			w.header.Get("X-Row-Cap"), rows, graph.MaxExportRows)
	} else if *out != "" {
		fmt.Fprintf(stdout, "wrote %d rows to %s\n", rows, *out)
	}
	return nil
}

// serveOnce runs the handler, turning an aborted response (a failure after the file was begun) into an error.
func serveOnce(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			err = &analytics.Error{Code: analytics.Internal, Message: "the export broke off part-way (see the log above); what was written is incomplete"}
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}

// fileResponse is an http.ResponseWriter onto a file: the body of a 200 goes to dst, an error's is kept.
type fileResponse struct {
	header  http.Header
	status  int
	dst     io.Writer
	errBody strings.Builder
}

func (w *fileResponse) Header() http.Header { return w.header }

func (w *fileResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *fileResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.status != http.StatusOK {
		return w.errBody.Write(b)
	}
	return w.dst.Write(b)
}

// progress is a spinner on stderr with what is under way, the time it has taken and, for a stream, the
// bytes written, when stderr is a terminal; nil otherwise, so that scripts, logs and tests get no control
// characters. Its ticker keeps it moving while one long DuckDB statement runs; stop clears it.
func progress(stderr io.Writer, what string) (bar *progressbar.ProgressBar, stop func()) {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, func() {}
	}
	bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true), progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
	done := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				bar.Describe(what) // renders: Add(0) does not, on a spinner
			}
		}
	}()
	return bar, func() {
		close(done)
		<-ticked
		_ = bar.Finish()
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
