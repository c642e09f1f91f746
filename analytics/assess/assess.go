package assess

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

// Indicator is one column of the matrix.
type Indicator struct {
	Code         string
	Weight       float64 // > 0, within MinWeight..MaxWeight
	Sign         float64 // +1 higher is better, −1 lower is better
	Low, High    float64 // goalposts (GOALPOSTS only); Low < High
	HasGoalposts bool
	Targets      []float64 // per region (len = regions), NaN where none: DISTANCE_TO_TARGET only
}

// Tiers is a tier rule: score cut-offs (strictly descending) or rank quotas (positive); at most one is
// non-empty, and neither means no tiers.
type Tiers struct {
	Cutoffs []float64
	Quotas  []int
}

// MinWeight and MaxWeight bound a weight, so that no weighted sum, perturbed or not, can overflow or
// lose its digits to underflow; only the ratios of weights matter, so any weights can be scaled into them.
const (
	MinWeight = 1e-100
	MaxWeight = 1e100
)

// Options is how a matrix is scored. An empty Aggregation is ARITHMETIC, an empty Missing RESCALE and
// empty Ties COMPETITION; the Normalisation must be given.
type Options struct {
	Normalisation  analytics.Normalisation
	Aggregation    analytics.Aggregation
	Missing        analytics.MissingRule
	MinWeightShare float64 // 0..1: a region whose present weight / total weight is below it is excluded (0 = off)
	Ties           analytics.TieRule
	Tiers          Tiers
	// RankBy POINTS ranks, tiers and measures gaps by the points total (Entry.Points) instead of the score.
	RankBy analytics.CompositeRank
	// Earn, when set, gives the points each line earns each region from the normalised matrix:
	// [indicator][region], NaN for a line without points (a region without a value earns 0 on a line
	// with points). A region's total is their exact sum rounded once (calc.Sum12). Needed for POINTS.
	Earn func(normalised [][]float64) [][]float64
	// RegionCodes, when it has one code per region, names regions in error messages ("region JS" rather
	// than "region 3"); it changes nothing else.
	RegionCodes []string
}

// Error is a refusal of the input. Region and Indicator are indexes into the input, or −1 when the
// refusal is not about one region or one indicator. Msg says what was wrong and what to change.
type Error struct {
	Region, Indicator int
	Msg               string
}

func (e *Error) Error() string { return e.Msg }

func errf(region, indicator int, format string, args ...any) *Error {
	return &Error{Region: region, Indicator: indicator, Msg: fmt.Sprintf(format, args...)}
}

// Result is a scored matrix.
type Result struct {
	Normalised [][]float64 // [indicator][region], NaN where missing; not rounded
	Entries    []Entry     // one per region, in region order (excluded ones too, with Excluded set)
	Ranked     int         // number of scored (not excluded) regions
	Earned     [][]float64 // Options.Earn's answer ([indicator][region], not rounded); nil without it
}

// Entry is one region's score, rank, tier and breakdown. An excluded region has Score, Rank and the gaps
// NaN, CompetitionRank and Tier 0, and components with Normalised only (Weight 0, Contribution NaN).
type Entry struct {
	Region          int
	Excluded        string  // "" when scored, else why
	Score           float64 // rounded to 12 significant digits
	Points          float64 // the points total (exact sum of the lines', rounded once); NaN without Options.Earn
	Rank            float64 // by score (or points under RankBy POINTS), under Options.Ties among scored regions, best first
	CompetitionRank int
	Tier            int     // 0 when there is no tier rule
	WeightShare     float64 // present weight / total weight, rounded to 12 significant digits
	GapToNextRank   float64 // score (points) of the nearest region ranked strictly better − own; NaN for the best
	GapToNextTier   float64 // NaN for tier 1 or no tiers
	Components      []Component
}

// Component is one indicator's part in a region's score.
type Component struct {
	Normalised   float64 // NaN when missing
	Weight       float64 // wᵢ/Σw over the indicators present for the region (0 when missing); sums to 1
	Contribution float64 // ARITHMETIC: Weight·Normalised (sums to Score); GEOMETRIC: Normalised^Weight (multiplies to Score); NaN when missing
}

