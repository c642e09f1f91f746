package assess

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"pacesetter/analytics"
)

func sameRobust(a, b []RobustEntry) bool {
	if len(a) != len(b) {
		return false
	}
	eq := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	for k := range a {
		x, y := a[k], b[k]
		if x.Region != y.Region || x.Excluded != y.Excluded || !eq(x.Nominal, y.Nominal) || !eq(x.Median, y.Median) ||
			!eq(x.P05, y.P05) || !eq(x.P95, y.P95) || !eq(x.MeanShift, y.MeanShift) {
			return false
		}
	}
	return true
}

func TestRobustnessNoiseZero(t *testing.T) {
	// Without noise every run uses the nominal weights, so every run's rank is the nominal one: the
	// interval collapses onto it and nothing shifts. DISTANCE_TO_TARGET has A and C tied (FRACTIONAL 4.5,
	// see TestComputeTargetsAndTies); EXCLUDE leaves B out.
	cases := []Options{
		{Normalisation: analytics.DistanceToTarget, Ties: analytics.Fractional},
		{Normalisation: analytics.DistanceToTarget, Ties: analytics.Dense, Missing: analytics.Exclude},
		{Normalisation: analytics.Rank, Aggregation: analytics.Geometric},
		{Normalisation: analytics.MinMax, Tiers: Tiers{Cutoffs: []float64{60, 40}}},
	}
	for _, o := range cases {
		for _, runs := range []int{1, 7, 8} {
			got, err := Robustness(exValues(), exIndicators(), o, RobustnessOptions{Runs: runs, Noise: 0, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			nominal, _ := Compute(exValues(), exIndicators(), o)
			for r, e := range got {
				n := nominal.Entries[r]
				if e.Excluded != n.Excluded || e.Region != r {
					t.Errorf("%+v region %d: excluded %v, nominal %q", o, r, e.Excluded, n.Excluded)
				}
				if e.Excluded != "" {
					if !math.IsNaN(e.Median) || !math.IsNaN(e.Nominal) {
						t.Errorf("%+v region %d: excluded with numbers %+v", o, r, e)
					}
					continue
				}
				if e.Nominal != n.Rank || e.Median != n.Rank || e.P05 != n.Rank || e.P95 != n.Rank || e.MeanShift != 0 {
					t.Errorf("%+v runs %d region %d: %+v, want all %v and shift 0", o, runs, r, e, n.Rank)
				}
			}
		}
	}
	// The FRACTIONAL tie survives: A and C stay at 4.5.
	got, _ := Robustness(exValues(), exIndicators(), cases[0], RobustnessOptions{Runs: 5, Seed: 1})
	if got[0].Median != 4.5 || got[2].P95 != 4.5 {
		t.Errorf("tied regions: %+v %+v", got[0], got[2])
	}
}

func TestRobustnessDominance(t *testing.T) {
	// Region 0 is best on every indicator and region 3 worst on every one, whatever their signs: no
	// weights and no normalisation can move them. Regions 1 and 2 trade places: 1 leads on a, 2 on b.
	values := [][]float64{
		{90, 70, 40, 10}, // a, higher is better
		{1, 6, 3, 9},     // b, lower is better
		{50, 30, 30, 20}, // c
	}
	inds := []Indicator{
		{Code: "a", Weight: 1, Sign: 1},
		{Code: "b", Weight: 1, Sign: -1},
		{Code: "c", Weight: 1, Sign: 1},
	}
	for _, ro := range []RobustnessOptions{
		{Runs: 500, Noise: 0.9, Seed: 11, Normalisations: []analytics.Normalisation{analytics.MinMax, analytics.Rank, analytics.PercentileRank, analytics.DistanceToLeader, analytics.ZScore}},
		{Runs: 501, Noise: 0.5, Seed: 12, Normalisations: []analytics.Normalisation{analytics.Rank, analytics.DistanceToLeader}, Aggregations: []analytics.Aggregation{analytics.Arithmetic, analytics.Geometric}},
	} {
		got, err := Robustness(values, inds, Options{Normalisation: analytics.Rank}, ro)
		if err != nil {
			t.Fatal(err)
		}
		if e := got[0]; e.Nominal != 1 || e.Median != 1 || e.P05 != 1 || e.P95 != 1 || e.MeanShift != 0 {
			t.Errorf("dominant region: %+v", e)
		}
		if e := got[3]; e.Nominal != 4 || e.Median != 4 || e.P05 != 4 || e.P95 != 4 || e.MeanShift != 0 {
			t.Errorf("dominated region: %+v", e)
		}
		// The runs do move the middle: 1 and 2 each take rank 2 and rank 3 in some runs.
		for _, r := range []int{1, 2} {
			if e := got[r]; e.P05 != 2 || e.P95 != 3 || !(e.MeanShift > 0) {
				t.Errorf("region %d should move between 2 and 3: %+v", r, e)
			}
		}
	}
}

func TestRobustnessDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	values, inds := bigCase(rng, 200, 8, 0.1)
	o := Options{Normalisation: analytics.MinMax, Ties: analytics.Fractional, Tiers: Tiers{Quotas: []int{10, 20}}}
	ro := RobustnessOptions{Runs: 301, Noise: 0.3, Seed: 42, Normalisations: []analytics.Normalisation{analytics.MinMax, analytics.Rank, analytics.PercentileRank, analytics.Goalposts}}
	first, err := Robustness(values, inds, o, ro)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Robustness(values, inds, o, ro)
	if !sameRobust(first, again) {
		t.Error("the same seed gave two answers")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 7} {
		runtime.GOMAXPROCS(procs)
		got, _ := Robustness(values, inds, o, ro)
		if !sameRobust(first, got) {
			t.Errorf("GOMAXPROCS %d changed the answer", procs)
		}
	}
	ro.Seed = 43
	other, _ := Robustness(values, inds, o, ro)
	if sameRobust(first, other) {
		t.Error("another seed gave the same answer: the seed is not used")
	}
	moved := 0
	for _, e := range first {
		if e.Excluded == "" && e.MeanShift > 0 {
			moved++
		}
	}
	if moved == 0 {
		t.Error("noise 0.3 moved no region")
	}
}

// refSplitmix is splitmix64 as published (Steele, Lea, Flood 2014), to derive run k's stream.
func refSplitmix(x uint64) uint64 {
	z := x + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// refRobustness is the Monte Carlo the slow way: one run after another on one goroutine, each run
// drawing as the package comment says and scoring with the reference refCompute.
func refRobustness(values [][]float64, inds []Indicator, o Options, ro RobustnessOptions) []RobustEntry {
	nominal := refCompute(values, inds, o)
	runs := make([][]float64, len(values[0]))
	for k := range ro.Runs {
		rnd := rand.New(rand.NewPCG(uint64(ro.Seed), refSplitmix(uint64(k))))
		run := o
		if len(ro.Normalisations) > 0 {
			run.Normalisation = ro.Normalisations[rnd.IntN(len(ro.Normalisations))]
		}
		if len(ro.Aggregations) > 0 {
			run.Aggregation = ro.Aggregations[rnd.IntN(len(ro.Aggregations))]
		}
		w := append([]Indicator(nil), inds...)
		for i := range w {
			u := rnd.Float64()
			w[i].Weight = inds[i].Weight * float64(1+float64((2*u-1)*ro.Noise))
		}
		res := refCompute(values, w, run)
		for r, e := range res.entries {
			if !nominal.entries[r].excluded {
				runs[r] = append(runs[r], e.rank)
			}
		}
	}
	out := make([]RobustEntry, len(values[0]))
	for r, e := range nominal.entries {
		if e.excluded {
			out[r] = RobustEntry{Region: r, Nominal: math.NaN(), Median: math.NaN(), P05: math.NaN(), P95: math.NaN(), MeanShift: math.NaN(), Excluded: "excluded"}
			continue
		}
		s := runs[r]
		shift := 0.0
		for _, v := range s {
			shift += math.Abs(v - e.rank)
		}
		for a := range s { // insertion sort
			for b := a; b > 0 && s[b] < s[b-1]; b-- {
				s[b], s[b-1] = s[b-1], s[b]
			}
		}
		R := len(s)
		median := s[R/2]
		if R%2 == 0 {
			median = (s[R/2-1] + s[R/2]) / 2
		}
		out[r] = RobustEntry{Region: r, Nominal: e.rank, Median: median,
			P05: s[int(math.Ceil(float64(5*R)/100))-1], P95: s[int(math.Ceil(float64(95*R)/100))-1], MeanShift: shift / float64(R)}
	}
	return out
}

func TestRobustnessAgainstReference(t *testing.T) {
	lists := []RobustnessOptions{
		{},
		{Normalisations: []analytics.Normalisation{analytics.Rank, analytics.DistanceToLeader, analytics.Goalposts}},
		{Aggregations: []analytics.Aggregation{analytics.Arithmetic, analytics.Geometric}},
		{Normalisations: []analytics.Normalisation{analytics.Rank, analytics.DistanceToLeader, analytics.DistanceToTarget}, Aggregations: []analytics.Aggregation{analytics.Geometric, analytics.Arithmetic, analytics.Arithmetic}},
		{Normalisations: []analytics.Normalisation{analytics.ZScore, analytics.MinMax, analytics.PercentileRank}}, // negative scores too
	}
	checked := 0
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 99))
		values, inds := randomCase(rng)
		for r := range values[0] { // positive data, so that every normalisation scores geometrically
			for i := range values {
				values[i][r] = math.Abs(values[i][r]) + 0.5
				if rng.Float64() < 0.1 {
					values[i][r] = math.NaN()
				}
			}
		}
		for li, l := range lists {
			ro := l
			ro.Runs, ro.Noise, ro.Seed = 1+rng.IntN(60), rng.Float64()*0.99, int64(rng.Uint64())
			o := Options{Normalisation: analytics.Rank, Ties: []analytics.TieRule{analytics.Competition, analytics.Dense, analytics.Fractional}[rng.IntN(3)], Missing: []analytics.MissingRule{analytics.Rescale, analytics.Exclude}[rng.IntN(2)]}
			if li == 2 || li == 3 {
				o.Normalisation = analytics.DistanceToLeader
			}
			if li == 4 {
				o.Normalisation = analytics.ZScore
			}
			got, err := Robustness(values, inds, o, ro)
			if err != nil {
				// Only the list with DISTANCE_TO_TARGET may refuse: a missing target can exclude a region the
				// other normalisations score.
				if li == 3 && strings.Contains(err.Error(), "exclusion is decided once") {
					continue
				}
				t.Fatalf("seed %d list %d: %v", seed, li, err)
			}
			want := refRobustness(values, inds, o, ro)
			for r := range want {
				g, w := got[r], want[r]
				if (g.Excluded != "") != (w.Excluded != "") || !close9(g.Nominal, w.Nominal) || !close9(g.Median, w.Median) || !close9(g.P05, w.P05) ||
					!close9(g.P95, w.P95) || !close9(g.MeanShift, w.MeanShift) {
					t.Fatalf("seed %d list %d region %d: %+v, reference %+v", seed, li, r, g, w)
				}
			}
			checked++
		}
	}
	if checked < 100 {
		t.Errorf("only %d cases checked", checked)
	}
}

