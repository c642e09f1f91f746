package query

import (
	"context"
	"math"
	"slices"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/formula"
)

// Bounds on one comparison: its answer holds up to a row per region, indicator and year, and ranking
// each indicator-year in a scope reads every member's value.
const (
	MaxCompareCells = 20000     // compared regions × indicators × years
	MaxCompareWork  = 2_000_000 // indicators × years × regions ranked in the scope
)

// compareRegion is a compared region and how it came to be compared.
type compareRegion struct {
	r      int
	region *analytics.Region
	groups []*analytics.Group // the groups it came in through
	named  bool               // named itself: compared in every year
}

// comparePlan is a comparison checked and resolved against the catalog: the request with its defaults
// applied (what the answer's key is made of), the regions and indicators it names, the years visited,
// its scope and its baseline.
type comparePlan struct {
	q          analytics.CompareQuery
	regions    []compareRegion
	indicators []*analytics.Indicator
	from, to   int // q's years within the dataset's: years outside hold no values and are not visited
	scope      *analytics.Scope
	baseline   *analytics.Baseline
}

// planCompare checks a comparison against the catalog and resolves it; no I/O. The checks run in the
// order clients have always seen them, so of two faults the same one is reported.
func planCompare(s *snapshot, q analytics.CompareQuery) (*comparePlan, error) {
	if err := checkCompareShape(q); err != nil {
		return nil, err
	}
	p := &comparePlan{}
	var err error
	if p.regions, err = s.compareRegions(q.Regions); err != nil {
		return nil, err
	}
	if p.indicators, err = s.compareIndicators(q.Indicators); err != nil {
		return nil, err
	}
	p.from, p.to = q.From, q.To
	if fy := s.Info.FirstYear; fy != nil {
		p.from, p.to = max(p.from, *fy), min(p.to, *s.Info.LastYear)
	}
	years := max(0, p.to-p.from+1)
	per := 1 // a monthly indicator has 12 values a year
	for _, in := range p.indicators {
		per = max(per, in.PerYear())
	}
	if cells := len(p.regions) * len(p.indicators) * years * per; cells > MaxCompareCells {
		return nil, analytics.Errorf(analytics.BadUserInput, "compare of %d regions × %d indicators × %d years (%d values) is over the most one comparison may hold, %d: compare fewer regions, indicators or years",
			len(p.regions), len(p.indicators), years, cells, MaxCompareCells)
	}
	if q.Scope != nil {
		if p.scope, err = s.compareScope(*q.Scope, p.indicators, years); err != nil {
			return nil, err
		}
	}
	if p.baseline, err = s.compareBaseline(q.Baseline); err != nil {
		return nil, err
	}
	if q.Ties, _, err = defaults(q.Ties, ""); err != nil {
		return nil, err
	}
	if err := s.checkAsOf(q.AsOf); err != nil {
		return nil, err
	}
	p.q = q
	return p, nil
}

// checkCompareShape checks what needs no catalog: the lists are given, the years are years in order, and
// the lists are within bounds.
func checkCompareShape(q analytics.CompareQuery) error {
	if len(q.Regions) == 0 {
		return analytics.Errorf(analytics.BadUserInput, "regions is empty: list the regions (or groups) to compare")
	}
	if len(q.Indicators) == 0 {
		return analytics.Errorf(analytics.BadUserInput, "indicators is empty: list the indicators (or categories) to compare on")
	}
	for _, y := range []int{q.From, q.To} {
		if err := checkYear(y); err != nil {
			return err
		}
	}
	if q.From > q.To {
		return analytics.Errorf(analytics.BadUserInput, "from (%d) is after to (%d)", q.From, q.To)
	}
	if len(q.Regions) > MaxScopeRegions || len(q.Indicators) > MaxScopeRegions {
		return analytics.Errorf(analytics.BadUserInput, "compare takes at most %d regions and %d indicators", MaxScopeRegions, MaxScopeRegions)
	}
	return nil
}

