package analytics

import (
	"io"
	"math"
)

// ValueFilter picks observations for aggregates and pivots (and observations). Nil lists and empty
// strings do not filter; an empty list is refused (it would match nothing, and is more likely a mistake).
type ValueFilter struct {
	Regions    []string
	Indicators []string
	Group      string // members of the group in the observation's year
	Parent     string // children of the region
	Level      string
	Category   string // indicators of the category
	From, To   *int
	AsOf       *Date
	// FromPeriod and ToPeriod bound (year, period) inclusively: a month or quarter (an annual value is the
	// year's period 0, so a year's value is before its first month); Frequency keeps indicators of one.
	FromPeriod, ToPeriod *Period
	Frequency            *Frequency
}

// NarrowsRegions says whether the filter names the regions itself (a list, a group, a parent or a level).
// Without that, aggregates take the regions ranking without a scope takes: those with a value of their own
// of the indicator none of whose children has one, so a parent, filled in from its children or with its
// own figure, is not added to them a second time.
func (f ValueFilter) NarrowsRegions() bool {
	return f.Regions != nil || f.Group != "" || f.Parent != "" || f.Level != ""
}

// Dimension is what aggregate rows and pivot rows and columns are grouped by.
type Dimension string

const (
	DimRegion    Dimension = "REGION"
	DimGroup     Dimension = "GROUP"
	DimParent    Dimension = "PARENT"
	DimLevel     Dimension = "LEVEL"
	DimIndicator Dimension = "INDICATOR"
	DimCategory  Dimension = "CATEGORY"
	DimPeriod    Dimension = "PERIOD" // the value's period as written ("2025", "2025-Q3", "2025-09")
	DimYear      Dimension = "YEAR"
)

// AllDimensions lists the dimensions in the order rows are ordered by when orderBy does not say.
var AllDimensions = []Dimension{DimRegion, DimGroup, DimParent, DimLevel, DimIndicator, DimCategory, DimYear, DimPeriod}

// AggregateMeasure is a statistic of the values of a group.
type AggregateMeasure string

const (
	MeasureCount    AggregateMeasure = "COUNT"
	MeasureSum      AggregateMeasure = "SUM"
	MeasureMean     AggregateMeasure = "MEAN"
	MeasureMedian   AggregateMeasure = "MEDIAN"
	MeasureMin      AggregateMeasure = "MIN"
	MeasureMax      AggregateMeasure = "MAX"
	MeasureStddev   AggregateMeasure = "STDDEV"
	MeasureShare    AggregateMeasure = "SHARE"
	MeasureQuantile AggregateMeasure = "QUANTILE" // with a p: only through AggregateQuery.Quantiles
)

// AllMeasures lists the measures a row can carry besides quantiles.
var AllMeasures = []AggregateMeasure{MeasureCount, MeasureSum, MeasureMean, MeasureMedian, MeasureMin, MeasureMax, MeasureStddev, MeasureShare}

// CompareOp compares a measure with a number in a having condition.
type CompareOp string

const (
	OpEq CompareOp = "EQ"
	OpNe CompareOp = "NE"
	OpLt CompareOp = "LT"
	OpLe CompareOp = "LE"
	OpGt CompareOp = "GT"
	OpGe CompareOp = "GE"
)

// Having keeps the rows whose measure compares with Value as Op says (a null measure never passes).
type Having struct {
	Measure AggregateMeasure
	Op      CompareOp
	Value   float64
}

// AggregateKey is what aggregate rows can be ordered by: a dimension grouped by, or a measure.
type AggregateKey string

// AggregateOrder orders aggregate rows by a dimension grouped by or a measure.
type AggregateOrder struct {
	Key  AggregateKey
	Desc bool
}

// AggregateQuery groups the filtered observations by dimensions and computes the measures asked for.
type AggregateQuery struct {
	By        []Dimension
	Filter    ValueFilter
	Measures  []AggregateMeasure // of the rows: only these are computed (plus those having and orderBy need)
	Quantiles []float64          // the p of each quantile asked for, 0 ≤ p ≤ 1
	Totals    []AggregateMeasure // over every filtered observation; SHARE is not one
	Having    []Having
	OrderBy   []AggregateOrder
	First     int
	After     string
	// Previous asks for each row's group one year earlier (AggregateRow.Prev): for previous, change and
	// changeRatio. Needs YEAR in By.
	Previous bool
	// NoTotalCount says the client did not ask for totalCount: the answer's TotalCount may be left 0,
	// which spares counting the groups on most pages.
	NoTotalCount bool
}

// Aggregate is one page of grouped rows, with totals over every filtered observation.
type Aggregate struct {
	TotalCount  int // rows that pass having, over all pages
	Rows        []*AggregateRow
	Cursors     []string
	HasNextPage bool
	Totals      *AggregateRow // dimensions all nil
	Warnings    []*Warning
}

// AggregateRow is one group: the dimensions grouped by (nil for the others) and the measures asked for (nil
// when not asked for, or not meaningful: a sum of values that do not add up, a stddev of one value).
type AggregateRow struct {
	Region    *Region
	Group     *Group
	Parent    *Region
	Level     *string
	Indicator *Indicator
	Category  *string
	Year      *int
	Period    *string

	Count     *int
	Sum       *float64
	Mean      *float64
	Median    *float64
	Min       *float64
	Max       *float64
	Stddev    *float64
	Share     *float64
	Quantiles map[float64]*float64
	// Prev is the same group one year earlier, when the query asked for it (AggregateQuery.Previous); nil
	// where that group has no values.
	Prev *AggregateRow
}

