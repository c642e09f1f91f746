package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"pacesetter/analytics"
	"pacesetter/analytics/assess"
	"pacesetter/analytics/calc"
	"pacesetter/analytics/duck"
)

// Composites run in Go over the matrices of matrix.go: the engine resolves a scheme (or an inline list) and
// the scope into a values matrix, and analytics/assess does the math. A composite touches the scheme's
// indicators × the scope's regions, a few thousand numbers; the Monte Carlo reuses the same matrix.

// MaxCompositeIndicators bounds an inline scheme, and MaxHistoryYears the span of compositeHistory.
const (
	MaxCompositeIndicators = 1000
	MaxHistoryYears        = 100
)

// planned is one indicator of a composite as resolved for one year.
type planned struct {
	in         *analytics.Indicator
	weight     float64
	low, high  *float64
	target     *float64
	category   *string
	department *string
	points     *float64
	rule       *analytics.PointsRule
	basis      analytics.Basis
}

// plan is a composite's input resolved against the snapshot for one year, or one quarter or month: year
// is the calendar year (of memberships, a scheme's lines and targets), t the period's ordinal on freq's axis
// (the year itself for an annual composite), which the lines' values are keyed by.
type plan struct {
	year   int
	freq   analytics.Frequency
	t      int
	scope  *analytics.Scope
	scheme *analytics.Scheme
	inds   []planned
	opt    assess.Options
	norm   analytics.Normalisation
	agg    analytics.Aggregation
	miss   analytics.MissingRule
	ties   analytics.TieRule
	tiers  *analytics.TierRule
	rankBy analytics.CompositeRank
}

// hasPoints says whether a line of the plan scores in points.
func (p *plan) hasPoints() bool {
	return slices.ContainsFunc(p.inds, func(pl planned) bool { return pl.points != nil })
}

// period is the period the plan scores.
func (p *plan) period() analytics.Period { return analytics.PeriodAt(p.freq, p.t) }

// when names the plan's period in messages: "2025" or "period 2025-09".
func (p *plan) when() string {
	if p.freq == analytics.Annual {
		return fmt.Sprint(p.year)
	}
	return "period " + p.period().String()
}

// resolve checks a composite's input and resolves its scheme, settings and scope for q.Year (q.Period).
func (s *snapshot) resolve(q analytics.CompositeQuery) (*plan, error) {
	p := &plan{year: q.Year, freq: analytics.Annual, t: q.Year}
	if q.Period != nil {
		p.year, p.freq, p.t = q.Period.Year, q.Period.Freq, q.Period.Ord()
	}
	if err := checkYear(p.year); err != nil {
		return nil, err
	}
	if err := s.checkAsOf(q.AsOf); err != nil {
		return nil, err
	}
	if err := s.resolveIndicators(p, q); err != nil {
		return nil, err
	}
	if err := p.checkFrequencies(); err != nil {
		return nil, err
	}
	if err := p.resolveSettings(q); err != nil {
		return nil, err
	}
	if err := p.checkYear(); err != nil {
		return nil, err
	}
	sq := q.ScopeQuery
	if sq.Group == "" && sq.Parent == "" && sq.Level == "" && sq.Regions == nil && p.scheme != nil {
		sq = p.scheme.Scope
	}
	scope, err := s.scope(sq)
	if err != nil {
		return nil, err
	}
	p.scope = scope
	return p, nil
}

// resolveIndicators fills the plan's indicators: the scheme's lines of the year, or the inline list.
func (s *snapshot) resolveIndicators(p *plan, q analytics.CompositeQuery) error {
	switch {
	case q.Scheme != "" && q.Indicators != nil:
		return analytics.Errorf(analytics.BadUserInput, "give scheme or indicators, not both: scheme scores a scheme of the dataset, indicators an inline list (override a scheme's settings field by field instead)")
	case q.Scheme != "":
		sc, err := s.scheme(q.Scheme)
		if err != nil {
			return err
		}
		p.scheme = sc
		return p.schemeLines(p.year)
	case q.Indicators != nil:
		return s.inline(p, q.Indicators)
	}
	return analytics.Errorf(analytics.BadUserInput, "give scheme (a scheme of the dataset, see schemes) or indicators (a list of indicators with weights)")
}

// schemeLines fills the plan's indicators with its scheme's lines of the year; a line's category is its
// own, else its indicator's.
func (p *plan) schemeLines(year int) error {
	sc := p.scheme
	for _, si := range sc.IndicatorsIn(year) {
		pl := planned{in: si.Indicator, weight: si.Weight, low: si.Low, high: si.High, target: si.Target,
			points: si.Points, rule: &si.Rule, basis: si.Basis}
		if si.Category != "" {
			pl.category = &si.Category
		} else {
			pl.category = si.Indicator.Category
		}
		if si.Department != "" {
			pl.department = &si.Department
		}
		p.inds = append(p.inds, pl)
	}
	if len(p.inds) == 0 {
		return analytics.Errorf(analytics.BadUserInput, "scheme %q has no indicators in %d: see scheme(code: %q) { indicators(year: %d) }", sc.Code, year, sc.Code, year)
	}
	return nil
}

// resolveSettings sets the plan's settings: the query's, else the scheme's, else the defaults; then the
// math's options from them.
func (p *plan) resolveSettings(q analytics.CompositeQuery) error {
	minShare := p.schemeSettings()
	if err := p.override(q, &minShare); err != nil {
		return err
	}
	if err := p.resolveTiers(q); err != nil {
		return err
	}
	p.rankBy = analytics.RankByScore
	if p.scheme != nil && p.scheme.RankBy != "" {
		p.rankBy = p.scheme.RankBy
	}
	if q.RankBy != nil {
		p.rankBy = *q.RankBy
	}
	if p.rankBy == analytics.RankByPoints && !p.hasPoints() {
		return analytics.Errorf(analytics.BadUserInput, "rankBy is POINTS, but no indicator scores points: use a scheme whose indicators have points, or rankBy: SCORE")
	}
	p.opt = assess.Options{Normalisation: p.norm, Aggregation: p.agg, Missing: p.miss, MinWeightShare: minShare, Ties: p.ties, RankBy: p.rankBy}
	if p.tiers != nil {
		p.opt.Tiers = assess.Tiers{Cutoffs: p.tiers.Cutoffs, Quotas: p.tiers.Quotas}
	}
	return nil
}

