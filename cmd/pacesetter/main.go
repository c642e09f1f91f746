// Command pacesetter serves regional statistics and their rankings over GraphQL, and imports datasets.
//
//	pacesetter serve [--db FILE] [--addr HOST:PORT]   serve FILE, or the embedded NBS dataset without --db
//	pacesetter import --db FILE DIR                   load the dataset folder DIR into a new FILE, renamed over the old
//	pacesetter synth [--regions N] … DIR              write a synthetic dataset folder DIR, for benchmarks
//	pacesetter export [--db FILE] --format F --query Q  write a query's list as CSV, Parquet, XLSX or JSON lines
//
// Each command has its file (serve.go, import.go, export.go, synth.go, health.go), wiring only: flags,
// signals, and the calls into analytics/ and graph/. This file holds run, the whole program behind main
// (testable: arguments and writers in, an exit code out), and the flag helpers the commands share.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `pacesetter: a GraphQL analytics API for regional statistics

usage:
  pacesetter serve [--db FILE] [--addr HOST:PORT] [--timeout D] [--max-complexity N] [--memory SIZE]
                   [--max-inflight N] [--max-queue N] [--cheap-cost N] [--cheap-work N] [--cheap-inflight N]
                   [--rate-limit R] [--rate-burst N] [--trusted-proxies LIST] [--cors-origins LIST] [--tokens FILE]
                   [--tls-cert FILE --tls-key FILE] [--watch D] [--shutdown-grace D] [--drain-delay D] [--no-warm]
                   [--no-graphiql] [--no-introspection] [--log-json] [--no-access-log]
                   [--otlp-endpoint URL] [--metrics-public] [--pprof ADDR [--pprof-public]]
      serve the dataset in FILE (the embedded NBS provincial dataset without --db);
      GraphiQL at / (unless --no-graphiql), the endpoint at /graphql; --cors-origins lets pages of those
      origins call it from a browser; --no-introspection refuses __schema and __type (and "Did you mean");
      --tokens requires a bearer token whose SHA-256 (hex) is a line of FILE; SIGHUP, or a new --db or
      --tokens file seen by the --watch poll (every 1s), reloads them without dropping a request;
      /metrics (Prometheus), /healthz and /readyz; one log line per request on standard error; traces
      over OTLP/HTTP with --otlp-endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT); with --tokens /metrics needs a
      token too, unless --metrics-public; cheap operations (cost <= --cheap-cost, work <= --cheap-work) are
      admitted in a lane of their own; on SIGTERM, /readyz answers 503 for --drain-delay, then requests in
      flight have --shutdown-grace to finish; see serve --help and docs/operations.md
  pacesetter health [--timeout D] [URL]
      exit 0 if URL (default http://127.0.0.1:8080/readyz) answers 2xx within 5s, else 1: a probe for a
      container's HEALTHCHECK, where there is no curl
  pacesetter import --db FILE DIR | WDI.csv [--regions regions.csv] [--indicators indicators.csv]
      load the dataset folder DIR (regions.csv, indicators.csv, observations.csv or observations.parquet)
      or a World Bank WDI bulk CSV into a new file beside FILE, renamed over FILE when complete (a server
      of FILE switches to it on SIGHUP or when it sees it); a dataset with problems is refused whole and
      FILE is left as it was
  pacesetter synth [--regions 3000] [--indicators 50] [--years 20] [--seed 1] [--frequency A|Q|M] DIR
      write a synthetic dataset folder DIR (created if absent), the same for the same flags, for benchmarks
  pacesetter export [--db FILE] --format csv|parquet|xlsx|jsonl --query Q [--variables JSON] [--out FILE]
                    [--path a.b] [--decimals N] [--bom] [--limit N] [--timeout D]
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
