package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// overhead measures what metrics, traces and access logs cost a request: the real binary, serving the
// embedded dataset, is driven with one hot query (the same request again and again, so the answer comes from
// the response cache and the server's own work is smallest, and the share of the observability largest) at
// a number of connections, once with all three on (Prometheus metrics, OpenTelemetry spans exported over
// OTLP/HTTP to a sink in this process, an access log line per request written to a file) and once with all
// three off (--no-metrics, no OTLP endpoint, --no-access-log), and with each alone, in turn, a fresh server
// each run.
//
// Usage: go run ./cmd/pacebench overhead [--conns 8] [--duration 10s] [--rounds 3] [--bin FILE]
func overhead(args []string) error {
	fs := flag.NewFlagSet("overhead", flag.ContinueOnError)
	conns := fs.Int("conns", 8, "connections, each sending its next request as soon as its last is answered")
	dur := fs.Duration("duration", 10*time.Second, "length of each load run")
	rounds := fs.Int("rounds", 3, "runs of each setting, alternating; medians are printed")
	bin := fs.String("bin", "", "the pacesetter binary (default: built with go build)")
	work := fs.String("work", filepath.Join(os.TempDir(), "pacebench-overhead"), "folder for the binary and the access logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	if err := buildBinary(bin, *work); err != nil {
		return err
	}
	// The OTLP collector: takes every batch of spans and counts them in bytes.
	var spanBytes atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		spanBytes.Add(n)
		w.WriteHeader(http.StatusOK)
	}))
	defer sink.Close()

	type result struct {
		rps           float64
		p50, p90, p99 time.Duration
		errs          int
		load          string
	}
	settings := []struct {
		name string
		args []string
	}{
		{"off", []string{"--no-access-log", "--no-metrics"}},
		{"metrics", []string{"--no-access-log"}},
		{"traces", []string{"--no-access-log", "--no-metrics", "--otlp-endpoint", sink.URL}},
		{"log", []string{"--no-metrics"}},
		{"on", []string{"--otlp-endpoint", sink.URL}},
	}
	results := map[string][]result{}
	const query = `{ ranking(indicator: "retail_sales", year: 2024, group: "East") { year mean entries { region { code name } value rank } } }`
	body, _ := json.Marshal(map[string]any{"query": query})
	fmt.Printf("%d cores (GOMAXPROCS %d), %d connections, %s a run, %d rounds; load average before: %s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), *conns, *dur, *rounds, loadavg())
	for round := range *rounds {
		for _, s := range settings {
			addr, err := freeAddr()
			if err != nil {
				return err
			}
			logFile := filepath.Join(*work, "access-"+s.name+".log")
			lf, err := os.Create(logFile)
			if err != nil {
				return err
			}
			srv := exec.Command(*bin, append([]string{"serve", "--addr", addr}, s.args...)...)
			// No OTLP endpoint from the environment for "off".
			for _, e := range os.Environ() {
				if !strings.HasPrefix(e, "OTEL_") {
					srv.Env = append(srv.Env, e)
				}
			}
			srv.Stdout, srv.Stderr = io.Discard, lf
			if err := srv.Start(); err != nil {
				return err
			}
			exited := make(chan error, 1)
			go func() { exited <- srv.Wait() }()
			url := "http://" + addr
			stop := func() {
				_ = srv.Process.Kill()
				<-exited
				lf.Close()
			}
			if err := waitUp(url, exited); err != nil {
				stop()
				return err
			}
			hdr := http.Header{"Content-Type": []string{"application/json"}}
			target := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodPost, URL: url + "/graphql", Body: body, Header: hdr})
			a := vegeta.NewAttacker(vegeta.Workers(uint64(*conns)), vegeta.MaxWorkers(uint64(*conns)), vegeta.Connections(*conns),
				vegeta.KeepAlive(true), vegeta.Timeout(60*time.Second))
			// The first second is warm-up (the answer into the cache, connections open), not counted.
			var m vegeta.Metrics
			errs := 0
			counted := time.Now().Add(time.Second)
			for res := range a.Attack(target, vegeta.ConstantPacer{Freq: 0}, time.Second+*dur, "overhead") {
				if res.Timestamp.Before(counted) {
					continue
				}
				m.Add(res)
				if res.Code != http.StatusOK || bytes.Contains(res.Body, []byte(`"errors"`)) {
					errs++
				}
			}
			m.Close()
			load := loadavg()
			stop()
			r := result{rps: m.Throughput, p50: m.Latencies.P50, p90: m.Latencies.P90, p99: m.Latencies.P99, errs: errs, load: load}
			results[s.name] = append(results[s.name], r)
			fi, _ := os.Stat(logFile)
			fmt.Printf("round %d %-7s: %8.0f req/s  p50 %-9s p90 %-9s p99 %-9s errors %d  access log %d B  load %s\n",
				round+1, s.name, r.rps, round3(r.p50), round3(r.p90), round3(r.p99), errs, fi.Size(), load)
		}
	}
	med := func(name string, f func(result) float64) float64 {
		var xs []float64
		for _, r := range results[name] {
			xs = append(xs, f(r))
		}
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	rps := func(r result) float64 { return r.rps }
	p50 := func(r result) float64 { return float64(r.p50) }
	p99 := func(r result) float64 { return float64(r.p99) }
	fmt.Printf("\nmedians of %d rounds (on: metrics, traces and the access log together):\n", *rounds)
	for _, s := range settings {
		fmt.Printf("  %-7s %8.0f req/s (%.2f× off)  p50 %-9s (%+4.0f µs)  p99 %s\n", s.name, med(s.name, rps), med(s.name, rps)/med("off", rps),
			round3(time.Duration(med(s.name, p50))), (med(s.name, p50)-med("off", p50))/1e3, round3(time.Duration(med(s.name, p99))))
	}
	fmt.Printf("%d bytes of spans reached the OTLP sink\n", spanBytes.Load())
	return nil
}

// loadavg is the kernel's 1-, 5- and 15-minute load averages: how busy the machine was besides this.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func round3(d time.Duration) time.Duration {
	switch {
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
