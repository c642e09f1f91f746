package query

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
	"pacesetter/analytics/duck"
)

// Rankings, standings and trends run in Go over the matrices of matrix.go: the rules below are the ones the
// schema states, and analytics/duck's differential test checks them against a plain statement of the same
// rules on random data.

// basisValue is what a ranking ranks for region r in year y: the value, or its growth as the indicator's
// measure defines it (calc.GrowthOf), with the flags of the values it rests on. A LEVEL's growth from a zero
// or negative base has no meaningful sign (−100 → −50 would be −50 %), so it has none. A growth beyond
// ±1.8e308 is none either, returned as ±Inf (calc.OutOfRange) so that the ranking can say why.
func basisValue(m *duck.Matrix, in *analytics.Indicator, basis analytics.RankBasis, r, y int) (float64, analytics.FlagSet, bool) {
	x, f, ok := m.Get(r, y)
	if !ok || basis != analytics.ByGrowth {
		return x, f, ok
	}
	var prev float64
	var pf analytics.FlagSet
	hasPrev := false
	if calc.NeedsPrevious(in.Measure) {
		prev, pf, hasPrev = m.Get(r, y-in.PerYear()) // the same period a year earlier
		if !hasPrev || in.Measure == analytics.Level && prev <= 0 {
			return 0, 0, false
		}
	}
	g, ok := calc.GrowthOf(in.Measure, x, prev, hasPrev)
	return g, f | pf, ok
}

// rankedEntry is one ranked region of one year.
type rankedEntry struct {
	r            int // position in the snapshot
	v            float64
	flags        analytics.FlagSet
	rankC, rankD int
}

// rankedYear is the ranking of one indicator in one year within a scope.
type rankedYear struct {
	entries []rankedEntry // best first, ties by region code
	missing []int         // members without a value, by region code
	huge    []int         // of those, the ones whose growth is beyond ±1.8e308
	mean    float64       // unrounded; NaN when nobody is ranked
	median  float64
	at      []int32   // of each region (by position), 1 + its index in entries; 0 when it is not ranked
	vals    []float64 // the entries' values, in their order
}

// entry is region r's ranked entry, nil when it has none.
func (ry *rankedYear) entry(r int) *rankedEntry {
	if i := ry.at[r]; i > 0 {
		return &ry.entries[i-1]
	}
	return nil
}

func rankYear(s *snapshot, m *duck.Matrix, in *analytics.Indicator, basis analytics.RankBasis, members []int, y int) *rankedYear {
	out := &rankedYear{mean: math.NaN(), median: math.NaN(), at: make([]int32, len(s.Regions)),
		entries: make([]rankedEntry, 0, len(members))}
	for _, r := range members {
		if v, f, ok := basisValue(m, in, basis, r, y); ok {
			out.entries = append(out.entries, rankedEntry{r: r, v: v, flags: f})
		} else {
			out.missing = append(out.missing, r)
			if calc.OutOfRange(v) {
				out.huge = append(out.huge, r)
			}
		}
	}
	// One sort puts the entries in their final order, best first and equal values by region code; the
	// ranks follow from that order (calc.RanksInOrder).
	sign, code := in.Sign(), s.CodeOrder
	slices.SortFunc(out.missing, func(a, b int) int { return cmp.Compare(code[a], code[b]) })
	type sortKey struct {
		best uint64 // −sign·v as an integer that sorts like it: ascending is best first
		code int32
		at   int32 // index in out.entries
	}
	keys := make([]sortKey, len(out.entries)) // small integer keys sort faster than the entries themselves
	for i, en := range out.entries {
		keys[i] = sortKey{orderedBits(-sign*en.v + 0), code[en.r], int32(i)} // + 0: −0 sorts with 0
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if a.best != b.best {
			if a.best < b.best {
				return -1
			}
			return 1
		}
		return int(a.code - b.code)
	})
	sorted := make([]rankedEntry, len(keys))
	vals := make([]float64, len(keys))
	for i, k := range keys {
		sorted[i] = out.entries[k.at]
		vals[i] = sorted[i].v
	}
	out.entries, out.vals = sorted, vals
	comp, dense := calc.RanksInOrder(vals)
	for i := range out.entries {
		out.entries[i].rankC, out.entries[i].rankD = comp[i], dense[i]
		out.at[out.entries[i].r] = int32(i + 1)
	}
	if len(vals) > 0 {
		out.mean, out.median = calc.Mean(vals), calc.MedianSorted(vals)
	}
	return out
}

