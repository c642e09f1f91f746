package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// clients is the load of docs/deploy/replicas.sh: clients each asking the dataset's version and a ranking in
// a loop through the load balancer, until the stop file appears. It prints the requests, the failures (any
// answer but a 200 without errors, or no answer), the versions seen, and the clients that saw an older
// version after a newer one: a client's answers are in the order it got them, so one that saw version A,
// then B, then A again went back (one rollout at a time: a version seen before and left is an older one).
//
// Usage: pacebench clients --url http://127.0.0.1:9100 --stop FILE [--clients 16]
func clientsLoad(args []string) error {
	fs := flag.NewFlagSet("clients", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:9100", "the load balancer")
	stop := fs.String("stop", "", "stop once this file exists")
	n := fs.Int("clients", 16, "clients, each sending its next request as soon as its last is answered")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stop == "" {
		return fmt.Errorf("--stop FILE is needed")
	}
	const q = `{ dataset { version } ranking(indicator: "gdp", year: 2024, level: "province") { entries(top: 3) { region { code } rank } } }`
	body, _ := json.Marshal(map[string]any{"query": q})
	var requests, failures, regressions atomic.Int64
	var mu sync.Mutex
	versions := map[string]int64{}
	var firstFailure string
	done := make(chan struct{})
	go func() {
		for {
			if _, err := os.Stat(*stop); err == nil {
				close(done)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	start := time.Now()
	for range *n {
		wg.Go(func() {
			client := &http.Client{Timeout: 30 * time.Second}
			var seen []string
			went := false
			for {
				select {
				case <-done:
					if went {
						regressions.Add(1)
					}
					return
				default:
				}
				requests.Add(1)
				res, err := client.Post(*base+"/graphql", "application/json", bytes.NewReader(body))
				var out struct {
					Data struct {
						Dataset struct{ Version string }
					}
					Errors []any
				}
				if err == nil {
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || len(out.Errors) > 0 || out.Data.Dataset.Version == "" {
						err = fmt.Errorf("%d %.200s", res.StatusCode, b)
					}
				}
				if err != nil {
					failures.Add(1)
					mu.Lock()
					if firstFailure == "" {
						firstFailure = err.Error()
					}
					mu.Unlock()
					continue
				}
				v := out.Data.Dataset.Version
				mu.Lock()
				versions[v]++
				mu.Unlock()
				if len(seen) == 0 || seen[len(seen)-1] != v {
					if slices.Contains(seen, v) {
						went = true
					}
					seen = append(seen, v)
				}
			}
		})
	}
	wg.Wait()
	var vs []string
	for v, c := range versions {
		vs = append(vs, fmt.Sprintf("%s×%d", v, c))
	}
	slices.Sort(vs)
	fmt.Printf("load: %d clients, %s: %d requests, %d failed, versions seen %s, clients that saw an older version after a newer one: %d\n",
		*n, time.Since(start).Round(time.Second), requests.Load(), failures.Load(), strings.Join(vs, " "), regressions.Load())
	if firstFailure != "" {
		fmt.Printf("load: first failure: %s\n", firstFailure)
	}
	return nil
}
