package assess

import (
	"errors"
	"math"
	"strings"
	"testing"

	"pacesetter/analytics"
)

// checkEntry compares the numbers of one entry: Score exactly (it is rounded to 12 digits, and the wanted
// literals are those 12 digits), the rest within 1e-9.
type wantEntry struct {
	excluded       string
	score, rank    float64
	comp, tier     int
	share          float64
	gapRank, gapTr float64
}

func checkEntries(t *testing.T, name string, res *Result, want []wantEntry) {
	t.Helper()
	if len(res.Entries) != len(want) {
		t.Fatalf("%s: %d entries, want %d", name, len(res.Entries), len(want))
	}
	ranked := 0
	for r, w := range want {
		e := res.Entries[r]
		if w.excluded == "" {
			ranked++
		}
		if e.Region != r || e.Excluded != w.excluded {
			t.Errorf("%s region %d: region %d excluded %q, want %q", name, r, e.Region, e.Excluded, w.excluded)
		}
		if !(e.Score == w.score || math.IsNaN(e.Score) && math.IsNaN(w.score)) {
			t.Errorf("%s region %d: score %v, want %v", name, r, e.Score, w.score)
		}
		if !close9(e.Rank, w.rank) || e.CompetitionRank != w.comp || e.Tier != w.tier {
			t.Errorf("%s region %d: rank %v competition %d tier %d, want %v %d %d", name, r, e.Rank, e.CompetitionRank, e.Tier, w.rank, w.comp, w.tier)
		}
		if !close9(e.WeightShare, w.share) || !close9(e.GapToNextRank, w.gapRank) || !close9(e.GapToNextTier, w.gapTr) {
			t.Errorf("%s region %d: share %v gaps %v %v, want %v %v %v", name, r, e.WeightShare, e.GapToNextRank, e.GapToNextTier, w.share, w.gapRank, w.gapTr)
		}
	}
	if res.Ranked != ranked {
		t.Errorf("%s: ranked %d, want %d", name, res.Ranked, ranked)
	}
}

func TestComputeArithmeticMinMax(t *testing.T) {
	// Normalised (see TestNormaliseWorkedExample): gdp 0 20 20 60 100; unemp 400/6 100 0 50 200/6;
	// green 0 – 600/9 300/9 100. Weights gdp 2, unemp 1, green 1 (total 4).
	//   A (2·0 + 66.667 + 0)/4          = 16.6666666667
	//   B (2·20 + 100)/3 (green missing) = 46.6666666667, weight share 3/4
	//   C (2·20 + 0 + 66.667)/4         = 26.6666666667
	//   D (2·60 + 50 + 33.333)/4        = 50.8333333333
	//   E (2·100 + 33.333 + 100)/4      = 83.3333333333
	// Ranks E 1, D 2, B 3, C 4, A 5. Gaps to the next rank: D 83.3333333333 − 50.8333333333 = 32.5,
	// B 50.8333333333 − 46.6666666667 = 4.1666666666, C 46.6666666667 − 26.6666666667 = 20, A 10.
	// Tiers by cut-offs 60, 40: E 1; D, B 2 (gap 60 − score: 9.1666666667, 13.3333333333); C, A 3
	// (gap 40 − score: 13.3333333333, 23.3333333333).
	o := Options{Normalisation: analytics.MinMax, Aggregation: analytics.Arithmetic, Tiers: Tiers{Cutoffs: []float64{60, 40}}}
	res, err := Compute(exValues(), exIndicators(), o)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, "min-max arithmetic", res, []wantEntry{
		{"", 16.6666666667, 5, 5, 3, 1, 10, 23.3333333333},
		{"", 46.6666666667, 3, 3, 2, 0.75, 4.1666666666, 13.3333333333},
		{"", 26.6666666667, 4, 4, 3, 1, 20, 13.3333333333},
		{"", 50.8333333333, 2, 2, 2, 1, 32.5, 9.1666666667},
		{"", 83.3333333333, 1, 1, 1, 1, nan, nan},
	})
	// Breakdown of B: gdp weight 2/3, contribution 2/3·20 = 40/3; unemp 1/3, 100/3; green missing.
	// Of E: gdp 1/2 → 50, unemp 1/4 → 200/24, green 1/4 → 25; they sum to the score.
	wantComp := map[int][]Component{
		1: {{20, 2.0 / 3, 40.0 / 3}, {100, 1.0 / 3, 100.0 / 3}, {nan, 0, nan}},
		4: {{100, 0.5, 50}, {200.0 / 6, 0.25, 200.0 / 24}, {100, 0.25, 25}},
	}
	for r, want := range wantComp {
		for i, c := range res.Entries[r].Components {
			if !close9(c.Normalised, want[i].Normalised) || !close9(c.Weight, want[i].Weight) || !close9(c.Contribution, want[i].Contribution) {
				t.Errorf("region %d component %d: %+v, want %+v", r, i, c, want[i])
			}
		}
	}
	for _, e := range res.Entries {
		sumW, sumC := 0.0, 0.0
		for _, c := range e.Components {
			sumW += c.Weight
			if !math.IsNaN(c.Contribution) {
				sumC += c.Contribution
			}
		}
		if !close9(sumW, 1) || !close9(sumC, e.Score) {
			t.Errorf("region %d: weights sum to %v, contributions to %v (score %v)", e.Region, sumW, sumC, e.Score)
		}
	}
	if !close9(res.Normalised[1][0], 400.0/6) || !math.IsNaN(res.Normalised[2][1]) {
		t.Errorf("normalised matrix: %v", res.Normalised)
	}
}

