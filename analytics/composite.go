package analytics

import (
	"cmp"
	"math"
	"slices"
	"strconv"
)

// WeightedIndicator is one indicator of an inline scheme.
type WeightedIndicator struct {
	Indicator string
	Formula   *Formula // instead of Indicator (exactly one of them)
	Weight    float64
	Low, High *float64
	Target    *float64
	Basis     Basis // "" is VALUE
}

// CompositeQuery asks for a composite assessment (see schema/assess.graphqls for every rule). Nil settings
// come from the scheme, else from the defaults.
type CompositeQuery struct {
	// Year, or Period (a quarter or month: the lines are scored on their values of that period); neither
	// (Year 0, Period nil): the latest period (or year) in which one of the lines' indicators has values.
	Year   int
	Period *Period
	ScopeQuery
	Scheme         string
	Indicators     []WeightedIndicator // nil when not given; given with Scheme is refused
	Normalisation  *Normalisation
	Aggregation    *Aggregation
	Missing        *MissingRule
	MinWeightShare *float64
	Ties           *TieRule
	Tiers          *TierRule
	NoTiers        bool // tiers: null, which drops a scheme's tiers
	AsOf           *Date
	RankBy         *CompositeRank // nil: the scheme's, else SCORE
	// Classes scores each class (a group) on its own, as if Group were set to it, and merges the answers.
	Classes []string
	// Targets add to (or replace) targets.csv's for this answer.
	Targets []TargetSpec
	// Without names what of the answer its reader will not read, so that it is not computed (the zero value
	// leaves nothing out): the GraphQL layer sets it from the query's selection.
	Without CompositeParts
}

// CompositeParts are the parts of a composite's answer that cost as much as the composite itself, and that
// a reader who does not read them need not be given.
type CompositeParts struct {
	// Breakdown: each entry's Breakdown by indicator (nil when left out), which Versus reads too: a component
	// of each indicator of each entry, 150,000 for 50 indicators × 3,000 regions.
	Breakdown bool
	// Previous: the ranks and tiers of the year before (PreviousRank, RankChange, PreviousTier, TierChange:
	// nil when left out), which score the year before as a whole.
	Previous bool
}

// CompositeRank is what a composite ranks and tiers by.
type CompositeRank string

const (
	RankByScore  CompositeRank = "SCORE"  // the normalised, weighted score
	RankByPoints CompositeRank = "POINTS" // the points earned, summed exactly and rounded once
)

// Basis is what a composite's line scores of its indicator.
type Basis string

const (
	BasisValue      Basis = "VALUE"       // the level in the year
	BasisGrowth     Basis = "GROWTH"      // the growth by the indicator's measure, as ranking(basis: GROWTH)
	BasisRankChange Basis = "RANK_CHANGE" // the rank in the scope the year before − this year's: positive = moved up
)

// TierRule places scored regions in tiers by score cut-offs or by rank quotas.
type TierRule struct {
	Cutoffs []float64
	Quotas  []int
}

// Composite is a scored scope.
type Composite struct {
	Year           int
	Period         string // the period scored: "2025" for a year, "2025-Q3", "2025-09"
	Scope          *Scope
	Scheme         *Scheme
	Normalisation  Normalisation
	Aggregation    Aggregation
	Missing        MissingRule
	MinWeightShare float64
	Ties           TieRule
	Tiers          *TierRule
	AsOf           *Date
	RankBy         CompositeRank
	Classes        []*Group // nil without classes
	Count          int
	Indicators     []*CompositeIndicator
	Entries        []*CompositeEntry
	Excluded       []*CompositeExclusion
}

type CompositeIndicator struct {
	Indicator  *Indicator
	Weight     float64
	Share      float64
	Count      int
	Category   *string
	Department *string
	Points     *float64
}

type CompositeEntry struct {
	Region          *Region
	Class           *Group // the class it was scored in; nil without classes
	Score           float64
	Rank            float64
	CompetitionRank int
	Tier            *int
	WeightPresent   float64
	GapToNextRank   *float64
	GapToNextTier   *float64
	PreviousRank    *float64
	RankChange      *float64
	PreviousTier    *int
	TierChange      *int
	Breakdown       []*CompositeComponent
	Points          *float64
	PointsAvailable *float64
	Departments     []*PointsGroup
	Categories      []*PointsGroup
	// Part is the composite the entry was ranked in (its class's with classes), Whole the answer it is in:
	// gapToTier and versus read them. Not part of the answer's JSON (they would be cycles).
	Part, Whole *Composite `json:"-"`
}

