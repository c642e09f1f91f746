package server

import (
	"net/http"
	"testing"

	"pacesetter/analytics/query"
	"pacesetter/data"
)

// TestHealthDuringShutdown: /healthz and /readyz answer 200 until the shutdown starts, then 503 (so a load
// balancer takes the server out of rotation while its requests in flight finish), and queries still run.
func TestHealthDuringShutdown(t *testing.T) {
	opt := DefaultOptions
	opt.Drain = NewDrain()
	srv, _ := newServer(t, loadStore(t, data.Default()), query.DefaultOptions, opt)
	status := func(path string) int {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if s := status(p); s != http.StatusOK {
			t.Errorf("%s before the shutdown: %d, want 200", p, s)
		}
	}
	opt.Drain.Start()
	for _, p := range []string{"/healthz", "/readyz"} {
		if s := status(p); s != http.StatusServiceUnavailable {
			t.Errorf("%s once the shutdown started: %d, want 503", p, s)
		}
	}
	if res := post(t, srv.URL, `{ dataset { version } }`, nil, nil); res.Status != http.StatusOK || len(res.Errors) > 0 {
		t.Errorf("a query during the shutdown: %d %v", res.Status, res.Errors)
	}
}