// compareScope resolves the scope the compared regions are ranked in, and refuses one whose rankings over
// the indicators and years would read more values than a comparison may.
func (s *snapshot) compareScope(sq analytics.ScopeQuery, indicators []*analytics.Indicator, years int) (*analytics.Scope, error) {
	scope, err := s.scope(sq)
	if err != nil {
		return nil, err
	}
	work := 0
	for _, in := range indicators {
		work += years * s.scopeSize(scope, in.Code)
	}
	if work > MaxCompareWork {
		return nil, analytics.Errorf(analytics.BadUserInput, "compare would rank %d values in the scope (%s), over the most one comparison may, %d: narrow the scope or compare fewer indicators or years",
			work, describeScope(scope), MaxCompareWork)
	}
	return scope, nil
}

// compareBaseline resolves the baseline asked for: a region, or a statistic; nil for none.
func (s *snapshot) compareBaseline(b *analytics.BaselineQuery) (*analytics.Baseline, error) {
	switch {
	case b == nil:
		return nil, nil
	case (b.Region != "") == (b.Stat != ""):
		return nil, analytics.Errorf(analytics.BadUserInput, "baseline takes exactly one of region and stat: {region: \"CODE\"} or {stat: MEAN | MEDIAN | LEADER | PARENT | WEIGHTED_MEAN, weight: \"population\"}")
	case (b.Stat == analytics.BaselineWeightedMean) != (b.Weight != ""):
		return nil, analytics.Errorf(analytics.BadUserInput, "baseline's weight goes with stat WEIGHTED_MEAN, and WEIGHTED_MEAN needs a weight: {stat: WEIGHTED_MEAN, weight: \"population\"}")
	case b.Region != "":
		r, err := s.region(b.Region)
		if err != nil {
			return nil, err
		}
		return &analytics.Baseline{Region: r}, nil
	}
	st := b.Stat
	out := &analytics.Baseline{Stat: &st}
	if b.Weight != "" {
		w, err := s.indicatorOrFormula(b.Weight)
		if err != nil {
			return nil, err
		}
		out.Weight = w
	}
	return out, nil
}

// Compare sets regions side by side on indicators, year by year.
func (e *Engine) Compare(ctx context.Context, q analytics.CompareQuery) (*analytics.Comparison, error) {
	s := e.snap.Load()
	p, err := planCompare(s, q)
	if err != nil {
		return nil, err
	}
	return cached(e, s, keyOf("compare", p.q), func() (*analytics.Comparison, error) { return e.compare(ctx, s, p) })
}

// compare reads the plan's indicators and builds the comparison, one indicator at a time.
func (e *Engine) compare(ctx context.Context, s *snapshot, p *comparePlan) (*analytics.Comparison, error) {
	codes := make([]string, len(p.indicators))
	for i, in := range p.indicators {
		codes[i] = in.Code
	}
	if b := p.baseline; b != nil && b.Weight != nil {
		codes = append(codes, b.Weight.Code)
	}
	ms, err := e.matrices(ctx, s, p.q.AsOf, codes...)
	if err != nil {
		return nil, err
	}
	cm := newComparing(s, p)
	if b := p.baseline; b != nil && b.Weight != nil {
		cm.weight = ms[b.Weight.Code]
	}
	cm.ms = ms
	for _, in := range p.indicators {
		cm.indicator(in, ms[in.Code])
	}
	return cm.c, nil
}

// comparing is a comparison being built: the answer so far, and each compared region's lead by position.
type comparing struct {
	s      *snapshot
	p      *comparePlan
	c      *analytics.Comparison
	leadAt map[int]*analytics.RegionLead
	weight *duck.Matrix            // WEIGHTED_MEAN's weights
	ms     map[string]*duck.Matrix // every matrix read, formulas' operands included (formulaWarnings)
	// The year's weighted mean over the ranked regions, and whether there is one (WEIGHTED_MEAN only).
	wmean    float64
	hasWmean bool
}

func newComparing(s *snapshot, p *comparePlan) *comparing {
	q := p.q
	c := &analytics.Comparison{From: q.From, To: q.To, Scope: p.scope, Baseline: p.baseline, Ties: q.Ties, AsOf: q.AsOf,
		Indicators: p.indicators, Rows: []*analytics.CompareRow{}, Leaders: []*analytics.CompareLeader{},
		Leads: make([]*analytics.RegionLead, len(p.regions)), Gaps: []*analytics.CompareGap{}, Warnings: []*analytics.Warning{}}
	leadAt := map[int]*analytics.RegionLead{}
	for i, cr := range p.regions {
		c.Regions = append(c.Regions, s.Regions[cr.r])
		c.Leads[i] = &analytics.RegionLead{Region: s.Regions[cr.r]}
		leadAt[cr.r] = c.Leads[i]
	}
	return &comparing{s: s, p: p, c: c, leadAt: leadAt}
}