// orderedBits maps a finite float64 to a uint64 in the same order: the sign bit set for positives, every
// bit flipped for negatives.
func orderedBits(x float64) uint64 {
	b := math.Float64bits(x)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

func (e *rankedEntry) rankBy(t analytics.TieRule) int {
	if t == analytics.Dense {
		return e.rankD
	}
	return e.rankC
}

// defaults fills in the tie rule and basis left out, and refuses FRACTIONAL: a ranking's ranks are whole
// numbers (a composite's may be fractional).
func defaults(t analytics.TieRule, b analytics.RankBasis) (analytics.TieRule, analytics.RankBasis, error) {
	if t == "" {
		t = analytics.Competition
	}
	if b == "" {
		b = analytics.ByValue
	}
	if t == analytics.Fractional {
		return t, b, analytics.Errorf(analytics.BadUserInput, "ties FRACTIONAL gives ranks like 2.5, and this answer's ranks are whole numbers: use COMPETITION or DENSE here (composite takes FRACTIONAL)")
	}
	return t, b, nil
}

// checkIndicatorPeriod refuses a period of another frequency than the indicator's, or outside its data; it
// returns the period's ordinal. A year asked of a quarterly or monthly indicator is refused: which of its
// periods was meant is not clear.
func checkIndicatorPeriod(in *analytics.Indicator, year *int, p *analytics.Period) (int, error) {
	if year != nil && p != nil {
		return 0, analytics.Errorf(analytics.BadUserInput, "both year and period are given: give one of them")
	}
	if p == nil {
		if in.PerYear() > 1 {
			return 0, analytics.Errorf(analytics.BadUserInput, "indicator %q is %s: give period (e.g. %s) instead of year", in.Code, freqName(in.Freq()),
				in.Period(analytics.OrdOf(in.Freq(), *year, in.PerYear())))
		}
		return *year, checkIndicatorYear(in, *year)
	}
	if p.Freq != in.Freq() {
		return 0, analytics.Errorf(analytics.BadUserInput, "period %s is %s, but indicator %q is %s: give a period like %s", p, freqName(p.Freq), in.Code,
			freqName(in.Freq()), in.Period(analytics.OrdOf(in.Freq(), p.Year, in.PerYear())))
	}
	if in.PerYear() == 1 {
		return p.Year, checkIndicatorYear(in, p.Year)
	}
	t := p.Ord()
	if in.FirstOrd == nil {
		return 0, analytics.Errorf(analytics.BadUserInput, "indicator %q has no values", in.Code)
	}
	if t < *in.FirstOrd || t > *in.LastOrd {
		return 0, analytics.Errorf(analytics.BadUserInput, "indicator %q has values from %s to %s; %s is outside them", in.Code,
			in.Period(*in.FirstOrd), in.Period(*in.LastOrd), p)
	}
	return t, nil
}

// checkIndicatorYear refuses a year outside the indicator's data, naming its first and last year.
func checkIndicatorYear(in *analytics.Indicator, year int) error {
	if in.FirstYear == nil {
		return analytics.Errorf(analytics.BadUserInput, "indicator %q has no values", in.Code)
	}
	if year < *in.FirstYear || year > *in.LastYear {
		return analytics.Errorf(analytics.BadUserInput, "indicator %q has values from %d to %d; %d is outside them", in.Code, *in.FirstYear, *in.LastYear, year)
	}
	return nil
}

// rankingPlan is a ranking request checked and resolved against the catalog: its indicator and scope, and
// the request with its defaults applied (what the answer's key is made of).
type rankingPlan struct {
	q     analytics.RankingQuery
	in    *analytics.Indicator
	scope *analytics.Scope
	ord   *int // the period asked (Year or Period), as an ordinal; nil: the latest
}

// planRanking checks a ranking request against the catalog and resolves it; no I/O.
func planRanking(s *snapshot, q analytics.RankingQuery) (*rankingPlan, error) {
	in, err := s.indicatorOf(q.Indicator, &q.Formula)
	if err != nil {
		return nil, err
	}
	var ord *int
	if q.Year != nil || q.Period != nil {
		t, err := checkIndicatorPeriod(in, q.Year, q.Period)
		if err != nil {
			return nil, err
		}
		ord = &t
	} else if in.FirstYear == nil {
		return nil, analytics.Errorf(analytics.BadUserInput, "indicator %q has no values", in.Code)
	}
	scope, err := s.scope(q.ScopeQuery)
	if err != nil {
		return nil, err
	}
	if q.Ties, q.Basis, err = defaults(q.Ties, q.Basis); err != nil {
		return nil, err
	}
	if err := s.checkAsOf(q.AsOf); err != nil {
		return nil, err
	}
	return &rankingPlan{q: q, in: in, scope: scope, ord: ord}, nil
}

// Ranking ranks the regions of a scope on one indicator in one year.
func (e *Engine) Ranking(ctx context.Context, q analytics.RankingQuery) (*analytics.Ranking, error) {
	s := e.snap.Load()
	p, err := planRanking(s, q)
	if err != nil {
		return nil, err
	}
	key := keyOf("ranking", p.q)
	return cached(e, s, key, func() (*analytics.Ranking, error) {
		rk, err := e.ranking(ctx, s, p)
		if err == nil && key != "" {
			rk.Key = s.Key + "|" + key
		}
		return rk, err
	})
}

// WeightedMean is Σ value·weight / Σ weight over the ranking's entries that have a value of the weight in
// the ranking's year (as of its date), rounded to 12 significant digits; nil when none has. Kept in the
// answer cache by ranking and weight: every entry's vsWeightedMean asks for it.
func (e *Engine) WeightedMean(ctx context.Context, rk *analytics.Ranking, weight string) (*float64, error) {
	s := e.snap.Load()
	w, err := s.indicatorOrFormula(weight)
	if err != nil {
		return nil, err
	}
	key := ""
	if rk.Key != "" {
		key = keyOf("weightedMean", []string{rk.Key, w.Code})
	}
	return cached(e, s, key, func() (*float64, error) {
		ms, err := e.matrices(ctx, s, rk.AsOf, w.Code)
		if err != nil {
			return nil, err
		}
		vals := make([]float64, 0, len(rk.Entries))
		ws := make([]float64, 0, len(rk.Entries))
		for _, en := range rk.Entries {
			r, ok := s.RegionAt[en.Region.Code]
			if !ok {
				continue
			}
			if x, _, ok := ms[w.Code].Get(r, weightOrd(w, rk)); ok {
				vals, ws = append(vals, en.Value), append(ws, x)
			}
		}
		m, ok := calc.WeightedMean(vals, ws)
		if !ok {
			return nil, nil
		}
		m = calc.Round12(m)
		return &m, nil
	})
}

// weightOrd is where a weight's value of the ranking's period is: the same ordinal for a weight of the same
// frequency, else its calendar year's (an annual weight beside a monthly ranking); -1 (none) otherwise.
func weightOrd(w *analytics.Indicator, rk *analytics.Ranking) int {
	switch {
	case w.Freq() == rk.Indicator.Freq():
		return rk.Ord
	case w.PerYear() == 1:
		return rk.Year
	}
	return -1
}

// ranking reads the indicator's values and ranks the plan's scope.
func (e *Engine) ranking(ctx context.Context, s *snapshot, p *rankingPlan) (*analytics.Ranking, error) {
	q, in, scope := p.q, p.in, p.scope
	var ms map[string]*duck.Matrix
	var err error
	if p.ord != nil {
		// A period's ranking reads that period and the same a year and two years earlier (its previous
		// rank on growth): a first touch is answered from those years alone.
		ms, err = e.matricesWindow(ctx, s, q.AsOf, []string{in.Code}, *p.ord-2*in.PerYear(), *p.ord)
	} else {
		ms, err = e.matrices(ctx, s, q.AsOf, in.Code)
	}
	if err != nil {
		return nil, err
	}
	m := ms[in.Code]
	y := 0
	if p.ord != nil {
		y = *p.ord
	} else if y = latestYear(s, m, in, scope, q.Basis); y == 0 {
		what := "a value"
		if q.Basis == analytics.ByGrowth {
			what = "a growth (for a LEVEL or RATE, a value in two years in a row)"
		}
		return nil, analytics.Errorf(analytics.BadUserInput, "no region of the scope (%s) has %s of %q%s: give a year", describeScope(scope), what, in.Code, asOfText(q.AsOf))
	}
	// The previous rank is the same period's a year earlier; members are those of the period's calendar year.
	py := y - in.PerYear()
	cur := rankYear(s, m, in, q.Basis, s.members(scope, in.Code, calYear(in, y)), y)
	prev := rankYear(s, m, in, q.Basis, s.members(scope, in.Code, calYear(in, py)), py)
	rk := &analytics.Ranking{Indicator: in, Year: calYear(in, y), Period: in.Period(y).String(), Ord: y, Scope: scope, Ties: q.Ties, Basis: q.Basis, AsOf: q.AsOf,
		Count: len(cur.entries), Entries: make([]*analytics.RankingEntry, 0, len(cur.entries)), Missing: make([]*analytics.Region, 0, len(cur.missing))}
	for _, r := range cur.missing {
		rk.Missing = append(rk.Missing, s.Regions[r])
	}
	rk.Warnings = []*analytics.Warning{}
	rk.Warnings = append(rk.Warnings, formulaWarnings(s, in, ms, cur.missing, y)...)
	if len(cur.huge) > 0 {
		var codes []string
		for _, r := range cur.huge {
			codes = append(codes, s.Regions[r].Code)
		}
		rk.Warnings = append(rk.Warnings, &analytics.Warning{Indicator: in, Message: fmt.Sprintf(
			"%s listed in missing: the growth is beyond ±1.8e308, the largest number a double holds", strings.Join(codes, ", "))})
	}
	if len(cur.entries) == 0 {
		return rk, nil
	}
	// The mean and median of finite values lie between them, so they are always finite (calc.Mean,
	// calc.MedianSorted); a difference of two values may not be (1e308 − (−1e308)): it is then null.
	mean, median := calc.Round12(cur.mean), calc.Round12(cur.median)
	rk.Mean, rk.Median, rk.Leader = &mean, &median, s.Regions[cur.entries[0].r]
	sign, lead := in.Sign(), cur.entries[0].v
	ents := make([]analytics.RankingEntry, len(cur.entries)) // one allocation for all entries
	ints := make([]int, 2*len(cur.entries))                  // and one for their previous ranks and changes
	diffs := make([]float64, 3*len(cur.entries))             // and one for their differences
	var nulls [3]int                                         // differences beyond range: gap, vs mean, vs median
	diff := func(k, i int, a, b float64) *float64 {
		d, ok := calc.Diff(a, b)
		if !ok {
			nulls[k]++
			return nil
		}
		diffs[3*i+k] = d
		return &diffs[3*i+k]
	}
	for i := range cur.entries {
		c := &cur.entries[i]
		ent := &ents[i]
		*ent = analytics.RankingEntry{Region: s.Regions[c.r], Value: c.v, Rank: c.rankBy(q.Ties),
			Percentile: calc.Percentile(len(cur.entries), c.rankC), Flags: c.flags.Letters(),
			GapToLeader: diff(0, i, sign*lead, sign*c.v), VsMean: diff(1, i, c.v, cur.mean), VsMedian: diff(2, i, c.v, cur.median)}
		if p := prev.entry(c.r); p != nil {
			ints[2*i], ints[2*i+1] = p.rankBy(q.Ties), p.rankBy(q.Ties)-ent.Rank
			ent.PreviousRank, ent.RankChange = &ints[2*i], &ints[2*i+1]
		}
		if c.flags != 0 {
			rk.Flagged++
		}
		rk.Entries = append(rk.Entries, ent)
	}
	for k, name := range []string{"gapToLeader", "vsMean", "vsMedian"} {
		if nulls[k] > 0 {
			rk.Warnings = append(rk.Warnings, &analytics.Warning{Indicator: in, Message: fmt.Sprintf(
				"%s is null on %d entries: the difference is beyond ±1.8e308, the largest number a double holds", name, nulls[k])})
		}
	}
	return rk, nil
}

// latestYear is the last year in which a region of the scope has a value to rank; 0 if there is none.
func latestYear(s *snapshot, m *duck.Matrix, in *analytics.Indicator, scope *analytics.Scope, basis analytics.RankBasis) int {
	if m == nil {
		return 0 // no values as of the date asked
	}
	first, last := *in.FirstYear, *in.LastYear // Ranking has checked that the indicator has values
	if in.PerYear() > 1 && in.FirstOrd != nil {
		first, last = *in.FirstOrd, *in.LastOrd
	}
	for y := last; y >= first; y-- {
		for _, r := range s.members(scope, in.Code, calYear(in, y)) {
			if _, _, ok := basisValue(m, in, basis, r, y); ok {
				return y
			}
		}
	}
	return 0
}

func asOfText(d *analytics.Date) string {
	if d == nil {
		return ""
	}
	return " as of " + string(*d)
}

// standingsPlan is a standings request checked and resolved against the catalog: the request with its
// defaults applied and the scheme's scope when it names none (what the answer's key is made of), the
// region, its scope and the indicators it is placed on.
type standingsPlan struct {
	q          analytics.StandingsQuery
	region     *analytics.Region
	scope      *analytics.Scope
	indicators []*analytics.Indicator
}

// planStandings checks a standings request against the catalog and resolves it; no I/O.
func planStandings(s *snapshot, q analytics.StandingsQuery) (*standingsPlan, error) {
	region, err := s.region(q.Region)
	if err != nil {
		return nil, err
	}
	if err := checkYear(q.Year); err != nil {
		return nil, err
	}
	if q.Top < 1 {
		return nil, analytics.Errorf(analytics.BadUserInput, "top must be at least 1, got %d", q.Top)
	}
	var scheme *analytics.Scheme
	if q.Scheme != "" {
		if q.Indicators != nil || q.Category != "" {
			return nil, analytics.Errorf(analytics.BadUserInput, "give one of indicators, category and scheme")
		}
		if scheme, err = s.scheme(q.Scheme); err != nil {
			return nil, err
		}
		if sq := q.ScopeQuery; sq.Group == "" && sq.Parent == "" && sq.Level == "" && sq.Regions == nil {
			q.ScopeQuery = scheme.Scope // the scheme's peer scope, unless the query names one
		}
	}
	scope, err := s.scope(q.ScopeQuery)
	if err != nil {
		return nil, err
	}
	if q.Ties, q.Basis, err = defaults(q.Ties, q.Basis); err != nil {
		return nil, err
	}
	if err := s.checkAsOf(q.AsOf); err != nil {
		return nil, err
	}
	indicators, err := s.standingsIndicators(q.Indicators, q.Category)
	if scheme != nil {
		indicators, err = s.schemeIndicators(scheme, q.Year)
	}
	if err == nil {
		// The indicators of the period's frequency (of years, without a period): a monthly league table
		// places the region on the monthly indicators.
		freq := analytics.Annual
		if q.Period != nil {
			freq = q.Period.Freq
			q.Year = q.Period.Year
		}
		indicators = slices.DeleteFunc(slices.Clone(indicators), func(in *analytics.Indicator) bool { return in.Freq() != freq })
		if len(indicators) == 0 {
			err = analytics.Errorf(analytics.BadUserInput, "none of the indicators is %s: give a period of their frequency", freqName(freq))
		}
	}
	if err == nil {
		err = anyValuesIn(indicators, q.Year)
	}
	if err != nil {
		return nil, err
	}
	if q.OrderBy == "" {
		q.OrderBy = analytics.OrderDataset
	}
	return &standingsPlan{q: q, region: region, scope: scope, indicators: indicators}, nil
}

// Standings places one region on every indicator ranked in its scope in one year.
func (e *Engine) Standings(ctx context.Context, q analytics.StandingsQuery) (*analytics.Standings, error) {
	s := e.snap.Load()
	p, err := planStandings(s, q)
	if err != nil {
		return nil, err
	}
	return cached(e, s, keyOf("standings", p.q), func() (*analytics.Standings, error) { return e.standings(ctx, s, p) })
}

// standings reads the plan's indicators and places the region on each, in dataset order, then orders the
// entries as asked.
func (e *Engine) standings(ctx context.Context, s *snapshot, p *standingsPlan) (*analytics.Standings, error) {
	q, region, scope := p.q, p.region, p.scope
	codes := make([]string, len(p.indicators))
	for i, in := range p.indicators {
		codes[i] = in.Code
	}
	ms, err := e.matrices(ctx, s, q.AsOf, codes...)
	if err != nil {
		return nil, err
	}
	period := strconv.Itoa(q.Year)
	if q.Period != nil {
		period = q.Period.String()
	}
	st := &analytics.Standings{Region: region, Year: q.Year, Period: period, Scope: scope, Top: q.Top, Ties: q.Ties, Basis: q.Basis, AsOf: q.AsOf,
		Entries: []*analytics.StandingEntry{}, Entered: []*analytics.Indicator{}, Left: []*analytics.Indicator{},
		Missing: []*analytics.Indicator{}}
	inScope := false
	for _, in := range p.indicators { // dataset order
		if m := ms[in.Code]; m != nil && standOn(s, p, st, in, m) {
			inScope = true
		}
	}
	if !inScope {
		return nil, analytics.Errorf(analytics.BadUserInput, "region %q is not in the scope (%s) in %d", region.Code, describeScope(scope), q.Year)
	}
	orderStandings(st.Entries, q.OrderBy)
	return st, nil
}

// standOn places the plan's region on one indicator, adding to st its entry, or its leaving the top or
// missing; it says whether the region is in the scope on that indicator.
func standOn(s *snapshot, p *standingsPlan, st *analytics.Standings, in *analytics.Indicator, m *duck.Matrix) bool {
	q, me := p.q, s.RegionAt[p.region.Code]
	members := s.members(p.scope, in.Code, q.Year)
	if !slices.Contains(members, me) {
		return false
	}
	t := q.Year
	if q.Period != nil {
		t = q.Period.Ord()
	}
	// The previous rank is the same period's a year earlier.
	cur := rankYear(s, m, in, q.Basis, members, t)
	prev := rankYear(s, m, in, q.Basis, s.members(p.scope, in.Code, q.Year-1), t-in.PerYear())
	var prevRank *int
	if pe := prev.entry(me); pe != nil {
		pr := pe.rankBy(q.Ties)
		prevRank = &pr
	}
	wasTop := prevRank != nil && *prevRank <= q.Top
	c := cur.entry(me)
	if c == nil {
		// Movements are only judged on indicators ranked in the scope in both years: an indicator
		// first published this year has nobody entering its top, and one nobody has is not missing.
		if len(cur.entries) > 0 {
			st.Missing = append(st.Missing, in)
			if wasTop {
				st.Left = append(st.Left, in)
			}
		}
		return true
	}
	ent := &analytics.StandingEntry{Indicator: in, Value: c.v, Rank: c.rankBy(q.Ties), Count: len(cur.entries),
		Percentile: calc.Percentile(len(cur.entries), c.rankC), PreviousRank: prevRank, Flags: c.flags.Letters()}
	ent.InTop = ent.Rank <= q.Top
	benchmark(s, in, cur, int(cur.at[me])-1, ent)
	st.Ranked++
	if ent.InTop {
		st.InTop++
	}
	if ent.Rank == 1 {
		st.First++
	}
	if prevRank != nil {
		d := *prevRank - ent.Rank
		ent.RankChange = &d
	}
	if ent.InTop && !wasTop && len(prev.entries) > 0 {
		st.Entered = append(st.Entered, in)
	}
	if wasTop && !ent.InTop {
		st.Left = append(st.Left, in)
	}
	st.Entries = append(st.Entries, ent)
	return true
}

func describeScope(s *analytics.Scope) string {
	var d string
	switch s.Kind {
	case analytics.ScopeGroup:
		d = "members of group " + s.Group.Code
	case analytics.ScopeParent:
		d = "children of region " + s.Parent.Code
	case analytics.ScopeRegions:
		d = fmt.Sprintf("the %d regions listed", len(s.Regions))
	default:
		d = "regions with a value of their own"
		if s.Level != nil {
			d = "regions with a value"
		}
	}
	if s.Level != nil {
		d += " at level " + *s.Level
	}
	return d
}

// standingsIndicators is the indicators standings place the region on, in dataset order: those listed, those
// of a category, or all of them.
func (s *snapshot) standingsIndicators(codes []string, category string) ([]*analytics.Indicator, error) {
	switch {
	case codes != nil && category != "":
		return nil, analytics.Errorf(analytics.BadUserInput, "give indicators or category, not both")
	case codes != nil:
		if len(codes) == 0 {
			return nil, analytics.Errorf(analytics.BadUserInput, "indicators is empty: list the indicators to place the region on, or leave indicators out")
		}
		want := map[string]bool{}
		var formulas []*analytics.Indicator // after the dataset's, in the order given
		for _, c := range codes {
			in, err := s.indicatorOrFormula(c)
			if err != nil {
				return nil, err
			}
			if s.isFormula(in) && !want[in.Code] {
				formulas = append(formulas, in)
			}
			want[in.Code] = true
		}
		var out []*analytics.Indicator
		for _, in := range s.Indicators {
			if want[in.Code] {
				out = append(out, in)
			}
		}
		return append(out, formulas...), nil
	case category != "":
		out := s.category(category)
		if out == nil {
			return nil, s.unknownCategory(category)
		}
		return out, nil
	}
	return s.Indicators, nil
}

// schemeIndicators is the indicators a scheme counts in year, in dataset order, each once.
func (s *snapshot) schemeIndicators(sc *analytics.Scheme, year int) ([]*analytics.Indicator, error) {
	var out []*analytics.Indicator
	for _, in := range s.Indicators {
		if sc.Indicator(in.Code, year) != nil {
			out = append(out, in)
		}
	}
	if len(out) == 0 {
		return nil, analytics.Errorf(analytics.BadUserInput, "scheme %q counts no indicator in %d", sc.Code, year)
	}
	return out, nil
}

// category lists the indicators of a category in dataset order; nil when none has it.
func (s *snapshot) category(c string) []*analytics.Indicator {
	var out []*analytics.Indicator
	for _, in := range s.Indicators {
		if in.Category != nil && *in.Category == c {
			out = append(out, in)
		}
	}
	return out
}

// categories lists the distinct categories in dataset order.
func (s *snapshot) categories() []string {
	var out []string
	for _, in := range s.Indicators {
		if in.Category != nil && !slices.Contains(out, *in.Category) {
			out = append(out, *in.Category)
		}
	}
	return out
}

func (s *snapshot) unknownCategory(c string) error {
	cs := s.categories()
	return unknown("category", c, "indicators", len(cs), func(i int) string { return cs[i] })
}

// benchmark fills the entry's comparisons with the regions ranked better: cur's entries are best first and
// ties by code, and i is the region's index in them.
func benchmark(s *snapshot, in *analytics.Indicator, cur *rankedYear, i int, ent *analytics.StandingEntry) {
	sign, es := in.Sign(), cur.entries
	v := es[i].v
	diff := func(a, b float64) *float64 {
		if d, ok := calc.Diff(a, b); ok {
			return &d
		}
		return nil
	}
	ent.Leader = &analytics.BenchmarkRef{Region: s.Regions[es[0].r], Value: es[0].v}
	ent.GapToLeader = diff(sign*es[0].v, sign*v)
	// The nearest strictly better value is the last one before the region's run of equal values; of the
	// regions holding it, the first by code opens its run.
	j := i
	for j > 0 && es[j-1].v == v {
		j--
	}
	if j > 0 {
		k := j - 1
		for k > 0 && es[k-1].v == es[j-1].v {
			k--
		}
		ent.Above = &analytics.BenchmarkRef{Region: s.Regions[es[k].r], Value: es[k].v}
		ent.GapToAbove = diff(sign*es[k].v, sign*v)
		ent.MoveToGainRank = diff(es[k].v, v)
	}
	others := len(es) - 1
	if j == 0 && others > 0 {
		best := es[0].v // the best other: a region tied with this one, or the next
		if i == 0 {
			best = es[1].v
		}
		ent.LeadOverNext = diff(sign*v, sign*best)
	}
	ent.Ranked, ent.Position = cur.vals, i // shared, not copied: moveToTop reads them
}

// orderStandings sorts entries (in dataset order) by the order asked; ties keep dataset order.
func orderStandings(es []*analytics.StandingEntry, by analytics.StandingsOrder) {
	var key func(e *analytics.StandingEntry) float64 // ascending
	switch by {
	case analytics.OrderRank:
		key = func(e *analytics.StandingEntry) float64 { return float64(e.Rank) }
	case analytics.OrderClosestGain:
		key = func(e *analytics.StandingEntry) float64 {
			if e.GapToAbove == nil {
				return math.Inf(1) // first (or beyond range): nothing to gain, last
			}
			return relative(*e.GapToAbove, e.Value)
		}
	case analytics.OrderGapToLeader:
		key = func(e *analytics.StandingEntry) float64 {
			if e.GapToLeader == nil {
				return math.Inf(-1) // beyond range: furthest behind of all
			}
			return -relative(*e.GapToLeader, e.Leader.Value)
		}
	default:
		return
	}
	slices.SortStableFunc(es, func(a, b *analytics.StandingEntry) int { return cmp.Compare(key(a), key(b)) })
}

// relative is gap/|base|, +Inf for a gap over a base of 0 (and 0 for no gap).
func relative(gap, base float64) float64 {
	if gap == 0 {
		return 0
	}
	if base == 0 {
		return math.Inf(1)
	}
	return gap / math.Abs(base)
}