func TestComputeGeometricRank(t *testing.T) {
	// RANK (see TestNormaliseWorkedExample): A (1, 4, 1), B (3, 5, –), C (3, 1, 3), D (4, 3, 2),
	// E (5, 2, 4); weights 2, 1, 1 → exponents 1/2, 1/4, 1/4 (B: 2/3, 1/3).
	//   A 1^½·4^¼·1^¼ = √2            ≈ 1.41421356237
	//   B 3^⅔·5^⅓     = 45^⅓          ≈ 3.55689330449
	//   C 3^½·1·3^¼   = 3^¾           ≈ 2.27950705695
	//   D 4^½·3^¼·2^¼ = 2·6^¼         ≈ 3.13016916913
	//   E 5^½·2^¼·4^¼ = √10·2^¼       ≈ 3.76060309308
	// Ranks E 1, B 2, D 3, C 4, A 5.
	res, err := Compute(exValues(), exIndicators(), Options{Normalisation: analytics.Rank, Aggregation: analytics.Geometric})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{math.Sqrt(2), math.Cbrt(45), math.Pow(3, 0.75), 2 * math.Pow(6, 0.25), math.Sqrt(10) * math.Pow(2, 0.25)}
	wantRank := []float64{5, 2, 4, 3, 1}
	for r, e := range res.Entries {
		if !close9(e.Score, want[r]) || e.Rank != wantRank[r] {
			t.Errorf("region %d: score %v rank %v, want %v %v", r, e.Score, e.Rank, want[r], wantRank[r])
		}
		prod := 1.0
		for _, c := range e.Components {
			if !math.IsNaN(c.Contribution) {
				prod *= c.Contribution
			}
		}
		if !close9(prod, e.Score) {
			t.Errorf("region %d: contributions multiply to %v, score %v", r, prod, e.Score)
		}
	}
	// B's components: 3^(2/3) and 5^(1/3).
	if c := res.Entries[1].Components; !close9(c[0].Contribution, math.Pow(3, 2.0/3)) || !close9(c[1].Contribution, math.Cbrt(5)) || !math.IsNaN(c[2].Contribution) {
		t.Errorf("B's components: %+v", c)
	}
}

