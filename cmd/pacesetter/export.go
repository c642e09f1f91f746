package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
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
	"pacesetter/graph/server/export"
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
	// The handler's own checks speak of URL parameters; these are checked here first, in the flags' words.
	if _, ok := export.Formats[*format]; !ok {
		return usageError{fmt.Errorf("--format %q is not one of csv, parquet, xlsx, jsonl", analytics.Cut(*format))}
	}
	if *limit < 1 || *limit > server.MaxExportRows {
		return usageError{fmt.Errorf("--limit must be from 1 to %d, got %d", server.MaxExportRows, *limit)}
	}
	if *decimals > 15 {
		return usageError{fmt.Errorf("--decimals must be from 0 to 15, got %d", *decimals)}
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
		if tmp, err = createBeside(*out); err != nil {
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
				Locations  []struct{ Line, Column int }
			} `json:"errors"`
		}
		_ = json.Unmarshal([]byte(w.errBody.String()), &answer)
		var msgs []string
		for _, e := range answer.Errors {
			msg := inFlagWords(e.Message)
			if len(e.Locations) > 0 { // where in --query: a parse or validation error
				msg += fmt.Sprintf(" at line %d, column %d of --query", e.Locations[0].Line, e.Locations[0].Column)
			}
			msgs = append(msgs, fmt.Sprintf("%s (%v)", msg, e.Extensions["code"]))
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

// flagWords turns the /export handler's words for its URL parameters into this command's flags.
var flagWords = strings.NewReplacer("with path=", "with --path ", "at path ", "at --path ", "GET with query= in the URL", "--query",
	"add format=csv (or another) to the URL", "give --format csv (or another)", "limit must", "--limit must",
	"decimals must", "--decimals must", "variables is not", "--variables is not")

// inFlagWords is a message of the /export handler in the words of this command's flags.
func inFlagWords(msg string) string {
	if rest, ok := strings.CutPrefix(msg, "path "); ok {
		msg = "--path " + rest
	}
	return flagWords.Replace(msg)
}

// createBeside creates a new, empty file in the folder of name, to be renamed to name when complete. It is
// created with mode 0666 less the umask, as name itself would be (os.CreateTemp's 0600 kept it from
// everyone but its owner).
func createBeside(name string) (*os.File, error) {
	dir, base := filepath.Dir(name), filepath.Base(name)
	for range 100 {
		tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d", base, rand.Uint32()))
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("could not create a file beside %s", name)
}
