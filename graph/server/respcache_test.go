package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
)

// lookupCounter is an engine Observer counting the look-ups in the engine's answer cache: each ranking an
// answer computes makes one, a hit or not, so it counts how often the engine was asked. The first look-up
// waits for the gate, so that the first request is still being computed while the others arrive.
type lookupCounter struct {
	n    atomic.Int64
	gate chan struct{}
}

func (c *lookupCounter) Statement(ctx context.Context, _ string) (context.Context, func(error)) {
	return ctx, func(error) {}
}

func (c *lookupCounter) AnswerCache(bool) {
	if c.n.Add(1) == 1 {
		select {
		case <-c.gate:
		case <-time.After(10 * time.Second):
		}
	}
}

// 64 clients sending the same Q3 (ten aliased group rankings) at once cost one computation: the engine is
// asked for the ten rankings once (10 look-ups, not 640), every client gets the same 200 answer, and the
// response cache counts one miss and 63 hits. The first computation is held until all 64 requests have
// reached the server and had time to reach the cache, so without the shared flight each would reach the
// engine. At several sizes of peer data.
func TestIdenticalConcurrentRequestsComputedOnce(t *testing.T) {
	for _, size := range []struct{ regions, indicators, years int }{{40, 2, 3}, {300, 5, 20}, {3000, 2, 5}} {
		t.Run(fmt.Sprintf("%d regions", size.regions), func(t *testing.T) {
			obs := &lookupCounter{gate: make(chan struct{})}
			eopt := query.DefaultOptions
			eopt.Observer = obs
			m := NewMetrics()
			opt := DefaultOptions
			opt.Metrics = m
			opt.Complexity = 1 << 30 // the cost model is not what this tests (ten full rankings of 3,000 regions)
			engine, err := query.NewEngine(context.Background(), importDataset(t, dataset.Synthetic(4, size.regions, size.indicators, size.years)), eopt)
			if err != nil {
				t.Fatal(err)
			}
			var arrived atomic.Int64
			h := NewHandler(engine, opt)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/graphql" {
					arrived.Add(1)
				}
				h.ServeHTTP(w, r)
			}))
			defer srv.Close()

			var q strings.Builder
			q.WriteString("{")
			for g := 1; g <= 10; g++ {
				fmt.Fprintf(&q, ` g%d: ranking(indicator: "I001", year: 2002, group: "G%02d") { entries { region { code } value rank } }`, g, g)
			}
			q.WriteString(" }")
			body, _ := json.Marshal(map[string]any{"query": q.String()})

			const clients = 64
			go func() {
				for arrived.Load() < clients {
					time.Sleep(time.Millisecond)
				}
				time.Sleep(300 * time.Millisecond) // for the last arrivals to reach the response cache
				close(obs.gate)
			}()
			answers := make([]string, clients)
			var wg sync.WaitGroup
			tr := &http.Transport{MaxConnsPerHost: clients, MaxIdleConnsPerHost: clients}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			for i := range clients {
				wg.Go(func() {
					res, err := client.Post(srv.URL+"/graphql", "application/json", bytes.NewReader(body))
					if err != nil {
						answers[i] = err.Error()
						return
					}
					defer res.Body.Close()
					raw, _ := io.ReadAll(res.Body)
					answers[i] = fmt.Sprintf("%d %s", res.StatusCode, raw)
				})
			}
			wg.Wait()
			if !strings.HasPrefix(answers[0], "200 {\"data\"") || strings.Contains(answers[0], `"errors"`) {
				t.Fatalf("first answer: %.300s", answers[0])
			}
			for i, a := range answers {
				if a != answers[0] {
					t.Fatalf("answer %d differs from the first:\n%.300s\n%.300s", i, a, answers[0])
				}
			}
			if n := obs.n.Load(); n != 10 {
				t.Errorf("the engine was asked for %d rankings; want 10 (one computation of 10 rankings)", n)
			}
			if miss, hit := testutil.ToFloat64(m.cache.WithLabelValues("response", "miss")), testutil.ToFloat64(m.cache.WithLabelValues("response", "hit")); miss != 1 || hit != clients-1 {
				t.Errorf("response cache: %v misses and %v hits; want 1 and %d", miss, hit, clients-1)
			}
		})
	}
}
