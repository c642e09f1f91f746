// Command pacesetter serves regional statistics and their rankings over GraphQL, and imports datasets.
//
//	pacesetter serve [--db FILE] [--addr HOST:PORT]   serve FILE, or the embedded NBS dataset without --db
//	pacesetter import --db FILE DIR                   load the dataset folder DIR into FILE, replacing its dataset
//	pacesetter synth [--regions N] … DIR              write a synthetic dataset folder DIR, for benchmarks
//
// This file is wiring only: flags, signals, and the calls into analytics/ and graph/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
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
  pacesetter serve [--db FILE] [--addr HOST:PORT] [--timeout D] [--max-complexity N]
      serve the dataset in FILE (the embedded NBS provincial dataset without --db);
      GraphiQL at /, the endpoint at /graphql
  pacesetter import --db FILE DIR
      load the dataset folder DIR (regions.csv, indicators.csv, observations.csv) into FILE,
      replacing the dataset held there; a dataset with problems is refused whole and FILE is left as it was
  pacesetter synth [--regions 3000] [--indicators 50] [--years 20] [--seed 1] DIR
      write a synthetic dataset folder DIR (created if absent), the same for the same flags, for benchmarks
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
		err = importDataset(ctx, args[1:], stdout)
	case "synth":
		err = synth(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "pacesetter: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
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

// parseFlags parses flags that may stand before or after the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func importDataset(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	db := fs.String("db", "", "DuckDB file to load the dataset into (created if absent)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *db == "" || len(pos) != 1 {
		return usageError{errors.New("give --db FILE and exactly one dataset folder")}
	}
	dir := pos[0]
	start := time.Now()
	if _, err := os.Stat(dir); err != nil {
		return err // before the database file is created
	}
	store, err := duck.Open(*db)
	if err != nil {
		return err
	}
	defer store.Close()
	// The folder's name, not its path: the source is shown to clients, and the server's paths are not theirs.
	abs, _ := filepath.Abs(dir)
	st, err := store.ImportDir(ctx, dir, filepath.Base(abs))
	var inv *dataset.Invalid
	if errors.As(err, &inv) || errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err != nil {
		return fmt.Errorf("import failed, %s is unchanged: %w", *db, err)
	}
	fmt.Fprintf(stdout, "imported %s into %s: %d regions, %d groups, %d indicators, %d observations (%d–%d), version %s\n",
		dir, *db, st.Regions, st.Groups, st.Indicators, st.Observations, st.FirstYear, st.LastYear, st.Version)
	how := "the Go reader"
	if st.Fast {
		how = "DuckDB's read_csv, checked in SQL"
	}
	total := time.Since(start)
	fmt.Fprintf(stdout, "took %s (read and validate in Go %s, load %s; observations read by %s)\n",
		total.Round(time.Millisecond), st.Read.Round(time.Millisecond), (total - st.Read).Round(time.Millisecond), how)
	return nil
}

func synth(args []string, stdout io.Writer) error {
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
	d := dataset.Synthetic(*seed, *regions, *indicators, *years)
	if err := d.WriteDir(pos[0]); err != nil {
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
	timeout := fs.Duration("timeout", graph.DefaultOptions.Timeout, "most time each query of a request may take")
	complexity := fs.Int("max-complexity", graph.DefaultOptions.Complexity, "most an operation may cost (fields, list fields weighted by 20)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	}

	var store *duck.Store
	if *db != "" {
		if store, err = duck.OpenReadOnly(*db); err != nil {
			return err
		}
	} else {
		if store, err = openDefault(ctx); err != nil {
			return err
		}
	}
	defer store.Close()
	if err := store.LockDown(ctx); err != nil {
		return err
	}
	engine, err := duck.NewEngine(ctx, store, duck.DefaultOptions)
	if err != nil {
		return err
	}
	info, _ := engine.Dataset(ctx)

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	opt := graph.DefaultOptions
	opt.Timeout, opt.Complexity, opt.Logger = *timeout, *complexity, logger
	h := graph.NewHandler(engine, opt)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// Slow clients are cut off too: a request must arrive within 30 s and its answer leave within the query
	// timeout plus 30 s.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: *timeout + 30*time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	fmt.Fprintf(stdout, "pacesetter serving %s (version %s: %d regions, %d indicators, %d observations)\n",
		info.Source, info.Version, info.Regions, info.Indicators, info.Observations)
	fmt.Fprintf(stdout, "GraphiQL at http://%s/ and the endpoint at http://%s/graphql\n", ln.Addr(), ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
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
