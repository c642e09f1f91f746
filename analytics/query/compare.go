package query

import (
	"context"
	"math"
	"slices"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
	"pacesetter/analytics/duck"
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

// Compare sets regions side by side on indicators, year by year.
func (e *Engine) Compare(ctx context.Context, q analytics.CompareQuery) (*analytics.Comparison, error) {
	s := e.snap.Load()
	if len(q.Regions) == 0 {
		return nil, analytics.Errorf(analytics.BadUserInput, "regions is empty: list the regions (or groups) to compare")
	}
	if len(q.Indicators) == 0 {
		return nil, analytics.Errorf(analytics.BadUserInput, "indicators is empty: list the indicators (or categories) to compare on")
	}
	for _, y := range []int{q.From, q.To} {
		if err := checkYear(y); err != nil {
			return nil, err
		}
	}
	if q.From > q.To {
		return nil, analytics.Errorf(analytics.BadUserInput, "from (%d) is after to (%d)", q.From, q.To)
	}
	if len(q.Regions) > MaxScopeRegions || len(q.Indicators) > MaxScopeRegions {
		return nil, analytics.Errorf(analytics.BadUserInput, "compare takes at most %d regions and %d indicators", MaxScopeRegions, MaxScopeRegions)
	}
	regions, err := s.compareRegions(q.Regions)
	if err != nil {
		return nil, err
	}
	indicators, err := s.compareIndicators(q.Indicators)
	if err != nil {
		return nil, err
	}
	// Years outside the dataset's hold no values: they cost nothing, and are not visited.
	from, to := q.From, q.To
	if fy := s.Info.FirstYear; fy != nil {
		from, to = max(from, *fy), min(to, *s.Info.LastYear)
	}
	years := max(0, to-from+1)
	if cells := len(regions) * len(indicators) * years; cells > MaxCompareCells {
		return nil, analytics.Errorf(analytics.BadUserInput, "compare of %d regions × %d indicators × %d years (%d values) is over the most one comparison may hold, %d: compare fewer regions, indicators or years",
			len(regions), len(indicators), years, cells, MaxCompareCells)
	}
	var scope *analytics.Scope
	if q.Scope != nil {
		if scope, err = s.scope(*q.Scope); err != nil {
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
	}
	cmpBase := &analytics.Comparison{}
	if b := q.Baseline; b != nil {
		switch {
		case (b.Region != "") == (b.Stat != ""):
			return nil, analytics.Errorf(analytics.BadUserInput, "baseline takes exactly one of region and stat: {region: \"CODE\"} or {stat: MEAN | MEDIAN | LEADER | PARENT}")
		case b.Region != "":
			r, err := s.region(b.Region)
			if err != nil {
				return nil, err
			}
			cmpBase.Baseline = &analytics.Baseline{Region: r}
		default:
			st := b.Stat
			cmpBase.Baseline = &analytics.Baseline{Stat: &st}
		}
	}
	if q.Ties, _, err = defaults(q.Ties, ""); err != nil {
		return nil, err
	}
	if err := s.checkAsOf(q.AsOf); err != nil {
		return nil, err
	}
	return cached(e, s, keyOf("compare", q), func() (*analytics.Comparison, error) {
		codes := make([]string, len(indicators))
		for i, in := range indicators {
			codes[i] = in.Code
		}
		ms, err := e.matrices(ctx, s, q.AsOf, codes...)
		if err != nil {
			return nil, err
		}
		c := &analytics.Comparison{From: q.From, To: q.To, Scope: scope, Baseline: cmpBase.Baseline, Ties: q.Ties, AsOf: q.AsOf,
			Indicators: indicators, Rows: []*analytics.CompareRow{}, Leaders: []*analytics.CompareLeader{},
			Leads: make([]*analytics.RegionLead, len(regions)), Gaps: []*analytics.CompareGap{}}
		leadAt := map[int]*analytics.RegionLead{}
		for i, cr := range regions {
			c.Regions = append(c.Regions, s.Regions[cr.r])
			c.Leads[i] = &analytics.RegionLead{Region: s.Regions[cr.r]}
			leadAt[cr.r] = c.Leads[i]
		}
		for _, in := range indicators {
			m, sign := ms[in.Code], in.Sign()
			gaps := map[int]*analytics.CompareGap{} // by region, for this indicator
			led := map[int]int{}                    // years led, by region
			first, last := from, to
			if in.FirstYear != nil {
				first, last = max(first, *in.FirstYear), min(last, *in.LastYear)
			}
			for y := first; y <= last && m != nil; y++ {
				compared := comparedIn(regions, y)
				among := rankYear(s, m, in, analytics.ByValue, compared, y)
				ranked := among
				if scope != nil {
					ranked = rankYear(s, m, in, analytics.ByValue, s.members(scope, in.Code, y), y)
				}
				// Leaders: the run of best values among the compared regions, by code.
				for i := 0; i < len(among.entries) && among.entries[i].v == among.entries[0].v; i++ {
					en := among.entries[i]
					c.Leaders = append(c.Leaders, &analytics.CompareLeader{Indicator: in, Year: y, Region: s.Regions[en.r], Value: en.v})
					leadAt[en.r].Count++
					led[en.r]++
				}
				for _, r := range compared {
					v, f, ok := m.Get(r, y)
					if !ok {
						continue
					}
					row := &analytics.CompareRow{Region: s.Regions[r], Indicator: in, Year: y, Value: v, Flags: f.Letters()}
					if en := ranked.entry(r); en != nil {
						rk := en.rankBy(q.Ties)
						row.Rank = &rk
					}
					base, shown, hasBase := baselineOf(s, m, c.Baseline, ranked, r, y)
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
					c.Rows = append(c.Rows, row)
					// The gap: to the baseline, or without one to the best value among the compared.
					if c.Baseline == nil && len(among.entries) > 0 {
						base, hasBase = among.entries[0].v, true
					}
					if !hasBase {
						continue
					}
					d, ok := calc.Diff(sign*v, sign*base)
					if !ok {
						continue
					}
					g := gaps[r]
					if g == nil {
						g = &analytics.CompareGap{Region: s.Regions[r], Indicator: in, FirstYear: y, FirstDifference: d}
						gaps[r] = g
					}
					g.LastYear, g.LastDifference = y, d
				}
			}
			for _, cr := range regions {
				g := gaps[cr.r]
				if g == nil {
					continue
				}
				g.YearsLed = led[cr.r] // every year led, with a gap that year or not
				if g.LastYear > g.FirstYear {
					if d, ok := calc.Diff(g.LastDifference, g.FirstDifference); ok {
						per := calc.Round12(d / float64(g.LastYear-g.FirstYear))
						closing := g.LastDifference > g.FirstDifference
						g.ChangePerYear, g.Closing = &per, &closing
					}
				}
				c.Gaps = append(c.Gaps, g)
			}
		}
		return c, nil
	})
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
			if ins = s.category(c); ins == nil {
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
			if !slices.Contains(out, in) {
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
	return len(s.Series[indicator])
}