// resolved returns o with its defaults filled in, or an *Error for an unknown or out-of-range option.
func (o Options) resolved() (Options, error) {
	if !knownNormalisation(o.Normalisation) {
		return o, errf(-1, -1, "unknown normalisation %q: use one of %s", o.Normalisation, normalisationList())
	}
	switch o.Aggregation {
	case "":
		o.Aggregation = analytics.Arithmetic
	case analytics.Arithmetic, analytics.Geometric:
	default:
		return o, errf(-1, -1, "unknown aggregation %q: use ARITHMETIC or GEOMETRIC", o.Aggregation)
	}
	switch o.Missing {
	case "":
		o.Missing = analytics.Rescale
	case analytics.Rescale, analytics.Exclude:
	default:
		return o, errf(-1, -1, "unknown missing-value rule %q: use RESCALE or EXCLUDE", o.Missing)
	}
	switch o.Ties {
	case "":
		o.Ties = analytics.Competition
	case analytics.Competition, analytics.Dense, analytics.Fractional:
	default:
		return o, errf(-1, -1, "unknown tie rule %q: use COMPETITION, DENSE or FRACTIONAL", o.Ties)
	}
	if !(o.MinWeightShare >= 0 && o.MinWeightShare <= 1) {
		return o, errf(-1, -1, "minimum weight share %v is outside 0..1: give a share between 0 (off) and 1 (every indicator present)", o.MinWeightShare)
	}
	if err := o.Tiers.validate(); err != nil {
		return o, err
	}
	switch o.RankBy {
	case "":
		o.RankBy = analytics.RankByScore
	case analytics.RankByScore:
	case analytics.RankByPoints:
		if o.Earn == nil {
			return o, errf(-1, -1, "ranking by points needs points: give the indicators points (a scheme's points:), or rank by SCORE")
		}
	default:
		return o, errf(-1, -1, "unknown rank basis %q: use SCORE or POINTS", o.RankBy)
	}
	return o, nil
}

func knownNormalisation(n analytics.Normalisation) bool {
	for _, k := range analytics.Normalisations {
		if n == k {
			return true
		}
	}
	return false
}

func normalisationList() string {
	s := make([]string, len(analytics.Normalisations))
	for i, n := range analytics.Normalisations {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}

func (t Tiers) validate() error {
	if len(t.Cutoffs) > 0 && len(t.Quotas) > 0 {
		return errf(-1, -1, "a tier rule has either score cut-offs or rank quotas, not both: drop one of them")
	}
	for k, c := range t.Cutoffs {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return errf(-1, -1, "tier cut-off %d is %v: give finite cut-offs", k+1, c)
		}
		if k > 0 && !(c < t.Cutoffs[k-1]) {
			return errf(-1, -1, "tier cut-offs must be strictly descending (tier 1's first), but cut-off %d (%v) is not below cut-off %d (%v)", k+1, c, k, t.Cutoffs[k-1])
		}
	}
	for k, q := range t.Quotas {
		if q < 1 {
			return errf(-1, -1, "tier quota %d is %d: every quota must be a positive number of regions", k+1, q)
		}
	}
	return nil
}

// regionName names region r in a message: its code when the caller gave codes, else its index.
func (o *Options) regionName(r int) string {
	if len(o.RegionCodes) > r && r >= 0 && o.RegionCodes[r] != "" {
		return o.RegionCodes[r]
	}
	return strconv.Itoa(r)
}

// validateInput checks the matrix's shape and the indicators' weights and signs, and returns the number
// of regions and the total weight.
func validateInput(values [][]float64, inds []Indicator) (regions int, total float64, err error) {
	if len(inds) == 0 {
		return 0, 0, errf(-1, -1, "there are no indicators, so the weights sum to 0: give at least one indicator with a positive weight")
	}
	if len(values) != len(inds) {
		return 0, 0, errf(-1, -1, "the matrix has %d rows of values for %d indicators: give one row per indicator", len(values), len(inds))
	}
	regions = len(values[0])
	for i, ind := range inds {
		if len(values[i]) != regions {
			return 0, 0, errf(-1, i, "indicator %s has %d values where indicator %s has %d: give one value (or NaN) per region", ind.Code, len(values[i]), inds[0].Code, regions)
		}
		if !(ind.Weight > 0) || math.IsInf(ind.Weight, 0) {
			return 0, 0, errf(-1, i, "indicator %s has weight %v: every weight must be a positive finite number", ind.Code, ind.Weight)
		}
		if ind.Weight > MaxWeight || ind.Weight < MinWeight {
			return 0, 0, errf(-1, i, "indicator %s has weight %v, outside %g..%g: scale the weights (only their ratios matter)", ind.Code, ind.Weight, MinWeight, MaxWeight)
		}
		if ind.Sign != 1 && ind.Sign != -1 {
			return 0, 0, errf(-1, i, "indicator %s has sign %v: use 1 (higher is better) or -1 (lower is better)", ind.Code, ind.Sign)
		}
		total += ind.Weight
	}
	return regions, total, nil
}

