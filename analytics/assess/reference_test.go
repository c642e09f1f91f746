package assess

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	"pacesetter/analytics"
)

// The reference: the formulas of the package comment written the most naive way, region by region, with
// ranks by counting better values and no sorting, no matrices, no logarithms. It shares no code with the
// package, so the differential test below compares two independent readings of the same formulas.

type refEntry struct {
	excluded               bool
	score, rank            float64
	points, key            float64 // the points total (NaN without points); key: what is ranked
	comp, tier             int
	share, gapRank, gapTie float64
}

type refResult struct {
	norm                    [][]float64
	entries                 []refEntry
	errRegion, errIndicator int
	failed                  bool
}

func refRound12(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	y, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	return y + 0
}

// refNormalise returns the normalised values, or failed with the region of the refusal (−1 for none).
func refNormalise(n analytics.Normalisation, ind Indicator, x []float64) (out []float64, failed bool, region int) {
	out = make([]float64, len(x))
	var xs []float64
	for r := range x {
		out[r] = math.NaN()
		if !math.IsNaN(x[r]) {
			xs = append(xs, x[r])
		}
	}
	cnt := float64(len(xs))
	lo, hi := math.NaN(), math.NaN()
	for k, v := range xs {
		if k == 0 || v < lo {
			lo = v
		}
		if k == 0 || v > hi {
			hi = v
		}
	}
	d := ind.Sign
	for r, v := range x {
		if math.IsNaN(v) {
			continue
		}
		switch n {
		case analytics.MinMax:
			if hi == lo {
				out[r] = 100
			} else if d == 1 {
				out[r] = 100 * (v - lo) / (hi - lo)
			} else {
				out[r] = 100 * (hi - v) / (hi - lo)
			}
		case analytics.ZScore:
			if cnt < 2 || hi == lo {
				out[r] = 0
				continue
			}
			sum := 0.0
			for _, y := range xs {
				sum += y
			}
			mean := sum / cnt
			ss := 0.0
			for _, y := range xs {
				ss += (y - mean) * (y - mean)
			}
			out[r] = d * (v - mean) / math.Sqrt(ss/(cnt-1))
		case analytics.Rank, analytics.PercentileRank:
			rank := 1.0
			for _, y := range xs {
				if d*y > d*v {
					rank++
				}
			}
			if n == analytics.Rank {
				out[r] = cnt - rank + 1
			} else if cnt == 1 {
				out[r] = 100
			} else {
				out[r] = 100 * (cnt - rank) / (cnt - 1)
			}
		case analytics.DistanceToLeader:
			for r2, y := range x {
				if y <= 0 {
					return nil, true, r2
				}
			}
			if d == 1 {
				out[r] = 100 * v / hi
			} else {
				out[r] = 100 * lo / v
			}
		case analytics.DistanceToTarget:
			t := ind.Targets[r]
			if math.IsNaN(t) {
				continue
			}
			if v <= 0 {
				return nil, true, r
			}
			if d == 1 {
				out[r] = 100 * math.Min(v/t, 1)
			} else {
				out[r] = 100 * math.Min(t/v, 1)
			}
		case analytics.Goalposts:
			c := math.Max(ind.Low, math.Min(ind.High, v))
			if d == 1 {
				out[r] = 100 * (c - ind.Low) / (ind.High - ind.Low)
			} else {
				out[r] = 100 * (ind.High - c) / (ind.High - ind.Low)
			}
		}
	}
	return out, false, -1
}

func refCompute(values [][]float64, inds []Indicator, o Options) refResult {
	return refComputePoints(values, inds, o, nil)
}

// refEarn is the points a line of pts available earns at normalised v: pts × v/100 with v clipped to
// [0, 100], 0 when v is missing (NaN).
func refEarn(pts, v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return pts * math.Min(math.Max(v, 0), 100) / 100
}