// schemeSettings sets the defaults, then the scheme's settings where it has one, and returns the minimum
// weight share they give.
func (p *plan) schemeSettings() float64 {
	p.norm, p.agg, p.miss, p.ties = analytics.MinMax, analytics.Arithmetic, analytics.Rescale, analytics.Competition
	minShare := 0.0
	if sc := p.scheme; sc != nil {
		p.norm, p.agg, p.miss = pick(sc.Normalisation, p.norm), pick(sc.Aggregation, p.agg), pick(sc.Missing, p.miss)
		p.ties = pick(sc.Ties, p.ties)
		if sc.MinWeightShare != nil {
			minShare = *sc.MinWeightShare
		}
		if len(sc.Cutoffs) > 0 || len(sc.Quotas) > 0 {
			p.tiers = &analytics.TierRule{Cutoffs: sc.Cutoffs, Quotas: sc.Quotas}
		}
	}
	return minShare
}

// override sets the settings the query gives, field by field, over the scheme's.
func (p *plan) override(q analytics.CompositeQuery, minShare *float64) error {
	if q.Normalisation != nil {
		p.norm = *q.Normalisation
	}
	if q.Aggregation != nil {
		p.agg = *q.Aggregation
	}
	if q.Missing != nil {
		p.miss = *q.Missing
	}
	if q.Ties != nil {
		p.ties = *q.Ties
	}
	if q.MinWeightShare != nil {
		*minShare = *q.MinWeightShare
		if math.IsNaN(*minShare) || *minShare < 0 || *minShare > 1 {
			return analytics.Errorf(analytics.BadUserInput, "minWeightShare is %v: give a share from 0 to 1 (0.7 excludes a region missing more than 30 %% of the weight)", *minShare)
		}
	}
	return nil
}

// resolveTiers sets the tiers the query asks for: none, its own rule (one of cutoffs and quotas), or the
// scheme's.
func (p *plan) resolveTiers(q analytics.CompositeQuery) error {
	if q.NoTiers {
		p.tiers = nil
	}
	if q.Tiers != nil {
		switch {
		case len(q.Tiers.Cutoffs) > 0 && len(q.Tiers.Quotas) > 0:
			return analytics.Errorf(analytics.BadUserInput, "tiers gives both cutoffs and quotas: give one (cutoffs by score, quotas by rank)")
		case len(q.Tiers.Cutoffs) == 0 && len(q.Tiers.Quotas) == 0:
			return analytics.Errorf(analytics.BadUserInput, "tiers gives neither cutoffs nor quotas: give one, e.g. {cutoffs: [80, 60]} or {quotas: [3, 4]}, or leave tiers out")
		}
		p.tiers = q.Tiers
	}
	return nil
}

// place is where line i is in the input, for messages: `indicators[2]`, or the scheme's (formatted only
// for a refusal: a plan is made for every request, cached answers included).
func (p *plan) place(i int) string {
	if p.scheme != nil {
		return fmt.Sprintf("scheme %q, indicators[%d]", p.scheme.Code, i)
	}
	return fmt.Sprintf("indicators[%d]", i)
}

// checkFrequencies refuses a line whose indicator is not of the plan's frequency: a month's composite
// scores monthly values, a year's annual ones (a value of another frequency would be missing everywhere).
// A TARGET points rule judges the year's annual target on the year's value: a period cannot score it.
func (p *plan) checkFrequencies() error {
	for i, pl := range p.inds {
		if p.freq != analytics.Annual && pl.points != nil && pl.rule != nil && pl.rule.Kind == analytics.PointsTarget {
			return analytics.Errorf(analytics.BadUserInput, "%s: %q scores points by a TARGET rule, which judges the annual target of targets.csv on the year's value; period %q cannot be judged by it: score the year (year: %d)",
				p.place(i), pl.in.Code, p.period().String(), p.year)
		}
		if f := pl.in.Freq(); f != p.freq {
			if p.freq == analytics.Annual {
				return analytics.Errorf(analytics.BadUserInput, "%s: %q is %s; year %d is annual: give period (e.g. %q) to score %s indicators",
					p.place(i), pl.in.Code, freqName(f), p.year, analytics.PeriodAt(f, analytics.OrdOf(f, p.year, f.PerYear())).String(), freqName(f))
			}
			return analytics.Errorf(analytics.BadUserInput, "%s: %q is %s; period %q is %s", p.place(i), pl.in.Code, freqName(f), p.period().String(), freqName(p.freq))
		}
	}
	return nil
}

// checkYear refuses a year (period) in which none of the plan's indicators has values (see anyValuesIn).
func (p *plan) checkYear() error {
	ins := make([]*analytics.Indicator, len(p.inds))
	for i, pl := range p.inds {
		ins[i] = pl.in
	}
	if p.freq != analytics.Annual {
		if err := anyValuesAt(ins, p.period()); err != nil {
			return err
		}
	} else if err := anyValuesIn(ins, p.year); err != nil {
		return err
	}
	for _, pl := range p.inds {
		if err := pl.checkBasis(p); err != nil {
			return err
		}
	}
	return nil
}

