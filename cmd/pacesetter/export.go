package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"pacesetter/analytics"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/query"
	"pacesetter/graph/server"
)

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
	limit := fs.Int("limit", server.DefaultExportRows, fmt.Sprintf("most rows to write (at most %d)", server.MaxExportRows))
	timeout := duration(fs, "timeout", server.DefaultOptions.Timeout, "most time each query (each page of a connection) may take")
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
	opt := server.DefaultOptions
	opt.Timeout, opt.ResponseCache = *timeout, 0
	opt.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	h := server.NewHandler(engine, opt)

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
			w.header.Get("X-Row-Cap"), rows, server.MaxExportRows)
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