func TestComputeGeometricRefusal(t *testing.T) {
	// MIN_MAX gives A's gdp 0 (the worst): the first region and indicator with a non-positive value.
	o := Options{Normalisation: analytics.MinMax, Aggregation: analytics.Geometric, RegionCodes: []string{"A", "B", "C", "D", "E"}}
	_, err := Compute(exValues(), exIndicators(), o)
	var e *Error
	if !errors.As(err, &e) || e.Region != 0 || e.Indicator != 0 {
		t.Fatalf("got %#v, want an *Error for region 0, indicator 0", err)
	}
	for _, s := range []string{"GEOMETRIC needs positive normalised values", "gdp", "region A", "MIN_MAX gives the worst region 0", "RANK scores at least 1", "DISTANCE_TO_LEADER is positive for positive data"} {
		if !strings.Contains(e.Msg, s) {
			t.Errorf("message %q lacks %q", e.Msg, s)
		}
	}
	// Z_SCORE: A's gdp is −1, and the message says why.
	_, err = Compute(exValues(), exIndicators(), Options{Normalisation: analytics.ZScore, Aggregation: analytics.Geometric})
	if !errors.As(err, &e) || e.Region != 0 || !strings.Contains(e.Msg, "Z_SCORE is negative below the mean") {
		t.Errorf("z-score: got %v", err)
	}

	// A zero in an excluded region is no refusal. GOALPOSTS 1..3 over p = 1, 2, 3 gives 0, 50, 100;
	// GOALPOSTS 0..10 over q = –, 5, 6 gives –, 50, 60. EXCLUDE drops region 0 (q missing), so
	// region 1 scores 50^½·50^½ = 50 and region 2 100^½·60^½ = √6000 ≈ 77.4596669241.
	inds := []Indicator{
		{Code: "p", Weight: 1, Sign: 1, Low: 1, High: 3, HasGoalposts: true},
		{Code: "q", Weight: 1, Sign: 1, Low: 0, High: 10, HasGoalposts: true},
	}
	res, err := Compute([][]float64{{1, 2, 3}, {nan, 5, 6}}, inds, Options{Normalisation: analytics.Goalposts, Aggregation: analytics.Geometric, Missing: analytics.Exclude})
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries[0].Excluded != "no value of q (missing: EXCLUDE)" || !close9(res.Entries[1].Score, 50) || !close9(res.Entries[2].Score, math.Sqrt(6000)) {
		t.Errorf("got %+v", res.Entries)
	}
}

func TestComputeMissingRules(t *testing.T) {
	mm := Options{Normalisation: analytics.MinMax}
	// EXCLUDE: B (green missing) is excluded; the others keep the scores of TestComputeArithmeticMinMax
	// and rank E 1, D 2, C 3, A 4.
	ex := mm
	ex.Missing = analytics.Exclude
	res, err := Compute(exValues(), exIndicators(), ex)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, "exclude", res, []wantEntry{
		{"", 16.6666666667, 4, 4, 0, 1, 10, nan},
		{"no value of green (missing: EXCLUDE)", nan, nan, 0, 0, 0.75, nan, nan},
		{"", 26.6666666667, 3, 3, 0, 1, 24.1666666666, nan},
		{"", 50.8333333333, 2, 2, 0, 1, 32.5, nan},
		{"", 83.3333333333, 1, 1, 0, 1, nan, nan},
	})
	if c := res.Entries[1].Components[0]; c.Normalised != 20 || c.Weight != 0 || !math.IsNaN(c.Contribution) {
		t.Errorf("an excluded region's component: %+v", c)
	}

	// A minimum weight share of 80% excludes B (3/4 = 75% present); 75% keeps it.
	mw := mm
	mw.MinWeightShare = 0.8
	res, err = Compute(exValues(), exIndicators(), mw)
	if err != nil {
		t.Fatal(err)
	}
	if e := res.Entries[1]; e.Excluded != "weight present 75% is below the minimum 80% (no value of green)" || res.Ranked != 4 {
		t.Errorf("min weight share 0.8: %q, ranked %d", e.Excluded, res.Ranked)
	}
	mw.MinWeightShare = 0.75
	res, err = Compute(exValues(), exIndicators(), mw)
	if err != nil {
		t.Fatal(err)
	}
	if e := res.Entries[1]; e.Excluded != "" || e.Score != 46.6666666667 {
		t.Errorf("min weight share 0.75: %+v", e)
	}

	// A sixth region F without any value is excluded under RESCALE too, and changes nobody's score.
	vals := exValues()
	for i := range vals {
		vals[i] = append(append([]float64(nil), vals[i]...), nan)
	}
	inds := exIndicators()
	for i := range inds {
		inds[i].Targets = append(append([]float64(nil), inds[i].Targets...), 1)
	}
	res, err = Compute(vals, inds, mm)
	if err != nil {
		t.Fatal(err)
	}
	if e := res.Entries[5]; e.Excluded != "no value of any indicator" || e.WeightShare != 0 || res.Ranked != 5 || res.Entries[4].Score != 83.3333333333 {
		t.Errorf("region without values: %+v, ranked %d", e, res.Ranked)
	}
}