func TestRobustnessRefusals(t *testing.T) {
	ok := RobustnessOptions{Runs: 10, Noise: 0.25}
	tests := []struct {
		name string
		o    Options
		ro   func(RobustnessOptions) RobustnessOptions
		msg  []string
	}{
		{"no runs", Options{Normalisation: analytics.MinMax}, func(r RobustnessOptions) RobustnessOptions { r.Runs = 0; return r }, []string{"0 runs", "between 1 and 100000"}},
		{"too many runs", Options{Normalisation: analytics.MinMax}, func(r RobustnessOptions) RobustnessOptions { r.Runs = 100001; return r }, []string{"between 1 and 100000"}},
		{"negative noise", Options{Normalisation: analytics.MinMax}, func(r RobustnessOptions) RobustnessOptions { r.Noise = -0.1; return r }, []string{"outside [0, 1)"}},
		{"noise 1", Options{Normalisation: analytics.MinMax}, func(r RobustnessOptions) RobustnessOptions { r.Noise = 1; return r }, []string{"below 1"}},
		{"noise NaN", Options{Normalisation: analytics.MinMax}, func(r RobustnessOptions) RobustnessOptions { r.Noise = nan; return r }, []string{"noise NaN"}},
		{"unknown normalisation in the list", Options{Normalisation: analytics.MinMax}, func(r RobustnessOptions) RobustnessOptions {
			r.Normalisations = []analytics.Normalisation{analytics.Rank, "RANKS"}
			return r
		}, []string{`unknown normalisation "RANKS"`}},
		{"unknown aggregation in the list", Options{Normalisation: analytics.MinMax}, func(r RobustnessOptions) RobustnessOptions {
			r.Aggregations = []analytics.Aggregation{"HARMONIC"}
			return r
		}, []string{`unknown aggregation "HARMONIC"`, "ARITHMETIC or GEOMETRIC"}},
		{"a drawn combination refuses", Options{Normalisation: analytics.Rank}, func(r RobustnessOptions) RobustnessOptions {
			r.Normalisations = []analytics.Normalisation{analytics.Rank, analytics.MinMax}
			r.Aggregations = []analytics.Aggregation{analytics.Geometric}
			return r
		}, []string{"robustness runs with MIN_MAX and GEOMETRIC", "MIN_MAX gives the worst region 0"}},
		{"a drawn normalisation excludes otherwise", Options{Normalisation: analytics.MinMax, Missing: analytics.Exclude}, func(r RobustnessOptions) RobustnessOptions {
			r.Normalisations = []analytics.Normalisation{analytics.MinMax, analytics.DistanceToTarget}
			return r
		}, []string{"robustness runs with DISTANCE_TO_TARGET and ARITHMETIC would exclude or score region 3", "leave it out of the lists"}},
		{"the nominal options refuse", Options{Normalisation: analytics.MinMax, Ties: "X"}, func(r RobustnessOptions) RobustnessOptions { return r }, []string{`unknown tie rule "X"`}},
	}
	for _, tc := range tests {
		_, err := Robustness(exValues(), exIndicators(), tc.o, tc.ro(ok))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want an *Error", tc.name, err)
			continue
		}
		for _, s := range tc.msg {
			if !strings.Contains(e.Msg, s) {
				t.Errorf("%s: message %q lacks %q", tc.name, e.Msg, s)
			}
		}
	}
	// Runs × regions above MaxRobustCells: the message says how many runs fit.
	v, inds := passThrough(make([]float64, 1000)...)
	_, err := Robustness(v, inds, Options{Normalisation: analytics.Goalposts}, RobustnessOptions{Runs: 100000})
	if err == nil || !strings.Contains(err.Error(), "give at most 50000 runs") {
		t.Errorf("too many cells: %v", err)
	}
}

