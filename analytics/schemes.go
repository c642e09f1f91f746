package analytics

import (
	"io"
	"slices"
)

// Schemes and targets: an assessment as data (schemes.yaml and targets.csv of a dataset folder). The enum
// values are the strings the file holds, upper-cased ("MIN_MAX"); the dataset reader has checked them and
// filled in the defaults, so every field of a loaded Scheme is set.

// Scheme is an assessment scheme: which indicators count, with what weight (or points), in which years,
// and how scores are normalised, aggregated, ranked and put in tiers.
type Scheme struct {
	Code           string
	Name           string
	NameEn         *string
	Note           *string    // how the weights were chosen, as the file says
	Scope          ScopeQuery // the peer scope (Group or Parent, and Level); zero: not given
	Normalisation  Normalisation
	Aggregation    Aggregation
	Missing        MissingRule
	MinWeightShare *float64 // 0..1: below this share of the weight present a region is excluded; nil: none
	Ties           TieRule
	Cutoffs        []float64     // tiers by score, strictly descending; nil when none
	Quotas         []int         // tiers by rank: the size of each tier but the last; nil when none
	RankBy         CompositeRank // SCORE unless the file says points
	Classes        []string      // group codes scored each on its own (see CompositeQuery.Classes); nil: none
	Indicators     []*SchemeIndicator
}

// IndicatorsIn lists the scheme's indicators that count in year (From ≤ year ≤ To, nil ends open), in file
// order. The reader has made sure one indicator appears at most once in any year.
func (s *Scheme) IndicatorsIn(year int) []*SchemeIndicator {
	out := make([]*SchemeIndicator, 0, len(s.Indicators))
	for _, si := range s.Indicators {
		if si.Counts(year) {
			out = append(out, si)
		}
	}
	return out
}

// Indicator is the scheme's line for the indicator code in year; nil when it does not count then.
func (s *Scheme) Indicator(code string, year int) *SchemeIndicator {
	i := slices.IndexFunc(s.Indicators, func(si *SchemeIndicator) bool { return si.Indicator.Code == code && si.Counts(year) })
	if i < 0 {
		return nil
	}
	return s.Indicators[i]
}

// SchemeIndicator is one indicator of a scheme, for an inclusive span of years.
type SchemeIndicator struct {
	Indicator  *Indicator
	Weight     float64  // > 0; the points when the file gives points and no weight
	Points     *float64 // points available; nil when the scheme does not score this indicator in points
	Category   string   // the file's, else the indicator's own category; "" when neither gives one
	Department string   // the department responsible; "" when the file names none
	// The names of Category and Department; nil where they are "".
	CategoryLabel, DepartmentLabel *Label
	Low, High                      *float64 // goalposts (both or neither; Low < High)
	Target                         *float64 // a level target for DISTANCE_TO_TARGET, used where targets.csv gives none
	From, To                       *int     // the years (inclusive) in which this line counts; nil ends are open
	Rule                           PointsRule
	Basis                          Basis // what the line scores: VALUE, GROWTH or RANK_CHANGE
}

// Counts says whether the line counts in year.
func (si *SchemeIndicator) Counts(year int) bool {
	return (si.From == nil || *si.From <= year) && (si.To == nil || year <= *si.To)
}

// PointsRule turns a result into points (see analytics/assess.PointsEarned).
//
//   - SCALED: earned = points × normalised / 100.
//   - TARGET: judged by the region's target of the indicator and year in targets.csv (its LEVEL target, else
//     its GROWTH target, else its RANK target): earned = clamp(points·Met + Step·margin, 0, points·Cap) when it is met, and
//     clamp(points·Missed + Step·margin, 0, points·Cap) when it is missed; margin is the actual's distance
//     past the target in the target's unit, positive when better (actual − target for >=, target − actual
//     for <=); no points while the target is pending. Met, Missed, Step and Cap are 0 for SCALED.
type PointsRule struct {
	Kind   PointsRuleKind
	Met    float64
	Missed float64
	Step   float64
	Cap    float64
}

// PointsRuleKind says how a points rule turns a result into points.
type PointsRuleKind string

const (
	PointsScaled PointsRuleKind = "SCALED"
	PointsTarget PointsRuleKind = "TARGET"
)

// Normalisation says how an indicator's values become comparable scores (see analytics/assess).
type Normalisation string

const (
	MinMax           Normalisation = "MIN_MAX"
	ZScore           Normalisation = "Z_SCORE"
	Rank             Normalisation = "RANK"
	PercentileRank   Normalisation = "PERCENTILE_RANK"
	DistanceToLeader Normalisation = "DISTANCE_TO_LEADER"
	DistanceToTarget Normalisation = "DISTANCE_TO_TARGET"
	Goalposts        Normalisation = "GOALPOSTS"
)

