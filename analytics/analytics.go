// Package analytics is pacesetter's domain: regions, peer groups, indicators and observations, the
// requests a user can make of them (rankings, standings, trends) and the answers. It holds no SQL and no
// transport code: analytics/query answers the Engine (a plan checked against the catalog, then a run) over
// analytics/duck's DuckDB store, the dataset reader is analytics/dataset, the pure math analytics/calc and
// analytics/assess, and the GraphQL layer in graph/ binds directly to these types. The vocabulary of the
// assessment (Normalisation, Aggregation, MissingRule in schemes.go, TieRule here) is declared once, in this package.
package analytics

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// Engine answers every question the API can ask. analytics/query implements it over analytics/duck's store.
type Engine interface {
	Dataset(ctx context.Context) (*DatasetInfo, error)
	Regions(ctx context.Context, f RegionFilter) ([]*Region, error)
	Region(ctx context.Context, code string) (*Region, error)
	Groups(ctx context.Context) ([]*Group, error)
	Group(ctx context.Context, code string) (*Group, error)
	Indicators(ctx context.Context) ([]*Indicator, error)
	Indicator(ctx context.Context, code string) (*Indicator, error)
	Observations(ctx context.Context, q ObservationQuery) (*ObservationPage, error)
	Ranking(ctx context.Context, q RankingQuery) (*Ranking, error)
	Standings(ctx context.Context, q StandingsQuery) (*Standings, error)
	Trend(ctx context.Context, q TrendQuery) (*Trend, error)
	Compare(ctx context.Context, q CompareQuery) (*Comparison, error)
	// WeightedMean is Σ value·weight / Σ weight over a ranking's entries with a value of the weight
	// indicator (code or formula) that year; nil when none has.
	WeightedMean(ctx context.Context, rk *Ranking, weight string) (*float64, error)
	// Search finds regions, groups, indicators, categories and departments by code or name.
	Search(ctx context.Context, q SearchQuery) ([]*SearchHit, error)
	Aggregate(ctx context.Context, q AggregateQuery) (*Aggregate, error)
	Pivot(ctx context.Context, q PivotQuery) (*Pivot, error)
	// Values and Ranks answer many Region.value and Region.rank fields at once (the dataloaders of graph/):
	// one answer per key, in order, nil where there is none.
	Values(ctx context.Context, keys []ValueKey) ([]*float64, error)
	// ValueSources says of each key's value whether it is the region's own (OBSERVED) or its children's
	// rollup (ROLLED_UP); nil where there is no value.
	ValueSources(ctx context.Context, keys []ValueKey) ([]*BaselineSource, error)
	Ranks(ctx context.Context, keys []RankKey) ([]*int, error)
	// Schemes and Scheme are the assessment schemes of the dataset (schemes.yaml), in file order.
	Schemes(ctx context.Context) ([]*Scheme, error)
	Scheme(ctx context.Context, code string) (*Scheme, error)
	// Targets answers each target of targets.csv the query keeps, with its actual, status and streak.
	Targets(ctx context.Context, q TargetQuery) ([]*TargetResult, error)
	// Composite scores a scope on a scheme's (or an inline list's) weighted indicators; Robustness runs its
	// Monte Carlo; CompositeHistory scores a span of years.
	Composite(ctx context.Context, q CompositeQuery) (*Composite, error)
	Robustness(ctx context.Context, q RobustnessQuery) (*Robustness, error)
	CompositeHistory(ctx context.Context, q CompositeHistoryQuery) (*CompositeHistory, error)
	Threshold(ctx context.Context, q ThresholdQuery) (*Threshold, error)
}

// Region is a place statistics are published for: a country, province, city, county…
type Region struct {
	Code        string
	Name        string
	NameEn      *string
	Level       *string // country, province, city, county, aggregate…; nil when the dataset does not say
	Parent      *Region
	Children    []*Region
	Memberships []*Membership // in the groups it belongs to, in dataset order of the groups, then by year
}

// Groups lists the peer groups the region belongs to in year (every year when year is nil).
func (r *Region) Groups(year *int) []*Group {
	return covering(r.Memberships, year, func(m *Membership) *Group { return m.Group })
}