type CompositeComponent struct {
	Indicator    *Indicator
	Basis        Basis
	Value        *float64 // the quantity scored (the level, its growth or its rank change)
	Raw          *float64 // the level
	Normalised   *float64
	Weight       float64
	Contribution *float64
	Points       *float64
	Target       *TargetStatus
}

// PointsGroup is what one region's indicators of one department (or one category) earn, ranked against
// the same department (category) of every region scored. GraphQL's DepartmentPoints and CategoryPoints
// are both this type: each reads the name by its own field.
type PointsGroup struct {
	Region     *Region
	Class      *Group // the class its region was scored in; nil without classes
	Name       string // the department's or category's code
	Label      *Label // its names
	Indicators int
	Available  float64
	Earned     float64
	Rank       int
	Count      int
}

func (g *PointsGroup) Department() string { return g.Name }
func (g *PointsGroup) Category() string   { return g.Name }

// DepartmentLabel and CategoryLabel are the group's names, for the GraphQL fields of those names.
func (g *PointsGroup) DepartmentLabel() *Label { return g.Label }
func (g *PointsGroup) CategoryLabel() *Label   { return g.Label }

type CompositeExclusion struct {
	Region *Region
	Reason string
}

// RobustnessQuery asks how robust a composite's ranks are to its weights and choices.
type RobustnessQuery struct {
	CompositeQuery
	Runs           int
	WeightNoise    float64
	Seed           int
	Normalisations []Normalisation
	Aggregations   []Aggregation
}

type Robustness struct {
	Year        int
	Period      string
	Runs        int
	WeightNoise float64
	Seed        int
	Entries     []*RobustnessEntry
	Excluded    []*CompositeExclusion
}

type RobustnessEntry struct {
	Region        *Region
	Class         *Group
	NominalRank   float64
	MedianRank    float64
	P05Rank       float64
	P95Rank       float64
	MeanRankShift float64
}

// CompositeHistoryQuery asks for the composite of every year from From to the input's year, or of every
// period from FromPeriod to the input's period (one of From and FromPeriod).
type CompositeHistoryQuery struct {
	CompositeQuery
	From       int
	FromPeriod *Period
}

type CompositeHistory struct {
	Years   []int    // the calendar year of each line
	Periods []string // each line's period ("2025" for a year)
	Regions []*CompositeRegionHistory
}

type CompositeRegionHistory struct {
	Region       *Region
	Class        *Group // the class of its last year scored; nil without classes
	Years        []*CompositeYear
	BestRank     *float64
	BestRankYear *int
	BestTier     *int
	BestTierYear *int
	// the periods of BestRankYear and BestTierYear (the years' own for an annual history)
	BestRankPeriod, BestTierPeriod *string
}

type CompositeYear struct {
	Year         int
	Period       string
	Ord          int `json:"-"` // Period's ordinal: a tier streak runs over consecutive ones
	Score        float64
	Points       *float64
	Rank         float64
	Tier         *int
	RankChange   *float64
	TierChange   *int
	BestRankEver *bool
	TierStreak   int
}

// DepartmentsOf lists the scored regions' points by department as one list: those of region (a code) and
// department when given; by department in the scheme's order, then class (in the order given), then rank,
// then region code.
func (c *Composite) DepartmentsOf(region, department string) []*PointsGroup {
	return c.pointsOf(region, department, func(e *CompositeEntry) []*PointsGroup { return e.Departments })
}

// CategoriesOf is DepartmentsOf by category.
func (c *Composite) CategoriesOf(region, category string) []*PointsGroup {
	return c.pointsOf(region, category, func(e *CompositeEntry) []*PointsGroup { return e.Categories })
}

func (c *Composite) pointsOf(region, name string, groups func(*CompositeEntry) []*PointsGroup) []*PointsGroup {
	out := []*PointsGroup{}
	order, class := map[string]int{}, map[*Group]int{}
	for k, g := range c.Classes {
		class[g] = k
	}
	for _, e := range c.Entries {
		for _, g := range groups(e) {
			if _, ok := order[g.Name]; !ok {
				order[g.Name] = len(order)
			}
			if (region == "" || e.Region.Code == region) && (name == "" || g.Name == name) {
				out = append(out, g)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *PointsGroup) int {
		return cmp.Or(cmp.Compare(order[a.Name], order[b.Name]), cmp.Compare(class[a.Class], class[b.Class]),
			cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.Region.Code, b.Region.Code))
	})
	return out
}

