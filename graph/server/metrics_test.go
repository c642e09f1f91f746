package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"pacesetter/analytics"
	"pacesetter/analytics/query"
	"pacesetter/data"
)

// /metrics, the access log and /readyz through the real handler over the embedded dataset in DuckDB: the
// counters move by the requests sent, with their operation and outcome labels.
func TestObservability(t *testing.T) {
	m := NewMetrics()
	var logs bytes.Buffer
	eopt := query.DefaultOptions
	eopt.Observer = m
	opt := DefaultOptions
	opt.Metrics = m
	opt.AccessLog = slog.New(slog.NewJSONHandler(&logs, nil))
	srv, _ := newServer(t, loadStore(t, data.Default()), eopt, opt)

	ranking := `{ ranking(indicator: "retail_sales", year: 2024, group: "East") { entries { rank } } }`
	mustPost(t, srv.URL, ranking, nil, nil)
	mustPost(t, srv.URL, ranking, nil, nil) // the same request again: a hit in the response cache
	if res := post(t, srv.URL, `{ ranking(indicator: "retail_sales", year: 1900) { count } }`, nil, nil); len(res.Errors) == 0 {
		t.Fatal("a year outside the data was answered")
	}
	mustPost(t, srv.URL, `{ observations(indicators: ["gdp"], first: 7) { nodes { value } } }`, nil, nil)

	for _, c := range []struct {
		op, code string
		want     float64
	}{{"ranking", "OK", 2}, {"ranking", "BAD_USER_INPUT", 1}, {"observations", "OK", 1}} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues("graphql", c.op, c.code)); got != c.want {
			t.Errorf("requests{operation=%q,code=%q} = %v, want %v", c.op, c.code, got, c.want)
		}
	}
	if hits, misses := testutil.ToFloat64(m.cache.WithLabelValues("response", "hit")), testutil.ToFloat64(m.cache.WithLabelValues("response", "miss")); hits != 1 || misses != 3 {
		t.Errorf("response cache: %v hits, %v misses; want 1 and 3", hits, misses)
	}
	if got := testutil.ToFloat64(m.rows.WithLabelValues("observations")); got != 7 {
		t.Errorf("observations rows served = %v, want 7", got)
	}
	// An export cut at 4 rows of the 10 East provinces counts the 4 rows written, not the 10 it could have.
	res, err := http.Post(srv.URL+"/export?format=csv&limit=4", "application/json",
		strings.NewReader(`{"query":"{ ranking(indicator: \"retail_sales\", year: 2024, group: \"East\") { entries { rank } } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if lines := strings.Count(string(body), "\n"); res.StatusCode != http.StatusOK || lines != 5 || res.Header.Get("X-Truncated") != "true" {
		t.Fatalf("export: %d, %d lines, truncated %q: %s", res.StatusCode, lines, res.Header.Get("X-Truncated"), body)
	}
	if got := testutil.ToFloat64(m.rows.WithLabelValues("export")); got != 4 {
		t.Errorf("export rows served = %v, want the 4 written", got)
	}
	// An export of a connection runs its pages only, not the client's query first: the observations
	// served are the rows written.
	before := testutil.ToFloat64(m.rows.WithLabelValues("observations"))
	res, err = http.Post(srv.URL+"/export?format=csv", "application/json",
		strings.NewReader(`{"query":"{ observations(indicators: [\"gdp\"]) { nodes { value } } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	written := strings.Count(string(body), "\n") - 1
	if served := testutil.ToFloat64(m.rows.WithLabelValues("observations")) - before; res.StatusCode != http.StatusOK || written < 100 || served != float64(written) {
		t.Errorf("an export of %d observations served %v through the connection (status %d)", written, served, res.StatusCode)
	}
	// The ranking again with other fields: the response cache misses, the engine's answer cache hits.
	mustPost(t, srv.URL, `{ ranking(indicator: "retail_sales", year: 2024, group: "East") { entries { value } } }`, nil, nil)
	if hits := testutil.ToFloat64(m.cache.WithLabelValues("answer", "hit")); hits < 1 {
		t.Errorf("answer cache hits = %v after a repeated ranking", hits)
	}

	// The exposition: what a Prometheus server scrapes, with DuckDB's statements timed.
	res, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	text := string(body)
	for _, want := range []string{
		`pacesetter_requests_total{code="OK",handler="graphql",operation="ranking"} 3`,
		`pacesetter_requests_total{code="BAD_USER_INPUT",handler="graphql",operation="ranking"} 1`,
		`pacesetter_request_duration_seconds_bucket{handler="graphql",operation="ranking",le="+Inf"} 4`,
		`pacesetter_cache_lookups_total{cache="response",result="hit"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if n := testutil.CollectAndCount(m.statements); n != 1 || !strings.Contains(text, "pacesetter_duckdb_query_duration_seconds_count ") ||
		strings.Contains(text, "pacesetter_duckdb_query_duration_seconds_count 0\n") {
		t.Errorf("no DuckDB statement timed:\n%s", grepLines(text, "duckdb"))
	}

	// One JSON line per request, with the ID the client sent echoed in the response header.
	logs.Reset()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(`{"query":"{ dataset { version } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", "trace-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-ID"); got != "trace-42" {
		t.Errorf("X-Request-ID echoed %q", got)
	}
	var line struct {
		Msg, Method, Path, Operation, Code, RequestID string
		Status                                        int
		Bytes                                         int64
		Duration                                      float64
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("access log is not one JSON line: %v\n%s", err, logs.String())
	}
	if line.Msg != "request" || line.Method != "POST" || line.Path != "/graphql" || line.Status != 200 || line.Operation != "dataset" ||
		line.Code != "OK" || line.Bytes == 0 || line.Duration <= 0 {
		t.Errorf("access log line: %s", logs.String())
	}
	var raw map[string]any
	_ = json.Unmarshal(logs.Bytes(), &raw)
	if raw["request_id"] != "trace-42" {
		t.Errorf("access log request_id %v", raw["request_id"])
	}
	// A made-up ID that is not plain text is replaced by a generated one.
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/healthz", nil)
	req.Header.Set("X-Request-ID", "a b\"c")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if id := resp.Header.Get("X-Request-ID"); len(id) != 24 {
		t.Errorf("generated request ID %q", id)
	}

	// Ready: the engine answers.
	if resp, err = http.Get(srv.URL + "/readyz"); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %d", resp.StatusCode)
	}
}

func grepLines(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// noDataset is an engine with no dataset to answer from, as a server whose dataset failed to load.
type noDataset struct{ analytics.Engine }

func (noDataset) Indicators(context.Context) ([]*analytics.Indicator, error) {
	return nil, errors.New("no dataset")
}

// /readyz is 503 while the engine cannot answer.
func TestNotReady(t *testing.T) {
	srv := httptest.NewServer(NewHandler(noDataset{}, DefaultOptions))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz without a dataset: %d", res.StatusCode)
	}
}

// NoMetrics (pacebench overhead's "off"): the API answers as ever, the response cache too, and there is no
// /metrics, and no request is counted on a registry it was given.
func TestNoMetrics(t *testing.T) {
	m := NewMetrics()
	opt := DefaultOptions
	opt.Metrics, opt.NoMetrics = m, true
	srv, _ := newServer(t, loadStore(t, data.Default()), query.DefaultOptions, opt)
	q := `{ ranking(indicator: "retail_sales", year: 2024, group: "East") { entries { rank } } }`
	mustPost(t, srv.URL, q, nil, nil)
	mustPost(t, srv.URL, q, nil, nil)
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics with NoMetrics: %d", res.StatusCode)
	}
	if got := testutil.CollectAndCount(m.requests); got != 0 {
		t.Errorf("%d request series counted with NoMetrics", got)
	}
}
