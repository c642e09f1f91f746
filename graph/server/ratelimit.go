package server

import (
	"crypto/sha256"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"pacesetter/analytics"
)

// maxClients bounds the clients whose rate is remembered: the least recently seen are forgotten first (and
// start again with a full bucket), so a flood of addresses cannot grow the server's memory.
const maxClients = 1 << 16

// rateLimit gives each client a token bucket of perSecond requests a second and burst at once, keyed by
// its bearer token when tokens are required (a hash of it, never the token) and else by its address. A request over
// the rate is refused at once with 429, Retry-After and the code RATE_LIMITED; nothing is queued, so one
// client's flood costs the others nothing. Behind a reverse proxy, name it in Options.TrustedProxies
// (--trusted-proxies) so that the address is the client's from X-Forwarded-For (proxies.go).
// One limiter serves every endpoint it wraps: a client has one bucket, wherever it sends.
func rateLimit(perSecond float64, burst int, byToken bool) func(http.Handler) http.Handler {
	if perSecond <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	burst = max(burst, 1)
	clients, _ := lru.New[string, *rate.Limiter](maxClients) // size > 0: New cannot fail
	return func(next http.Handler) http.Handler { return limited(next, clients, perSecond, burst, byToken) }
}

func limited(next http.Handler, clients *lru.Cache[string, *rate.Limiter], perSecond float64, burst int, byToken bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := clientKey(r, byToken)
		l, ok := clients.Get(key)
		if !ok {
			l = rate.NewLimiter(rate.Limit(perSecond), burst)
			if prev, found, _ := clients.PeekOrAdd(key, l); found {
				l = prev
			}
		}
		res := l.Reserve()
		if d := res.Delay(); d > 0 {
			res.Cancel()
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
			writeError(w, http.StatusTooManyRequests, analytics.RateLimited,
				fmt.Sprintf("more than %g requests a second (%d at once) from this client: retry in %s", perSecond, burst, d.Round(time.Millisecond)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientKey names the client of r: its bearer token when tokens are required (so checked before this), else
// its address — a token nobody checks could be made up afresh for every request, and with it a new bucket.
func clientKey(r *http.Request, byToken bool) string {
	if auth := r.Header.Get("Authorization"); byToken && len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		sum := sha256.Sum256([]byte(auth[7:]))
		return "t:" + string(sum[:])
	}
	return "a:" + clientAddress(r)
}
