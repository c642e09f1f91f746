package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pacesetter/analytics/query"
	"pacesetter/data"
)

// TestAdmissionQueuesThenRefuses holds requests inside the handler to fill the places and the queue, and
// checks that the next request is refused at once (503, Retry-After, OVERLOADED), that a queued request is
// refused when it has waited its longest, and that queued requests run when places free up.
func TestAdmissionQueuesThenRefuses(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	work := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		io.WriteString(w, "done")
	})
	srv := httptest.NewServer(newAdmission(work, 1, 1, time.Minute))
	defer srv.Close()

	type result struct {
		status int
		body   string
		retry  string
	}
	get := func(out chan<- result) {
		res, err := http.Get(srv.URL)
		if err != nil {
			t.Error(err)
			out <- result{}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		out <- result{res.StatusCode, string(b), res.Header.Get("Retry-After")}
	}
	first, second, third := make(chan result, 1), make(chan result, 1), make(chan result, 1)
	go get(first)
	<-entered // the one place is taken
	go get(second)
	waitFor(t, func() bool { return srv.Config.Handler.(*admission).queued.Load() == 1 })
	go get(third) // the queue is full: refused at once, while the others still wait
	r := <-third
	var answer struct {
		Errors []gqlError `json:"errors"`
	}
	if err := json.Unmarshal([]byte(r.body), &answer); err != nil || r.status != http.StatusServiceUnavailable || r.retry == "" ||
		len(answer.Errors) != 1 || answer.Errors[0].Extensions["code"] != "OVERLOADED" {
		t.Fatalf("over the queue: status %d, Retry-After %q, body %s; want 503, a Retry-After and OVERLOADED", r.status, r.retry, r.body)
	}
	close(release)
	for _, c := range []chan result{first, second} {
		if r := <-c; r.status != http.StatusOK || r.body != "done" {
			t.Errorf("admitted or queued request: status %d, body %q", r.status, r.body)
		}
	}

	// A request that waits longer than maxWait is refused.
	hold := make(chan struct{})
	srv2 := httptest.NewServer(newAdmission(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hold }), 1, 5, 50*time.Millisecond))
	defer srv2.Close()
	defer close(hold)
	go http.Get(srv2.URL)
	waitFor(t, func() bool { return len(srv2.Config.Handler.(*admission).slots) == 1 })
	start := time.Now()
	res, err := http.Get(srv2.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "waited 50ms") || time.Since(start) < 50*time.Millisecond {
		t.Errorf("a request that waited its longest: status %d after %s, body %s", res.StatusCode, time.Since(start), b)
	}
}

