package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"pacesetter/analytics/query"
	"pacesetter/data"
)

func TestClientOf(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.5,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"203.0.113.7:5000", nil, "203.0.113.7"},                                         // no proxy
		{"203.0.113.7:5000", []string{"1.2.3.4"}, "203.0.113.7"},                         // an untrusted peer's header is not believed
		{"10.1.2.3:5000", []string{"198.51.100.9"}, "198.51.100.9"},                      // one trusted proxy
		{"10.1.2.3:5000", []string{"6.6.6.6, 198.51.100.9"}, "198.51.100.9"},             // what the client wrote on the left is ignored
		{"10.1.2.3:5000", []string{"6.6.6.6", "198.51.100.9, 10.9.9.9"}, "198.51.100.9"}, // two proxies, two headers
		{"192.168.1.5:80", []string{"10.0.0.1"}, "10.0.0.1"},                             // only proxies: the farthest
		{"10.1.2.3:5000", nil, "10.1.2.3"},                                               // a trusted peer without the header is the client
		{"10.1.2.3:5000", []string{"garbage, 10.0.0.2"}, "10.0.0.2"},                     // a garbled hop stops the walk
		{"[fd00::1]:443", []string{"2001:db8::5"}, "2001:db8::5"},
		{"[::ffff:10.1.2.3]:5000", []string{"198.51.100.9"}, "198.51.100.9"}, // IPv4-mapped peer
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.peer
		for _, h := range c.xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := clientOf(r, trusted); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.local", "10.0.0"} {
		if _, err := ParseTrustedProxies(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseTrustedProxies(%q): %v, want an error naming it", bad, err)
		}
	}
}

// TestRateLimitBehindProxy: through a trusted proxy (this test, on 127.0.0.1), two clients named by
// X-Forwarded-For have a bucket each; without the proxy trusted they share the proxy's one.
func TestRateLimitBehindProxy(t *testing.T) {
	store := loadStore(t, data.Default())
	for _, trust := range []bool{true, false} {
		opt := DefaultOptions
		opt.RateLimit, opt.RateBurst = 0.1, 2
		if trust {
			opt.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		}
		srv, _ := newServer(t, store, query.DefaultOptions, opt)
		ask := func(client string) int {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql?query=%7Bdataset%7Bversion%7D%7D", nil)
			req.Header.Set("X-Forwarded-For", client)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		for range 2 {
			if s := ask("198.51.100.1"); s != http.StatusOK {
				t.Fatalf("trusted %v: client 1 within its burst: %d", trust, s)
			}
		}
		if s := ask("198.51.100.1"); s != http.StatusTooManyRequests {
			t.Errorf("trusted %v: client 1 over its burst: %d, want 429", trust, s)
		}
		s := ask("198.51.100.2")
		if trust && s != http.StatusOK {
			t.Errorf("behind a trusted proxy, another client: %d, want 200 (a bucket of its own)", s)
		}
		if !trust && s != http.StatusTooManyRequests {
			t.Errorf("with the proxy not trusted, another X-Forwarded-For: %d, want 429 (the header is not believed)", s)
		}
	}
}