// checkBasis refuses a line scored on GROWTH (of a measure whose growth needs the year before) or on
// RANK_CHANGE in a year (period) whose year before (the same period a year earlier) the indicator has no
// values in.
func (pl planned) checkBasis(p *plan) error {
	in := pl.in
	needs := pl.basis == analytics.BasisRankChange || pl.basis == analytics.BasisGrowth && calc.NeedsPrevious(in.Measure)
	if !needs {
		return nil
	}
	if p.freq != analytics.Annual {
		prev := p.t - p.freq.PerYear()
		if in.FirstOrd != nil && *in.FirstOrd <= prev && prev <= *in.LastOrd {
			return nil
		}
		span := "no values"
		if in.FirstOrd != nil {
			span = fmt.Sprintf("values from %s to %s", in.Period(*in.FirstOrd), in.Period(*in.LastOrd))
		}
		return analytics.Errorf(analytics.BadUserInput, "basis %s of indicator %q needs its values of %s (the same period a year before %s), but it has %s: score it on VALUE, or ask for a later period",
			pl.basis, in.Code, in.Period(prev), p.period(), span)
	}
	year := p.year
	if in.FirstYear != nil && *in.FirstYear <= year-1 && year-1 <= *in.LastYear {
		return nil
	}
	span := "no values"
	if in.FirstYear != nil {
		span = fmt.Sprintf("values from %d to %d", *in.FirstYear, *in.LastYear)
	}
	return analytics.Errorf(analytics.BadUserInput, "basis %s of indicator %q needs its values of %d (the year before %d), but it has %s: score it on VALUE, or ask for a later year",
		pl.basis, in.Code, year-1, year, span)
}

// anyValuesAt is anyValuesIn for a quarter or month: the indicators are of its frequency.
func anyValuesAt(ins []*analytics.Indicator, at analytics.Period) error {
	t, first, last := at.Ord(), -1, -1
	for _, in := range ins {
		if in.FirstOrd == nil {
			continue
		}
		if *in.FirstOrd <= t && t <= *in.LastOrd {
			return nil
		}
		if first < 0 || *in.FirstOrd < first {
			first = *in.FirstOrd
		}
		last = max(last, *in.LastOrd)
	}
	if first < 0 {
		return analytics.Errorf(analytics.BadUserInput, "none of the indicators has values")
	}
	return analytics.Errorf(analytics.BadUserInput, "none of the indicators has values in %s: they have values from %s to %s", at,
		analytics.PeriodAt(at.Freq, first), analytics.PeriodAt(at.Freq, last))
}

// anyValuesIn refuses a year in which none of the indicators has values, naming their span, as a ranking
// refuses a year outside its indicator's values.
func anyValuesIn(ins []*analytics.Indicator, year int) error {
	first, last := 0, 0
	for _, in := range ins {
		if in.FirstYear == nil {
			continue
		}
		if *in.FirstYear <= year && year <= *in.LastYear {
			return nil
		}
		if first == 0 || *in.FirstYear < first {
			first = *in.FirstYear
		}
		last = max(last, *in.LastYear)
	}
	if first == 0 {
		return analytics.Errorf(analytics.BadUserInput, "none of the indicators has values")
	}
	return analytics.Errorf(analytics.BadUserInput, "none of the indicators has values in %d: they have values from %d to %d", year, first, last)
}

func pick[T ~string](v, def T) T {
	if v == "" {
		return def
	}
	return v
}

// inline reads an inline scheme: known indicators, each once, with finite positive weights.
func (s *snapshot) inline(p *plan, list []analytics.WeightedIndicator) error {
	switch {
	case len(list) == 0:
		return analytics.Errorf(analytics.BadUserInput, "indicators is empty: list at least one indicator with its weight, or give a scheme")
	case len(list) > MaxCompositeIndicators:
		return analytics.Errorf(analytics.BadUserInput, "indicators lists %d indicators; at most %d may be given", len(list), MaxCompositeIndicators)
	}
	seen := map[string]bool{}
	sum := 0.0
	for _, w := range list {
		in, err := s.indicatorOf(w.Indicator, &w.Formula) // a formula's line reads computed values
		if err != nil {
			return err
		}
		if seen[in.Code] {
			return analytics.Errorf(analytics.BadUserInput, "indicators lists %q twice: give each indicator once, with its whole weight", in.Code)
		}
		seen[in.Code] = true
		switch {
		case math.IsNaN(w.Weight) || math.IsInf(w.Weight, 0):
			return analytics.Errorf(analytics.BadUserInput, "weight of %q is not a finite number: give a positive weight", in.Code)
		case w.Weight < 0:
			return analytics.Errorf(analytics.BadUserInput, "weight of %q is %v: weights must be positive (a lower-is-better indicator is mirrored by its direction, not by a negative weight)", in.Code, w.Weight)
		}
		sum += w.Weight
		b := w.Basis
		if b == "" {
			b = analytics.BasisValue
		}
		p.inds = append(p.inds, planned{in: in, weight: w.Weight, low: w.Low, high: w.High, target: w.Target, category: in.Category, basis: b})
	}
	if sum == 0 {
		return analytics.Errorf(analytics.BadUserInput, "the weights sum to 0: give at least one indicator a positive weight")
	}
	for _, pl := range p.inds {
		if pl.weight == 0 {
			return analytics.Errorf(analytics.BadUserInput, "weight of %q is 0: give it a positive weight, or leave it out to not count it", pl.in.Code)
		}
	}
	return nil
}

// scored is a plan computed: the regions scored (positions in the snapshot) and the math's answer.
type scored struct {
	plan     *plan
	members  []int
	values   [][]float64 // [indicator][member]: what each line scores
	raw      [][]float64 // the levels
	result   *assess.Result
	outcomes [][]*analytics.TargetResult // of the lines with a TARGET points rule (see targetOutcomes)
}

