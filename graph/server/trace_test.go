package server

import (
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"pacesetter/analytics/query"
	"pacesetter/data"
)

// A request is traced as a tree: the HTTP request, the root field's resolver under it, and the DuckDB
// statements the engine runs for it under that.
func TestTraceTree(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	m := NewMetrics()
	eopt := query.DefaultOptions
	eopt.Observer = m
	opt := DefaultOptions
	opt.Metrics, opt.TracerProvider = m, tp
	srv, _ := newServer(t, loadStore(t, data.Default()), eopt, opt)

	// The first ranking of an indicator reads its values from DuckDB.
	mustPost(t, srv.URL, `{ ranking(indicator: "gdp", year: 2024) { entries { rank } } }`, nil, nil)
	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	http, ok1 := byName["POST /graphql"]
	resolver, ok2 := byName["graphql.ranking"]
	sql, ok3 := byName["duckdb.query"]
	if !ok1 || !ok2 || !ok3 {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("spans %v: want POST /graphql, graphql.ranking and duckdb.query", names)
	}
	if resolver.Parent.SpanID() != http.SpanContext.SpanID() || resolver.SpanContext.TraceID() != http.SpanContext.TraceID() {
		t.Errorf("the resolver's span is not under the request's")
	}
	var under bool
	for _, s := range spans {
		if s.Name == "duckdb.query" && s.Parent.SpanID() == resolver.SpanContext.SpanID() {
			under = true
		}
	}
	if !under {
		t.Errorf("no DuckDB statement under the resolver's span (one: parent %v, %v)", sql.Parent.SpanID(), sql.Attributes)
	}
}