func TestComputeTargetsAndTies(t *testing.T) {
	// DISTANCE_TO_TARGET (see TestNormaliseWorkedExample): gdp 50 100 50 – 100; unemp 100 100 50 80 400/6;
	// green 50 – 100 100 100. Weights 2, 1, 1.
	//   A (2·50 + 100 + 50)/4 = 62.5
	//   B (2·100 + 100)/3     = 100          (green missing)
	//   C (2·50 + 50 + 100)/4 = 62.5
	//   D (80 + 100)/2        = 90           (no gdp target: weight share 2/4)
	//   E (200 + 66.667 + 100)/4 = 91.6666666667
	// Order B, E, D, then A and C tied. COMPETITION 4, 1, 4, 3, 2; DENSE 4, 1, 4, 3, 2 (no gap before the
	// tie); FRACTIONAL A and C share positions 4 and 5: 4.5. Gaps: E 100 − 91.6666666667 = 8.3333333333,
	// D 91.6666666667 − 90 = 1.6666666667, A and C 90 − 62.5 = 27.5.
	for _, tc := range []struct {
		ties analytics.TieRule
		rank []float64
	}{
		{analytics.Competition, []float64{4, 1, 4, 3, 2}},
		{analytics.Dense, []float64{4, 1, 4, 3, 2}},
		{analytics.Fractional, []float64{4.5, 1, 4.5, 3, 2}},
	} {
		res, err := Compute(exValues(), exIndicators(), Options{Normalisation: analytics.DistanceToTarget, Ties: tc.ties})
		if err != nil {
			t.Fatal(err)
		}
		checkEntries(t, string(tc.ties), res, []wantEntry{
			{"", 62.5, tc.rank[0], 4, 0, 1, 27.5, nan},
			{"", 100, tc.rank[1], 1, 0, 0.75, nan, nan},
			{"", 62.5, tc.rank[2], 4, 0, 1, 27.5, nan},
			{"", 90, tc.rank[3], 3, 0, 0.5, 1.6666666667, nan},
			{"", 91.6666666667, tc.rank[4], 2, 0, 1, 8.3333333333, nan},
		})
	}
	// EXCLUDE names a missing target apart from a missing value.
	res, err := Compute(exValues(), exIndicators(), Options{Normalisation: analytics.DistanceToTarget, Missing: analytics.Exclude})
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries[3].Excluded != "no target of gdp (missing: EXCLUDE)" || res.Entries[1].Excluded != "no value of green (missing: EXCLUDE)" {
		t.Errorf("got %q and %q", res.Entries[3].Excluded, res.Entries[1].Excluded)
	}
}

// One indicator through GOALPOSTS 0..100 passes integers through unchanged (100·x/100 = x exactly), so
// the scores are the values.
func passThrough(xs ...float64) ([][]float64, []Indicator) {
	return [][]float64{xs}, []Indicator{{Code: "x", Weight: 1, Sign: 1, Low: 0, High: 100, HasGoalposts: true}}
}

