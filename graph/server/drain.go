package server

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Drain is the server's shutdown as its handlers see it. The command that serves calls Start when a
// shutdown begins (health and readiness answer 503 from then on, so a load balancer takes the server out
// of rotation while its requests in flight finish), and Cut if the grace runs out before they have: the
// exports then cut off are logged and counted (pacesetter_exports_cut_total{reason="shutdown"}), and Wait
// lets their handlers finish doing so before the process exits.
type Drain struct {
	draining, cutting atomic.Bool
	exports           atomic.Int64 // exports being written
	active            sync.WaitGroup
}

func NewDrain() *Drain { return &Drain{} }

// Start marks the shutdown begun.
func (d *Drain) Start() { d.draining.Store(true) }

// Cut marks the grace over: what breaks from now on is cut by the shutdown.
func (d *Drain) Cut() { d.cutting.Store(true) }

// Exports is how many exports are being written.
func (d *Drain) Exports() int64 { return d.exports.Load() }

// Wait waits for the handlers at work to return, at most timeout; false if some have not.
func (d *Drain) Wait(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() { d.active.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func (d *Drain) isDraining() bool { return d != nil && d.draining.Load() }

func (d *Drain) isCutting() bool { return d != nil && d.cutting.Load() }

// track counts the handler's requests at work, for Wait.
func (d *Drain) track(next http.Handler) http.Handler {
	if d == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.active.Add(1)
		defer d.active.Done()
		next.ServeHTTP(w, r)
	})
}

// export counts an export being written; the function returned ends it.
func (d *Drain) export() func() {
	if d == nil {
		return func() {}
	}
	d.exports.Add(1)
	return func() { d.exports.Add(-1) }
}
