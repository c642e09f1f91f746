package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"pacesetter/analytics/dataset"
)

// lanes measures issue 21's load: 64 clients each sending distinct composites (1,000 regions × 50 indicators,
// so no cache holds them) to the real binary, serve --memory, while vegeta sends one-group rankings at a
// steady rate; once with the admission lanes (the default) and once with one lane for all (--cheap-cost -1,
// the single queue before them). It prints the rankings' latencies, the composites answered, and the
// server's peak RSS (VmHWM) against its --memory budget.
//
// Usage: go run ./cmd/pacebench lanes [--clients 64] [--duration 60s] [--rate 20] [--memory 1GiB] [--max-inflight N]
func lanes(args []string) error {
	fs := flag.NewFlagSet("lanes", flag.ContinueOnError)
	clients := fs.Int("clients", 64, "clients sending composites, each its next as soon as its last is answered")
	dur := fs.Duration("duration", 60*time.Second, "length of each run")
	rate := fs.Int("rate", 20, "one-group rankings a second")
	memory := fs.String("memory", "1GiB", "serve --memory")
	inFlight := fs.String("max-inflight", "", "serve --max-inflight (the costly lane's places; default the server's)")
	bin := fs.String("bin", "", "the pacesetter binary (default: built with go build)")
	work := fs.String("work", filepath.Join(os.TempDir(), "pacebench-lanes"), "folder for the binary, the dataset and its DuckDB file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	if err := buildBinary(bin, *work); err != nil {
		return err
	}
	const regions, indicators, years = 1000, 50, 5
	dir := filepath.Join(*work, "data")
	db := filepath.Join(*work, "lanes.db")
	if _, err := os.Stat(db); err != nil {
		if err := dataset.Synthetic(1, regions, indicators, years).WriteDir(dir); err != nil {
			return err
		}
		if out, err := exec.Command(*bin, "import", "--db", db, dir).CombinedOutput(); err != nil {
			return fmt.Errorf("import: %w: %s", err, out)
		}
	}
	fmt.Printf("%d regions × %d indicators × %d years; %d composite clients, %d rankings/s, %s a run, serve --memory %s --max-inflight %q; %d cores; load average before: %s\n",
		regions, indicators, years, *clients, *rate, *dur, *memory, *inFlight, runtime.NumCPU(), loadavg())
	// A composite of every region with its breakdown costs millions in the cost model, past the default
	// --max-complexity; a one-group ranking about 5,000.
	for _, setting := range []struct{ name, cheapCost string }{{"lanes", "50000"}, {"one lane", "-1"}} {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		args := []string{"serve", "--db", db, "--addr", addr, "--no-access-log", "--memory", *memory, "--max-complexity", "100000000", "--cheap-cost", setting.cheapCost}
		if *inFlight != "" {
			args = append(args, "--max-inflight", *inFlight)
		}
		srv := exec.Command(*bin, args...)
		srv.Stdout, srv.Stderr = io.Discard, os.Stderr
		if err := srv.Start(); err != nil {
			return err
		}
		exited := make(chan error, 1)
		go func() { exited <- srv.Wait() }()
		url := "http://" + addr
		if err := waitUp(url, exited); err != nil {
			_ = srv.Process.Kill()
			return err
		}
		// The composites: every indicator, weights made distinct per request, each client in a loop.
		var done, failed atomic.Int64
		var firstErr atomic.Value
		var seq atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 2 * time.Minute}
		for range *clients {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					i := seq.Add(1)
					var in strings.Builder
					for k := range indicators {
						fmt.Fprintf(&in, `{indicator: "I%03d", weight: %d},`, k+1, 1+(int(i)>>(k%16))&1+k)
					}
					q := fmt.Sprintf(`{ composite(input: {year: 2005, indicators: [%s]}) { entries { region { code } score rank breakdown { indicator { code } normalised contribution } } } }`, in.String())
					body, _ := json.Marshal(map[string]any{"query": q})
					res, err := client.Post(url+"/graphql", "application/json", bytes.NewReader(body))
					if err != nil {
						failed.Add(1)
						continue
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors"`)) {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %.200s", res.StatusCode, b))
					} else {
						done.Add(1)
					}
				}
			})
		}
		time.Sleep(2 * time.Second) // the composites' queue fills first
		// The rankings: one peer group, every (indicator, year) in turn, so that no cache answers them.
		var n atomic.Int64
		targeter := func(t *vegeta.Target) error {
			i := n.Add(1)
			q := fmt.Sprintf(`{ ranking(indicator: "I%03d", year: %d, group: "G%02d") { entries { region { code } value rank } } }`, 1+i%indicators, 2001+(i/indicators)%years, 1+(i/(indicators*years))%10)
			body, _ := json.Marshal(map[string]any{"query": q})
			*t = vegeta.Target{Method: http.MethodPost, URL: url + "/graphql", Body: body, Header: http.Header{"Content-Type": []string{"application/json"}}}
			return nil
		}
		a := vegeta.NewAttacker(vegeta.Timeout(60*time.Second), vegeta.KeepAlive(true))
		var m vegeta.Metrics
		errs := 0
		for res := range a.Attack(targeter, vegeta.ConstantPacer{Freq: *rate, Per: time.Second}, *dur, "rankings") {
			m.Add(res)
			if res.Code != http.StatusOK || bytes.Contains(res.Body, []byte(`"errors"`)) {
				errs++
			}
		}
		m.Close()
		close(stop)
		hwm := vmHWM(srv.Process.Pid)
		_ = srv.Process.Kill()
		<-exited
		wg.Wait()
		fmt.Printf("%-8s: rankings %d, p50 %-9s p99 %-9s max %-9s errors %d | composites answered %d (%.1f/s), failed %d | server peak RSS %s, load %s\n",
			setting.name, m.Requests, round3(m.Latencies.P50), round3(m.Latencies.P99), round3(m.Latencies.Max), errs,
			done.Load(), float64(done.Load())/dur.Seconds(), failed.Load(), hwm, loadavg())
		if e := firstErr.Load(); e != nil {
			fmt.Printf("          first failed composite: %s\n", e)
		}
	}
	return nil
}

// vmHWM is a process's peak resident set, from the kernel.
func vmHWM(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return fmt.Sprintf("%d MiB", kb>>10)
		}
	}
	return "?"
}