// bigCase is a random matrix of the given size: values of both signs, lower-is-better for a third of the
// indicators, weights 1..5, a share of values missing.
func bigCase(rng *rand.Rand, regions, m int, pMiss float64) ([][]float64, []Indicator) {
	values := make([][]float64, m)
	inds := make([]Indicator, m)
	for i := range m {
		values[i] = make([]float64, regions)
		for r := range regions {
			values[i][r] = rng.NormFloat64()*10 + 50
			if rng.Float64() < pMiss {
				values[i][r] = math.NaN()
			}
		}
		sign := 1.0
		if i%3 == 2 {
			sign = -1
		}
		inds[i] = Indicator{Code: "x", Weight: float64(1 + rng.IntN(5)), Sign: sign, Low: 20, High: 80, HasGoalposts: true}
	}
	return values, inds
}

// BenchmarkRobustness: 3,000 regions × 50 indicators, 5% missing, 1,000 runs, noise 0.25.
func BenchmarkRobustness(b *testing.B) {
	rng := rand.New(rand.NewPCG(2026, 11))
	values, inds := bigCase(rng, 3000, 50, 0.05)
	o := Options{Normalisation: analytics.MinMax}
	ro := RobustnessOptions{Runs: 1000, Noise: 0.25, Seed: 1}
	for b.Loop() {
		if _, err := Robustness(values, inds, o, ro); err != nil {
			b.Fatal(err)
		}
	}
}

