package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/query"
	"pacesetter/data"
	"pacesetter/graph"
)

// Tests in this package run the real HTTP handler over a real in-memory DuckDB.

// loadStore reads the dataset folder fsys and imports it into a new in-memory DuckDB.
func loadStore(tb testing.TB, fsys fs.FS) *duck.Store {
	tb.Helper()
	d, err := dataset.Read(fsys)
	if err != nil {
		tb.Fatal(err)
	}
	return importDataset(tb, d)
}

// importDataset loads a dataset built in the test into a new in-memory DuckDB.
func importDataset(tb testing.TB, d *dataset.Dataset) *duck.Store {
	tb.Helper()
	store, err := duck.Open("")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	if _, err := store.Import(context.Background(), d, "test"); err != nil {
		tb.Fatal(err)
	}
	return store
}

// newServer serves store through NewHandler on a loopback httptest server.
func newServer(tb testing.TB, store *duck.Store, eopt query.Options, opt Options) (*httptest.Server, *query.Engine) {
	tb.Helper()
	engine, err := query.NewEngine(context.Background(), store, eopt)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(engine, opt))
	tb.Cleanup(srv.Close)
	return srv, engine
}

// nbsServer serves the embedded NBS dataset with the serving defaults.
func nbsServer(tb testing.TB) *httptest.Server {
	srv, _ := newServer(tb, loadStore(tb, data.Default()), query.DefaultOptions, DefaultOptions)
	return srv
}

// worldBank is the World Bank dataset folder kept in the repository for tests and benchmarks.
func worldBank() fs.FS { return os.DirFS("../../data/worldbank-gdp-population") }

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// post sends one GraphQL request as JSON and decodes the answer; into, if not nil, receives data.
func post(tb testing.TB, url, query string, vars map[string]any, into any) gqlResponse {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	res, err := http.Post(url+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("answer is not JSON (status %d): %s", res.StatusCode, raw)
	}
	out.Status = res.StatusCode
	if into != nil && len(out.Data) > 0 && string(out.Data) != "null" {
		if err := json.Unmarshal(out.Data, into); err != nil {
			tb.Fatalf("decode data: %v\n%s", err, out.Data)
		}
	}
	return out
}

// mustPost is post for a request that must succeed.
func mustPost(tb testing.TB, url, query string, vars map[string]any, into any) {
	tb.Helper()
	res := post(tb, url, query, vars, into)
	if len(res.Errors) > 0 || res.Status != http.StatusOK {
		tb.Fatalf("status %d, errors %+v", res.Status, res.Errors)
	}
}

// guardQuery runs query through graph's document guard as the handler does (without variables).
func guardQuery(query string) *gqlerror.Error {
	return graph.Guard(nil).(graphql.OperationParameterMutator).MutateOperationParameters(context.Background(), &graphql.RawParams{Query: query})
}

// plainWritten reads graph.PlainWritten: how many root fields the plain writer has answered.
var plainWritten plainCounter

type plainCounter struct{}

func (plainCounter) Load() int64 { return graph.PlainWritten() }