func TestComputeQuotaTiers(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		quotas []int
		tier   []int
		gap    []float64
	}{
		// Competition ranks 1, 2, 2, 4, 5, 6. Quotas 2, 2: tier 1 holds ranks ≤ 2, three regions because of
		// the tie at the cut; tier 2 ranks ≤ 4 (75); the rest tier 3. Gaps: 75 to the worst of tier 1,
		// 80 − 75 = 5; 60 and 50 to the worst of tier 2: 15 and 25.
		{"tie at the cut", []float64{90, 80, 80, 75, 60, 50}, []int{2, 2}, []int{1, 1, 1, 2, 3, 3}, []float64{nan, nan, nan, 5, 15, 25}},
		// Ranks 1, 1, 1, 4: quotas 1, 1 put all three 80s in tier 1 and leave tier 2 empty; 70 is tier 3
		// and its gap is to the nearest non-empty better tier: 80 − 70 = 10.
		{"empty tier", []float64{80, 80, 80, 70}, []int{1, 1}, []int{1, 1, 1, 3}, []float64{nan, nan, nan, 10}},
		// Quota 3 with ranks 1, 2, 2, 4: the cut falls after the tie; 75 is tier 2, gap 5.
		{"cut after a tie", []float64{90, 80, 80, 75}, []int{3}, []int{1, 1, 1, 2}, []float64{nan, nan, nan, 5}},
	}
	for _, tc := range tests {
		v, inds := passThrough(tc.scores...)
		res, err := Compute(v, inds, Options{Normalisation: analytics.Goalposts, Tiers: Tiers{Quotas: tc.quotas}})
		if err != nil {
			t.Fatal(err)
		}
		for r, e := range res.Entries {
			if e.Score != tc.scores[r] || e.Tier != tc.tier[r] || !close9(e.GapToNextTier, tc.gap[r]) {
				t.Errorf("%s region %d: score %v tier %d gap %v, want %v %d %v", tc.name, r, e.Score, e.Tier, e.GapToNextTier, tc.scores[r], tc.tier[r], tc.gap[r])
			}
		}
	}
	// Gaps to the next rank over 90, 80, 80, 75, 60, 50: –, 10, 10, 5, 15, 10.
	v, inds := passThrough(90, 80, 80, 75, 60, 50)
	res, _ := Compute(v, inds, Options{Normalisation: analytics.Goalposts, Ties: analytics.Fractional})
	for r, want := range []float64{nan, 10, 10, 5, 15, 10} {
		if e := res.Entries[r]; !close9(e.GapToNextRank, want) || e.Tier != 0 || !math.IsNaN(e.GapToNextTier) {
			t.Errorf("region %d: gap to next rank %v tier %d, want %v and no tier", r, e.GapToNextRank, e.Tier, want)
		}
	}
	if got := []float64{res.Entries[1].Rank, res.Entries[2].Rank, res.Entries[3].Rank}; got[0] != 2.5 || got[1] != 2.5 || got[2] != 4 {
		t.Errorf("fractional ranks %v, want 2.5 2.5 4", got)
	}
}

func TestComputeRoundingTies(t *testing.T) {
	// GOALPOSTS 0..100 gives back 0.1, 0.2, 0.3 exactly. X = (0.1, 0.2, 0.3) and Y = (0.2, 0.3, 0.1) have
	// the same mean 0.2, but summed in indicator order they give 0.20000000000000004 and
	// 0.19999999999999998: rounded to 12 digits both are 0.2, and they tie.
	ind := Indicator{Weight: 1, Sign: 1, Low: 0, High: 100, HasGoalposts: true}
	inds := []Indicator{ind, ind, ind}
	inds[0].Code, inds[1].Code, inds[2].Code = "a", "b", "c"
	vals := [][]float64{{0.1, 0.2}, {0.2, 0.3}, {0.3, 0.1}}
	a, b, c := vals[0][0], vals[1][0], vals[2][0] // float64 variables: constants would be summed exactly
	if x, y := (a+b+c)/3, (b+c+a)/3; x == y {
		t.Fatalf("the test needs sums that differ unrounded: %v %v", x, y)
	}
	res, err := Compute(vals, inds, Options{Normalisation: analytics.Goalposts})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Entries {
		if e.Score != 0.2 || e.Rank != 1 || !math.IsNaN(e.GapToNextRank) {
			t.Errorf("region %d: score %v rank %v gap %v, want 0.2, 1, NaN", e.Region, e.Score, e.Rank, e.GapToNextRank)
		}
	}
}

func TestRanksAndTierOf(t *testing.T) {
	scores := []float64{5, 7, 7, 7, nan, 1}
	for _, tc := range []struct {
		ties analytics.TieRule
		want []float64
	}{
		// The three 7s take positions 1–3; 5 is position 4 and 1 position 5.
		{analytics.Competition, []float64{4, 1, 1, 1, nan, 5}},
		{analytics.Dense, []float64{2, 1, 1, 1, nan, 3}},
		{analytics.Fractional, []float64{4, 2, 2, 2, nan, 5}},
	} {
		got := Ranks(scores, tc.ties)
		for i := range got {
			if !close9(got[i], tc.want[i]) {
				t.Errorf("%s: %v, want %v", tc.ties, got, tc.want)
				break
			}
		}
	}
	// The 1, 2, 2, 4 example.
	for ties, want := range map[analytics.TieRule][]float64{analytics.Competition: {1, 2, 2, 4}, analytics.Dense: {1, 2, 2, 3}, analytics.Fractional: {1, 2.5, 2.5, 4}} {
		got := Ranks([]float64{4, 3, 3, 1}, ties)
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", ties, got, want)
				break
			}
		}
	}
	cut := Tiers{Cutoffs: []float64{80, 60}}
	quota := Tiers{Quotas: []int{2, 3}}
	for _, tc := range []struct {
		t     Tiers
		score float64
		comp  int
		want  int
	}{
		{cut, 80, 9, 1}, {cut, 79.9, 9, 2}, {cut, 60, 1, 2}, {cut, 59, 1, 3}, {cut, nan, 1, 0},
		{quota, 0, 1, 1}, {quota, 0, 2, 1}, {quota, 0, 3, 2}, {quota, 0, 5, 2}, {quota, 0, 6, 3}, {quota, 0, 0, 0},
		{Tiers{}, 99, 1, 0},
	} {
		if got := TierOf(tc.t, tc.score, tc.comp); got != tc.want {
			t.Errorf("TierOf(%+v, %v, %d) = %d, want %d", tc.t, tc.score, tc.comp, got, tc.want)
		}
	}
}

