package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"pacesetter/analytics/query"
	"pacesetter/data"
)

// TestSmallFixes: /export echoes at most 100 bytes of path=; a gzip body is refused with 415; without
// introspection, validation errors make no "Did you mean" suggestions.
func TestSmallFixes(t *testing.T) {
	store := loadStore(t, data.Default())
	srv, _ := newServer(t, store, query.DefaultOptions, DefaultOptions)

	long := strings.Repeat("entries.", 100_000) + "x"
	res, err := http.Get(srv.URL + "/export?format=csv&path=" + url.QueryEscape(long) + "&query=" + url.QueryEscape(`{ ranking(indicator: "gdp", year: 2024) { entries { rank } } }`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || len(body) > 600 || !strings.Contains(string(body), "entries.entries") || !strings.Contains(string(body), "…") {
		t.Errorf("a path of %d bytes: status %d, %d bytes back: %.300s", len(long), res.StatusCode, len(body), body)
	}

	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(`{"query":"{ dataset { version } }"}`))
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", &gz)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnsupportedMediaType || res.Header.Get("Accept-Encoding") != "identity" || !strings.Contains(string(body), `Content-Encoding \"gzip\" is not supported`) {
		t.Errorf("gzip body: status %d, Accept-Encoding %q: %s", res.StatusCode, res.Header.Get("Accept-Encoding"), body)
	}

	typo := `{ rankin(indicator: "gdp") { count } }`
	if r := post(t, srv.URL, typo, nil, nil); len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "Did you mean") {
		t.Errorf("with introspection: %+v; want a suggestion", r.Errors)
	}
	closed, _ := newServer(t, store, query.DefaultOptions, Options{Complexity: DefaultOptions.Complexity, NoIntrospection: true})
	if r := post(t, closed.URL, typo, nil, nil); len(r.Errors) == 0 || strings.Contains(r.Errors[0].Message, "Did you mean") || !strings.Contains(r.Errors[0].Message, "rankin") {
		t.Errorf("without introspection: %+v; want the error without a suggestion", r.Errors)
	}
}
