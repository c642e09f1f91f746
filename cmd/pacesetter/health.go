package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

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
