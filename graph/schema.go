package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"pacesetter/analytics"
)

// What a server needs of this package to run the GraphQL layer. graph serves nothing itself (a test keeps it
// so): graph/server's NewGraphQLServer installs these pieces on its gqlgen handler, in the order they must
// run (the guard before parsing, the cost limit after validation, the plain writer innermost).

// Schema is the GraphQL layer over one engine: the executable schema with the cost model (limits.go), its
// root resolver, and the middlewares that must run around it.
type Schema struct {
	es   costed
	root *Resolver
}

// NewSchema builds the layer over engine.
func NewSchema(engine analytics.Engine) *Schema {
	root := &Resolver{Engine: engine}
	return &Schema{es: withCosts(NewExecutableSchema(Config{Resolvers: root}), engine), root: root}
}

// Executable is the executable schema with the cost model, for gqlgen's handler.New. CostLimit needs
// this schema (not the bare generated one) to price operations.
func (s *Schema) Executable() graphql.ExecutableSchema { return s.es }

// StartOperation gives an operation's context what the resolvers need: its own dataloaders (loaders.go).
// Call it on every operation, before the resolvers run (gqlgen's AroundOperations).
func (s *Schema) StartOperation(ctx context.Context) context.Context {
	return withLoaders(ctx, s.root.Engine)
}

// PlainWriter returns the plain writer's two middlewares (plain.go), for gqlgen's AroundRootFields and
// AroundFields; a server that leaves them out has gqlgen marshal every answer.
func (s *Schema) PlainWriter() (graphql.RootFieldMiddleware, graphql.FieldMiddleware) {
	pw := newPlainWriter(s.es, s.root)
	return pw.aroundRootField, pw.aroundField
}

// PlainWritten is how many root fields the plain writers of this process have answered, so that tests and
// benchmarks can tell the writer was used.
func PlainWritten() int64 { return plainWritten.Load() }

// Guard is the document guard (guard.go), to install before gqlgen parses and validates a request; cache
// is the server's parsed-document cache, whose documents have passed the guard already (nil: none).
func Guard(cache graphql.Cache[*ast.QueryDocument]) graphql.HandlerExtension {
	return guard{cache: cache}
}

// CostLimit refuses an operation that costs more than limit before it runs (costLimit in limits.go), and,
// unless introspection, any introspection. It needs the schema of Schema.Executable.
func CostLimit(limit int, introspection bool) graphql.HandlerExtension {
	return &costLimit{limit: limit, introspection: introspection}
}

// OperationCost is the estimated cost (limits.go) of the operation running under ctx, as CostLimit priced it
// before admitting it; false outside an operation or where CostLimit is not installed. It lets the server
// treat cheap and expensive operations differently once they are parsed and priced.
func OperationCost(ctx context.Context) (int, bool) {
	if !graphql.HasOperationContext(ctx) {
		return 0, false
	}
	cost, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(costExtension).(int)
	return cost, ok
}

// OperationWork is the part of OperationCost that is work rather than answer: the values its root fields
// read and score in memory or have DuckDB scan, and Monte Carlo runs, in the cost model's units.
func OperationWork(ctx context.Context) (int, bool) {
	if !graphql.HasOperationContext(ctx) {
		return 0, false
	}
	work, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(workExtension).(int)
	return work, ok
}

// The cheap admission lane's default bounds (CheapOperation): an operation is cheap when its cost is at
// most DefaultCheapCost, enough for a ranking of 3,000 regions with every entry listed, and its work at most
// DefaultCheapWork, 10,000 values scored in memory or 500,000 scanned (about half a millisecond): rankings
// (3,000 regions: 301), trends, lookups and one indicator's pivot are cheap at every dataset size, while
// composites, robustness, standings and aggregates over many indicators of a big scope (a composite of 50
// indicators over 1,000 regions: 2,701; an aggregate of a million values: 1,000) are costly. The cost alone
// cannot tell them apart: a ranking listing 3,000 regions costs more (18,307) than a composite of 50
// indicators over 1,000 regions (8,703), whose answer is smaller but whose work is nine times larger.
// TestCheapLaneClassification (lanes_test.go) holds this classification at several sizes.
const (
	DefaultCheapCost = 20000
	DefaultCheapWork = 500
)

// CheapOperation says whether an operation of that cost and work is admitted in the cheap lane under those
// bounds (a negative cheapCost: no operation is).
func CheapOperation(cost, work, cheapCost, cheapWork int) bool {
	return cheapCost >= 0 && cost <= cheapCost && work <= cheapWork
}

// RowCounter is told of the rows an answer serves (kind "observations": the items of a page of the
// observations connection), for the server's metrics. A server sets one on each request's context with
// WithRowCounter; without one nothing is counted.
type RowCounter interface {
	CountRows(kind string, n int)
}

type rowCounterKey struct{}

// WithRowCounter has the resolvers running under ctx tell c of the rows they serve.
func WithRowCounter(ctx context.Context, c RowCounter) context.Context {
	return context.WithValue(ctx, rowCounterKey{}, c)
}

// countRows tells the request's RowCounter of n rows of a kind served.
func countRows(ctx context.Context, kind string, n int) {
	if c, ok := ctx.Value(rowCounterKey{}).(RowCounter); ok && n > 0 {
		c.CountRows(kind, n)
	}
}