// Quantile is the row's quantile p, if it was asked for.
func (r *AggregateRow) Quantile(p float64) *float64 { return r.Quantiles[p] }

// Measure is the row's measure m; nil where it has none.
func (r *AggregateRow) Measure(m AggregateMeasure) *float64 {
	if r == nil {
		return nil
	}
	switch m {
	case MeasureCount:
		if r.Count == nil {
			return nil
		}
		n := float64(*r.Count)
		return &n
	case MeasureSum:
		return r.Sum
	case MeasureMedian:
		return r.Median
	case MeasureMin:
		return r.Min
	case MeasureMax:
		return r.Max
	case MeasureStddev:
		return r.Stddev
	case MeasureShare:
		return r.Share
	}
	return r.Mean
}

// Previous is the measure of the same group one year earlier (Prev); nil where it has none. (The
// parameters are named as the GraphQL arguments, so that gqlgen binds these methods without a resolver.)
func (r *AggregateRow) Previous(measure AggregateMeasure) *float64 { return r.Prev.Measure(measure) }

// Change is the measure less its previous; nil where either is nil or the difference is beyond ±1.8e308.
func (r *AggregateRow) Change(measure AggregateMeasure) *float64 {
	cur, prev := r.Measure(measure), r.Previous(measure)
	if cur == nil || prev == nil {
		return nil
	}
	return finite(*cur - *prev)
}

// ChangeRatio is Change over the previous; nil where the previous is 0 or nil, or the ratio is beyond range.
func (r *AggregateRow) ChangeRatio(measure AggregateMeasure) *float64 {
	d, prev := r.Change(measure), r.Previous(measure)
	if d == nil || *prev == 0 {
		return nil
	}
	return finite(*d / *prev)
}

func finite(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}

// Warning tells a client that part of an answer is null on purpose, and why.
type Warning struct {
	Indicator *Indicator
	Message   string
}

// PivotQuery lays one indicator's values out as a table: one dimension down, another across.
type PivotQuery struct {
	Indicator     string // "" when INDICATOR or CATEGORY is an axis: the filter's indicators are laid out
	Rows, Columns Dimension
	Filter        ValueFilter
	Measure       AggregateMeasure // what a cell holds; "" for the sum when the indicator's rollup is SUM, else the mean
}

// Pivot is a table of values by two dimensions: cells[i] of every row belongs to Columns[i], nil where there
// is no value.
type Pivot struct {
	Indicator       *Indicator // the one indicator laid out; nil when INDICATOR or CATEGORY is an axis
	RowDimension    Dimension
	ColumnDimension Dimension
	Measure         AggregateMeasure
	Columns         []*PivotColumn
	Rows            []*PivotRow
	Warnings        []*Warning
}

// PivotColumn is one column of a pivot: its key (a code, a year's digits), what it is called, and what it is.
type PivotColumn struct {
	Key       string
	Label     string     // a region's, group's or indicator's name; the key for the others
	Unit      *string    // the unit of its cells, where they share one
	Year      *int       // where the columns are YEAR
	Indicator *Indicator // where the columns are INDICATOR
}

// PivotRow is one row of a pivot table.
type PivotRow struct {
	Code  string
	Label string
	Cells []*float64
}

// ValueKey asks for one region's value of one indicator in one year (Region.value, batched).
type ValueKey struct {
	Region, Indicator string
	Year              int
}

// RankKey asks for one region's rank on one indicator in one year among a group's members, or among the
// regions ranking without a scope compares when Group is "" (Region.rank, batched).
type RankKey struct {
	Region, Indicator string
	Year              int
	Group             string
}

func (d Dimension) MarshalGQL(w io.Writer) { writeQuoted(w, string(d)) }
func (d *Dimension) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, d, AllDimensions...)
}
func (m AggregateMeasure) MarshalGQL(w io.Writer) { writeQuoted(w, string(m)) }
func (m *AggregateMeasure) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, m, AllMeasures...)
}
func (o CompareOp) MarshalGQL(w io.Writer) { writeQuoted(w, string(o)) }
func (o *CompareOp) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, o, OpEq, OpNe, OpLt, OpLe, OpGt, OpGe)
}
func (k AggregateKey) MarshalGQL(w io.Writer) { writeQuoted(w, string(k)) }
func (k *AggregateKey) UnmarshalGQL(v any) error {
	var all []AggregateKey
	for _, d := range AllDimensions {
		all = append(all, AggregateKey(d))
	}
	for _, m := range AllMeasures {
		all = append(all, AggregateKey(m))
	}
	return unmarshalEnum(v, k, all...)
}

// ObservationKey is what observations can be ordered by.
type ObservationKey string

const (
	ObsRegion    ObservationKey = "REGION"
	ObsIndicator ObservationKey = "INDICATOR"
	ObsYear      ObservationKey = "YEAR"
	ObsValue     ObservationKey = "VALUE"
)

// ObservationOrder orders observations by one key; region, indicator and year always follow as tie-breakers.
type ObservationOrder struct {
	Key  ObservationKey
	Desc bool
}

func (k ObservationKey) MarshalGQL(w io.Writer) { writeQuoted(w, string(k)) }
func (k *ObservationKey) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, k, ObsRegion, ObsIndicator, ObsYear, ObsValue)
}