// Versus is one component of an entry against a benchmark region's.
type Versus struct {
	Indicator                           *Indicator
	Value, BenchmarkValue               *float64
	Points, BenchmarkPoints             *float64
	Contribution, BenchmarkContribution *float64
	Difference                          float64
}

// key is what the entry is ranked by in c: its points under POINTS, else its score.
func (c *Composite) key(e *CompositeEntry) float64 {
	if c.RankBy == RankByPoints && e.Points != nil {
		return *e.Points
	}
	return e.Score
}

// GapToTier is what the entry lacks for tier, in the rank's unit (see schema/assess.graphqls); nil when it
// is in that tier or better, or when no region is.
func (e *CompositeEntry) GapToTier(tier int) (*float64, error) {
	c := e.Part
	if c == nil || c.Tiers == nil || e.Tier == nil {
		return nil, Errorf(BadUserInput, "gapToTier needs tiers: give the input tiers (cutoffs or quotas), or a scheme that has them")
	}
	n := len(c.Tiers.Cutoffs) + len(c.Tiers.Quotas) + 1
	if tier < 1 || tier > n {
		return nil, Errorf(BadUserInput, "gapToTier(tier: %d): give a tier from 1 to %d", tier, n)
	}
	if *e.Tier <= tier {
		return nil, nil
	}
	own := c.key(e)
	var need float64
	if len(c.Tiers.Cutoffs) > 0 {
		need = c.Tiers.Cutoffs[tier-1]
	} else {
		found := false
		for _, o := range c.Entries {
			if o.Tier != nil && *o.Tier <= tier && (!found || c.key(o) < need) {
				need, found = c.key(o), true
			}
		}
		if !found {
			return nil, nil
		}
	}
	d := round12(need - own)
	return &d, nil
}

// Versus compares the entry component by component with region's entry of the same answer,
// largest loss first.
func (e *CompositeEntry) Versus(region string) ([]*Versus, error) {
	c := e.Whole
	var b *CompositeEntry
	if c != nil {
		for _, o := range c.Entries {
			if o.Region.Code == region {
				b = o
			}
		}
	}
	if b == nil {
		return nil, Errorf(BadUserInput, "versus(region: %q): that region is not scored in this answer; compare with a region among its entries", Cut(region))
	}
	zero := func(x *float64) float64 {
		if x == nil {
			return 0
		}
		return *x
	}
	out := make([]*Versus, len(e.Breakdown))
	for i, own := range e.Breakdown {
		other := b.Breakdown[i]
		v := &Versus{Indicator: own.Indicator, Value: own.Value, BenchmarkValue: other.Value, Points: own.Points,
			BenchmarkPoints: other.Points, Contribution: own.Contribution, BenchmarkContribution: other.Contribution}
		if c.RankBy == RankByPoints {
			v.Difference = round12(zero(own.Points) - zero(other.Points))
		} else {
			v.Difference = round12(zero(own.Contribution) - zero(other.Contribution))
		}
		out[i] = v
	}
	slices.SortStableFunc(out, func(a, b *Versus) int { return cmp.Compare(a.Difference, b.Difference) })
	return out, nil
}

// round12 rounds to 12 significant digits (as calc.Round12, which this package cannot import).
func round12(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x + 0
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	return v
}

// ThresholdQuery asks when a region reached (or will reach) a value of an indicator («两个万亿»).
type ThresholdQuery struct {
	Region, Indicator string
	Value             float64
	By                *int
	Years             int
}

// Threshold is a ThresholdQuery's answer (see schema/assess.graphqls).
type Threshold struct {
	Region                                   *Region
	Indicator                                *Indicator
	Value                                    float64
	ReachedIn                                *int
	LatestYear                               int
	Latest, Gap                              float64
	GrowthUsed, YearsToReach, RequiredGrowth *float64
	Warnings                                 []*Warning
}

// Page is the entries from offset, at most first of them (all when first is nil).
func (c *Composite) Page(first, offset *int) ([]*CompositeEntry, error) {
	skip := 0
	if offset != nil {
		skip = *offset
	}
	if skip < 0 || first != nil && *first < 0 {
		return nil, Errorf(BadUserInput, "entries(first:, offset:) take numbers from 0")
	}
	out := c.Entries[min(skip, len(c.Entries)):]
	if first != nil && *first < len(out) {
		out = out[:*first]
	}
	return out, nil
}