// covering picks one end of the memberships that hold in year. Memberships come sorted by the other end,
// so the spans of one pair are adjacent and a repeat is always the last one picked; the spans of a pair do
// not overlap (the reader refuses that), so in one year there is no repeat at all.
func covering[T comparable](ms []*Membership, year *int, pick func(*Membership) T) []T {
	out := []T{}
	for _, m := range ms {
		if v := pick(m); m.Covers(year) && (len(out) == 0 || out[len(out)-1] != v) {
			out = append(out, v)
		}
	}
	return out
}

// InGroup says whether the region is a member of g in year (in any year when year is nil).
func (r *Region) InGroup(g *Group, year *int) bool {
	for _, m := range r.Memberships {
		if m.Group == g && m.Covers(year) {
			return true
		}
	}
	return false
}

// Group is a peer group: "East", "Class II", "OECD members". Its members may change from year to year,
// and a region may belong to several groups at once.
type Group struct {
	Code        string
	Name        string
	NameEn      *string
	Memberships []*Membership // in dataset order of the regions, then by year
}

// Members lists the group's members in year (everyone who was ever a member when year is nil), in
// dataset order.
func (g *Group) Members(year *int) []*Region {
	return covering(g.Memberships, year, func(m *Membership) *Region { return m.Region })
}

// Membership places a region in a group for an inclusive span of years; nil ends are unbounded.
type Membership struct {
	Group    *Group
	Region   *Region
	FromYear *int
	ToYear   *int
}

// Covers says whether the membership holds in year; a nil year asks "in any year".
func (m *Membership) Covers(year *int) bool {
	if year == nil {
		return true
	}
	return (m.FromYear == nil || *m.FromYear <= *year) && (m.ToYear == nil || *year <= *m.ToYear)
}

// Indicator is a statistic published per region and year, with what it measures: growth, differences and
// sums follow Measure and Rollup.
type Indicator struct {
	Code      string
	Name      string
	NameEn    *string
	Unit      string
	Direction Direction
	Measure   Measure
	Category  *string
	// CategoryLabel is the category's names; nil with no category.
	CategoryLabel *Label
	Rollup        Rollup
	Decimals      *int
	Source        *string
	Formula       *string // the formula of a derived indicator, nil for a published one
	FirstYear     *int    // first and last year with a value; nil when it has none
	LastYear      *int
	// Frequency is A, Q or M; Cumulative says values are year-to-date totals. FirstOrd and LastOrd are the
	// first and last period with a value as ordinals (Period.Ord; the years for an annual indicator): a
	// matrix of the indicator is keyed by them.
	Frequency  Frequency
	Cumulative bool
	FirstOrd   *int
	LastOrd    *int
}

// PerYear is how many periods a year of the indicator has: 1, 4 or 12.
func (i *Indicator) PerYear() int { return i.Frequency.PerYear() }

// Period is the indicator's period at ordinal t.
func (i *Indicator) Period(t int) Period { return PeriodAt(i.Freq(), t) }

// Freq is the indicator's frequency, A when unset.
func (i *Indicator) Freq() Frequency {
	if i.Frequency == "" {
		return Annual
	}
	return i.Frequency
}

// Sign is +1 when higher values are better and −1 when lower values are: ranks are taken on Sign·x.
func (i *Indicator) Sign() float64 {
	if i.Direction == LowerIsBetter {
		return -1
	}
	return 1
}

// Observation is one published value. A missing value is absent, never zero.
type Observation struct {
	Region    *Region
	Indicator *Indicator
	Year      int
	Period    string // "2025", "2025-Q3", "2025-09"
	Value     float64
	Flags     []string // see FlagSet.Letters
	Vintage   *Date    // release date; nil when the dataset does not say
}

// DatasetInfo describes the dataset being served.
type DatasetInfo struct {
	Version      string // content hash of the dataset: changes exactly when the data does
	ImportedAt   time.Time
	Source       string
	Regions      int
	Groups       int
	Indicators   int
	Observations int
	FirstYear    *int
	LastYear     *int
	Levels       int // distinct levels of regions, and categories of indicators: what a query can group by
	Categories   int
	Schemes      int // assessment schemes (schemes.yaml) and targets (targets.csv)
	Targets      int
	// Counts are the values of each indicator and year (nil when unknown): what the cost model prices a
	// query by. Shared, never changed.
	Counts *ValueCounts
}

// RegionFilter narrows Regions; empty fields do not filter.
type RegionFilter struct {
	Group  string
	Parent string
	Level  string
}