// prepare loads the plan's values: the union of the scope's members over its indicators, in dataset order,
// and each indicator's value of each member in the year (NaN where there is none).
func (e *Engine) prepare(ctx context.Context, s *snapshot, p *plan, asOf *analytics.Date) (*scored, []assess.Indicator, error) {
	codes := make([]string, len(p.inds))
	for i, pl := range p.inds {
		codes[i] = pl.in.Code
	}
	// The period's values and the same a year earlier (a growth or rank change line).
	ms, err := e.matricesWindow(ctx, s, asOf, codes, p.t-p.freq.PerYear(), p.t)
	if err != nil {
		return nil, nil, err
	}
	in := make([]bool, len(s.Regions))
	var members []int
	for _, c := range codes {
		for _, r := range s.members(p.scope, c, p.year) {
			if !in[r] {
				in[r] = true
				members = append(members, r)
			}
		}
	}
	slices.Sort(members)
	p.opt.RegionCodes = make([]string, len(members))
	for k, r := range members {
		p.opt.RegionCodes[k] = s.Regions[r].Code
	}
	sc := &scored{plan: p, members: members, values: make([][]float64, len(p.inds)), raw: make([][]float64, len(p.inds))}
	inds := make([]assess.Indicator, len(p.inds))
	for i, pl := range p.inds {
		m := ms[pl.in.Code]
		row := make([]float64, len(members))
		for k, r := range members {
			if v, _, ok := m.Get(r, p.t); ok {
				row[k] = v
			} else {
				row[k] = math.NaN()
			}
		}
		sc.raw[i], sc.values[i] = row, basisRow(s, p, pl, m, members, row)
		ai := assess.Indicator{Code: pl.in.Code, Weight: pl.weight, Sign: pl.in.Sign()}
		if pl.basis == analytics.BasisRankChange {
			ai.Sign = 1 // moving up is better whatever the indicator's direction
		}
		if pl.low != nil && pl.high != nil {
			ai.Low, ai.High, ai.HasGoalposts = *pl.low, *pl.high, true
		}
		// Targets are filled whatever the normalisation: a robustness run may draw DISTANCE_TO_TARGET.
		ai.Targets = make([]float64, len(members))
		for k, r := range members {
			ai.Targets[k] = math.NaN()
			if pl.basis != analytics.BasisValue && pl.basis != "" {
				if pl.target != nil { // a level target is not in the unit of a growth or a rank change
					ai.Targets[k] = *pl.target
				}
				continue
			}
			// targets.csv's targets are annual: a quarter's or month's value is not scored against them
			// (a month of retail sales against the year's total), only against the line's own target.
			if t := s.target(s.Regions[r].Code, pl.in.Code, p.year, analytics.TargetLevel); t != nil && p.freq == analytics.Annual {
				ai.Targets[k] = t.Value
			} else if pl.target != nil {
				ai.Targets[k] = *pl.target
			}
		}
		inds[i] = ai
	}
	return sc, inds, nil
}

// basisRow is what a line scores of each member, given their levels in the year (NaN: none): the levels,
// their growth (as ranking(basis: GROWTH), beyond ±1.8e308 none), or their rank change in the plan's
// scope (the competition rank the year before − this year's).
func basisRow(s *snapshot, p *plan, pl planned, m *duck.Matrix, members []int, levels []float64) []float64 {
	switch pl.basis {
	case analytics.BasisGrowth:
		row := make([]float64, len(members))
		for k, r := range members {
			row[k] = math.NaN()
			if g, _, ok := basisValue(m, pl.in, analytics.ByGrowth, r, p.t); ok && !calc.OutOfRange(g) {
				row[k] = g
			}
		}
		return row
	case analytics.BasisRankChange:
		// against the same period a year earlier (the year before for a year)
		cur := rankYear(s, m, pl.in, analytics.ByValue, s.members(p.scope, pl.in.Code, p.year), p.t)
		prev := rankYear(s, m, pl.in, analytics.ByValue, s.members(p.scope, pl.in.Code, p.year-1), p.t-p.freq.PerYear())
		row := make([]float64, len(members))
		for k, r := range members {
			row[k] = math.NaN()
			if c, pv := cur.entry(r), prev.entry(r); c != nil && pv != nil {
				row[k] = float64(pv.rankC - c.rankC)
			}
		}
		return row
	}
	return levels
}

// checkTargets refuses DISTANCE_TO_TARGET over an indicator no member has a target of: every region would
// be missing it, and the answer would say nothing.
func (sc *scored) checkTargets(inds []assess.Indicator) error {
	for i, ai := range inds {
		if len(sc.members) > 0 && !slices.ContainsFunc(ai.Targets, func(t float64) bool { return !math.IsNaN(t) }) {
			if p := sc.plan; p.freq != analytics.Annual {
				return analytics.Errorf(analytics.BadUserInput, "DISTANCE_TO_TARGET needs targets, and indicator %q has none in %s: targets.csv's targets are annual and do not score a quarter's or month's value; give target in the input's indicators (in the unit of the period's values), or use another normalisation",
					p.inds[i].in.Code, p.when())
			}
			return analytics.Errorf(analytics.BadUserInput, "DISTANCE_TO_TARGET needs targets, and indicator %q has none in %d (no level target in targets.csv, no target in the scheme or the input): give target in the input's indicators, or use another normalisation",
				sc.plan.inds[i].in.Code, sc.plan.year)
		}
	}
	return nil
}

// mathError turns the math's refusal into a client's error; its message names the region and indicator
// (prepare gives the math the region codes).
func mathError(err error) error {
	var ae *assess.Error
	if errors.As(err, &ae) {
		return analytics.Errorf(analytics.BadUserInput, "%s", ae.Msg)
	}
	return err
}

// compute scores a plan's year.
func (e *Engine) compute(ctx context.Context, s *snapshot, p *plan, asOf *analytics.Date) (*scored, error) {
	sc, inds, err := e.prepare(ctx, s, p, asOf)
	if err != nil {
		return nil, err
	}
	if p.norm == analytics.DistanceToTarget {
		if err := sc.checkTargets(inds); err != nil {
			return nil, err
		}
	}
	opt, err := e.withPoints(ctx, s, sc, asOf)
	if err != nil {
		return nil, err
	}
	res, err := assess.Compute(sc.values, inds, opt)
	if err != nil {
		return nil, mathError(err)
	}
	sc.result = res
	return sc, nil
}

// compositePlan is a composite request resolved against the catalog: its year's plan and the year
// before's, under the same input (a scheme's indicators of that year), for rank and tier changes; prev is
// nil where the input cannot be resolved for the year before.
type compositePlan struct {
	cur, prev *yearPlan
}

// planComposite resolves a composite request for its year and, unless its previous ranks go unread, the
// year before; no I/O.
func planComposite(s *snapshot, q analytics.CompositeQuery) (*compositePlan, error) {
	cur, err := s.resolveYear(q)
	if err != nil {
		return nil, err
	}
	if q.Without.Previous {
		return &compositePlan{cur: cur}, nil
	}
	prev, err := s.resolveYear(yearEarlier(q))
	if err != nil && !isUserError(err) {
		return nil, err
	}
	return &compositePlan{cur: cur, prev: prev}, nil
}

