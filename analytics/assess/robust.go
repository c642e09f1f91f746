package assess

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

// RobustnessOptions is a Monte Carlo over the weights (and optionally the normalisation and aggregation).
type RobustnessOptions struct {
	Runs           int     // 1..100000
	Noise          float64 // 0 ≤ Noise < 1: w' = w·(1 + (2U − 1)·Noise)
	Seed           int64
	Normalisations []analytics.Normalisation // when non-empty each run draws one uniformly (else Options.Normalisation)
	Aggregations   []analytics.Aggregation   // likewise
	// Interrupt, if not nil, is asked between runs (every interruptEvery runs of each worker) whether to
	// stop: a non-nil error ends the analysis with that error (the request's deadline, ctx.Err). The largest
	// analysis allowed is seconds of CPU, which a request past its deadline should not spend.
	Interrupt func() error
}

// interruptEvery is how many runs a worker does between two questions to Interrupt: a run over 1,000
// regions takes tens of microseconds, so the deadline is seen within a few milliseconds.
const interruptEvery = 64

// RobustEntry is one region's rank across the runs. A region excluded nominally has NaN numbers and
// Excluded says why, as Entry.Excluded does; "" for a region scored.
type RobustEntry struct {
	Region                               int
	Nominal, Median, P05, P95, MeanShift float64
	Excluded                             string
}

// MaxRobustCells bounds Runs × scored regions: every run's rank of every region is kept (2 or 4 bytes
// each) until the percentiles are taken.
const MaxRobustCells = 50_000_000

