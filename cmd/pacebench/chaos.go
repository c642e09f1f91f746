package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"pacesetter/analytics/dataset"
)

// chaos is the load-and-chaos run: a real `pacesetter serve` process under 64 clients sending a mix of
// queries for --duration, a new snapshot imported into the file it serves and a SIGHUP half way, then a
// SIGTERM while requests are in flight. It reports errors, p50/p99 per period and the server's RSS over
// time, and fails (exit 1) on any failed request, a switch that did not happen, RSS outside ±10 % after
// warm-up, or a shutdown that dropped a request.
//
//	go run ./cmd/pacebench chaos [--duration 5m] [--clients 64] [--bin pacesetter]
func chaos(args []string) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	dur := fs.Duration("duration", 5*time.Minute, "length of the load")
	clients := fs.Int("clients", 64, "concurrent clients")
	bin := fs.String("bin", "", "the pacesetter binary (default: built with go build)")
	work := fs.String("work", filepath.Join(os.TempDir(), "pacebench-chaos"), "folder for datasets and the served file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	if err := buildBinary(bin, *work); err != nil {
		return err
	}
	// Two datasets of the same shape and different values: the switch changes the version.
	dirs := [2]string{filepath.Join(*work, "a"), filepath.Join(*work, "b")}
	for i, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, dataset.ObservationsFile)); err != nil {
			if err := dataset.Synthetic(uint64(11+i), 1000, 20, 20).WriteDir(d); err != nil {
				return err
			}
		}
	}
	db := filepath.Join(*work, "served.db")
	os.Remove(db)
	if out, err := exec.Command(*bin, "import", "--db", db, dirs[0]).CombinedOutput(); err != nil {
		return fmt.Errorf("import: %v\n%s", err, out)
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	// No access log: millions of lines would pile up in the buffer below, which keeps the server's output
	// for the report.
	srv := exec.Command(*bin, "serve", "--db", db, "--addr", addr, "--no-access-log")
	var log bytes.Buffer
	srv.Stdout, srv.Stderr = &log, &log
	if err := srv.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	url := "http://" + addr
	if err := waitUp(url, exited); err != nil {
		return fmt.Errorf("%w\n%s", err, log.String())
	}
	v0, err := version(url)
	if err != nil {
		return err
	}
	fmt.Printf("serving %s (version %s) at %s; %d clients for %s\n\n", db, v0, url, *clients, *dur)

	// RSS every 5 s.
	var rssMu sync.Mutex
	var rss []int64
	stopRSS := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopRSS:
				return
			case <-time.After(5 * time.Second):
				if kb := vmRSS(srv.Process.Pid); kb > 0 {
					rssMu.Lock()
					rss = append(rss, kb)
					rssMu.Unlock()
				}
			}
		}
	}()

	// Half way: import the other dataset into the served file (written beside it and renamed into place)
	// and send SIGHUP.
	var switched atomic.Value
	go func() {
		time.Sleep(*dur / 2)
		t := time.Now()
		out, err := exec.Command(*bin, "import", "--db", db, dirs[1]).CombinedOutput()
		if err == nil {
			err = srv.Process.Signal(syscall.SIGHUP)
		}
		if err != nil {
			switched.Store(fmt.Sprintf("import or SIGHUP failed: %v %s", err, out))
			return
		}
		for time.Since(t) < 30*time.Second {
			if v, err := version(url); err == nil && v != v0 {
				switched.Store(fmt.Sprintf("version %s → %s, %s after the import began", v0, v, time.Since(t).Round(time.Millisecond)))
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		switched.Store("the version did not change within 30 s")
	}()

	targets := chaosTargets(url)
	var next atomic.Int64
	targeter := func(t *vegeta.Target) error {
		*t = targets[int(next.Add(1))%len(targets)]
		return nil
	}
	a := vegeta.NewAttacker(vegeta.Workers(uint64(*clients)), vegeta.MaxWorkers(uint64(*clients)), vegeta.Connections(*clients),
		vegeta.KeepAlive(true), vegeta.Timeout(60*time.Second))
	period := max(*dur/10, time.Second)
	type bucket struct {
		lat  []time.Duration
		errs int
	}
	buckets := map[int]*bucket{}
	total, failed := 0, 0
	start := time.Now()
	for res := range a.Attack(targeter, vegeta.ConstantPacer{Freq: 0}, *dur, "chaos") {
		k := int(res.Timestamp.Sub(start) / period)
		b := buckets[k]
		if b == nil {
			b = &bucket{}
			buckets[k] = b
		}
		b.lat = append(b.lat, res.Latency)
		total++
		if res.Code != http.StatusOK || bytes.Contains(res.Body, []byte(`"errors"`)) {
			if failed < 5 {
				fmt.Fprintf(os.Stderr, "failed: %d %s %.200s\n", res.Code, res.Error, res.Body)
			}
			failed++
			b.errs++
		}
	}
	fmt.Println("| from | requests | errors | p50 | p99 |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for k := 0; k <= int(*dur/period); k++ {
		b := buckets[k]
		if b == nil {
			continue
		}
		slices.Sort(b.lat)
		fmt.Printf("| %s | %d | %d | %s | %s |\n", time.Duration(k)*period, len(b.lat), b.errs, round(b.lat[len(b.lat)/2]), round(b.lat[len(b.lat)*99/100]))
	}

	// SIGTERM while slow requests are in flight: they must complete, and the server exit 0.
	var inflight sync.WaitGroup
	var dropped atomic.Int64
	for range 8 {
		inflight.Go(func() {
			body := `{"query":"{ observations(first: 1000) { totalCount nodes { year value } } }"}`
			res, err := http.Post(url+"/graphql", "application/json", strings.NewReader(body))
			if err != nil {
				dropped.Add(1)
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors"`)) {
				dropped.Add(1)
			}
		})
	}
	time.Sleep(5 * time.Millisecond)
	_ = srv.Process.Signal(syscall.SIGTERM)
	inflight.Wait()
	exitErr := <-exited
	close(stopRSS)

	rssMu.Lock()
	defer rssMu.Unlock()
	fmt.Printf("\nserver RSS every 5 s (MB):")
	for _, kb := range rss {
		fmt.Printf(" %d", kb>>10)
	}
	fmt.Println()
	var problems []string
	warm := rss
	if len(warm) > 4 {
		warm = warm[len(warm)/5:] // after the first fifth: warm-up
	}
	if len(warm) > 0 {
		lo, hi := slices.Min(warm), slices.Max(warm)
		mid := (lo + hi) / 2
		fmt.Printf("after warm-up: %d–%d MB, ±%.1f %% around %d MB\n", lo>>10, hi>>10, 100*float64(hi-lo)/2/float64(mid), mid>>10)
		if float64(hi-lo)/2 > 0.10*float64(mid) {
			problems = append(problems, "RSS moved more than ±10 % after warm-up")
		}
	}
	sw, _ := switched.Load().(string)
	fmt.Printf("snapshot switch: %s\n", sw)
	fmt.Printf("requests: %d, failed: %d\n", total, failed)
	fmt.Printf("SIGTERM with 8 requests in flight: %d dropped, server exit: %v\n", dropped.Load(), exitStatus(exitErr))
	if failed > 0 {
		problems = append(problems, fmt.Sprintf("%d failed requests", failed))
	}
	if !strings.HasPrefix(sw, "version ") {
		problems = append(problems, "no snapshot switch: "+sw)
	}
	if dropped.Load() > 0 || exitErr != nil {
		problems = append(problems, "the shutdown dropped requests or did not exit 0")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\nserver log:\n%s", strings.Join(problems, "; "), tail(log.String(), 2000))
	}
	fmt.Println("chaos: no failure")
	return nil
}

// chaosTargets is the mix of queries the clients send: rankings cold and hot, standings, trends, an
// aggregate, pages of observations, the dataset's version.
func chaosTargets(url string) []vegeta.Target {
	hdr := http.Header{"Content-Type": []string{"application/json"}}
	var out []vegeta.Target
	add := func(query string, vars map[string]any) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		out = append(out, vegeta.Target{Method: http.MethodPost, URL: url + "/graphql", Body: body, Header: hdr})
	}
	for i := range 20 {
		in, y := fmt.Sprintf("I%03d", i%20+1), 2001+i%20
		add(`query($i: ID!, $y: Int!) { ranking(indicator: $i, year: $y) { count entries(top: 10) { region { code } value rank } } }`, map[string]any{"i": in, "y": y})
		add(`query($i: ID!, $y: Int!, $g: ID) { ranking(indicator: $i, year: $y, group: $g) { entries { region { code } rank rankChange } } }`, map[string]any{"i": in, "y": y, "g": fmt.Sprintf("G%02d", i%10+1)})
		add(`query($r: ID!, $y: Int!) { standings(region: $r, year: $y) { entries { indicator { code } rank } } }`, map[string]any{"r": fmt.Sprintf("R%04d", i*37%1000+1), "y": y})
		add(`query($r: ID!, $i: ID!) { trend(region: $r, indicator: $i) { cagr points { year value yoy } } }`, map[string]any{"r": fmt.Sprintf("R%04d", i*53%1000+1), "i": in})
		add(`query($y: Int!) { aggregate(by: [GROUP, INDICATOR], filter: {from: $y, to: $y}, first: 50) { totalCount rows { group { code } indicator { code } count mean median } } }`, map[string]any{"y": y})
		add(`query { observations(first: 200) { totalCount nodes { region { code } year value } } }`, nil)
		add(`{ dataset { version observations } }`, nil)
	}
	return out
}

func waitUp(url string, exited chan error) error {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-exited:
			return fmt.Errorf("the server exited: %v", err)
		default:
		}
		if _, err := version(url); err == nil {
			return nil
		}
	}
	return fmt.Errorf("the server did not answer within 60 s")
}

func version(url string) (string, error) {
	res, err := http.Post(url+"/graphql", "application/json", strings.NewReader(`{"query":"{ dataset { version } }"}`))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		Data struct{ Dataset struct{ Version string } }
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Data.Dataset.Version == "" {
		return "", fmt.Errorf("no version in the answer (%v)", err)
	}
	return out.Data.Dataset.Version, nil
}

func vmRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func exitStatus(err error) string {
	if err == nil {
		return "0"
	}
	return err.Error()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// buildBinary builds the pacesetter binary into work when *bin is not given, and points *bin at it.
func buildBinary(bin *string, work string) error {
	if *bin != "" {
		return nil
	}
	*bin = filepath.Join(work, "pacesetter")
	if out, err := exec.Command("go", "build", "-o", *bin, "./cmd/pacesetter").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// freeAddr is a loopback address with a port free a moment ago, for a server process to listen on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