// ObservationQuery filters and pages observations, ordered by OrderBy, then region, indicator, year. Nil
// lists do not filter; an empty list is refused (it would match nothing, and is more likely a mistake).
// Filter.Category is not used here.
type ObservationQuery struct {
	ValueFilter
	OrderBy []ObservationOrder
	First   int
	After   string // opaque cursor of the last observation already seen
}

// ObservationPage is one page of observations with the keyset cursor of each.
type ObservationPage struct {
	Items       []*Observation
	Cursors     []string
	TotalCount  int
	HasNextPage bool
}

// Scope is the set of regions a ranking compares.
type Scope struct {
	Kind    ScopeKind
	Group   *Group    // when Kind is GROUP
	Parent  *Region   // when Kind is PARENT
	Regions []*Region // when Kind is REGIONS
	Level   *string   // only regions of this level (with ALL, GROUP or PARENT)
}

// ScopeQuery names a scope: at most one of Group, Parent and Regions, and Level with any but Regions.
// Empty strings and a nil Regions mean "not given".
type ScopeQuery struct {
	Group   string
	Parent  string
	Level   string
	Regions []string
}

// RankingQuery asks for the ranking of one indicator in one year within a scope.
type RankingQuery struct {
	Indicator string
	Formula   *Formula // instead of Indicator (exactly one of them)
	Year      *int     // nil (and Period nil): the latest year (or period) in which a region of the scope has a value
	Period    *Period  // instead of Year: a quarter or month of a sub-annual indicator (or a year)
	ScopeQuery
	AsOf  *Date
	Ties  TieRule
	Basis RankBasis
}

// Ranking is the ranked scope plus the regions of the scope without a value.
type Ranking struct {
	Indicator *Indicator
	Year      int    // the calendar year of Period
	Period    string // the period ranked: "2025", "2025-Q3", "2025-09"
	Ord       int    // Period's ordinal (Period.Ord): the key of the indicator's values
	Scope     *Scope
	Ties      TieRule
	Basis     RankBasis
	Count     int      // regions ranked
	Mean      *float64 // of the ranked values; nil when nothing is ranked
	Median    *float64
	Leader    *Region
	Entries   []*RankingEntry
	Missing   []*Region
	AsOf      *Date
	Flagged   int        // entries whose value rests on a flagged value (provisional, estimated, derived…)
	Warnings  []*Warning // numbers left null because they are beyond the range of a double, and why
	Key       string     // names this ranking in the engine's caches (of its weighted means); "": none
}

// FlagCounts counts the entries carrying each flag, in the order of AllFlags; flags no entry has are left out.
func (r *Ranking) FlagCounts() []*FlagCount {
	out := []*FlagCount{}
	for _, f := range AllFlags {
		name, n := f.Letters()[0], 0
		for _, e := range r.Entries {
			if slices.Contains(e.Flags, name) {
				n++
			}
		}
		if n > 0 {
			out = append(out, &FlagCount{Flag: name, Count: n})
		}
	}
	return out
}

// FlagCount is how many entries of an answer carry one flag.
type FlagCount struct {
	Flag  string
	Count int
}

// Top returns the entries ranked n or better (ties at the cut included); all of them when n is nil.
func (r *Ranking) Top(n *int) ([]*RankingEntry, error) {
	if n == nil {
		return r.Entries, nil
	}
	if *n < 1 {
		return nil, Errorf(BadUserInput, "top must be at least 1, got %d", *n)
	}
	end := 0
	for end < len(r.Entries) && r.Entries[end].Rank <= *n {
		end++
	}
	return r.Entries[:end], nil
}

// MaxEntriesPage is the most entries one page of a ranking may hold.
const MaxEntriesPage = 10000

// Page returns the entries of Top(top), from offset on, at most first of them (all the rest when nil).
func (r *Ranking) Page(top, first, offset *int) ([]*RankingEntry, error) {
	es, err := r.Top(top)
	if err != nil {
		return nil, err
	}
	off := 0
	if offset != nil {
		off = *offset
	}
	if off < 0 {
		return nil, Errorf(BadUserInput, "offset must not be negative, got %d", off)
	}
	if first != nil && (*first < 0 || *first > MaxEntriesPage) {
		return nil, Errorf(BadUserInput, "first must be from 0 to %d, got %d", MaxEntriesPage, *first)
	}
	es = es[min(off, len(es)):]
	if first != nil && *first < len(es) {
		es = es[:*first]
	}
	return es, nil
}