func TestComputeRefusals(t *testing.T) {
	good := func() ([][]float64, []Indicator, Options) {
		return exValues(), exIndicators(), Options{Normalisation: analytics.MinMax}
	}
	tests := []struct {
		name      string
		edit      func(v *[][]float64, inds *[]Indicator, o *Options)
		region    int
		indicator int
		msg       []string
	}{
		{"zero weight", func(_ *[][]float64, inds *[]Indicator, _ *Options) { (*inds)[1].Weight = 0 }, -1, 1,
			[]string{"unemp has weight 0", "positive finite number"}},
		{"negative weight", func(_ *[][]float64, inds *[]Indicator, _ *Options) { (*inds)[2].Weight = -1 }, -1, 2, []string{"positive finite"}},
		{"NaN weight", func(_ *[][]float64, inds *[]Indicator, _ *Options) { (*inds)[0].Weight = nan }, -1, 0, []string{"weight NaN"}},
		{"infinite weight", func(_ *[][]float64, inds *[]Indicator, _ *Options) { (*inds)[0].Weight = math.Inf(1) }, -1, 0, []string{"positive finite"}},
		{"weights sum to 0 (no indicators)", func(v *[][]float64, inds *[]Indicator, _ *Options) { *v, *inds = nil, nil }, -1, -1,
			[]string{"weights sum to 0", "at least one indicator"}},
		{"weight too large", func(_ *[][]float64, inds *[]Indicator, _ *Options) { (*inds)[1].Weight = 1e101 }, -1, 1,
			[]string{"unemp has weight 1e+101, outside 1e-100..1e+100", "scale the weights"}},
		{"weight too small", func(_ *[][]float64, inds *[]Indicator, _ *Options) { (*inds)[0].Weight = 1e-101 }, -1, 0, []string{"outside 1e-100"}},
		{"bad goalposts", func(_ *[][]float64, inds *[]Indicator, o *Options) {
			o.Normalisation = analytics.Goalposts
			(*inds)[2].High = 5
		}, -1, 2,
			[]string{"green has goalposts low 5 and high 5", "low < high"}},
		{"missing goalposts", func(_ *[][]float64, inds *[]Indicator, o *Options) {
			o.Normalisation = analytics.Goalposts
			(*inds)[1].HasGoalposts = false
		}, -1, 1,
			[]string{"unemp has no goalposts"}},
		{"distance to leader with 0", func(v *[][]float64, _ *[]Indicator, o *Options) {
			o.Normalisation = analytics.DistanceToLeader
			(*v)[2] = []float64{3, nan, 0, 6, 12}
		}, 2, 2, []string{"green has value 0 for region 2", "DISTANCE_TO_LEADER divides by values: use MIN_MAX or PERCENTILE_RANK"}},
		{"geometric with 0", func(_ *[][]float64, _ *[]Indicator, o *Options) {
			o.Normalisation = analytics.PercentileRank
			o.Aggregation = analytics.Geometric
		}, 0, 0,
			[]string{"PERCENTILE_RANK gives the worst region 0", "RANK scores at least 1"}},
		{"unknown normalisation", func(_ *[][]float64, _ *[]Indicator, o *Options) { o.Normalisation = "minmax" }, -1, -1,
			[]string{`unknown normalisation "minmax"`, "MIN_MAX"}},
		{"empty normalisation", func(_ *[][]float64, _ *[]Indicator, o *Options) { o.Normalisation = "" }, -1, -1, []string{"unknown normalisation"}},
		{"unknown aggregation", func(_ *[][]float64, _ *[]Indicator, o *Options) { o.Aggregation = "MEAN" }, -1, -1,
			[]string{`unknown aggregation "MEAN"`, "ARITHMETIC or GEOMETRIC"}},
		{"unknown ties", func(_ *[][]float64, _ *[]Indicator, o *Options) { o.Ties = "MIN" }, -1, -1,
			[]string{`unknown tie rule "MIN"`, "COMPETITION, DENSE or FRACTIONAL"}},
		{"unknown missing rule", func(_ *[][]float64, _ *[]Indicator, o *Options) { o.Missing = "DROP" }, -1, -1, []string{"RESCALE or EXCLUDE"}},
		{"min weight share above 1", func(_ *[][]float64, _ *[]Indicator, o *Options) { o.MinWeightShare = 70 }, -1, -1, []string{"outside 0..1"}},
		{"cut-offs not descending", func(_ *[][]float64, _ *[]Indicator, o *Options) { o.Tiers.Cutoffs = []float64{60, 60, 40} }, -1, -1,
			[]string{"strictly descending", "cut-off 2 (60) is not below cut-off 1 (60)"}},
		{"cut-offs ascending", func(_ *[][]float64, _ *[]Indicator, o *Options) { o.Tiers.Cutoffs = []float64{40, 60} }, -1, -1, []string{"strictly descending"}},
		{"quota zero", func(_ *[][]float64, _ *[]Indicator, o *Options) { o.Tiers.Quotas = []int{3, 0} }, -1, -1,
			[]string{"tier quota 2 is 0", "positive number of regions"}},
		{"quota negative", func(_ *[][]float64, _ *[]Indicator, o *Options) { o.Tiers.Quotas = []int{-1} }, -1, -1, []string{"positive number"}},
		{"cut-offs and quotas", func(_ *[][]float64, _ *[]Indicator, o *Options) {
			o.Tiers = Tiers{Cutoffs: []float64{50}, Quotas: []int{2}}
		}, -1, -1, []string{"not both", "drop one"}},
		{"rows of unequal length", func(v *[][]float64, _ *[]Indicator, _ *Options) { (*v)[1] = []float64{1, 2} }, -1, 1, []string{"one value (or NaN) per region"}},
		{"rows and indicators disagree", func(v *[][]float64, _ *[]Indicator, _ *Options) { *v = (*v)[:2] }, -1, -1, []string{"one row per indicator"}},
		{"bad sign", func(_ *[][]float64, inds *[]Indicator, _ *Options) { (*inds)[0].Sign = 2 }, -1, 0, []string{"sign 2"}},
	}
	for _, tc := range tests {
		v, inds, o := good()
		tc.edit(&v, &inds, &o)
		_, err := Compute(v, inds, o)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want an *Error", tc.name, err)
			continue
		}
		if e.Region != tc.region || e.Indicator != tc.indicator {
			t.Errorf("%s: region %d indicator %d, want %d %d (%s)", tc.name, e.Region, e.Indicator, tc.region, tc.indicator, e.Msg)
		}
		for _, s := range tc.msg {
			if !strings.Contains(e.Msg, s) {
				t.Errorf("%s: message %q lacks %q", tc.name, e.Msg, s)
			}
		}
	}
}

func TestComputeEmptyAndDefaults(t *testing.T) {
	// No regions: nothing to score, no refusal.
	res, err := Compute([][]float64{{}}, []Indicator{{Code: "x", Weight: 1, Sign: 1}}, Options{Normalisation: analytics.MinMax})
	if err != nil || len(res.Entries) != 0 || res.Ranked != 0 {
		t.Fatalf("no regions: %+v %v", res, err)
	}
	// Empty aggregation, missing rule and tie rule are ARITHMETIC, RESCALE and COMPETITION.
	a, _ := Compute(exValues(), exIndicators(), Options{Normalisation: analytics.Rank})
	b, _ := Compute(exValues(), exIndicators(), Options{Normalisation: analytics.Rank, Aggregation: analytics.Arithmetic, Missing: analytics.Rescale, Ties: analytics.Competition})
	for r := range a.Entries {
		if a.Entries[r].Score != b.Entries[r].Score || a.Entries[r].Rank != b.Entries[r].Rank || a.Entries[r].Excluded != "" {
			t.Errorf("defaults differ at region %d", r)
		}
	}
}
