package graph

import (
	"context"

	"github.com/vikstrous/dataloadgen"

	"pacesetter/analytics"
)

// loaders batch the fields a dashboard asks for per region (Region.value, Region.rank): gqlgen resolves
// each element of a list on its own, so 300 regions would otherwise make 300 engine calls per field. Each
// request gets its own loaders, so nothing is shared between requests (the engine caches across them).
type loaders struct {
	values  *dataloadgen.Loader[analytics.ValueKey, *float64]
	sources *dataloadgen.Loader[analytics.ValueKey, *analytics.BaselineSource]
	ranks   *dataloadgen.Loader[analytics.RankKey, *int]
}

type loadersKey struct{}

func newLoaders(engine analytics.Engine) *loaders {
	return &loaders{
		values:  dataloadgen.NewLoader(batch(engine.Values)),
		sources: dataloadgen.NewLoader(batch(engine.ValueSources)),
		ranks:   dataloadgen.NewLoader(batch(engine.Ranks)),
	}
}

// batch adapts an engine method answering many keys to dataloadgen's fetch: one error for all, or none.
func batch[K comparable, V any](fetch func(context.Context, []K) ([]V, error)) func(context.Context, []K) ([]V, []error) {
	return func(ctx context.Context, keys []K) ([]V, []error) {
		vs, err := fetch(ctx, keys)
		if err != nil {
			return nil, []error{err}
		}
		return vs, nil
	}
}

// withLoaders gives an operation its loaders.
func withLoaders(ctx context.Context, engine analytics.Engine) context.Context {
	return context.WithValue(ctx, loadersKey{}, newLoaders(engine))
}

// loadersOf returns the operation's loaders (new ones outside an operation, e.g. in a unit test).
func loadersOf(ctx context.Context, engine analytics.Engine) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return newLoaders(engine)
}