// RankingEntry is one ranked region.
type RankingEntry struct {
	Region       *Region
	Value        float64 // the ranked value: the level, or the year-over-year growth for basis GROWTH
	Rank         int
	Percentile   float64 // (n − competition rank)/(n − 1); 1 when n = 1
	PreviousRank *int    // rank in the same scope a year earlier, under the same rules
	RankChange   *int    // PreviousRank − Rank: positive means the region moved up
	// The differences below are nil when beyond ±1.8e308, the largest double (between 1e308 and −1e308);
	// the ranking's Warnings then says so.
	GapToLeader *float64 // Sign·(leader − value) ≥ 0: how far behind the leader, in the indicator's unit
	VsMean      *float64 // value − scope mean
	VsMedian    *float64 // value − scope median
	Flags       []string // of the values the ranked value rests on (FlagSet.Letters)
}

// StandingsQuery asks how one region ranks on every indicator in a scope.
type StandingsQuery struct {
	Region string
	Year   int     // the calendar year (of Period, when given)
	Period *Period // a quarter or month: the indicators of its frequency, ranked in it; nil: annual ones in Year
	ScopeQuery
	AsOf  *Date
	Top   int
	Ties  TieRule
	Basis RankBasis
	// Indicators or Category (not both) restrict the indicators placed and counted; nil and "" do not.
	Indicators []string
	Category   string
	Scheme     string         // the indicators a scheme counts that year (and its scope when none is given)
	OrderBy    StandingsOrder // "" is OrderDataset
}

// Standings is a region's rank on every indicator ranked in the scope that year.
type Standings struct {
	Region  *Region
	Year    int
	Period  string // the period asked, or the year
	Scope   *Scope
	Top     int
	Ties    TieRule
	Basis   RankBasis
	Ranked  int // indicators on which the region is ranked
	InTop   int // … of which rank ≤ Top
	First   int // … of which rank = 1
	Entries []*StandingEntry
	Entered []*Indicator // in the top this year, not last year (outside it or unranked)
	Left    []*Indicator // in the top last year, not this year (outside it or missing)
	Missing []*Indicator // ranked in the scope this year, but the region has no value
	AsOf    *Date
}

// StandingEntry is the region's place on one indicator.
type StandingEntry struct {
	Indicator    *Indicator
	Value        float64
	Rank         int
	Count        int
	Percentile   float64
	PreviousRank *int
	RankChange   *int
	InTop        bool
	Flags        []string
	// Benchmarks against the regions ranked better. Differences are rounded to 12 significant digits and
	// nil when beyond ±1.8e308.
	Leader         *BenchmarkRef // the region ranked first (first by code among ties)
	Above          *BenchmarkRef // nearest strictly better value, first by code among its ties; nil for rank 1
	GapToLeader    *float64      // Sign·(leader − value) ≥ 0
	GapToAbove     *float64      // Sign·(above − value) > 0; nil for rank 1
	MoveToGainRank *float64      // above − value, signed; nil for rank 1
	LeadOverNext   *float64      // for rank 1: Sign·(value − best other) ≥ 0; nil otherwise or alone
	// Every value ranked, best first (shared with the ranking it comes from), and the region's place in
	// it: what moveToTop needs for any n (calc.MoveToTop).
	Ranked   []float64
	Position int
}

// TrendQuery asks for the history of one region on one indicator; From and To bound the years shown.
type TrendQuery struct {
	Region    string
	Indicator string
	Formula   *Formula // instead of Indicator (exactly one of them)
	From, To  *int
	// FromPeriod and ToPeriod bound the periods shown instead of From and To (one of each pair at most):
	// of the indicator's frequency.
	FromPeriod, ToPeriod *Period
	AsOf                 *Date
	Scope                *ScopeQuery // where each year's rank is taken; nil: no ranks
	Ties                 TieRule
}

// Trend is a series with its year-over-year growth, records and streaks.
type Trend struct {
	Region    *Region
	Indicator *Indicator
	Cagr      *float64
	Points    []*TrendPoint
	AsOf      *Date
	Warnings  []*Warning // numbers left null because they are beyond the range of a double, and why
	// With a scope: the best rank among the points shown and the first year it was held.
	BestRank     *int
	BestRankYear *int
	Ranked       bool // a scope was given: points carry ranks
}