// indicatorGaps is what one indicator's years gather before its gaps are closed: the gap of each region
// and the years each led.
type indicatorGaps struct {
	gaps map[int]*analytics.CompareGap // by region
	led  map[int]int                   // years led, by region
}

// indicator adds one indicator's rows, leaders and gaps over the years it has values in; m is nil when it
// has none as of the date asked.
func (cm *comparing) indicator(in *analytics.Indicator, m *duck.Matrix) {
	ig := indicatorGaps{gaps: map[int]*analytics.CompareGap{}, led: map[int]int{}}
	// The periods shown: an indicator of the bounds' frequency from one to the other; any other, the
	// periods of the bounds' years.
	f, q := in.Freq(), cm.p.q
	first, last := analytics.OrdOf(f, cm.p.from, 1), analytics.OrdOf(f, cm.p.to, f.PerYear())
	if q.FromPeriod != nil && q.FromPeriod.Freq == f && q.FromPeriod.Year >= cm.p.from {
		first = q.FromPeriod.Ord()
	}
	if q.ToPeriod != nil && q.ToPeriod.Freq == f && q.ToPeriod.Year <= cm.p.to {
		last = q.ToPeriod.Ord()
	}
	if in.FirstOrd != nil {
		first, last = max(first, *in.FirstOrd), min(last, *in.LastOrd)
	}
	for t := first; t <= last && m != nil; t++ {
		cm.year(in, m, t, ig)
	}
	cm.closeGaps(ig)
}

// year adds one indicator's year (or quarter, or month: y is the period's ordinal): its leaders among the
// compared regions, a row per compared region with a value, and each one's gap then. Memberships are the
// calendar year's.
func (cm *comparing) year(in *analytics.Indicator, m *duck.Matrix, y int, ig indicatorGaps) {
	s, c := cm.s, cm.c
	cy, period := calYear(in, y), in.Period(y).String()
	compared := comparedIn(cm.p.regions, cy)
	among := rankYear(s, m, in, analytics.ByValue, compared, y)
	ranked := among
	if cm.p.scope != nil {
		ranked = rankYear(s, m, in, analytics.ByValue, s.members(cm.p.scope, in.Code, cy), y)
	}
	if b := c.Baseline; b != nil && b.Stat != nil && *b.Stat == analytics.BaselineWeightedMean {
		wt := -1 // the weight's value of the same period, or of the year for an annual weight
		switch {
		case b.Weight.Freq() == in.Freq():
			wt = y
		case b.Weight.PerYear() == 1:
			wt = cy
		}
		cm.wmean, cm.hasWmean = weightedMean(cm.weight, ranked, wt)
	}
	// Leaders: the run of best values among the compared regions, by code.
	for i := 0; i < len(among.entries) && among.entries[i].v == among.entries[0].v; i++ {
		en := among.entries[i]
		c.Leaders = append(c.Leaders, &analytics.CompareLeader{Indicator: in, Year: cy, Period: period, Region: s.Regions[en.r], Value: en.v})
		cm.leadAt[en.r].Count++
		ig.led[en.r]++
	}
	for _, r := range compared {
		v, f, ok := m.Get(r, y)
		if !ok {
			c.Warnings = append(c.Warnings, formulaWarnings(s, in, cm.ms, []int{r}, y)...)
			continue
		}
		base, hasBase := cm.row(in, m, ranked, r, y, v, f)
		// The gap: to the baseline, or without one to the best value among the compared.
		if c.Baseline == nil && len(among.entries) > 0 {
			base, hasBase = among.entries[0].v, true
		}
		if !hasBase {
			continue
		}
		sign := in.Sign()
		d, ok := calc.Diff(sign*v, sign*base)
		if !ok {
			continue
		}
		g := ig.gaps[r]
		if g == nil {
			g = &analytics.CompareGap{Region: s.Regions[r], Indicator: in, FirstYear: cy, FirstPeriod: period, FirstOrd: y, FirstDifference: d}
			ig.gaps[r] = g
		}
		g.LastYear, g.LastPeriod, g.LastOrd, g.LastDifference = cy, period, y, d
	}
}