// refComputePoints is refCompute with points available per indicator (nil: none): each scored region's
// total is the exact (rational) sum of refEarn over the lines, rounded once; under RankBy POINTS ranks,
// tiers and gaps go by it.
func refComputePoints(values [][]float64, inds []Indicator, o Options, pts []float64) refResult {
	m, regions := len(inds), len(values[0])
	res := refResult{norm: make([][]float64, m), entries: make([]refEntry, regions)}
	for i := range inds {
		var failed bool
		var r int
		res.norm[i], failed, r = refNormalise(o.Normalisation, inds[i], values[i])
		if failed {
			return refResult{failed: true, errRegion: r, errIndicator: i}
		}
	}
	total := 0.0
	for _, ind := range inds {
		total += ind.Weight
	}
	for r := range regions {
		e := &res.entries[r]
		present, missing := 0.0, 0
		for i := range m {
			if math.IsNaN(res.norm[i][r]) {
				missing++
			} else {
				present += inds[i].Weight
			}
		}
		e.share = refRound12(present / total)
		e.excluded = missing == m || (o.Missing == analytics.Exclude && missing > 0) || e.share < o.MinWeightShare
		e.score, e.rank, e.gapRank, e.gapTie = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		if e.excluded {
			continue
		}
		if o.Aggregation == analytics.Geometric {
			prod := 1.0
			for i := range m {
				if v := res.norm[i][r]; !math.IsNaN(v) {
					if v <= 0 {
						return refResult{failed: true, errRegion: r, errIndicator: i}
					}
					prod *= math.Pow(v, inds[i].Weight/present)
				}
			}
			e.score = refRound12(prod)
		} else {
			sum := 0.0
			for i := range m {
				if v := res.norm[i][r]; !math.IsNaN(v) {
					sum += inds[i].Weight * v
				}
			}
			e.score = refRound12(sum / present)
		}
	}
	for r := range res.entries {
		e := &res.entries[r]
		e.points, e.key = math.NaN(), e.score
		if e.excluded || pts == nil {
			continue
		}
		sum := new(big.Rat)
		for i := range m {
			sum.Add(sum, new(big.Rat).SetFloat64(refEarn(pts[i], res.norm[i][r])))
		}
		f, _ := sum.Float64()
		e.points = refRound12(f)
		if o.RankBy == analytics.RankByPoints {
			e.key = e.points
		}
	}
	// Ranks by counting: better = strictly higher keys (scores or points) among scored regions.
	for r := range res.entries {
		e := &res.entries[r]
		if e.excluded {
			continue
		}
		better, equal, distinctBetter := 0, 0, map[float64]bool{}
		for _, f := range res.entries {
			if f.excluded {
				continue
			}
			if f.key > e.key {
				better++
				distinctBetter[f.key] = true
				if math.IsNaN(e.gapRank) || f.key-e.key < e.gapRank {
					e.gapRank = f.key - e.key
				}
			} else if f.key == e.key {
				equal++
			}
		}
		e.gapRank = refRound12(e.gapRank)
		e.comp = better + 1
		switch o.Ties {
		case analytics.Dense:
			e.rank = float64(len(distinctBetter) + 1)
		case analytics.Fractional:
			e.rank = float64(better+1) + float64(equal-1)/2
		default:
			e.rank = float64(better + 1)
		}
		if len(o.Tiers.Cutoffs) > 0 {
			e.tier = len(o.Tiers.Cutoffs) + 1
			for k := len(o.Tiers.Cutoffs) - 1; k >= 0; k-- {
				if e.key >= o.Tiers.Cutoffs[k] {
					e.tier = k + 1
				}
			}
		}
		if len(o.Tiers.Quotas) > 0 {
			e.tier = len(o.Tiers.Quotas) + 1
			cum := 0
			for k, q := range o.Tiers.Quotas {
				cum += q
				if e.comp <= cum && e.tier == len(o.Tiers.Quotas)+1 {
					e.tier = k + 1
				}
			}
		}
	}
	for r := range res.entries {
		e := &res.entries[r]
		if e.excluded || e.tier <= 1 {
			continue
		}
		if len(o.Tiers.Cutoffs) > 0 {
			e.gapTie = refRound12(o.Tiers.Cutoffs[e.tier-2] - e.key)
			continue
		}
		// Quotas: the worst score among the better tiers' nearest non-empty one.
		for k := e.tier - 1; k >= 1 && math.IsNaN(e.gapTie); k-- {
			for _, f := range res.entries {
				if !f.excluded && f.tier == k && (math.IsNaN(e.gapTie) || f.key-e.key < e.gapTie) {
					e.gapTie = f.key - e.key
				}
			}
		}
		e.gapTie = refRound12(e.gapTie)
	}
	return res
}

