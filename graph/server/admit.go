package server

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"pacesetter/analytics"
	"pacesetter/graph"
)

// Each query already uses every core (DuckDB's threads, or the engine's Go over a matrix), so running more
// at once only makes all of them slower, until each runs into its deadline and answers TIMEOUT. A gate lets
// a bounded number of requests work at a time and queues the next ones in arrival order; once the queue is
// full, or a request has waited its longest, it is refused at once with 503, Retry-After and the code
// OVERLOADED. Overload then costs latency, not answers. Answers from the response cache, in front of it,
// never wait. A query's deadline starts when it is admitted, so waiting does not eat into it.
//
// GraphQL operations pass one of two gates, lanes, chosen by the cost CostLimit estimated for them once
// they are parsed (graph.OperationCost): a ranking of one group never waits behind a queue of composites,
// which would hold every place for seconds. /export, whose pages are long, passes a gate of its own at the
// HTTP level (newAdmission) and then the lanes with the operation of each page.
type gate struct {
	slots    chan struct{} // one per request at work
	queued   atomic.Int64
	maxQueue int64
	maxWait  time.Duration
}

func newGate(inFlight, queue int, maxWait time.Duration) *gate {
	if inFlight <= 0 {
		return nil
	}
	return &gate{slots: make(chan struct{}, inFlight), maxQueue: int64(queue), maxWait: maxWait}
}

// enter takes a place, waiting in the queue for one if need be. It returns false with why when the request
// is refused, or with why "" when its client has gone.
func (g *gate) enter(ctx context.Context) (ok bool, why string) {
	select {
	case g.slots <- struct{}{}:
		return true, ""
	default:
	}
	if g.queued.Add(1) > g.maxQueue {
		g.queued.Add(-1)
		return false, fmt.Sprintf("the server is answering %d requests and has %d waiting, its most", cap(g.slots), g.maxQueue)
	}
	defer g.queued.Add(-1)
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}: // senders blocked on a channel are served in arrival order
		return true, ""
	case <-ctx.Done():
		return false, "" // the client has gone: nobody to answer
	case <-timer.C:
		return false, fmt.Sprintf("the request waited %s for one of the server's %d places and was not served", g.maxWait, cap(g.slots))
	}
}

func (g *gate) leave() { <-g.slots }

func (g *gate) retryAfter() string { return strconv.Itoa(max(1, int(g.maxWait/time.Second)/4)) }

// admission is a gate at the HTTP level, for /export.
type admission struct {
	*gate
	next http.Handler
}

func newAdmission(next http.Handler, inFlight, queue int, maxWait time.Duration) http.Handler {
	g := newGate(inFlight, queue, maxWait)
	if g == nil {
		return next
	}
	return &admission{gate: g, next: next}
}

func (a *admission) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ok, why := a.enter(r.Context())
	if !ok {
		if why != "" {
			w.Header().Set("Retry-After", a.retryAfter())
			writeError(w, http.StatusServiceUnavailable, analytics.Overloaded, why+": retry later")
		}
		return
	}
	defer a.leave()
	a.next.ServeHTTP(w, r)
}

// lanes admit GraphQL operations by their estimated cost and work (graph.CheapOperation): those within
// cheapCost and cheapWork into the cheap lane, the rest (and any operation not priced) into the costly
// one, each with its places and its queue.
type lanes struct {
	cheapCost, cheapWork int
	cheap, costly        *gate
}

// newLanes: nil (no admission) when opt.InFlight is 0. The cheap lane has CheapInFlight places (default:
// 2 × cores, at least 4), the costly one InFlight; each may queue opt.Queue.
func newLanes(opt Options) *lanes {
	if opt.InFlight <= 0 {
		return nil
	}
	cheapCost := opt.CheapCost
	switch {
	case cheapCost < 0:
		cheapCost = -1 // one lane for all: every cost is ≥ 0 (to measure what the lanes change)
	case cheapCost == 0:
		cheapCost = graph.DefaultCheapCost
		if opt.Complexity > 0 {
			cheapCost = min(cheapCost, opt.Complexity)
		}
	}
	cheapWork := opt.CheapWork
	if cheapWork <= 0 {
		cheapWork = graph.DefaultCheapWork
	}
	return &lanes{cheapCost: cheapCost, cheapWork: cheapWork, cheap: newGate(cheapPlaces(opt), opt.Queue, opt.QueueWait), costly: newGate(opt.InFlight, opt.Queue, opt.QueueWait)}
}

// pick is the lane of the operation running under ctx, and its name (for the access log and metrics).
func (l *lanes) pick(ctx context.Context) (*gate, string) {
	cost, ok := graph.OperationCost(ctx)
	work, _ := graph.OperationWork(ctx)
	if ok && graph.CheapOperation(cost, work, l.cheapCost, l.cheapWork) {
		return l.cheap, "cheap"
	}
	return l.costly, "costly"
}

// admit is the first thing an operation does (an AroundOperations step): it takes a place in its lane or
// answers OVERLOADED, which laneStatus turns into a 503 with Retry-After.
func (l *lanes) admit(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	g, _ := l.pick(ctx)
	ok, why := g.enter(ctx)
	if !ok {
		if why == "" {
			why = "the client has gone"
		}
		if ref, _ := ctx.Value(refusalKey{}).(*refusal); ref != nil {
			ref.retryAfter.Store(g.retryAfter())
		}
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: why + ": retry later",
			Extensions: map[string]any{"code": analytics.Overloaded}}}})
	}
	var left atomic.Bool
	release := func() {
		if left.CompareAndSwap(false, true) {
			g.leave()
		}
	}
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		defer release() // a query's handler answers once: its whole answer is built by then
		return h(ctx)
	}
}

// laneStatus answers with 503 and Retry-After a request whose operation its lane refused (the transports
// would write 200 or 400 for a GraphQL error).
func laneStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref := &refusal{}
		next.ServeHTTP(&refusedWriter{ResponseWriter: w, ref: ref}, r.WithContext(context.WithValue(r.Context(), refusalKey{}, ref)))
	})
}

// refusal is set when a lane refuses the request's operation: its Retry-After.
type refusal struct{ retryAfter atomic.Value }

type refusalKey struct{}

type refusedWriter struct {
	http.ResponseWriter
	ref   *refusal
	wrote bool
}

func (w *refusedWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if retry, refused := w.ref.retryAfter.Load().(string); refused {
			w.Header().Set("Retry-After", retry)
			code = http.StatusServiceUnavailable
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *refusedWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *refusedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func cheapPlaces(opt Options) int {
	if opt.CheapInFlight > 0 {
		return opt.CheapInFlight
	}
	return max(4, 2*runtime.GOMAXPROCS(0))
}

// exportPlaces: an export may run for minutes, so exports have places of their own, half the cheap lane's
// (0 when admission is off): a few downloads never hold every place the queries need.
func exportPlaces(opt Options) int {
	if opt.InFlight <= 0 {
		return 0
	}
	return (cheapPlaces(opt) + 1) / 2
}