// yearEarlier is the input for the year before, or the same period a year earlier.
func yearEarlier(q analytics.CompositeQuery) analytics.CompositeQuery {
	if q.Period != nil {
		p := *q.Period
		p.Year--
		q.Period = &p
	}
	q.Year--
	return q
}

// settle writes a composite's period one way: period "2025" is the year 2025; without year or period, the
// latest period (year) in which one of the input's indicators has values (all of them of one frequency;
// a scheme's lines of any year), from the catalog, so with no I/O.
func (s *snapshot) settle(q *analytics.CompositeQuery) error {
	if q.Period != nil && q.Period.Freq == analytics.Annual {
		q.Year, q.Period = q.Period.Year, nil
	}
	if q.Period != nil {
		q.Year = q.Period.Year
	}
	if q.Year != 0 {
		return nil
	}
	var ins []*analytics.Indicator
	switch {
	case q.Scheme != "" && q.Indicators == nil:
		sc, err := s.scheme(q.Scheme)
		if err != nil {
			return err
		}
		for _, si := range sc.Indicators {
			ins = append(ins, si.Indicator)
		}
	case q.Scheme == "":
		for _, w := range q.Indicators {
			in, err := s.indicatorOf(w.Indicator, &w.Formula)
			if err != nil {
				return err
			}
			ins = append(ins, in)
		}
	}
	if len(ins) == 0 { // neither scheme nor indicators, or both: refused as resolve refuses them
		return s.resolveIndicators(&plan{}, *q)
	}
	f, last := ins[0].Freq(), -1
	for _, in := range ins {
		if in.Freq() != f {
			return analytics.Errorf(analytics.BadUserInput, "give year or period: the indicators are of several frequencies (%q is %s, %q is %s), so which latest period is meant is not clear",
				ins[0].Code, freqName(f), in.Code, freqName(in.Freq()))
		}
		if in.FirstOrd != nil {
			last = max(last, *in.LastOrd)
		} else if in.LastYear != nil && f == analytics.Annual {
			last = max(last, *in.LastYear)
		}
	}
	if last < 0 {
		return analytics.Errorf(analytics.BadUserInput, "none of the indicators has values")
	}
	if f == analytics.Annual {
		q.Year = last
		return nil
	}
	p := analytics.PeriodAt(f, last)
	q.Year, q.Period = p.Year, &p
	return nil
}

// Composite scores the regions of a scope.
func (e *Engine) Composite(ctx context.Context, q analytics.CompositeQuery) (*analytics.Composite, error) {
	s, err := e.snap.Load().withTargets("targets", q.Targets)
	if err != nil {
		return nil, err
	}
	if err := s.settle(&q); err != nil {
		return nil, err
	}
	cp, err := planComposite(s, q)
	if err != nil {
		return nil, err
	}
	return cached(e, s, keyOf("composite", q), func() (*analytics.Composite, error) {
		// The lines' values of the period and the one before it, and with the previous ranks of the one
		// before that too, in one statement: each year's scoring then reads within that window.
		p := cp.cur.base
		from := p.t - p.freq.PerYear()
		if !q.Without.Previous {
			from -= p.freq.PerYear()
		}
		if _, err := e.matricesWindow(ctx, s, q.AsOf, cp.cur.codes(), from, p.t); err != nil {
			return nil, err
		}
		cur, err := e.computeYear(ctx, s, cp.cur, q.AsOf, true)
		if err != nil {
			return nil, err
		}
		// A year before the input cannot score (say, geometric over a zero) has no ranks to compare.
		var prev yearScored
		if !q.Without.Previous {
			if prev, err = e.computeYear(ctx, s, cp.prev, q.AsOf, false); err != nil {
				return nil, err
			}
		}
		return e.yearComposite(ctx, s, cp.cur, cur, prev, q.AsOf, !q.Without.Breakdown)
	})
}

// computeIf scores a plan that may be nil (a year the input cannot be resolved for); a year it cannot
// score is nil too. Only a failure (not a refusal of the input) is an error.
func (e *Engine) computeIf(ctx context.Context, s *snapshot, p *plan, asOf *analytics.Date) (*scored, error) {
	if p == nil {
		return nil, nil
	}
	sc, err := e.compute(ctx, s, p, asOf)
	if err != nil && isUserError(err) {
		return nil, nil
	}
	return sc, err
}

// isUserError says whether err is a refusal of the input (a client's error), not a failure.
func isUserError(err error) bool {
	var ae *analytics.Error
	return errors.As(err, &ae)
}