// randomCase draws a matrix: random size, random missing share, random signs and weights, values either
// small integers (many ties), positive reals or reals of both signs; targets and goalposts to match.
func randomCase(rng *rand.Rand) ([][]float64, []Indicator) {
	regions, m := 1+rng.IntN(30), 1+rng.IntN(5)
	pMiss := rng.Float64() * 0.4
	kind := rng.IntN(3)
	values := make([][]float64, m)
	inds := make([]Indicator, m)
	for i := range m {
		values[i] = make([]float64, regions)
		targets := make([]float64, regions)
		for r := range regions {
			switch kind {
			case 0:
				values[i][r] = float64(1 + rng.IntN(6))
			case 1:
				values[i][r] = 0.01 + 100*rng.Float64()
			default:
				values[i][r] = 100*rng.Float64() - 50
			}
			if rng.Float64() < pMiss {
				values[i][r] = math.NaN()
			}
			targets[r] = 1 + float64(rng.IntN(6))
			if rng.Float64() < 0.2 {
				targets[r] = math.NaN()
			}
		}
		low := float64(rng.IntN(4))
		w := 0.1 + 5*rng.Float64()
		if rng.IntN(2) == 0 {
			w = float64(1 + rng.IntN(3))
		}
		sign := 1.0
		if rng.IntN(2) == 0 {
			sign = -1
		}
		inds[i] = Indicator{Code: "i" + strconv.Itoa(i), Weight: w, Sign: sign, Low: low, High: low + 1 + float64(rng.IntN(60)),
			HasGoalposts: true, Targets: targets}
	}
	return values, inds
}

func randomTiers(rng *rand.Rand, kind int) Tiers {
	switch kind {
	case 1:
		c := []float64{60 + 40*rng.Float64()}
		for range rng.IntN(3) {
			c = append(c, c[len(c)-1]-1-30*rng.Float64())
		}
		return Tiers{Cutoffs: c}
	case 2:
		q := make([]int, 1+rng.IntN(3))
		for k := range q {
			q[k] = 1 + rng.IntN(5)
		}
		return Tiers{Quotas: q}
	}
	return Tiers{}
}

// nearTie reports whether region r's reference score is within 1e-9 of another scored region's without
// equalling it: there, 12-digit rounding of sums taken differently may tie or part them, and a rank may
// legitimately differ.
func nearTie(ref refResult, r int) bool {
	s := ref.entries[r].key
	for q, f := range ref.entries {
		if q != r && !f.excluded && f.key != s && close9(f.key, s) {
			return true
		}
	}
	return false
}