// row adds region r's row of year y, value v with flags f, and returns its baseline (unrounded) and
// whether it has one.
func (cm *comparing) row(in *analytics.Indicator, m *duck.Matrix, ranked *rankedYear, r, y int, v float64, f analytics.FlagSet) (float64, bool) {
	s := cm.s
	row := &analytics.CompareRow{Region: s.Regions[r], Indicator: in, Year: calYear(in, y), Period: in.Period(y).String(), Value: v, Flags: f.Letters()}
	if en := ranked.entry(r); en != nil {
		rk := en.rankBy(cm.p.q.Ties)
		row.Rank = &rk
	}
	base, shown, hasBase := baselineOf(s, m, cm.c.Baseline, ranked, r, y)
	if at := baselineRegion(s, cm.c.Baseline, r); at >= 0 && hasBase {
		_, bf, _ := m.Get(at, y)
		row.BaselineSource = analytics.SourceOf(bf)
	}
	if b := cm.c.Baseline; b != nil && b.Stat != nil && *b.Stat == analytics.BaselineWeightedMean {
		base, shown, hasBase = cm.wmean, calc.Round12(cm.wmean), cm.hasWmean
	}
	if hasBase {
		row.Baseline = &shown
		if d, ok := calc.Diff(v, base); ok {
			row.Difference = &d
		}
		if in.Measure == analytics.Level && base != 0 {
			if x := v / base; !math.IsInf(x, 0) {
				x = calc.Round12(x)
				row.Ratio = &x
			}
		}
	}
	cm.c.Rows = append(cm.c.Rows, row)
	return base, hasBase
}

// closeGaps adds one indicator's gaps, in the order of the compared regions, with the years each led and
// the change per year from the first year of a gap to its last.
func (cm *comparing) closeGaps(ig indicatorGaps) {
	for _, cr := range cm.p.regions {
		g := ig.gaps[cr.r]
		if g == nil {
			continue
		}
		g.YearsLed = ig.led[cr.r] // every year led, with a gap that year or not
		if g.LastOrd > g.FirstOrd {
			if d, ok := calc.Diff(g.LastDifference, g.FirstDifference); ok {
				// Per year: the periods between first and last, in years (12 months are one).
				per := calc.Round12(d / (float64(g.LastOrd-g.FirstOrd) / float64(g.Indicator.PerYear())))
				closing := g.LastDifference > g.FirstDifference
				g.ChangePerYear, g.Closing = &per, &closing
			}
		}
		cm.c.Gaps = append(cm.c.Gaps, g)
	}
}

// baselineRegion is the position of the region whose value is r's baseline (the one named, or r's
// parent); −1 for a statistic, no baseline, or no parent.
func baselineRegion(s *snapshot, b *analytics.Baseline, r int) int {
	switch {
	case b == nil:
		return -1
	case b.Region != nil:
		return s.RegionAt[b.Region.Code]
	case *b.Stat == analytics.BaselineParent && s.Regions[r].Parent != nil:
		return s.RegionAt[s.Regions[r].Parent.Code]
	}
	return -1
}

// baselineOf is region r's baseline in year y: the value compared against (unrounded, for the
// difference), the value shown (a mean or median rounded to 12 significant digits, as ranking shows
// them), and whether there is one.
func baselineOf(s *snapshot, m *duck.Matrix, b *analytics.Baseline, ranked *rankedYear, r, y int) (float64, float64, bool) {
	switch {
	case b == nil:
		return 0, 0, false
	case b.Region != nil:
		v, _, ok := m.Get(s.RegionAt[b.Region.Code], y)
		return v, v, ok
	}
	switch *b.Stat {
	case analytics.BaselineParent:
		p := s.Regions[r].Parent
		if p == nil {
			return 0, 0, false
		}
		v, _, ok := m.Get(s.RegionAt[p.Code], y)
		return v, v, ok
	case analytics.BaselineLeader:
		if len(ranked.entries) == 0 {
			return 0, 0, false
		}
		return ranked.entries[0].v, ranked.entries[0].v, true
	case analytics.BaselineMedian:
		if len(ranked.entries) == 0 {
			return 0, 0, false
		}
		return ranked.median, calc.Round12(ranked.median), true
	default:
		if len(ranked.entries) == 0 {
			return 0, 0, false
		}
		return ranked.mean, calc.Round12(ranked.mean), true
	}
}

