package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
)

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