// state is what a Compute knows beyond its Result: the scored regions and the matrix it scored them from,
// which Robustness reuses so that a run with the nominal weights reproduces the nominal scores bit for bit.
type state struct {
	o       Options
	regions int
	w       []float64
	scored  []int32 // regions scored, ascending
	norm    [][]float64
	earned  [][]float64 // Options.Earn's answer, nil without it
}

// linesTotal is one region's points total from its lines' points (NaN: a line without points), each
// scaled by f[i]: summed exactly and rounded once, as pointsTotal.
func linesTotal(lines, f, buf []float64) float64 {
	buf = buf[:0]
	for i, x := range lines {
		if !math.IsNaN(x) {
			buf = append(buf, float64(x*f[i]))
		}
	}
	return calc.Sum12(buf)
}

// pointsTotal is region r's points total from earned ([indicator][region]), the lines without points (NaN)
// left out, summed exactly and rounded once; buf is scratch memory.
func pointsTotal(earned [][]float64, r int, buf []float64) float64 {
	buf = buf[:0]
	for _, col := range earned {
		if x := col[r]; !math.IsNaN(x) {
			buf = append(buf, x)
		}
	}
	return calc.Sum12(buf)
}

// matrix is a normalised matrix laid out region-major for scoring: row r is [r*m, (r+1)*m).
type matrix struct {
	m     int
	v, ln []float64 // the normalised value and its logarithm (ln only when built for GEOMETRIC), 0 where missing
	p     []float64 // 1 where present, 0 where missing
	// earned is the points each line earns each region, region-major as v, when runs rank by points.
	earned []float64
}

func buildMatrix(norm [][]float64, regions int, withLn bool) matrix {
	m := len(norm)
	mt := matrix{m: m, v: make([]float64, regions*m), p: make([]float64, regions*m)}
	if withLn {
		mt.ln = make([]float64, regions*m)
	}
	for i, col := range norm {
		for r, x := range col {
			if math.IsNaN(x) {
				continue
			}
			k := r*m + i
			mt.v[k], mt.p[k] = x, 1
			if withLn && x > 0 {
				mt.ln[k] = math.Log(x)
			}
		}
	}
	return mt
}

// score is region r's score under weights w, rounded to 12 significant digits. Missing components have
// v = ln = p = 0, so they add an exact 0 to both sums; the explicit conversions keep each product rounded
// on its own (Go may otherwise fuse a multiply and an add), so every caller gets the same bits.
func (mt *matrix) score(r int, w []float64, geometric bool) float64 {
	p := mt.p[r*mt.m : (r+1)*mt.m]
	p = p[:len(w)]
	var num, den float64
	if geometric {
		ln := mt.ln[r*mt.m : (r+1)*mt.m]
		ln = ln[:len(w)]
		for i, wi := range w {
			num += float64(wi * ln[i])
			den += float64(wi * p[i])
		}
		return calc.Round12(math.Exp(num / den))
	}
	v := mt.v[r*mt.m : (r+1)*mt.m]
	v = v[:len(w)]
	for i, wi := range w {
		num += float64(wi * v[i])
		den += float64(wi * p[i])
	}
	return calc.Round12(num / den)
}

// Compute scores a matrix: values[i][r] is indicator i's value for region r (NaN when missing).
func Compute(values [][]float64, inds []Indicator, o Options) (*Result, error) {
	res, _, err := compute(values, inds, o)
	return res, err
}

