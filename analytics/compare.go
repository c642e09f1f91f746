package analytics

import "io"

// CompareQuery asks for regions side by side on indicators over a span of years. Regions may name groups
// and Indicators categories (see the schema's compare): they expand to their members.
type CompareQuery struct {
	Regions    []string
	Indicators []string
	From, To   int
	// FromPeriod and ToPeriod, when from and to are a quarter or month: the periods of an indicator of that
	// frequency shown (From and To are then their years, which bound the indicators of other frequencies).
	FromPeriod, ToPeriod *Period
	Scope                *ScopeQuery // where ranks and baseline statistics are taken; nil: among the compared regions
	Baseline             *BaselineQuery
	AsOf                 *Date
	Ties                 TieRule
}

// BaselineQuery is what each value is measured against: one region, or a statistic (exactly one).
type BaselineQuery struct {
	Region string
	Stat   BaselineStat
	Weight string // the weight indicator of BaselineWeightedMean
}

// BaselineStat is a baseline taken from the scope's ranked values, or each region's parent.
type BaselineStat string

const (
	BaselineMean   BaselineStat = "MEAN"
	BaselineMedian BaselineStat = "MEDIAN"
	BaselineLeader BaselineStat = "LEADER"
	BaselineParent BaselineStat = "PARENT"
	// BaselineWeightedMean is Σ v·w / Σ w over the ranked regions with a weight (BaselineQuery.Weight).
	BaselineWeightedMean BaselineStat = "WEIGHTED_MEAN"
)

func (b BaselineStat) MarshalGQL(w io.Writer) { writeQuoted(w, string(b)) }
func (b *BaselineStat) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, b, BaselineMean, BaselineMedian, BaselineLeader, BaselineParent, BaselineWeightedMean)
}

// Baseline echoes the baseline a comparison was asked with.
type Baseline struct {
	Region *Region
	Stat   *BaselineStat
	Weight *Indicator // of BaselineWeightedMean
}

// Comparison is regions side by side on indicators, year by year.
type Comparison struct {
	Regions    []*Region    // the compared regions, groups expanded (every member of some year), each once
	Indicators []*Indicator // categories expanded, each once
	From, To   int
	Scope      *Scope // nil: ranks among the compared regions
	Baseline   *Baseline
	Ties       TieRule
	AsOf       *Date
	Rows       []*CompareRow
	Leaders    []*CompareLeader
	Leads      []*RegionLead
	Gaps       []*CompareGap
	Warnings   []*Warning // a formula without a value for want of a divisor, by region and year
}

// CompareRow is one region's value of one indicator in one year, with its rank and its difference to the
// baseline.
type CompareRow struct {
	Region    *Region
	Indicator *Indicator
	Year      int    // the calendar year of Period
	Period    string // "2025", "2025-Q3", "2025-09"
	Value     float64
	Rank      *int
	Baseline  *float64
	// BaselineSource says whether a region's baseline is its own value or a rollup; nil for a statistic.
	BaselineSource *BaselineSource
	Difference     *float64
	Ratio          *float64
	Flags          []string
}

func (r *CompareRow) Unit() string           { return r.Indicator.Unit }
func (r *CompareRow) DifferenceUnit() string { return DifferenceUnit(r.Indicator) }

// DifferenceUnit is the unit of a difference of two values of in: its own, or points of it for a rate or a
// growth rate (5.2 % − 4.9 % is 0.3 percentage points).
func DifferenceUnit(in *Indicator) string {
	if in.Measure == Rate || in.Measure == Growth {
		return "points (" + in.Unit + ")"
	}
	return in.Unit
}
func (r *CompareRow) Measure() Measure     { return r.Indicator.Measure }
func (r *CompareRow) Direction() Direction { return r.Indicator.Direction }

// CompareLeader is the best of the compared regions on one indicator in one year (one per tied region).
type CompareLeader struct {
	Indicator *Indicator
	Year      int
	Period    string
	Region    *Region
	Value     float64
}

func (l *CompareLeader) Unit() string         { return l.Indicator.Unit }
func (l *CompareLeader) Measure() Measure     { return l.Indicator.Measure }
func (l *CompareLeader) Direction() Direction { return l.Indicator.Direction }

// RegionLead counts the indicator-years a compared region leads.
type RegionLead struct {
	Region *Region
	Count  int
}

// CompareGap is how one region's direction-adjusted difference to the baseline moved over the span.
type CompareGap struct {
	Region          *Region
	Indicator       *Indicator
	FirstYear       int
	LastYear        int
	FirstPeriod     string // the periods of FirstYear and LastYear the gap is taken in
	LastPeriod      string
	FirstOrd        int // their ordinals: the change per year divides by the years between them
	LastOrd         int
	FirstDifference float64
	LastDifference  float64
	ChangePerYear   *float64
	Closing         *bool
	YearsLed        int
}

func (g *CompareGap) Unit() string           { return g.Indicator.Unit }
func (g *CompareGap) DifferenceUnit() string { return DifferenceUnit(g.Indicator) }

// BenchmarkRef is a region and its ranked value: the leader, or the region ranked just above.
type BenchmarkRef struct {
	Region *Region
	Value  float64
}

// StandingsOrder says in which order standings list their entries.
type StandingsOrder string

const (
	OrderDataset     StandingsOrder = "DATASET"
	OrderRank        StandingsOrder = "RANK"
	OrderClosestGain StandingsOrder = "CLOSEST_GAIN"
	OrderGapToLeader StandingsOrder = "GAP_TO_LEADER"
)

func (o StandingsOrder) MarshalGQL(w io.Writer) { writeQuoted(w, string(o)) }
func (o *StandingsOrder) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, o, OrderDataset, OrderRank, OrderClosestGain, OrderGapToLeader)
}

// BaselineSource says where a region's baseline value comes from.
type BaselineSource string

const (
	SourceObserved BaselineSource = "OBSERVED"  // the region's own published value
	SourceRolledUp BaselineSource = "ROLLED_UP" // its children's rollup, filled in where it has none
)

var (
	observed = SourceObserved
	rolledUp = SourceRolledUp
)

// SourceOf is the source of a stored value with flags f: shared pointers, never modified.
func SourceOf(f FlagSet) *BaselineSource {
	if f&RolledUp != 0 {
		return &rolledUp
	}
	return &observed
}

func (b BaselineSource) MarshalGQL(w io.Writer) { writeQuoted(w, string(b)) }
func (b *BaselineSource) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, b, SourceObserved, SourceRolledUp)
}