// summarise sorts a region's ranks by counting when they span a narrow band and by a comparison sort
// otherwise: both give the same summary, and the summary is the one worked out here by hand.
func TestSummariseBothSorts(t *testing.T) {
	// Doubled ranks 2, 4, 4, 6, 40 (ranks 1, 2, 2, 3, 20) with nominal rank 2: median 2, P05 s[⌈0.25⌉−1]
	// = s[0] = 1, P95 s[⌈4.75⌉−1] = s[4] = 20, mean shift (1 + 0 + 0 + 1 + 18)/5 = 4.
	want := RobustEntry{Region: 7, Nominal: 2, Median: 2, P05: 1, P95: 20, MeanShift: 4}
	for _, counts := range [][]int32{make([]int32, 3), make([]int32, 100)} { // band 39: sort, then counting
		got := summarise(7, 2, []uint16{40, 4, 2, 6, 4}, counts)
		if got != want {
			t.Errorf("with %d counts: %+v, want %+v", len(counts), got, want)
		}
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for range 200 {
		R := 1 + rng.IntN(50)
		a := make([]uint32, R)
		for k := range a {
			a[k] = uint32(2 + rng.IntN(400))
		}
		b := append([]uint32(nil), a...)
		nominal := float64(1+rng.IntN(200)) / 2
		if x, y := summarise(0, nominal, a, make([]int32, 1)), summarise(0, nominal, b, make([]int32, 1000)); x != y {
			t.Fatalf("sort %+v, counting %+v", x, y)
		}
	}
}

// pointsOptions ranks bigCase by points: each line earns its weight × normalised/100 (clipped to 0–100).
func pointsOptions(inds []Indicator) Options {
	return Options{Normalisation: analytics.MinMax, RankBy: analytics.RankByPoints, Earn: func(norm [][]float64) [][]float64 {
		out := make([][]float64, len(norm))
		for i, col := range norm {
			out[i] = make([]float64, len(col))
			for r, v := range col {
				out[i][r] = 0
				if !math.IsNaN(v) {
					out[i][r] = inds[i].Weight * math.Min(math.Max(v, 0), 100) / 100
				}
			}
		}
		return out
	}}
}

// BenchmarkRobustnessPoints is BenchmarkRobustness ranked by points (exact sums in every run): compare the
// two in one run, `go test -run - -bench 'Robustness' ./analytics/assess`.
func BenchmarkRobustnessPoints(b *testing.B) {
	rng := rand.New(rand.NewPCG(2026, 11))
	values, inds := bigCase(rng, 3000, 50, 0.05)
	ro := RobustnessOptions{Runs: 1000, Noise: 0.25, Seed: 1}
	o := pointsOptions(inds)
	for b.Loop() {
		if _, err := Robustness(values, inds, o, ro); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompute: one composite of 3,000 regions × 50 indicators, by score and by points.
func BenchmarkCompute(b *testing.B) {
	rng := rand.New(rand.NewPCG(2026, 11))
	values, inds := bigCase(rng, 3000, 50, 0.05)
	for name, o := range map[string]Options{"score": {Normalisation: analytics.MinMax}, "points": pointsOptions(inds)} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Compute(values, inds, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// With no noise, a points Monte Carlo reproduces the nominal ranks: every interval is the nominal rank.
func TestRobustnessPointsNoNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	values, inds := bigCase(rng, 200, 6, 0.1)
	o := pointsOptions(inds)
	nom, err := Compute(values, inds, o)
	if err != nil {
		t.Fatal(err)
	}
	rob, err := Robustness(values, inds, o, RobustnessOptions{Runs: 20, Noise: 0, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for r, re := range rob {
		if e := nom.Entries[r]; e.Excluded == "" && (re.P05 != e.Rank || re.P95 != e.Rank || re.Median != e.Rank || re.MeanShift != 0) {
			t.Fatalf("region %d: nominal %v, runs %+v", r, e.Rank, re)
		}
	}
}

// TestRobustnessInterrupted: Interrupt is asked between runs; once it answers an error the analysis stops
// with that error, long before its runs are done (it is asked every interruptEvery runs of each worker, so
// it is asked about Runs/interruptEvery times when it never stops it), and an Interrupt that never stops
// changes nothing of the answer.
func TestRobustnessInterrupted(t *testing.T) {
	o := Options{Normalisation: analytics.MinMax}
	stop := errors.New("deadline")
	var asked atomic.Int64
	ro := RobustnessOptions{Runs: 100000, Noise: 0.2, Seed: 5, Interrupt: func() error {
		if asked.Add(1) > 3 {
			return stop
		}
		return nil
	}}
	if _, err := Robustness(exValues(), exIndicators(), o, ro); !errors.Is(err, stop) {
		t.Fatalf("interrupted: %v, want its error", err)
	}
	if n := asked.Load(); n > 3+int64(runtime.GOMAXPROCS(0)) {
		t.Errorf("Interrupt was asked %d times after it said stop at the 4th", n)
	}
	plain := RobustnessOptions{Runs: 1000, Noise: 0.2, Seed: 5}
	want, err := Robustness(exValues(), exIndicators(), o, plain)
	if err != nil {
		t.Fatal(err)
	}
	asked.Store(0)
	plain.Interrupt = func() error { asked.Add(1); return nil }
	got, err := Robustness(exValues(), exIndicators(), o, plain)
	if err != nil || !reflect.DeepEqual(fmt.Sprint(got), fmt.Sprint(want)) {
		t.Errorf("with an Interrupt that never stops: %v, %v; want %v", got, err, want)
	}
	if n := asked.Load(); n < 1000/interruptEvery {
		t.Errorf("Interrupt was asked %d times over 1,000 runs, want at least %d", n, 1000/interruptEvery)
	}
}
