// Command pacebench measures pacesetter against the floor: the simplest hand-written DuckDB query that
// answers the same question on the same file, run by this program. It prints every ratio the speed issue
// asks for, in one run:
//
//   - the questions, on peer data (300 regions in 10 peer groups × 50 indicators × 20 years) and, with --big,
//     at 3,000 regions × 200 indicators × 30 years: the floor's p50 with 1, 8 and 64 goroutines, and
//     pacesetter's over HTTP, driven by vegeta with 1, 8 and 64 connections, cold (answer caches off: every
//     request is computed, as on a miss) and hot (the serving defaults, the same requests again);
//   - import: DuckDB's own read_csv of observations.csv into a table against pacesetter import, each in a
//     child process whose peak RSS is read from the kernel;
//   - the cost of a long answer through the handler against building the same JSON by hand from the
//     engine's result.
//
// Usage: go run ./cmd/pacebench [--big] [--rounds 3] [--duration 3s] [--work DIR]
//
// the load-and-chaos run (chaos.go): go run ./cmd/pacebench chaos [--duration 5m]
//
// and what metrics, traces and access logs cost (overhead.go): go run ./cmd/pacebench overhead [--conns 8]
//
// and cheap rankings beside 64 clients of composites, with and without admission lanes, with the server's
// peak RSS against its --memory (lanes.go): go run ./cmd/pacebench lanes [--duration 60s]
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/query"
	graphserver "pacesetter/graph/server" // named: this package has a type server
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "chaos" {
		if err := chaos(os.Args[2:]); err != nil {
			fail(err)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "clients" {
		if err := clientsLoad(os.Args[2:]); err != nil {
			fail(err)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "lanes" {
		if err := lanes(os.Args[2:]); err != nil {
			fail(err)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "overhead" {
		if err := overhead(os.Args[2:]); err != nil {
			fail(err)
		}
		return
	}
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "child-") {
		if err := child(os.Args[1], os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	big := flag.Bool("big", false, "also measure at 3,000 regions × 200 indicators × 30 years (17.5M observations; about 3 GB of disk and 5 minutes)")
	monthly := flag.Bool("monthly", false, "also measure at 1,000 regions × 43 monthly indicators × 20 years (10.0M observations): the import, and a monthly ranking of every region and of one group")
	peer := flag.Bool("peer", true, "measure the peer data (300 regions × 50 indicators × 20 years); --peer=false with --big or --monthly measures those alone")
	rounds := flag.Int("rounds", 3, "rounds of each measurement; medians are printed")
	dur := flag.Duration("duration", 2*time.Second, "length of each load run")
	only := flag.String("only", "", "measure only the questions whose names match this regular expression (and skip the imports and the list-cost table)")
	work := flag.String("work", filepath.Join(os.TempDir(), "pacebench"), "folder for the generated datasets and DuckDB files (kept between runs)")
	flag.Parse()
	if err := os.MkdirAll(*work, 0o755); err != nil {
		fail(err)
	}
	b := &bench{rounds: *rounds, dur: *dur}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fail(fmt.Errorf("--only: %v", err))
		}
		b.only = re
	}
	var sets []setSpec
	if *peer {
		sets = append(sets, setSpec{"peer", 300, 50, 20, ""})
	}
	if *big {
		sets = append(sets, setSpec{"big", 3000, 200, 30, ""})
	}
	if *monthly {
		sets = append(sets, setSpec{"monthly", 1000, 43, 20, analytics.Monthly})
	}
	for _, spec := range sets {
		if err := b.run(*work, spec); err != nil {
			fail(err)
		}
	}
	if !*peer || b.only != nil {
		return
	}
	if err := b.listCost(context.Background()); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pacebench:", err)
	os.Exit(1)
}

// pair is what one request asks about: an indicator and a year (its month for monthly data: monthOf).
type pair struct {
	in   string
	year int
}

type setSpec struct {
	name                       string
	regions, indicators, years int
	frequency                  analytics.Frequency // "" or A: annual; M: monthly (synth --frequency M)
}

// monthOf is the month a question on monthly data asks about in year y: a different one from year to year,
// so the requests of a run, one per (indicator, year), are all different.
func monthOf(y int) int { return 1 + y*7%12 }

// vars are a request's variables: $i, $y and, for a question with $p, the period (the month of monthOf).
func vars(query, in string, y int) map[string]any {
	v := map[string]any{"i": in, "y": y}
	if strings.Contains(query, "$p") {
		v["p"] = fmt.Sprintf("%d-%02d", y, monthOf(y))
	}
	return v
}

type bench struct {
	rounds int
	dur    time.Duration
	only   *regexp.Regexp // nil: every question
}

// question is one thing users ask, as the floor's SQL and as pacesetter's GraphQL.
type question struct {
	name  string
	vary  varies
	floor func(ctx context.Context, in string, year int, sign float64) (int, error) // rows answered
	query string                                                                    // with $i, $y
}

// varies says what a question's requests differ by, and so what its first touch is.
type varies int

const (
	perIndicator varies = iota // one indicator's values: each new indicator is a first touch
	perYear                    // every indicator's (or SQL's): the first request after a start is the first touch
)

// firstTouch measures requests that find nothing in memory: on a fresh server (caches off), the first
// request for each of up to 20 indicators (a ranking), or the first request after a start (an aggregate, a
// composite), from conns clients at once, each asking for indicators no one asked for before. It returns
// the latencies.
func (b *bench) firstTouch(ctx context.Context, store *duck.Store, q question, conns int, codes []string, years, round int, tune func(*graphserver.Options)) ([]time.Duration, error) {
	s, err := startServer(ctx, store, query.Options{CacheEntries: 0}, tune)
	if err != nil {
		return nil, err
	}
	defer s.close()
	n := conns
	if q.vary == perIndicator {
		n = min(len(codes), max(20, conns))
	}
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var issued atomic.Int64 // each request is claimed once: no two ask for the same indicator
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for {
				i := int(issued.Add(1) - 1)
				if i >= n {
					return
				}
				in, y := codes[(i+round*n)%len(codes)], 2001+(i+round)%years
				t := time.Now()
				err := s.post(q.query, in, y)
				d := time.Since(t)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return lat, firstErr
}

func (b *bench) run(work string, spec setSpec) error {
	ctx := context.Background()
	dir := filepath.Join(work, fmt.Sprintf("%s-%d-%d-%d", spec.name, spec.regions, spec.indicators, spec.years))
	if _, err := os.Stat(filepath.Join(dir, dataset.ObservationsFile)); err != nil {
		fmt.Printf("writing the synthetic dataset %s …\n", dir)
		if err := runChild("child-synth", dir, strconv.Itoa(spec.regions), strconv.Itoa(spec.indicators), strconv.Itoa(spec.years), string(spec.frequency)); err != nil {
			return err
		}
	}
	csv := filepath.Join(dir, dataset.ObservationsFile)
	st, _ := os.Stat(csv)
	fmt.Printf("\n## %s: %d regions × %d indicators × %d years (%d MB of observations.csv)\n\n", spec.name, spec.regions,
		spec.indicators, spec.years, st.Size()>>20)

	// Import against the floor, in child processes so that each one's peak RSS is its own.
	db := filepath.Join(work, spec.name+".db")
	var floorT, importT []time.Duration
	var floorRSS, importRSS int64
	imports := b.rounds
	if b.only != nil { // --only reuses the last import's file, or imports once without measuring
		imports = 0
		if _, err := os.Stat(db); err != nil {
			imports = 1
		}
	}
	for range imports {
		t, rss, err := measureChild("child-floor-import", csv)
		if err != nil {
			return err
		}
		floorT, floorRSS = append(floorT, t), max(floorRSS, rss)
		os.Remove(db)
		t, rss, err = measureChild("child-import", dir, db)
		if err != nil {
			return err
		}
		importT, importRSS = append(importT, t), max(importRSS, rss)
	}
	if b.only == nil {
		fmt.Println("| import | floor: DuckDB read_csv into a table | pacesetter import | time ratio | rate ratio (≥ 0.5 wanted) | peak RSS floor / pacesetter |")
		fmt.Println("| --- | --- | --- | --- | --- | --- |")
		ft, it := median(floorT), median(importT)
		fmt.Printf("| %s | %s | %s | %.2f | %.2f | %d MB / %d MB |\n\n", spec.name, round(ft), round(it), float64(it)/float64(ft), float64(ft)/float64(it), floorRSS>>20, importRSS>>20)
	}

	store, err := duck.OpenReadOnly(db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.LockDown(ctx); err != nil {
		return err
	}
	d := dataset.SyntheticOf(1, 0, spec.indicators, 0, cmp.Or(spec.frequency, analytics.Annual)) // the indicators alone: codes and directions
	signs := map[string]float64{}
	var codes []string
	for _, in := range d.Indicators {
		signs[in.Code] = 1
		if in.Direction == analytics.LowerIsBetter {
			signs[in.Code] = -1
		}
		codes = append(codes, in.Code)
	}
	// Every (indicator, year) once, in a fixed random order: requests do not repeat within a run.
	var pairs []pair
	for _, c := range codes {
		for y := range spec.years {
			pairs = append(pairs, pair{c, 2001 + y})
		}
	}
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })

	groups := make([]string, 10)
	for i := range groups {
		groups[i] = fmt.Sprintf("G%02d", i+1)
	}
	var qs []question
	if spec.frequency == analytics.Monthly {
		// A monthly league table: one month of one indicator, every region and one group, against the same
		// rank() over that month's rows.
		qs = []question{
			{"monthly ranking of every region", perIndicator, func(ctx context.Context, in string, y int, sign float64) (int, error) {
				rows, err := store.FloorRankingPeriod(ctx, in, y, monthOf(y), "", sign)
				return len(rows), err
			}, `query($i: ID!, $p: String!) { ranking(indicator: $i, period: $p) { entries { region { code name } value rank percentile } } }`},
			{"monthly ranking of one peer group", perIndicator, func(ctx context.Context, in string, y int, sign float64) (int, error) {
				rows, err := store.FloorRankingPeriod(ctx, in, y, monthOf(y), "G01", sign)
				return len(rows), err
			}, `query($i: ID!, $p: String!) { ranking(indicator: $i, period: $p, group: "G01") { entries { region { code name } value rank percentile } } }`},
		}
		return b.measure(ctx, store, spec, qs, pairs, codes, signs)
	}
	if spec.name == "peer" {
		var aliased strings.Builder
		aliased.WriteString(`query($i: ID!, $y: Int!) {`)
		for _, g := range groups {
			fmt.Fprintf(&aliased, ` %s: ranking(indicator: $i, year: $y, group: %q) { entries { region { code } value rank } }`, strings.ToLower(g), g)
		}
		aliased.WriteString(" }")
		qs = []question{
			{"Q2 top 10 of one indicator/year", perIndicator, func(ctx context.Context, in string, y int, sign float64) (int, error) {
				rows, err := store.FloorTop(ctx, in, y, sign, 10)
				return len(rows), err
			}, `query($i: ID!, $y: Int!) { ranking(indicator: $i, year: $y) { entries(top: 10) { region { code name } value rank } } }`},
			{"Q3 rank in every peer group (10 aliased rankings)", perIndicator, func(ctx context.Context, in string, y int, sign float64) (int, error) {
				rows, err := store.FloorGroupRanks(ctx, in, y, sign)
				return len(rows), err
			}, aliased.String()},
		}
	} else {
		qs = []question{
			{"ranking of every region", perIndicator, func(ctx context.Context, in string, y int, sign float64) (int, error) {
				rows, err := store.FloorRanking(ctx, in, y, "", sign)
				return len(rows), err
			}, `query($i: ID!, $y: Int!) { ranking(indicator: $i, year: $y) { entries { region { code name } value rank percentile } } }`},
			{"ranking of one peer group", perIndicator, func(ctx context.Context, in string, y int, sign float64) (int, error) {
				rows, err := store.FloorRanking(ctx, in, y, "G01", sign)
				return len(rows), err
			}, `query($i: ID!, $y: Int!) { ranking(indicator: $i, year: $y, group: "G01") { entries { region { code name } value rank percentile } } }`},
		}
	}
	// Q1: the mean and count of every indicator in every year from $y on (20 different answers on the peer
	// data), against DuckDB's GROUP BY.
	rowsQ1 := spec.indicators * spec.years
	qs = append(qs, question{"Q1 mean and count by indicator × year (aggregate)", perYear, func(ctx context.Context, _ string, y int, _ float64) (int, error) {
		return store.FloorAggregate(ctx, y)
	}, fmt.Sprintf(`query($y: Int!) { aggregate(by: [INDICATOR, YEAR], filter: {from: $y}, first: %d) { rows { indicator { code } year count mean } } }`, min(rowsQ1, 10000))})
	if spec.name != "peer" {
		// One indicator's mean and count by peer group × year: a dashboard's group panel.
		qs = append(qs, question{"mean and count of one indicator by group × year (aggregate)", perIndicator, func(ctx context.Context, in string, y int, _ float64) (int, error) {
			return store.FloorAggregateGroups(ctx, in, y)
		}, `query($i: ID!, $y: Int!) { aggregate(by: [GROUP, YEAR], filter: {indicators: [$i], from: $y}) { rows { group { code } year count mean } } }`})
	}
	// Q4: a composite of 50 indicators (weights 1, 2, 3 in turn), every region, against one statement
	// normalising, weighting and ranking in SQL: on the peer data each year from the first to $y
	// (compositeHistory), on the big data the year $y alone (composite: a history of 3,000 regions × 30 years
	// is refused at the default limit for the size of its answer).
	var lines []duck.FloorLine
	var inline strings.Builder
	for k, c := range codes[:min(50, len(codes))] {
		w := float64(k%3 + 1)
		lines = append(lines, duck.FloorLine{Indicator: c, Weight: w, Sign: signs[c]})
		fmt.Fprintf(&inline, "{indicator: %q, weight: %g} ", c, w)
	}
	if spec.name == "peer" {
		qs = append(qs, question{fmt.Sprintf("Q4 composite history of %d indicators (compositeHistory)", len(lines)), perYear,
			func(ctx context.Context, _ string, y int, _ float64) (int, error) {
				return store.FloorCompositeHistory(ctx, lines, 2001, y)
			}, `query($y: Int!) { compositeHistory(input: {year: $y, indicators: [` + inline.String() + `]}, from: 2001) { years regions { region { code } years { year score rank } } } }`})
	} else {
		qs = append(qs, question{fmt.Sprintf("composite of %d indicators, one year, every region (composite)", len(lines)), perYear,
			func(ctx context.Context, _ string, y int, _ float64) (int, error) {
				return store.FloorCompositeHistory(ctx, lines, y, y)
			}, `query($y: Int!) { composite(input: {year: $y, indicators: [` + inline.String() + `]}) { entries { region { code } score rank } } }`})
	}

	return b.measure(ctx, store, spec, qs, pairs, codes, signs)
}

// measure prints the table of questions qs: each against its floor, on a fresh server (first touch), with
// the values in memory and the answer caches off (steady) and with the caches on (hot), at 1, 8 and 64
// connections.
func (b *bench) measure(ctx context.Context, store *duck.Store, spec setSpec, qs []question, pairs []pair, codes []string, signs map[string]float64) error {
	if b.only != nil {
		qs = slices.DeleteFunc(qs, func(q question) bool { return !b.only.MatchString(q.name) })
		if len(qs) == 0 {
			return nil
		}
	}
	// Every server here runs at the default limits: a question the cost model refuses shows as errors.
	fmt.Printf("(default limits: complexity %d)\n\n", graphserver.DefaultOptions.Complexity)
	tune := func(cache bool) func(*graphserver.Options) {
		return func(o *graphserver.Options) {
			if !cache {
				o.ResponseCache = 0
			}
		}
	}
	// The two servers over the same store: steady with the answer caches off (every request computed, the
	// values in memory), hot with the serving defaults.
	cold, err := startServer(ctx, store, query.Options{CacheEntries: 0}, tune(false))
	if err != nil {
		return err
	}
	defer cold.close()
	hot, err := startServer(ctx, store, query.DefaultOptions, tune(true))
	if err != nil {
		return err
	}
	defer hot.close()
	// Every indicator loaded in both servers, as DuckDB's own buffers are warm for the floor after its
	// first query; the first touches are measured on fresh servers of their own.
	for _, s := range []*server{cold, hot} {
		for _, c := range codes {
			// A ranking of the latest period loads the indicator's whole matrix (one of a given year would
			// load only that year's window until another year is asked).
			if err := s.post(`query($i: ID!) { ranking(indicator: $i) { count } }`, c, 2001); err != nil {
				return err
			}
		}
	}

	// The p99s show how each spreads its waits at 64 connections: the server admits a few requests at a time
	// in order, so its p50 is close to its mean; DuckDB runs all 64 at once and finishes some far sooner
	// than others, a p50 below its mean and a long tail.
	fmt.Println("| question | conns | floor p50 | first touch p50 | first / floor | steady p50 | steady / floor | hot p50 | hot / floor | floor req/s | steady req/s | hot req/s | floor p99 | steady p99 | errors |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, q := range qs {
		// The hot set's 20 requests once each on the hot server first, so that hot measures answers from the
		// caches: a composite of 3,000 regions took longer than 20 requests in a run at 1 connection, and that
		// run's hot p50 was of misses alone. A request the limits refuse is refused again, and counted then.
		for i := range 20 {
			_ = hot.post(q.query, pairs[i].in, pairs[i].year)
		}
		for _, conns := range []int{1, 8, 64} {
			var fp50, tp50, cp50, hp50, fp99, cp99 []time.Duration
			var frps, crps, hrps []float64
			errs := 0
			for r := range b.rounds {
				next := cycle(len(pairs), r*7919)
				p50, p99, rps, err := b.floor(ctx, conns, func(ctx context.Context) error {
					p := pairs[next()]
					n, err := q.floor(ctx, p.in, p.year, signs[p.in])
					if err == nil && n == 0 {
						err = fmt.Errorf("floor answered nothing for %s %d", p.in, p.year)
					}
					return err
				})
				if err != nil {
					return err
				}
				fp50, fp99, frps = append(fp50, p50), append(fp99, p99), append(frps, rps)
				if conns == 1 { // sequential: concurrent first touches share their loads, which says little
					t, err := b.firstTouch(ctx, store, q, conns, codes, spec.years, r, tune(false))
					if err != nil {
						// A question the default limits refuse is a row of errors, not the end of the run.
						fmt.Fprintf(os.Stderr, "first touch of %q: %.300v\n", q.name, err)
						errs++
					} else {
						tp50 = append(tp50, t...)
					}
				}
				next = cycle(len(pairs), r*7919)
				m, e := b.attack(cold, conns, func() (string, int) { p := pairs[next()]; return p.in, p.year }, q.query)
				cp50, cp99, crps, errs = append(cp50, m.Latencies.P50), append(cp99, m.Latencies.P99), append(crps, m.Throughput), errs+e
				hotSet := cycle(20, 0) // 20 requests, answered from the caches after the first round
				m, e = b.attack(hot, conns, func() (string, int) { p := pairs[hotSet()]; return p.in, p.year }, q.query)
				hp50, hrps, errs = append(hp50, m.Latencies.P50), append(hrps, m.Throughput), errs+e
			}
			f, c, h := median(fp50), median(cp50), median(hp50)
			first, firstRatio := "–", "–"
			if len(tp50) > 0 {
				t := median(tp50)
				first, firstRatio = round(t).String(), fmt.Sprintf("%.2f", float64(t)/float64(f))
			}
			fmt.Printf("| %s | %d | %s | %s | %s | %s | %.2f | %s | %.2f | %.0f | %.0f | %.0f | %s | %s | %d |\n", q.name, conns, round(f), first,
				firstRatio, round(c), float64(c)/float64(f), round(h), float64(h)/float64(f), medianF(frps), medianF(crps), medianF(hrps),
				round(median(fp99)), round(median(cp99)), errs)
		}
	}
	fmt.Println()
	return nil
}

// floor runs f from conns goroutines for the run's duration; p50 and p99 latency and completions per
// second.
func (b *bench) floor(ctx context.Context, conns int, f func(context.Context) error) (time.Duration, time.Duration, float64, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Go(func() {
			for time.Since(start) < b.dur {
				t := time.Now()
				err := f(ctx)
				d := time.Since(t)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				lat = append(lat, d)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(lat)
	p50, p99 := time.Duration(0), time.Duration(0)
	if len(lat) > 0 {
		p50, p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return p50, p99, float64(len(lat)) / time.Since(start).Seconds(), firstErr
}

// attack drives the server over HTTP with vegeta: conns connections, each sending its next request as soon
// as its last is answered. Answers that are not 200 or carry GraphQL errors count as errors.
func (b *bench) attack(s *server, conns int, next func() (string, int), query string) (*vegeta.Metrics, int) {
	hdr := http.Header{"Content-Type": []string{"application/json"}}
	var mu sync.Mutex
	targeter := func(t *vegeta.Target) error {
		mu.Lock()
		in, y := next()
		mu.Unlock()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars(query, in, y)})
		*t = vegeta.Target{Method: http.MethodPost, URL: s.url + "/graphql", Body: body, Header: hdr}
		return nil
	}
	a := vegeta.NewAttacker(vegeta.Workers(uint64(conns)), vegeta.MaxWorkers(uint64(conns)), vegeta.Connections(conns),
		vegeta.KeepAlive(true), vegeta.Timeout(60*time.Second))
	var m vegeta.Metrics
	errs := 0
	for res := range a.Attack(targeter, vegeta.ConstantPacer{Freq: 0}, b.dur, "pacebench") {
		m.Add(res)
		if res.Code != http.StatusOK || bytes.Contains(res.Body, []byte(`"errors"`)) {
			if errs == 0 {
				fmt.Fprintf(os.Stderr, "error answer: %d %s %.300s\n", res.Code, res.Error, res.Body)
			}
			errs++
		}
	}
	m.Close()
	return &m, errs
}

// listCost compares a ranking of 3,000 regions through the handler (plain writer, and gqlgen alone) with
// the engine's answer written as the same JSON by hand.
func (b *bench) listCost(ctx context.Context) error {
	store, err := duck.Open("")
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.Import(ctx, dataset.Synthetic(1, 3000, 3, 2), "bench"); err != nil {
		return err
	}
	in, year := "I001", 2002
	engine, err := query.NewEngine(ctx, store, query.Options{CacheEntries: 0})
	if err != nil {
		return err
	}
	query := `query($i: ID!, $y: Int!) { ranking(indicator: $i, year: $y) { entries { region { code name } value rank percentile } } }`
	body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"i": in, "y": year}})
	handler := func(gqlgenOnly bool) func() (int, error) {
		opt := graphserver.DefaultOptions
		opt.ResponseCache, opt.GqlgenOnly = 0, gqlgenOnly
		h := graphserver.NewHandler(engine, opt)
		return func() (int, error) {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
				return 0, fmt.Errorf("handler: %d %.300s", rec.Code, rec.Body)
			}
			return rec.Body.Len(), nil
		}
	}
	byHand := func() (int, error) {
		rk, err := engine.Ranking(ctx, analytics.RankingQuery{Indicator: in, Year: &year})
		if err != nil {
			return 0, err
		}
		return len(handJSON(rk)), nil
	}
	// Both build the same bytes, or the comparison would be of different work.
	rk, err := engine.Ranking(ctx, analytics.RankingQuery{Indicator: in, Year: &year})
	if err != nil {
		return err
	}
	want := handJSON(rk)
	h := graphserver.NewHandler(engine, graphserver.Options{Complexity: graphserver.DefaultOptions.Complexity})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !bytes.Equal(rec.Body.Bytes(), want) {
		return fmt.Errorf("the handler's answer is not the hand-built JSON:\n%.300s\n%.300s", rec.Body.Bytes(), want)
	}
	fmt.Printf("\nThe cost of a long answer (a ranking of %d entries, %d KB, in process, no caches):\n\n", len(rk.Entries), len(want)>>10)
	fmt.Println("| built by | time | ratio to by hand (≤ 1.3 wanted) |")
	fmt.Println("| --- | --- | --- |")
	var hand time.Duration
	for _, c := range []struct {
		name string
		f    func() (int, error)
	}{{"hand-written JSON from engine.Ranking", byHand}, {"the handler (plain writer)", handler(false)}, {"the handler, gqlgen alone", handler(true)}} {
		var ts []time.Duration
		for range b.rounds {
			reps := 0
			start := time.Now()
			for time.Since(start) < b.dur/2 || reps < 5 {
				if _, err := c.f(); err != nil {
					return err
				}
				reps++
			}
			ts = append(ts, time.Since(start)/time.Duration(reps))
		}
		t := median(ts)
		if hand == 0 {
			hand = t
		}
		fmt.Printf("| %s | %s | %.2f |\n", c.name, round(t), float64(t)/float64(hand))
	}
	return nil
}

// handJSON writes the answer of the list-cost query as a program would by hand: appends, no reflection.
// Floats as gqlgen writes them (%g, shortest), so that the bytes are the same.
func handJSON(rk *analytics.Ranking) []byte {
	out := make([]byte, 0, 80*len(rk.Entries)+32)
	out = append(out, `{"data":{"ranking":{"entries":[`...)
	for i, e := range rk.Entries {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"region":{"code":`...)
		out = strconv.AppendQuote(out, e.Region.Code)
		out = append(out, `,"name":`...)
		out = strconv.AppendQuote(out, e.Region.Name)
		out = append(out, `},"value":`...)
		out = strconv.AppendFloat(out, e.Value, 'g', -1, 64)
		out = append(out, `,"rank":`...)
		out = strconv.AppendInt(out, int64(e.Rank), 10)
		out = append(out, `,"percentile":`...)
		out = strconv.AppendFloat(out, e.Percentile, 'g', -1, 64)
		out = append(out, '}')
	}
	return append(out, `]}}}`...)
}

type server struct {
	url   string
	srv   *http.Server
	ln    net.Listener
	close func()
}

func startServer(ctx context.Context, store *duck.Store, eopt query.Options, tune func(*graphserver.Options)) (*server, error) {
	engine, err := query.NewEngine(ctx, store, eopt)
	if err != nil {
		return nil, err
	}
	opt := graphserver.DefaultOptions
	tune(&opt)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: graphserver.NewHandler(engine, opt), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &server{url: "http://" + ln.Addr().String(), srv: srv, ln: ln, close: func() { srv.Close() }}, nil
}

func (s *server) post(query, in string, year int) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars(query, in, year)})
	res, err := http.Post(s.url+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(res.Body)
	if res.StatusCode != http.StatusOK || bytes.Contains(out.Bytes(), []byte(`"errors"`)) {
		return fmt.Errorf("warm-up %s %d: %d %.300s", in, year, res.StatusCode, out.Bytes())
	}
	return nil
}

// cycle returns a function giving 0, 1, … n−1, 0, … from start, safe for one goroutine at a time.
func cycle(n, start int) func() int {
	i := start
	var mu sync.Mutex
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		i++
		return i % n
	}
}

// runChild runs this program again with a child- subcommand.
func runChild(args ...string) error {
	_, _, err := measureChild(args...)
	return err
}

// measureChild runs a child subcommand and returns its wall time and peak RSS.
func measureChild(args ...string) (time.Duration, int64, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w (%s)", args[0], err, out)
	}
	elapsed := time.Since(start)
	if d, perr := time.ParseDuration(strings.TrimSpace(string(out))); perr == nil {
		elapsed = d // the child timed its own work, without its start-up
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss << 10 // kilobytes on Linux
	}
	return elapsed, rss, nil
}

// child runs one measured piece of work in its own process and prints how long it took.
func child(name string, args []string) error {
	ctx := context.Background()
	start := time.Now()
	switch name {
	case "child-synth":
		r, _ := strconv.Atoi(args[1])
		n, _ := strconv.Atoi(args[2])
		y, _ := strconv.Atoi(args[3])
		f := analytics.Annual
		if len(args) > 4 && args[4] != "" {
			f = analytics.Frequency(args[4])
		}
		_, _, err := dataset.WriteSyntheticOf(args[0], 1, r, n, y, f)
		return err
	case "child-floor-import":
		if _, err := duck.FloorLoadCSV(ctx, args[0]); err != nil {
			return err
		}
	case "child-import":
		store, err := duck.Open(args[1])
		if err != nil {
			return err
		}
		defer store.Close()
		if _, err := store.ImportDir(ctx, args[0], "bench"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown child %s", name)
	}
	fmt.Println(time.Since(start))
	return nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianF(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