// Robustness ranks the nominally scored regions in ro.Runs runs with perturbed weights (see the package
// comment for the draws) and summarises each region's ranks. Exclusion is decided once, at the nominal
// weights and options; every normalisation × aggregation in the lists must score without refusal and
// exclude exactly the regions the nominal options exclude.
func Robustness(values [][]float64, inds []Indicator, o Options, ro RobustnessOptions) ([]RobustEntry, error) {
	if ro.Runs < 1 || ro.Runs > 100000 {
		return nil, errf(-1, -1, "%d runs asked: give between 1 and 100000", ro.Runs)
	}
	if !(ro.Noise >= 0 && ro.Noise < 1) {
		return nil, errf(-1, -1, "noise %v is outside [0, 1): give a noise of at least 0 and below 1 (0.25 moves each weight by up to ±25%%)", ro.Noise)
	}
	for _, n := range ro.Normalisations {
		if !knownNormalisation(n) {
			return nil, errf(-1, -1, "unknown normalisation %q among the robustness normalisations: use %s", n, normalisationList())
		}
	}
	for _, a := range ro.Aggregations {
		if a != analytics.Arithmetic && a != analytics.Geometric {
			return nil, errf(-1, -1, "unknown aggregation %q among the robustness aggregations: use ARITHMETIC or GEOMETRIC", a)
		}
	}
	nomRes, nom, err := compute(values, inds, o)
	if err != nil {
		return nil, err
	}
	o = nom.o
	norms := ro.Normalisations
	if len(norms) == 0 {
		norms = []analytics.Normalisation{o.Normalisation}
	}
	aggs := ro.Aggregations
	if len(aggs) == 0 {
		aggs = []analytics.Aggregation{o.Aggregation}
	}
	withLn := slices.Contains(aggs, analytics.Geometric)

	// One matrix per normalisation drawn, each checked under every aggregation drawn (and, ranked by
	// points, the points each line earns under it).
	mats := make(map[analytics.Normalisation]*matrix)
	byPoints := o.RankBy == analytics.RankByPoints
	for _, n := range norms {
		if mats[n] != nil {
			continue
		}
		norm, earned := nom.norm, nom.earned
		for _, a := range aggs {
			if n == o.Normalisation && a == o.Aggregation {
				continue
			}
			alt := o
			alt.Normalisation, alt.Aggregation = n, a
			_, st, err := compute(values, inds, alt)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					return nil, err
				}
				return nil, &Error{Region: e.Region, Indicator: e.Indicator, Msg: fmt.Sprintf("robustness runs with %s and %s: %s", n, a, e.Msg)}
			}
			if !slices.Equal(st.scored, nom.scored) {
				r := firstDifference(st.scored, nom.scored)
				return nil, errf(r, -1, "robustness runs with %s and %s would exclude or score region %s unlike %s and %s (exclusion is decided once): give the indicators what %s needs for every region, or leave it out of the lists",
					n, a, o.regionName(r), o.Normalisation, o.Aggregation, n)
			}
			norm, earned = st.norm, st.earned
		}
		mt := buildMatrix(norm, nom.regions, withLn)
		if byPoints { // region-major, as the scores: a run reads one region's lines together
			mt.earned = make([]float64, nom.regions*len(inds))
			for i, col := range earned {
				for r, x := range col {
					mt.earned[r*len(inds)+i] = x
				}
			}
		}
		mats[n] = &mt
	}

	S, R := len(nom.scored), ro.Runs
	out := make([]RobustEntry, nom.regions)
	for r := range out {
		nan := math.NaN()
		out[r] = RobustEntry{Region: r, Nominal: nan, Median: nan, P05: nan, P95: nan, MeanShift: nan, Excluded: nomRes.Entries[r].Excluded}
	}
	if S == 0 {
		return out, nil
	}
	if S*R > MaxRobustCells {
		return nil, errf(-1, -1, "%d runs × %d regions is above the %d rank cells a robustness analysis keeps: give at most %d runs", R, S, MaxRobustCells, MaxRobustCells/S)
	}

	// Every run's doubled rank (FRACTIONAL ranks are halves), region-major: region j's runs are
	// ranks[j*R : (j+1)*R]. Doubled ranks fit 16 bits up to 32767 regions.
	var ranks16 []uint16
	var ranks32 []uint32
	if 2*S <= math.MaxUint16 {
		ranks16 = make([]uint16, S*R)
	} else {
		ranks32 = make([]uint32, S*R)
	}
	workers := min(runtime.GOMAXPROCS(0), R)
	var wg sync.WaitGroup
	var stopped atomic.Pointer[error]
	for g := range workers {
		from, to := g*R/workers, (g+1)*R/workers
		wg.Go(func() {
			rs := newRunScratch(len(inds), S)
			for k := from; k < to; k++ {
				if ro.Interrupt != nil && (k-from)%interruptEvery == 0 {
					if stopped.Load() != nil {
						return
					}
					if err := ro.Interrupt(); err != nil {
						stopped.CompareAndSwap(nil, &err)
						return
					}
				}
				rs.run(k, ro, nom, mats, norms, aggs, o.Ties, byPoints)
				for j, rk := range rs.ranks {
					if ranks16 != nil {
						ranks16[j*R+k] = uint16(2 * rk)
					} else {
						ranks32[j*R+k] = uint32(2 * rk)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := stopped.Load(); err != nil {
		return nil, *err
	}

	// Summaries, region by region (spread over the same workers), each sorting its own runs in place.
	for g := range workers {
		wg.Go(func() {
			counts := make([]int32, 2*R+256)
			for j := g; j < S; j += workers {
				r := nom.scored[j]
				if ranks16 != nil {
					out[r] = summarise(int(r), nomRes.Entries[r].Rank, ranks16[j*R:(j+1)*R], counts)
				} else {
					out[r] = summarise(int(r), nomRes.Entries[r].Rank, ranks32[j*R:(j+1)*R], counts)
				}
			}
		})
	}
	wg.Wait()
	return out, nil
}

// summarise turns one region's doubled ranks over the runs (sorted in place) into its RobustEntry. Sums
// of doubled ranks are exact integers, so the result does not depend on the order of the runs.
// counts is scratch memory of 2·len(doubled) + 256 entries.
func summarise[T uint16 | uint32](region int, nominal float64, doubled []T, counts []int32) RobustEntry {
	R := len(doubled)
	nom2 := int64(math.Round(2 * nominal))
	var shift int64
	lo, hi := doubled[0], doubled[0]
	for _, v := range doubled {
		d := int64(v) - nom2
		if d < 0 {
			d = -d
		}
		shift += d
		lo, hi = min(lo, v), max(hi, v)
	}
	// A region's ranks usually span a narrow band: then a counting sort over the band, else a sort.
	if band := int(hi-lo) + 1; band <= len(counts) {
		counts := counts[:band]
		clear(counts)
		for _, v := range doubled {
			counts[v-lo]++
		}
		k := 0
		for b, c := range counts {
			for ; c > 0; c-- {
				doubled[k] = lo + T(b)
				k++
			}
		}
	} else {
		slices.Sort(doubled)
	}
	var median float64
	if R%2 == 1 {
		median = float64(doubled[R/2]) / 2
	} else {
		median = float64(uint64(doubled[R/2-1])+uint64(doubled[R/2])) / 4
	}
	return RobustEntry{
		Region:    region,
		Nominal:   nominal,
		Median:    median,
		P05:       float64(doubled[nearestRank(5, R)]) / 2,
		P95:       float64(doubled[nearestRank(95, R)]) / 2,
		MeanShift: calc.Round12(float64(shift) / 2 / float64(R)),
	}
}

// nearestRank is the index ⌈p/100·R⌉ − 1 of the p-th percentile of R sorted values, in integers.
func nearestRank(p, R int) int {
	return max((p*R+99)/100-1, 0)
}

func firstDifference(a, b []int32) int {
	for k := range min(len(a), len(b)) {
		if a[k] != b[k] {
			return int(min(a[k], b[k]))
		}
	}
	if len(a) > len(b) {
		return int(a[len(b)])
	}
	return int(b[len(a)])
}

// splitmix64 spreads consecutive run indexes over unrelated PCG streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// runScratch is one goroutine's working memory, reused from run to run.
type runScratch struct {
	pcg   *rand.PCG
	rnd   *rand.Rand
	w     []float64
	f     []float64 // each weight's factor, 1 + (2U − 1)·Noise
	buf   []float64
	keys  []rkey
	tmp   []rkey
	ranks []float64 // by position in the scored list
}

func newRunScratch(m, S int) *runScratch {
	pcg := rand.NewPCG(0, 0)
	return &runScratch{pcg: pcg, rnd: rand.New(pcg), w: make([]float64, m), f: make([]float64, m), buf: make([]float64, 0, m), keys: make([]rkey, S), tmp: make([]rkey, S), ranks: make([]float64, S)}
}

// run does Monte Carlo run k: its draws (normalisation, aggregation, one U per indicator), its scores and
// its ranks, left in rs.ranks. Ranked by points, each line's points are scaled by its weight's factor, as
// if the points available moved with the weight, and the total is summed exactly and rounded once as
// nominally (factor 1 gives the nominal totals bit for bit).
func (rs *runScratch) run(k int, ro RobustnessOptions, nom *state, mats map[analytics.Normalisation]*matrix, norms []analytics.Normalisation, aggs []analytics.Aggregation, ties analytics.TieRule, byPoints bool) {
	rs.pcg.Seed(uint64(ro.Seed), splitmix64(uint64(k)))
	n, a := norms[0], aggs[0]
	if len(ro.Normalisations) > 0 {
		n = ro.Normalisations[rs.rnd.IntN(len(ro.Normalisations))]
	}
	if len(ro.Aggregations) > 0 {
		a = ro.Aggregations[rs.rnd.IntN(len(ro.Aggregations))]
	}
	for i, w := range nom.w {
		rs.f[i] = factor(rs.rnd.Float64(), ro.Noise)
		rs.w[i] = float64(w * rs.f[i])
	}
	mt, geometric := mats[n], a == analytics.Geometric
	for j, r := range nom.scored {
		if byPoints {
			m := len(rs.f)
			rs.keys[j] = rkey{descKey(linesTotal(mt.earned[int(r)*m:(int(r)+1)*m], rs.f, rs.buf)), int32(j)}
			continue
		}
		rs.keys[j] = rkey{descKey(mt.score(int(r), rs.w, geometric)), int32(j)}
	}
	radixRank(rs.keys, rs.tmp, ties, rs.ranks)
}

// factor is 1 + (2u − 1)·noise, each step rounded on its own; noise 0 gives 1 exactly.
func factor(u, noise float64) float64 {
	return 1 + float64(float64(2*u-1)*noise)
}