// composite writes a scored year as the answer; full false leaves out what only a composite's own answer
// shows (each entry's breakdown by indicator and its points), for a history.
func (e *Engine) composite(ctx context.Context, s *snapshot, cur, prev *scored, asOf *analytics.Date, full bool) (*analytics.Composite, error) {
	p, res := cur.plan, cur.result
	c := &analytics.Composite{Year: p.year, Period: p.period().String(), Scope: p.scope, Scheme: p.scheme, Normalisation: p.norm, Aggregation: p.agg,
		Missing: p.miss, MinWeightShare: p.opt.MinWeightShare, Ties: p.ties, Tiers: p.tiers, AsOf: asOf,
		RankBy: p.rankBy, Count: res.Ranked, Entries: []*analytics.CompositeEntry{}, Excluded: []*analytics.CompositeExclusion{}}
	total := 0.0
	for _, pl := range p.inds {
		total += pl.weight
	}
	for i, pl := range p.inds {
		n := 0
		for _, v := range cur.values[i] {
			if !math.IsNaN(v) {
				n++
			}
		}
		c.Indicators = append(c.Indicators, &analytics.CompositeIndicator{Indicator: pl.in, Weight: pl.weight,
			Share: calc.Round12(pl.weight / total), Count: n, Category: pl.category, Department: pl.department, Points: pl.points})
	}
	prevAt := map[int]*assess.Entry{}
	if prev != nil {
		for k := range prev.result.Entries {
			if en := &prev.result.Entries[k]; en.Excluded == "" {
				prevAt[prev.members[k]] = en
			}
		}
	}
	pts := points(s, cur) // a history's years show their points too, so the lean answer keeps them
	for k := range res.Entries {
		en, r := &res.Entries[k], cur.members[k]
		region := s.Regions[r]
		if en.Excluded != "" {
			c.Excluded = append(c.Excluded, &analytics.CompositeExclusion{Region: region, Reason: en.Excluded})
			continue
		}
		out := &analytics.CompositeEntry{Region: region, Score: en.Score, Rank: en.Rank, CompetitionRank: en.CompetitionRank,
			WeightPresent: calc.Round12(en.WeightShare), GapToNextRank: optional(en.GapToNextRank), GapToNextTier: optional(en.GapToNextTier),
			Departments: []*analytics.PointsGroup{}, Categories: []*analytics.PointsGroup{}}
		if p.tiers != nil {
			t := en.Tier
			out.Tier = &t
		}
		if pe := prevAt[r]; pe != nil {
			pr, d := pe.Rank, pe.Rank-en.Rank
			out.PreviousRank, out.RankChange = &pr, &d
			if p.tiers != nil && prev.plan.tiers != nil {
				pt, dt := pe.Tier, pe.Tier-en.Tier
				out.PreviousTier, out.TierChange = &pt, &dt
			}
		}
		for i, pl := range p.inds {
			if !full {
				break
			}
			comp := &analytics.CompositeComponent{Indicator: pl.in, Basis: pick(pl.basis, analytics.BasisValue), Weight: calc.Round12(en.Components[i].Weight)}
			if v := cur.raw[i][k]; !math.IsNaN(v) {
				comp.Raw = &v
			}
			if v := cur.values[i][k]; !math.IsNaN(v) {
				comp.Value = &v
				comp.Normalised = optional(en.Components[i].Normalised)
				comp.Contribution = optional(en.Components[i].Contribution)
			}
			out.Breakdown = append(out.Breakdown, comp)
		}
		if pts != nil {
			pts.fill(out, k)
		}
		out.Part, out.Whole = c, c
		c.Entries = append(c.Entries, out)
	}
	code := s.CodeOrder
	slices.SortStableFunc(c.Entries, func(a, b *analytics.CompositeEntry) int {
		if a.Rank != b.Rank {
			return cmp.Compare(a.Rank, b.Rank)
		}
		return cmp.Compare(code[s.RegionAt[a.Region.Code]], code[s.RegionAt[b.Region.Code]])
	})
	slices.SortStableFunc(c.Excluded, func(a, b *analytics.CompositeExclusion) int {
		return cmp.Compare(code[s.RegionAt[a.Region.Code]], code[s.RegionAt[b.Region.Code]])
	})
	return c, nil
}

// optional is x as an optional number: nil for NaN (the math's "none") and for ±Inf.
func optional(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	x = calc.Round12(x)
	return &x
}

// robustnessPlan is a robustness request checked and resolved against the catalog: the request (what the
// answer's key is made of) and its composite's plan.
type robustnessPlan struct {
	q    analytics.RobustnessQuery
	plan *yearPlan
}

// planRobustness checks a robustness request against the catalog and resolves its composite; no I/O.
func planRobustness(s *snapshot, q analytics.RobustnessQuery) (*robustnessPlan, error) {
	p, err := s.resolveYear(q.CompositeQuery)
	if err != nil {
		return nil, err
	}
	if q.Runs < 1 || q.Runs > 100000 {
		return nil, analytics.Errorf(analytics.BadUserInput, "runs is %d: give from 1 to 100000", q.Runs)
	}
	if math.IsNaN(q.WeightNoise) || q.WeightNoise < 0 || q.WeightNoise >= 1 {
		return nil, analytics.Errorf(analytics.BadUserInput, "weightNoise is %v: give a share from 0 up to (not including) 1; 0.25 moves each weight by up to ±25 %%", q.WeightNoise)
	}
	return &robustnessPlan{q: q, plan: p}, nil
}

// Robustness runs the Monte Carlo of a composite's ranks.
func (e *Engine) Robustness(ctx context.Context, q analytics.RobustnessQuery) (*analytics.Robustness, error) {
	s, err := e.snap.Load().withTargets("targets", q.Targets)
	if err != nil {
		return nil, err
	}
	if err := s.settle(&q.CompositeQuery); err != nil {
		return nil, err
	}
	rp, err := planRobustness(s, q)
	if err != nil {
		return nil, err
	}
	return cached(e, s, keyOf("robustness", rp.q), func() (*analytics.Robustness, error) { return e.robustness(ctx, s, rp) })
}

// robustness runs the Monte Carlo of each part of the plan (each class on its own) and merges them, class
// by class.
func (e *Engine) robustness(ctx context.Context, s *snapshot, rp *robustnessPlan) (*analytics.Robustness, error) {
	q := rp.q
	out := &analytics.Robustness{Year: rp.plan.base.year, Period: rp.plan.base.period().String(), Runs: q.Runs, WeightNoise: q.WeightNoise, Seed: q.Seed,
		Entries: []*analytics.RobustnessEntry{}, Excluded: []*analytics.CompositeExclusion{}}
	if rp.plan.classed() {
		out.Excluded = append(out.Excluded, rp.plan.unclassed(s)...)
	}
	for k, p := range rp.plan.parts {
		part, err := e.robustnessOf(ctx, s, q, p)
		if err != nil {
			return nil, err
		}
		for _, en := range part.Entries {
			if rp.plan.classed() {
				en.Class = rp.plan.groups[k]
			}
			out.Entries = append(out.Entries, en)
		}
		out.Excluded = append(out.Excluded, part.Excluded...)
	}
	code := s.CodeOrder
	slices.SortStableFunc(out.Excluded, func(a, b *analytics.CompositeExclusion) int {
		return cmp.Compare(code[s.RegionAt[a.Region.Code]], code[s.RegionAt[b.Region.Code]])
	})
	return out, nil
}

