package server

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"pacesetter/analytics"
)

// Each query already uses every core (DuckDB's threads, or the engine's Go over a matrix), so running more
// at once only makes all of them slower, until each runs into its deadline and answers TIMEOUT. admission
// lets a bounded number of requests work at a time and queues the next ones in arrival order; once the
// queue is full, or a request has waited its longest, it is refused at once with 503, Retry-After and the
// code OVERLOADED. Overload then costs latency, not answers. Answers from the response cache, in front of
// it, never wait. A query's deadline starts when it is admitted, so waiting does not eat into it.
type admission struct {
	next     http.Handler
	slots    chan struct{} // one per request at work
	queued   atomic.Int64
	maxQueue int64
	maxWait  time.Duration
}

func newAdmission(next http.Handler, inFlight, queue int, maxWait time.Duration) http.Handler {
	if inFlight <= 0 {
		return next
	}
	return &admission{next: next, slots: make(chan struct{}, inFlight), maxQueue: int64(queue), maxWait: maxWait}
}

func (a *admission) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case a.slots <- struct{}{}:
	default:
		if a.queued.Add(1) > a.maxQueue {
			a.queued.Add(-1)
			a.refuse(w, fmt.Sprintf("the server is answering %d requests and has %d waiting, its most", cap(a.slots), a.maxQueue))
			return
		}
		timer := time.NewTimer(a.maxWait)
		select {
		case a.slots <- struct{}{}: // senders blocked on a channel are served in arrival order
			a.queued.Add(-1)
			timer.Stop()
		case <-r.Context().Done():
			a.queued.Add(-1)
			timer.Stop()
			return // the client has gone: nobody to answer
		case <-timer.C:
			a.queued.Add(-1)
			a.refuse(w, fmt.Sprintf("the request waited %s for one of the server's %d places and was not served", a.maxWait, cap(a.slots)))
			return
		}
	}
	defer func() { <-a.slots }()
	a.next.ServeHTTP(w, r)
}

func (a *admission) refuse(w http.ResponseWriter, why string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(a.maxWait/time.Second)/4)))
	writeError(w, http.StatusServiceUnavailable, analytics.Overloaded, why+": retry later")
}
