package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"pacesetter/analytics/query"
	"pacesetter/data"
)

// Fuzz targets; their seeds are below and in testdata/fuzz/. .ci/run fuzzes each for a few seconds:
//
//	go test -run '^$' -fuzz '^FuzzGuard$' -fuzztime 10s ./graph/server/

// FuzzGuard: the guard answers any document text, without panicking, in a bounded time (it is linear in
// the document; a second is far beyond what 1 MiB of text takes).
func FuzzGuard(f *testing.F) {
	intro, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"", "{", "{ __typename }", string(intro), dashboardQuery(),
		fragmentChain(8), nestedChain(8),
		"query { ...A } fragment A on Query { ...B } fragment B on Query { __typename ...A }",
		`{ ranking(indicator: "gdp", regions: ["320000", "330000"]) { count entries { rank } } }`,
		`query($r: [ID!] = [["a"], ["b"]]) { a: __typename a: __typename ... on Query { ...X } } fragment X on Query { b: __typename }`,
		`{ x @include(if: [1, [2, [3]]]) { ... { ... { y } } } }`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		start := time.Now()
		_ = guardQuery(query)
		if took := time.Since(start); took > time.Second {
			t.Errorf("the guard took %v over %d bytes", took, len(query))
		}
	})
}

// FuzzRequest: any POST body, through the real handler over the NBS dataset, never panics and is answered
// with a JSON body holding data, or errors each with an extensions.code.
func FuzzRequest(f *testing.F) {
	engine, err := query.NewEngine(f.Context(), loadStore(f, data.Default()), query.DefaultOptions)
	if err != nil {
		f.Fatal(err)
	}
	opt := DefaultOptions
	opt.Timeout = time.Second
	h := NewHandler(engine, opt)
	for _, s := range []string{
		``, `{`, `null`, `[]`, `{"query": 1}`, `{"query": "{ __typename }"}`,
		`{"query": "query($y: Int) { ranking(indicator: \"gdp\", year: $y) { count } }", "variables": {"y": 2024}}`,
		`{"query": "{ ranking(indicator: \"gdp\") { count } }", "operationName": "nope"}`,
		`{"query": "query($r: [ID!]) { ranking(indicator: \"gdp\", regions: $r) { count } }", "variables": {"r": [[["x"]]]}}`,
		`{"query": "{ observations(first: 1, after: \"x\") { totalCount } }", "extensions": {"persistedQuery": {}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Extensions struct {
					Code string `json:"code"`
				} `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d, not JSON: %v\n%.300s", rec.Code, err, rec.Body.Bytes())
		}
		for _, e := range out.Errors {
			if e.Extensions.Code == "" {
				t.Fatalf("an error without a code: %.300s", rec.Body.Bytes())
			}
		}
		if len(out.Errors) == 0 && (len(out.Data) == 0 || string(out.Data) == "null") {
			t.Fatalf("status %d: neither data nor errors: %.300s", rec.Code, rec.Body.Bytes())
		}
	})
}