// Normalisations lists every normalisation, in the order messages list them.
var Normalisations = []Normalisation{MinMax, ZScore, Rank, PercentileRank, DistanceToLeader, DistanceToTarget, Goalposts}

// Aggregation says how weighted scores combine.
type Aggregation string

const (
	Arithmetic Aggregation = "ARITHMETIC"
	Geometric  Aggregation = "GEOMETRIC"
)

// MissingRule says what a region without a value of some indicator gets.
type MissingRule string

const (
	Rescale MissingRule = "RESCALE" // the weights of the indicators it has are rescaled
	Exclude MissingRule = "EXCLUDE" // it is left out
)

// Target is one row of targets.csv.
type Target struct {
	Region     *Region
	Indicator  *Indicator
	Year       int
	Comparator Comparator
	Value      float64
	Kind       TargetKind
	Group      *Group // RANK only: the peer group the rank is taken in; nil: the regions of the region's level
}

// Comparator says which side of a target meets it.
type Comparator string

const (
	AtLeast Comparator = ">="
	AtMost  Comparator = "<="
)

// TargetKind says what a target is set on.
type TargetKind string

const (
	TargetLevel  TargetKind = "LEVEL"  // the value itself
	TargetGrowth TargetKind = "GROWTH" // the year's growth in percent, by the indicator's measure (assess.TargetGrowth)
	TargetRank   TargetKind = "RANK"   // the competition rank in a scope
)

// TargetStatus says whether a target was met.
type TargetStatus string

const (
	Met     TargetStatus = "MET"
	Missed  TargetStatus = "MISSED"
	Pending TargetStatus = "PENDING" // no actual yet
)

// TargetQuery filters targets; empty fields do not filter.
type TargetQuery struct {
	Region    string
	Indicator string
	Year      *int
	From, To  *int
	Period    *Period      // a quarter or month of Year: each target's progress up to it (Year is then its year)
	Group     string       // regions that are members of the group in the target's year
	Scheme    string       // indicators that count in the scheme in the target's year
	Extra     []TargetSpec // added to targets.csv's (replacing one of the same region, indicator, year and kind)
}

// TargetSpec is a target given in a request: a what-if over targets.csv's, for that answer only. Empty
// Comparator is ">=" (always "<=" for RANK), empty Kind LEVEL.
type TargetSpec struct {
	Region, Indicator string
	Year              int
	Comparator        string
	Value             float64
	Kind              TargetKind
	Group             string // RANK only
}

// TargetResult is a target with its outcome.
type TargetResult struct {
	Region     *Region
	Indicator  *Indicator
	Year       int
	Kind       TargetKind
	Comparator Comparator
	Target     float64  // the target's value
	Group      *Group   // of a RANK target
	Actual     *float64 // nil while pending
	Status     TargetStatus
	Attainment *float64 // actual/target for >=, target/actual for <=; nil when pending or the divisor is ≤ 0
	Gap        *float64 // actual − target, in the target's unit; nil when pending
	Streak     int      // consecutive years up to this one in which the same target (region, indicator, kind) was met
	Unit       string   // of target, actual and gap
	// With a period asked: the year-to-date progress toward the target (see analytics/assess.Progress),
	// whether it is on track, what the rest of the year needs, and why any of them is null.
	Period             *string
	Progress           *float64
	OnTrack            *bool
	RequiredRestOfYear *float64
	Warnings           []*Warning
}

func (t TargetKind) MarshalGQL(w io.Writer) { writeQuoted(w, string(t)) }
func (t *TargetKind) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, t, TargetLevel, TargetGrowth, TargetRank)
}
func (t TargetStatus) MarshalGQL(w io.Writer)    { writeQuoted(w, string(t)) }
func (t *TargetStatus) UnmarshalGQL(v any) error { return unmarshalEnum(v, t, Met, Missed, Pending) }
func (k PointsRuleKind) MarshalGQL(w io.Writer)  { writeQuoted(w, string(k)) }
func (k *PointsRuleKind) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, k, PointsScaled, PointsTarget)
}
func (c Comparator) MarshalGQL(w io.Writer) { writeQuoted(w, string(c)) }
func (c *Comparator) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, c, AtLeast, AtMost)
}
func (n Normalisation) MarshalGQL(w io.Writer)    { writeQuoted(w, string(n)) }
func (n *Normalisation) UnmarshalGQL(v any) error { return unmarshalEnum(v, n, Normalisations...) }
func (a Aggregation) MarshalGQL(w io.Writer)      { writeQuoted(w, string(a)) }
func (a *Aggregation) UnmarshalGQL(v any) error   { return unmarshalEnum(v, a, Arithmetic, Geometric) }
func (m MissingRule) MarshalGQL(w io.Writer)      { writeQuoted(w, string(m)) }
func (m *MissingRule) UnmarshalGQL(v any) error   { return unmarshalEnum(v, m, Rescale, Exclude) }