func TestComputeAgainstReference(t *testing.T) {
	var cases, refusals, forgiven int
	scored := map[string]int{} // normalisation/aggregation → cases scored
	for seed := range uint64(150) {
		rng := rand.New(rand.NewPCG(seed, 7))
		values, inds := randomCase(rng)
		for _, n := range analytics.Normalisations {
			for _, a := range []analytics.Aggregation{analytics.Arithmetic, analytics.Geometric} {
				for _, ties := range []analytics.TieRule{analytics.Competition, analytics.Dense, analytics.Fractional} {
					for tk := range 3 {
						for _, miss := range []analytics.MissingRule{analytics.Rescale, analytics.Exclude} {
							o := Options{Normalisation: n, Aggregation: a, Ties: ties, Missing: miss, Tiers: randomTiers(rng, tk)}
							if rng.IntN(3) == 0 {
								o.MinWeightShare = rng.Float64()
							}
							cases++
							ref := refCompute(values, inds, o)
							got, err := Compute(values, inds, o)
							name := func() string {
								return string(n) + "/" + string(a) + "/" + string(ties) + "/" + string(miss) + " seed " + strconv.Itoa(int(seed))
							}
							if ref.failed {
								refusals++
								var e *Error
								if !errors.As(err, &e) || e.Region != ref.errRegion || e.Indicator != ref.errIndicator {
									t.Fatalf("%s: got %v, want a refusal at region %d indicator %d", name(), err, ref.errRegion, ref.errIndicator)
								}
								continue
							}
							if err != nil {
								t.Fatalf("%s: %v", name(), err)
							}
							scored[string(n)+"/"+string(a)]++
							for i := range inds {
								for r := range values[i] {
									if !close9(got.Normalised[i][r], ref.norm[i][r]) {
										t.Fatalf("%s: normalised[%d][%d] %v, reference %v", name(), i, r, got.Normalised[i][r], ref.norm[i][r])
									}
								}
							}
							for r, w := range ref.entries {
								e := got.Entries[r]
								if (e.Excluded != "") != w.excluded || !close9(e.WeightShare, w.share) || !close9(e.Score, w.score) {
									t.Fatalf("%s region %d: excluded %q share %v score %v, reference %v %v %v", name(), r, e.Excluded, e.WeightShare, e.Score, w.excluded, w.share, w.score)
								}
								if !close9(e.Rank, w.rank) || e.CompetitionRank != w.comp || e.Tier != w.tier || !close9(e.GapToNextRank, w.gapRank) || !close9(e.GapToNextTier, w.gapTie) {
									if nearTie(ref, r) {
										forgiven++
										continue
									}
									t.Fatalf("%s region %d: rank %v comp %d tier %d gaps %v %v, reference %v %d %d %v %v",
										name(), r, e.Rank, e.CompetitionRank, e.Tier, e.GapToNextRank, e.GapToNextTier, w.rank, w.comp, w.tier, w.gapRank, w.gapTie)
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases, %d refused as the reference predicted, %d ranks forgiven at a near tie; scored: %v", cases, refusals, forgiven, scored)
	for _, n := range analytics.Normalisations {
		for _, a := range []analytics.Aggregation{analytics.Arithmetic, analytics.Geometric} {
			if scored[string(n)+"/"+string(a)] == 0 && !(n == analytics.ZScore && a == analytics.Geometric) {
				t.Errorf("no case of %s with %s scored", n, a)
			}
		}
	}
	if refusals == 0 || refusals > cases/2 {
		t.Errorf("%d refusals of %d cases: the random cases should mostly score", refusals, cases)
	}
}

// Points: the same random cases with points available per line (some lines without), ranked by points or
// by score, against the reference's exact sums; the totals of both readings must agree, and under POINTS
// the ranks, tiers and gaps follow them.
func TestPointsAgainstReference(t *testing.T) {
	var cases, forgiven int
	for seed := range uint64(150) {
		rng := rand.New(rand.NewPCG(seed, 11))
		values, inds := randomCase(rng)
		pts := make([]float64, len(inds))
		for i := range pts {
			pts[i] = []float64{math.NaN(), 1, 2.5, 10, 1.0 / 3, 19}[rng.IntN(6)]
		}
		pts[0] = 10 // at least one line with points
		earn := func(norm [][]float64) [][]float64 {
			out := make([][]float64, len(norm))
			for i, col := range norm {
				out[i] = make([]float64, len(col))
				for r, v := range col {
					out[i][r] = math.NaN()
					if !math.IsNaN(pts[i]) {
						out[i][r] = refEarn(pts[i], v)
					}
				}
			}
			return out
		}
		refPts := make([]float64, len(pts))
		for i, p := range pts {
			if !math.IsNaN(p) {
				refPts[i] = p // a line without points earns 0 in the reference's sum
			}
		}
		for _, n := range []analytics.Normalisation{analytics.MinMax, analytics.PercentileRank, analytics.Rank, analytics.ZScore} {
			for _, by := range []analytics.CompositeRank{analytics.RankByPoints, analytics.RankByScore} {
				for tk := range 3 {
					o := Options{Normalisation: n, Ties: analytics.Competition, Tiers: randomTiers(rng, tk), RankBy: by, Earn: earn}
					ref := refComputePoints(values, inds, o, refPts)
					got, err := Compute(values, inds, o)
					if ref.failed {
						continue
					}
					if err != nil {
						t.Fatalf("seed %d %s %s: %v", seed, n, by, err)
					}
					cases++
					for r, w := range ref.entries {
						e := got.Entries[r]
						if w.excluded {
							if !math.IsNaN(e.Points) {
								t.Fatalf("seed %d region %d: excluded but %v points", seed, r, e.Points)
							}
							continue
						}
						if !close9(e.Points, w.points) {
							t.Fatalf("seed %d %s %s region %d: points %v, reference %v", seed, n, by, r, e.Points, w.points)
						}
						if !close9(e.Rank, w.rank) || e.Tier != w.tier || !close9(e.GapToNextRank, w.gapRank) || !close9(e.GapToNextTier, w.gapTie) {
							if nearTie(ref, r) {
								forgiven++
								continue
							}
							t.Fatalf("seed %d %s %s region %d: rank %v tier %d gaps %v %v, reference %v %d %v %v", seed, n, by, r,
								e.Rank, e.Tier, e.GapToNextRank, e.GapToNextTier, w.rank, w.tier, w.gapRank, w.gapTie)
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases, %d ranks forgiven at a near tie", cases, forgiven)
	if cases < 500 {
		t.Errorf("only %d cases scored", cases)
	}
}

// Points summed exactly tie where per-line rounding split them: 29/3 earned as 10·(2/3) + 3 and as
// 10/3 + 10/3 + 3 (the seed's categories(demand) case) ranks the two regions equal, and cut-offs are in
// points.
func TestPointsTieExactly(t *testing.T) {
	// Region 0 earns 10·2/3 + 3 + 0, region 1 earns 10/3 + 10/3 + 3 (as points × normalised / 100).
	earned := [][]float64{{10 * (2.0 / 3), 10.0 / 3}, {3, 10.0 / 3}, {0, 3}}
	values := [][]float64{{1, 2}, {1, 2}, {1, 2}}
	inds := []Indicator{{Code: "a", Weight: 1, Sign: 1}, {Code: "b", Weight: 1, Sign: 1}, {Code: "c", Weight: 1, Sign: 1}}
	o := Options{Normalisation: analytics.MinMax, RankBy: analytics.RankByPoints, Tiers: Tiers{Cutoffs: []float64{29.0 / 3}},
		Earn: func([][]float64) [][]float64 { return earned }}
	got, err := Compute(values, inds, o)
	if err != nil {
		t.Fatal(err)
	}
	a, b := got.Entries[0], got.Entries[1]
	if a.Points != b.Points || a.Points != 9.66666666667 || a.Rank != 1 || b.Rank != 1 || a.Tier != 1 || b.Tier != 1 {
		t.Errorf("points %v and %v, ranks %v %v, tiers %d %d: want both 9.66666666667, rank 1, tier 1", a.Points, b.Points, a.Rank, b.Rank, a.Tier, b.Tier)
	}
	if _, err := Compute(values, inds, Options{Normalisation: analytics.MinMax, RankBy: analytics.RankByPoints}); err == nil {
		t.Error("POINTS without Earn is not refused")
	}
}