// robustnessOf reads one plan's values, runs the Monte Carlo over them and lists the regions by their
// nominal rank.
func (e *Engine) robustnessOf(ctx context.Context, s *snapshot, q analytics.RobustnessQuery, p *plan) (*analytics.Robustness, error) {
	sc, inds, err := e.prepare(ctx, s, p, q.AsOf)
	if err != nil {
		return nil, err
	}
	ro := assess.RobustnessOptions{Runs: q.Runs, Noise: q.WeightNoise, Seed: int64(q.Seed), Interrupt: ctx.Err}
	ro.Normalisations = append(ro.Normalisations, q.Normalisations...)
	if p.norm == analytics.DistanceToTarget || slices.Contains(q.Normalisations, analytics.DistanceToTarget) {
		if err := sc.checkTargets(inds); err != nil {
			return nil, err
		}
	}
	ro.Aggregations = append(ro.Aggregations, q.Aggregations...)
	opt, err := e.withPoints(ctx, s, sc, q.AsOf)
	if err != nil {
		return nil, err
	}
	rob, err := assess.Robustness(sc.values, inds, opt, ro)
	if err != nil {
		return nil, mathError(err)
	}
	out := &analytics.Robustness{Year: p.year, Period: p.period().String(), Runs: q.Runs, WeightNoise: q.WeightNoise, Seed: q.Seed,
		Entries: []*analytics.RobustnessEntry{}, Excluded: []*analytics.CompositeExclusion{}}
	for k, re := range rob {
		region := s.Regions[sc.members[k]]
		if re.Excluded != "" {
			out.Excluded = append(out.Excluded, &analytics.CompositeExclusion{Region: region, Reason: re.Excluded})
			continue
		}
		out.Entries = append(out.Entries, &analytics.RobustnessEntry{Region: region, NominalRank: re.Nominal,
			MedianRank: re.Median, P05Rank: re.P05, P95Rank: re.P95, MeanRankShift: calc.Round12(re.MeanShift)})
	}
	code := s.CodeOrder
	slices.SortStableFunc(out.Entries, func(a, b *analytics.RobustnessEntry) int {
		if a.NominalRank != b.NominalRank {
			return cmp.Compare(a.NominalRank, b.NominalRank)
		}
		return cmp.Compare(code[s.RegionAt[a.Region.Code]], code[s.RegionAt[b.Region.Code]])
	})
	return out, nil
}

// historyPlan is a compositeHistory request resolved against the catalog: the request (its key), the
// frequency and ordinal of its first and last line (years for an annual history), and the plan of each
// (nil for a period the input cannot be resolved for, which is left out of the history; the last always
// resolves).
type historyPlan struct {
	q        analytics.CompositeHistoryQuery
	freq     analytics.Frequency
	from, to int
	years    []*yearPlan // a plan per line: per year, or per period
}

// planHistory checks a compositeHistory request against the catalog (its last period's input, then its
// span) and resolves each period's input; no I/O.
func planHistory(s *snapshot, q analytics.CompositeHistoryQuery) (*historyPlan, error) {
	if err := s.settle(&q.CompositeQuery); err != nil {
		return nil, err
	}
	if q.FromPeriod != nil && q.FromPeriod.Freq == analytics.Annual {
		q.From, q.FromPeriod = q.FromPeriod.Year, nil
	}
	last, err := s.resolveYear(q.CompositeQuery)
	if err != nil {
		return nil, err
	}
	hp := &historyPlan{freq: analytics.Annual, from: q.From, to: q.Year}
	if q.Period != nil {
		hp.freq, hp.to = q.Period.Freq, q.Period.Ord()
	}
	at := analytics.PeriodAt(hp.freq, hp.to)
	switch {
	case q.FromPeriod != nil && hp.freq == analytics.Annual:
		return nil, analytics.Errorf(analytics.BadUserInput, "fromPeriod %s is %s, and the input's year %d is annual: give from (a year)", q.FromPeriod, freqName(q.FromPeriod.Freq), q.Year)
	case q.FromPeriod != nil && q.FromPeriod.Freq != hp.freq:
		return nil, analytics.Errorf(analytics.BadUserInput, "fromPeriod %s is %s, and the input's period %s is %s: give a period like %s", q.FromPeriod,
			freqName(q.FromPeriod.Freq), at, freqName(hp.freq), analytics.PeriodAt(hp.freq, analytics.OrdOf(hp.freq, q.FromPeriod.Year, 1)))
	case q.FromPeriod != nil:
		hp.from = q.FromPeriod.Ord()
	case hp.freq != analytics.Annual:
		return nil, analytics.Errorf(analytics.BadUserInput, "the input's period %s is %s: give fromPeriod (e.g. %q) instead of from, which is a year", at, freqName(hp.freq),
			analytics.PeriodAt(hp.freq, hp.to-hp.freq.PerYear()+1).String())
	}
	from := analytics.PeriodAt(hp.freq, hp.from)
	n, most := hp.to-hp.from+1, MaxHistoryYears*hp.freq.PerYear()
	switch {
	case hp.freq == analytics.Annual && q.From > q.Year:
		return nil, analytics.Errorf(analytics.BadUserInput, "from (%d) is after the input's year (%d)", q.From, q.Year)
	case hp.freq == analytics.Annual && n > most:
		return nil, analytics.Errorf(analytics.BadUserInput, "from %d to %d is %d years; at most %d may be asked", q.From, q.Year, n, most)
	case n < 1:
		return nil, analytics.Errorf(analytics.BadUserInput, "fromPeriod (%s) is after the input's period (%s)", from, at)
	case n > most:
		return nil, analytics.Errorf(analytics.BadUserInput, "from %s to %s is %d periods; at most %d (%d years) may be asked", from, at, n, most, MaxHistoryYears)
	}
	if err := checkYear(from.Year); err != nil {
		return nil, err
	}
	hp.q, hp.years = q, make([]*yearPlan, n)
	for t := hp.from; t < hp.to; t++ {
		p, err := s.resolveYear(hp.at(q.CompositeQuery, t))
		if err != nil && !isUserError(err) {
			return nil, err
		}
		hp.years[t-hp.from] = p // nil: a scheme without indicators yet, say
	}
	hp.years[n-1] = last
	return hp, nil
}