// weightedMean is Σ v·w / Σ w over the ranked entries of a year with a weight w in the matrix that year.
func weightedMean(w *duck.Matrix, ranked *rankedYear, y int) (float64, bool) {
	vals := make([]float64, 0, len(ranked.entries))
	ws := make([]float64, 0, len(ranked.entries))
	for _, en := range ranked.entries {
		if x, _, ok := w.Get(en.r, y); ok {
			vals, ws = append(vals, en.v), append(ws, x)
		}
	}
	return calc.WeightedMean(vals, ws)
}

// comparedIn lists the compared regions of year y: those named, and the members that year of the groups
// named.
func comparedIn(regions []compareRegion, y int) []int {
	out := make([]int, 0, len(regions))
	for _, cr := range regions {
		if cr.named || slices.ContainsFunc(cr.groups, func(g *analytics.Group) bool { return cr.region.InGroup(g, &y) }) {
			out = append(out, cr.r)
		}
	}
	return out
}

// compareRegions resolves compare's regions: a region code names that region, and a code that is no
// region's but a group's names the group's members, each in the years it is a member. A region is
// compared once, at its first mention.
func (s *snapshot) compareRegions(codes []string) ([]compareRegion, error) {
	var out []compareRegion
	at := map[int]int{}
	add := func(r int) *compareRegion {
		if i, ok := at[r]; ok {
			return &out[i]
		}
		at[r] = len(out)
		out = append(out, compareRegion{r: r, region: s.Regions[r]})
		return &out[len(out)-1]
	}
	for _, c := range codes {
		if r, ok := s.RegionBy[c]; ok {
			add(s.RegionAt[r.Code]).named = true
			continue
		}
		g, ok := s.GroupBy[c]
		if !ok {
			n := len(s.Regions) + len(s.Groups)
			return nil, unknown("region or group code", c, "regions and groups", n, func(i int) string {
				if i < len(s.Regions) {
					return s.Regions[i].Code
				}
				return s.Groups[i-len(s.Regions)].Code
			})
		}
		for _, m := range g.Members(nil) {
			cr := add(s.RegionAt[m.Code])
			if !slices.Contains(cr.groups, g) {
				cr.groups = append(cr.groups, g)
			}
		}
	}
	return out, nil
}

// compareIndicators resolves compare's indicators: an indicator code, or a category naming its indicators
// in dataset order; each once, at its first mention.
func (s *snapshot) compareIndicators(codes []string) ([]*analytics.Indicator, error) {
	var out []*analytics.Indicator
	for _, c := range codes {
		ins := []*analytics.Indicator{s.IndicatorBy[c]}
		if ins[0] == nil {
			if x, err := formula.Parse(c); err == nil && x.Operators() > 0 {
				in, err := s.indicatorOrFormula(c)
				if err != nil {
					return nil, err
				}
				ins[0] = in
			} else if ins = s.category(c); ins == nil {
				cats := s.categories()
				n := len(s.Indicators) + len(cats)
				return nil, unknown("indicator or category code", c, "indicators", n, func(i int) string {
					if i < len(s.Indicators) {
						return s.Indicators[i].Code
					}
					return cats[i-len(s.Indicators)]
				})
			}
		}
		for _, in := range ins {
			if !slices.ContainsFunc(out, func(o *analytics.Indicator) bool { return o.Code == in.Code }) {
				out = append(out, in)
			}
		}
	}
	return out, nil
}

// scopeSize is the most regions a scope ranks on an indicator in a year.
func (s *snapshot) scopeSize(sc *analytics.Scope, indicator string) int {
	switch sc.Kind {
	case analytics.ScopeGroup:
		return len(sc.Group.Members(nil))
	case analytics.ScopeParent:
		return len(sc.Parent.Children)
	case analytics.ScopeRegions:
		return len(sc.Regions)
	}
	if s.IndicatorBy[indicator] == nil {
		return len(s.formulaSeries(indicator, sc.Level == nil))
	}
	if sc.Level == nil {
		return len(s.All[indicator])
	}
	return len(s.Series[indicator])
}