func compute(values [][]float64, inds []Indicator, o Options) (*Result, *state, error) {
	o, err := o.resolved()
	if err != nil {
		return nil, nil, err
	}
	regions, total, err := validateInput(values, inds)
	if err != nil {
		return nil, nil, err
	}
	m := len(inds)
	res := &Result{Normalised: make([][]float64, m), Entries: make([]Entry, regions)}
	for i, ind := range inds {
		res.Normalised[i], err = normalise(o.Normalisation, ind, i, values[i], &o)
		if err != nil {
			return nil, nil, err
		}
	}
	w := make([]float64, m)
	for i, ind := range inds {
		w[i] = ind.Weight
	}
	geometric := o.Aggregation == analytics.Geometric

	// Exclusion, weight shares and the components' normalised values.
	st := &state{o: o, regions: regions, w: w, norm: res.Normalised}
	var missing []int
	for r := range regions {
		e := &res.Entries[r]
		*e = Entry{Region: r, Score: math.NaN(), Rank: math.NaN(), GapToNextRank: math.NaN(), GapToNextTier: math.NaN(), Components: make([]Component, m)}
		missing = missing[:0]
		present := 0.0
		for i := range m {
			x := res.Normalised[i][r]
			e.Components[i] = Component{Normalised: x, Contribution: math.NaN()}
			if math.IsNaN(x) {
				missing = append(missing, i)
			} else {
				present += w[i]
			}
		}
		e.WeightShare = calc.Round12(present / total)
		switch {
		case len(missing) == m:
			e.Excluded = "no value of any indicator"
			if s := describeMissing(missing, inds, values, r); !strings.HasPrefix(s, "no value of") || strings.Contains(s, ";") {
				e.Excluded += " (" + s + ")"
			}
		case o.Missing == analytics.Exclude && len(missing) > 0:
			e.Excluded = describeMissing(missing, inds, values, r) + " (missing: EXCLUDE)"
		case o.MinWeightShare > 0 && e.WeightShare < o.MinWeightShare:
			e.Excluded = fmt.Sprintf("weight present %s%% is below the minimum %s%% (%s)",
				percent(e.WeightShare), percent(o.MinWeightShare), describeMissing(missing, inds, values, r))
		}
		if e.Excluded != "" {
			continue
		}
		st.scored = append(st.scored, int32(r))
		for i := range m {
			if c := &e.Components[i]; !math.IsNaN(c.Normalised) {
				c.Weight = w[i] / present
				if geometric {
					if !(c.Normalised > 0) {
						return nil, nil, geometricRefusal(o, inds[i].Code, i, r, c.Normalised)
					}
					c.Contribution = math.Pow(c.Normalised, c.Weight)
				} else {
					c.Contribution = c.Weight * c.Normalised
				}
			}
		}
	}
	res.Ranked = len(st.scored)

	// Scores, from the same region-major matrix and loop as every Monte Carlo run.
	mt := buildMatrix(res.Normalised, regions, geometric)
	scores := make([]float64, regions)
	for r := range scores {
		scores[r] = math.NaN()
	}
	for _, r := range st.scored {
		s := mt.score(int(r), w, geometric)
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, nil, errf(int(r), -1, "the score of region %s overflows: scale the weights down (only their ratios matter)", o.regionName(int(r)))
		}
		scores[r] = s
		res.Entries[r].Score = s
	}

	// Points, when the lines earn them.
	keys := scores
	for r := range res.Entries {
		res.Entries[r].Points = math.NaN()
	}
	if o.Earn != nil {
		st.earned = o.Earn(res.Normalised)
		res.Earned = st.earned
		if len(st.earned) != m {
			return nil, nil, errf(-1, -1, "points were given for %d lines of %d", len(st.earned), m)
		}
		buf := make([]float64, 0, m)
		pts := make([]float64, regions)
		for r := range pts {
			pts[r] = math.NaN()
		}
		for _, r := range st.scored {
			pts[r] = pointsTotal(st.earned, int(r), buf)
			res.Entries[r].Points = pts[r]
		}
		if o.RankBy == analytics.RankByPoints {
			keys = pts
		}
	}

	// Ranks, tiers and gaps.
	ranks := Ranks(keys, o.Ties)
	comp := ranks
	if o.Ties != analytics.Competition {
		comp = Ranks(keys, analytics.Competition)
	}
	for _, r := range st.scored {
		e := &res.Entries[r]
		e.Rank = ranks[r]
		e.CompetitionRank = int(comp[r])
		e.Tier = TierOf(o.Tiers, keys[r], e.CompetitionRank)
	}
	fillGaps(res, st.scored, o.Tiers, keys)
	return res, st, nil
}