// RankStreak is the number of points in a row, ending at the last one shown, ranked n or better in
// consecutive years; nil without a scope.
func (t *Trend) RankStreak(atOrAbove int) (*int, error) {
	if atOrAbove < 1 {
		return nil, Errorf(BadUserInput, "rankStreak needs atOrAbove of at least 1, got %d", atOrAbove)
	}
	if !t.Ranked {
		return nil, nil
	}
	n := 0
	for i := len(t.Points) - 1; i >= 0; i-- {
		p := t.Points[i]
		if p.Rank == nil || *p.Rank > atOrAbove || i < len(t.Points)-1 && t.Points[i+1].Ord != p.Ord+1 {
			break
		}
		n++
	}
	return &n, nil
}

// FirstYearAbove is the first year shown whose value is strictly above x; nil if none is.
func (t *Trend) FirstYearAbove(value float64) *int {
	for _, p := range t.Points {
		if p.Value > value {
			return &p.Year
		}
	}
	return nil
}

// FirstYearBelow is the first year shown whose value is strictly below x; nil if none is.
func (t *Trend) FirstYearBelow(value float64) *int {
	for _, p := range t.Points {
		if p.Value < value {
			return &p.Year
		}
	}
	return nil
}

// TrendPoint is one year with a value. YoY, BestEver and Streak are computed over the full history, so a
// record is a record even when From hides the years before it.
type TrendPoint struct {
	Year     int    // the calendar year of Period
	Period   string // "2025", "2025-Q3", "2025-09"
	Ord      int    // Period's ordinal
	Value    float64
	Yoy      *float64 // against the same period a year earlier
	Pop      *float64 // against the period before; nil for a cumulative indicator
	YoyHuge  bool     // Yoy is nil because the growth is beyond ±1.8e308, not for want of a year before
	BestEver *bool
	Streak   int
	Flags    []string
	// With a scope: the region's rank in it that year (nil when not ranked) and how many regions were ranked.
	Rank      *int
	RankCount *int
}

// Formula is an indicator computed at query time, per region and year, from other indicators' values, in
// derived.csv's grammar: "tax_revenue / fiscal_revenue * 100". The answer's indicator has the formula,
// normalised, as its code and name.
type Formula struct {
	Text      string
	Direction Direction // "": HigherIsBetter
	Measure   Measure   // "": Level
	Unit      string
	Decimals  *int
}

// Direction says which way is better.
type Direction string

const (
	HigherIsBetter Direction = "HIGHER_IS_BETTER"
	LowerIsBetter  Direction = "LOWER_IS_BETTER"
)

// TieRule says how tied values share ranks.
type TieRule string

const (
	Competition TieRule = "COMPETITION" // 1, 2, 2, 4
	Dense       TieRule = "DENSE"       // 1, 2, 2, 3
	Fractional  TieRule = "FRACTIONAL"  // 1, 2.5, 2.5, 4: the mean of the places tied (schemes only, so far)
)

// RankBasis says what is ranked: the value itself or its year-over-year growth.
type RankBasis string

const (
	ByValue  RankBasis = "VALUE"
	ByGrowth RankBasis = "GROWTH"
)

// ScopeKind says which regions a ranking compares.
type ScopeKind string

const (
	ScopeAll     ScopeKind = "ALL"     // every region with a value of its own in some year, and no child with one
	ScopeGroup   ScopeKind = "GROUP"   // members of a peer group as of the year
	ScopeParent  ScopeKind = "PARENT"  // children of a region
	ScopeRegions ScopeKind = "REGIONS" // an ad-hoc list of regions
)

// Measure says what an indicator's value is, and so how its growth, differences and compound rates are
// computed (see analytics/calc.GrowthOf).
type Measure string

const (
	Level  Measure = "LEVEL"  // an amount: growth x_t/x_{t−1} − 1
	Rate   Measure = "RATE"   // a share or rate in percent (or per mille): change in points x_t − x_{t−1}
	Growth Measure = "GROWTH" // a growth rate in percent: the year's growth is x_t/100
	Index  Measure = "INDEX"  // an index with the previous year = 100: growth x_t/100 − 1
)

// Rollup says how a parent's value follows from its children's.
type Rollup string

const (
	RollupSum  Rollup = "SUM"
	RollupMean Rollup = "MEAN"
	RollupNone Rollup = "NONE"
)