// at is the input q at ordinal t of the history's frequency.
func (hp *historyPlan) at(q analytics.CompositeQuery, t int) analytics.CompositeQuery {
	p := analytics.PeriodAt(hp.freq, t)
	q.Year, q.Period = p.Year, nil
	if hp.freq != analytics.Annual {
		q.Period = &p
	}
	return q
}

// CompositeHistory scores every year from q.From to q.Year, or every period from q.FromPeriod to q.Period.
func (e *Engine) CompositeHistory(ctx context.Context, q analytics.CompositeHistoryQuery) (*analytics.CompositeHistory, error) {
	s, err := e.snap.Load().withTargets("targets", q.Targets)
	if err != nil {
		return nil, err
	}
	hp, err := planHistory(s, q)
	if err != nil {
		return nil, err
	}
	return cached(e, s, keyOf("history", hp.q), func() (*analytics.CompositeHistory, error) { return e.compositeHistory(ctx, s, hp) })
}

// compositeHistory scores the plan's periods in turn, each once (it is the "year before" of the same period
// a year later), and gathers each region's periods.
func (e *Engine) compositeHistory(ctx context.Context, s *snapshot, hp *historyPlan) (*analytics.CompositeHistory, error) {
	q := hp.q
	h := &histories{by: map[string]*analytics.CompositeRegionHistory{}, last: map[string]*analytics.CompositeYear{}}
	years, periods := []int{}, []string{}
	var lastYear *analytics.Composite
	done := map[int]yearScored{} // the periods scored so far, by ordinal
	// Every year's values at once, in one statement: each year's scoring would otherwise read its own
	// window first (matricesWindow) and then the whole matrices.
	var codes []string
	for _, yp := range hp.years {
		if yp != nil {
			for _, c := range yp.codes() {
				if !slices.Contains(codes, c) {
					codes = append(codes, c)
				}
			}
		}
	}
	if _, err := e.matrices(ctx, s, q.AsOf, codes...); err != nil {
		return nil, err
	}
	for t := hp.from; t <= hp.to; t++ {
		yp := hp.years[t-hp.from]
		// the period asked for: a refusal is the answer's
		cur, err := e.computeYear(ctx, s, yp, q.AsOf, t == hp.to)
		if err != nil {
			return nil, err
		}
		if cur == nil || !slices.ContainsFunc(cur, func(sc *scored) bool { return sc != nil }) {
			continue // a period the input cannot score (a scheme without indicators yet): not in the history
		}
		// Rank and tier changes are against the same period a year earlier (the year before), when the
		// history has it.
		prev := done[t-hp.freq.PerYear()]
		if prev != nil && len(prev) != len(cur) {
			prev = nil
		}
		// Lean: a history keeps of each year its scores, ranks, tiers and points, not the breakdowns by
		// indicator (50 indicators × every region × every year were 1.3 M allocations, most of a history's time).
		c, err := e.yearComposite(ctx, s, yp, cur, prev, q.AsOf, false)
		if err != nil {
			return nil, err
		}
		done[t] = cur
		delete(done, t-hp.freq.PerYear()) // needed no more: a history's memory stays a year of periods
		p := analytics.PeriodAt(hp.freq, t)
		years, periods = append(years, p.Year), append(periods, p.String())
		lastYear = c
		for _, en := range c.Entries {
			h.add(p, t, en)
		}
	}
	return &analytics.CompositeHistory{Years: years, Periods: periods, Regions: h.ordered(lastYear)}, nil
}

// histories gathers the regions' histories year by year: each region's, and its latest year.
type histories struct {
	by   map[string]*analytics.CompositeRegionHistory
	last map[string]*analytics.CompositeYear
}

// add adds a region's entry of period p (ordinal t): its line, with its best rank (and tier) so far and its
// tier streak over consecutive periods.
func (h *histories) add(p analytics.Period, t int, en *analytics.CompositeEntry) {
	y, label := p.Year, p.String()
	rh := h.by[en.Region.Code]
	if rh == nil {
		rh = &analytics.CompositeRegionHistory{Region: en.Region, Years: []*analytics.CompositeYear{}}
		h.by[en.Region.Code] = rh
	}
	rh.Class = en.Class
	cy := &analytics.CompositeYear{Year: y, Period: label, Ord: t, Score: en.Score, Points: en.Points, Rank: en.Rank, Tier: en.Tier,
		RankChange: en.RankChange, TierChange: en.TierChange}
	if len(rh.Years) > 0 {
		better := en.Rank < *rh.BestRank
		cy.BestRankEver = &better
	}
	if en.Tier != nil {
		cy.TierStreak = 1
		if pv := h.last[en.Region.Code]; pv != nil && pv.Ord == t-1 && pv.Tier != nil && *pv.Tier == *en.Tier {
			cy.TierStreak = pv.TierStreak + 1
		}
	}
	if rh.BestRank == nil || en.Rank < *rh.BestRank {
		r, yy, pp := en.Rank, y, label
		rh.BestRank, rh.BestRankYear, rh.BestRankPeriod = &r, &yy, &pp
	}
	if en.Tier != nil && (rh.BestTier == nil || *en.Tier < *rh.BestTier) {
		tr, yy, pp := *en.Tier, y, label
		rh.BestTier, rh.BestTierYear, rh.BestTierPeriod = &tr, &yy, &pp
	}
	rh.Years = append(rh.Years, cy)
	h.last[en.Region.Code] = cy
}

// ordered lists the histories by the last year's rank, then the regions not scored that year by code.
func (h *histories) ordered(lastYear *analytics.Composite) []*analytics.CompositeRegionHistory {
	out := []*analytics.CompositeRegionHistory{}
	placed := map[string]bool{}
	if lastYear != nil {
		for _, en := range lastYear.Entries {
			out = append(out, h.by[en.Region.Code])
			placed[en.Region.Code] = true
		}
	}
	var rest []*analytics.CompositeRegionHistory
	for code, rh := range h.by {
		if !placed[code] {
			rest = append(rest, rh)
		}
	}
	slices.SortFunc(rest, func(a, b *analytics.CompositeRegionHistory) int { return cmp.Compare(a.Region.Code, b.Region.Code) })
	return append(out, rest...)
}