// fillGaps sets GapToNextRank and GapToNextTier of the scored regions, in the unit of what they are ranked
// by (key: the score, or the points total).
func fillGaps(res *Result, scored []int32, t Tiers, key []float64) {
	if len(scored) == 0 {
		return
	}
	// Scored regions from the best key down; a region's next better key is that of the nearest earlier
	// group of equal keys.
	order := append([]int32(nil), scored...)
	sortByScoreDesc(order, func(r int32) float64 { return key[r] })
	better := math.NaN()
	for k := 0; k < len(order); {
		s := key[order[k]]
		end := k
		for end < len(order) && key[order[end]] == s {
			if !math.IsNaN(better) {
				res.Entries[order[end]].GapToNextRank = calc.Round12(better - s)
			}
			end++
		}
		better = s
		k = end
	}
	tiers := len(t.Cutoffs) + len(t.Quotas) + 1
	if tiers == 1 {
		return
	}
	worst := make([]float64, tiers+1) // worst score in each tier, NaN while a tier is empty
	for k := range worst {
		worst[k] = math.NaN()
	}
	for _, r := range scored {
		e := &res.Entries[r]
		if math.IsNaN(worst[e.Tier]) || key[r] < worst[e.Tier] {
			worst[e.Tier] = key[r]
		}
	}
	for _, r := range scored {
		e := &res.Entries[r]
		if e.Tier <= 1 {
			continue
		}
		if len(t.Cutoffs) > 0 {
			e.GapToNextTier = calc.Round12(t.Cutoffs[e.Tier-2] - key[r])
			continue
		}
		for k := e.Tier - 1; k >= 1; k-- { // a tier the ties at a quota cut left empty cannot be reached
			if !math.IsNaN(worst[k]) {
				e.GapToNextTier = calc.Round12(worst[k] - key[r])
				break
			}
		}
	}
}

// describeMissing says which components of region r are missing: "no value of a, b; no target of c".
func describeMissing(missing []int, inds []Indicator, values [][]float64, r int) string {
	var noValue, noTarget []string
	for _, i := range missing {
		if math.IsNaN(values[i][r]) {
			noValue = append(noValue, inds[i].Code)
		} else {
			noTarget = append(noTarget, inds[i].Code)
		}
	}
	var parts []string
	if len(noValue) > 0 {
		parts = append(parts, "no value of "+strings.Join(noValue, ", "))
	}
	if len(noTarget) > 0 {
		parts = append(parts, "no target of "+strings.Join(noTarget, ", "))
	}
	return strings.Join(parts, "; ")
}

// percent writes a share as a percentage with up to 6 significant digits: 0.45 → "45".
func percent(share float64) string {
	return strconv.FormatFloat(share*100, 'g', 6, 64)
}

func geometricRefusal(o Options, code string, i, r int, x float64) *Error {
	why := ""
	switch o.Normalisation {
	case analytics.MinMax:
		why = "MIN_MAX gives the worst region 0"
	case analytics.PercentileRank:
		why = "PERCENTILE_RANK gives the worst region 0"
	case analytics.Goalposts:
		why = "GOALPOSTS gives 0 at or beyond the worse goalpost"
	case analytics.ZScore:
		why = "Z_SCORE is negative below the mean and 0 at it"
	case analytics.DistanceToLeader, analytics.DistanceToTarget:
		why = string(o.Normalisation) + " is positive only for positive data"
	case analytics.Rank:
		why = "RANK scores at least 1"
	}
	return errf(r, i, "GEOMETRIC needs positive normalised values, but indicator %s of region %s normalises to %v under %s (%s): RANK scores at least 1 and DISTANCE_TO_LEADER is positive for positive data; or use ARITHMETIC",
		code, o.regionName(r), x, o.Normalisation, why)
}
