package server

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Traces, when Options.TracerProvider is set: a span per HTTP request (otelhttp), one per root field under
// it (the resolver and the engine call it makes), and one per DuckDB statement under that (through
// query.Observer). Without a provider none of this is installed, so tracing off costs nothing.

const tracerName = "pacesetter/graph"

// maxTracedSQL bounds the statement text kept on a span: the SQL is the engine's own (values travel as
// arguments, never in the text), but some statements are long.
const maxTracedSQL = 1000

// traced wraps the handler in otelhttp's server span.
func traced(h http.Handler, tp trace.TracerProvider) http.Handler {
	return otelhttp.NewHandler(h, "http", otelhttp.WithTracerProvider(tp),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }))
}

// rootFieldSpans starts a span for each root field, which the engine's statements then nest under.
func rootFieldSpans(tracer trace.Tracer) graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		name := "graphql"
		if fc := graphql.GetRootFieldContext(ctx); fc != nil {
			name = "graphql." + fc.Field.Name
		}
		ctx, span := tracer.Start(ctx, name)
		defer span.End()
		return next(ctx)
	}
}

// statementSpan starts the span of one DuckDB statement; the function returned ends it.
func statementSpan(ctx context.Context, tracer trace.Tracer, sql string) (context.Context, func(error)) {
	if len(sql) > maxTracedSQL {
		sql = sql[:maxTracedSQL]
	}
	ctx, span := tracer.Start(ctx, "duckdb.query", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "duckdb"), attribute.String("db.query.text", sql)))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "statement failed")
		}
		span.End()
	}
}