// The enums marshal as their GraphQL names; gqlgen binds to them through these methods. They need no
// import of gqlgen, so the domain stays free of the transport.

func (d Direction) MarshalGQL(w io.Writer) { writeQuoted(w, string(d)) }
func (d *Direction) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, d, HigherIsBetter, LowerIsBetter)
}
func (t TieRule) MarshalGQL(w io.Writer) { writeQuoted(w, string(t)) }
func (t *TieRule) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, t, Competition, Dense, Fractional)
}
func (b RankBasis) MarshalGQL(w io.Writer)    { writeQuoted(w, string(b)) }
func (b *RankBasis) UnmarshalGQL(v any) error { return unmarshalEnum(v, b, ByValue, ByGrowth) }
func (k ScopeKind) MarshalGQL(w io.Writer)    { writeQuoted(w, string(k)) }
func (k *ScopeKind) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, k, ScopeAll, ScopeGroup, ScopeParent, ScopeRegions)
}
func (m Measure) MarshalGQL(w io.Writer)    { writeQuoted(w, string(m)) }
func (m *Measure) UnmarshalGQL(v any) error { return unmarshalEnum(v, m, Level, Rate, Growth, Index) }
func (r Rollup) MarshalGQL(w io.Writer)     { writeQuoted(w, string(r)) }
func (r *Rollup) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, r, RollupSum, RollupMean, RollupNone)
}

func writeQuoted(w io.Writer, s string) { _, _ = io.WriteString(w, strconv.Quote(s)) }

func unmarshalEnum[T ~string](v any, dst *T, allowed ...T) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("enum value must be a string, got %T", v)
	}
	for _, a := range allowed {
		if string(a) == s {
			*dst = a
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %v", Cut(s), allowed)
}

// SearchQuery asks for the things a text names.
type SearchQuery struct {
	Text  string
	Kinds []SearchKind // nil: every kind
	First int
}

// SearchHit is one thing found: its kind, code and names, and how the text matched it.
type SearchHit struct {
	Kind   SearchKind
	Code   string
	Name   string
	NameEn *string
	Match  SearchMatch
}

// SearchKind is a kind of thing search finds.
type SearchKind string

const (
	SearchRegion     SearchKind = "REGION"
	SearchGroup      SearchKind = "GROUP"
	SearchIndicator  SearchKind = "INDICATOR"
	SearchCategory   SearchKind = "CATEGORY"
	SearchDepartment SearchKind = "DEPARTMENT"
)

// SearchMatch is how a text matched, strongest first.
type SearchMatch string

const (
	MatchCode     SearchMatch = "CODE"     // the code itself
	MatchName     SearchMatch = "NAME"     // the name or English name, whole
	MatchPrefix   SearchMatch = "PREFIX"   // the start of the code or a name
	MatchContains SearchMatch = "CONTAINS" // a part of the code or a name (two characters or more)
	MatchClose    SearchMatch = "CLOSE"    // a close spelling of the code or a name
)

func (k SearchKind) MarshalGQL(w io.Writer) { writeQuoted(w, string(k)) }
func (k *SearchKind) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, k, SearchRegion, SearchGroup, SearchIndicator, SearchCategory, SearchDepartment)
}
func (m SearchMatch) MarshalGQL(w io.Writer) { writeQuoted(w, string(m)) }
func (m *SearchMatch) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, m, MatchCode, MatchName, MatchPrefix, MatchContains, MatchClose)
}

// Lang chooses a name: the dataset's name column (ZH) or its English name (EN, the name column when none).
type Lang string

const (
	ZH Lang = "ZH"
	EN Lang = "EN"
)

// NameIn is the name in lang: nameEn for EN when there is one, else name.
// Label is a category's or a department's names: its code as the dataset's files write it (an indicator's
// category, a scheme line's department), its name (the code where schemes.yaml gives none) and its English
// name (nil where none is given).
type Label struct {
	Code   string
	Name   string
	NameEn *string
}

func NameIn(lang *Lang, name string, nameEn *string) string {
	if lang != nil && *lang == EN && nameEn != nil && *nameEn != "" {
		return *nameEn
	}
	return name
}

func (l Lang) MarshalGQL(w io.Writer) { writeQuoted(w, string(l)) }
func (l *Lang) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, l, ZH, EN)
}
