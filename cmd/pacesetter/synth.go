package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

func synth(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	regions := fs.Int("regions", 3000, "number of regions (besides the root)")
	indicators := fs.Int("indicators", 50, "number of indicators")
	years := fs.Int("years", 20, "number of years, from 2001")
	seed := fs.Uint64("seed", 1, "random seed")
	freq := fs.String("frequency", "A", "A (annual), Q (quarterly: flows, their year-to-date totals, rates) or M (monthly, the same)")
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
	f, err := analytics.ParseFrequency(*freq)
	if err != nil {
		return usageError{fmt.Errorf("--frequency: %v", err)}
	}
	start := time.Now()
	_, stopProgress := progress(stderr, "writing "+pos[0])
	// Streamed: observations are written as they are made, so memory stays flat at any size.
	d, n, err := dataset.WriteSyntheticOf(pos[0], *seed, *regions, *indicators, *years, f)
	stopProgress()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d regions, %d indicators, %d observations (took %s)\n",
		pos[0], len(d.Regions), len(d.Indicators), n, time.Since(start).Round(time.Millisecond))
	return nil
}