// TestManyClientsQueueNotTimeOut: 64 clients at once, each asking a ranking no cache holds, against a server
// that lets two work at a time: every answer is whole, none is a TIMEOUT or a refusal.
func TestManyClientsQueueNotTimeOut(t *testing.T) {
	opt := DefaultOptions
	opt.ResponseCache, opt.InFlight, opt.Queue = 0, 2, 256
	srv, _ := newServer(t, loadStore(t, data.Default()), query.Options{CacheEntries: 0}, opt)
	var wg sync.WaitGroup
	errs := make(chan string, 64*4)
	for c := range 64 {
		wg.Go(func() {
			for i := range 4 {
				year := 2019 + (c+i)%6
				var out struct {
					Ranking struct{ Entries []struct{ Rank int } }
				}
				res := post(t, srv.URL, `query($y: Int!) { ranking(indicator: "gdp", year: $y) { entries { rank } } }`, map[string]any{"y": year}, &out)
				if res.Status != http.StatusOK || len(res.Errors) > 0 || len(out.Ranking.Entries) != 31 {
					errs <- fmt.Sprintf("client %d: status %d, %d entries, errors %v", c, res.Status, len(out.Ranking.Entries), res.Errors)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
	}
}

// TestRateLimitPerClient: a client over its rate is refused at once with 429, Retry-After and RATE_LIMITED,
// while another client is served. With tokens required, a client is its token; without, its address, so a
// made-up token buys no new bucket.
func TestRateLimitPerClient(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens")
	var lines string
	for _, tok := range []string{"alice", "bob"} {
		sum := sha256.Sum256([]byte(tok))
		lines += hex.EncodeToString(sum[:]) + "\n"
	}
	if err := os.WriteFile(tokens, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	store := loadStore(t, data.Default())
	ask := func(url, token string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodGet, url+"/graphql?query=%7Bdataset%7Bversion%7D%7D", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Retry-After"), string(b)
	}
	for _, withTokens := range []bool{true, false} {
		opt := DefaultOptions
		opt.RateLimit, opt.RateBurst = 0.5, 3 // a new request every 2 s, 3 at once
		if withTokens {
			tk, err := LoadTokens(tokens)
			if err != nil {
				t.Fatal(err)
			}
			opt.Tokens = tk
		}
		srv, _ := newServer(t, store, query.DefaultOptions, opt)
		for i := range 3 {
			if status, _, body := ask(srv.URL, "alice"); status != http.StatusOK {
				t.Fatalf("tokens %v: request %d within the burst: %d %s", withTokens, i+1, status, body)
			}
		}
		status, retry, body := ask(srv.URL, "alice")
		if status != http.StatusTooManyRequests || retry == "" || !strings.Contains(body, `"RATE_LIMITED"`) {
			t.Errorf("tokens %v: over the rate: %d, Retry-After %q, %s; want 429 with Retry-After and RATE_LIMITED", withTokens, status, retry, body)
		}
		status, _, _ = ask(srv.URL, "bob")
		if withTokens && status != http.StatusOK {
			t.Errorf("another token: %d, want 200", status)
		}
		if !withTokens && status != http.StatusTooManyRequests {
			t.Errorf("without tokens required, another token from the same address: %d, want 429", status)
		}
	}
}

// TestLanesCheapNeverWaitsBehindCostly: with the costly lane's one place taken and a composite waiting in
// its queue, a ranking of one group is answered at once (it is admitted in the cheap lane); the composite is
// answered once the place is free, and a composite over the costly lane's queue is refused with 503,
// Retry-After and OVERLOADED. The costs are CostLimit's (graph/limits.go): the ranking's is a few hundred,
// the composite's (31 provinces × 9 indicators with breakdowns) several thousand, on either side of 1,000.
// Under the single queue this replaced, the ranking waited behind the composite.
func TestLanesCheapNeverWaitsBehindCostly(t *testing.T) {
	opt := DefaultOptions
	opt.ResponseCache, opt.InFlight, opt.Queue, opt.CheapCost = 0, 1, 1, 1000
	opt.lanes = newLanes(opt)
	srv, _ := newServer(t, loadStore(t, data.Default()), query.Options{CacheEntries: 0}, opt)
	composite := `{ composite(input: {year: 2024, scheme: "hqd"}) { entries { region { code } score breakdown { indicator { code } value normalised contribution } } } }`
	ranking := `{ ranking(indicator: "gdp", year: 2024, group: "East") { entries { region { code } rank } } }`

	costly := opt.lanes.costly
	costly.slots <- struct{}{} // the costly lane's one place, held
	waited := make(chan gqlResponse, 1)
	go func() { waited <- post(t, srv.URL, composite, nil, nil) }()
	waitFor(t, func() bool { return costly.queued.Load() == 1 })

	var r struct {
		Ranking struct{ Entries []struct{ Rank int } }
	}
	if res := post(t, srv.URL, ranking, nil, &r); res.Status != http.StatusOK || len(res.Errors) > 0 || len(r.Ranking.Entries) == 0 {
		t.Fatalf("the one-group ranking with the costly lane full: status %d, errors %v", res.Status, res.Errors)
	}
	select {
	case res := <-waited:
		t.Fatalf("the composite was answered (status %d) while the costly lane's place was held: it did not wait in its lane", res.Status)
	default:
	}
	if n := len(opt.lanes.cheap.slots); n != 0 {
		t.Errorf("the cheap lane holds %d places after its request ended", n)
	}

	// The costly lane's queue (1) is full: the next composite is refused at once.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(fmt.Sprintf(`{"query": %q}`, composite)))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(string(body), `"OVERLOADED"`) {
		t.Errorf("a composite over the costly lane's queue: %d, Retry-After %q, %s; want 503, Retry-After and OVERLOADED", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	// So is an export of it: its page goes through the same lane, and answers as /graphql does (it was 400).
	res, err = http.Get(srv.URL + "/export?format=csv&path=composite.entries.breakdown&query=" + url.QueryEscape(composite))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(string(body), `"OVERLOADED"`) {
		t.Errorf("an export over the costly lane's queue: %d, Retry-After %q, %s; want 503, Retry-After and OVERLOADED", res.StatusCode, res.Header.Get("Retry-After"), body)
	}

	<-costly.slots // the place is free: the waiting composite runs
	if res := <-waited; res.Status != http.StatusOK || len(res.Errors) > 0 {
		t.Errorf("the queued composite: status %d, errors %v", res.Status, res.Errors)
	}
	waitFor(t, func() bool { return len(costly.slots) == 0 })
}
