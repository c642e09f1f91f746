package query

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
)

// Composites ranked by points, with lines scored on growth and rank change, in classes, on generated data
// of several sizes: against a naive reference written from the schema's sentences over the dataset's own
// observations (no matrices, no assess), and classes against one composite per group.

// pointsScheme is a scheme over Synthetic's first four indicators, ranked by points: a level, a growth, a
// rank change (of a lower-is-better indicator, I003) and a level worth 1/3 point, so that totals need the
// exact sum.
func pointsScheme() dataset.Scheme {
	scaled := analytics.PointsRule{Kind: analytics.PointsScaled}
	line := func(code string, pts float64, b analytics.Basis) dataset.SchemeIndicator {
		return dataset.SchemeIndicator{Indicator: code, Weight: pts, Points: &pts, Rule: scaled, Basis: b, Category: "c" + code[3:], Department: "d"}
	}
	return dataset.Scheme{Code: "pts", Name: "Points", Normalisation: analytics.MinMax, Aggregation: analytics.Arithmetic,
		Missing: analytics.Rescale, Ties: analytics.Competition, Quotas: []int{2, 3}, RankBy: analytics.RankByPoints,
		Indicators: []dataset.SchemeIndicator{line("I001", 10, analytics.BasisValue), line("I002", 5, analytics.BasisGrowth),
			line("I003", 4, analytics.BasisRankChange), line("I004", 1.0/3, analytics.BasisValue)}}
}

func pointsEngine(t *testing.T, regions, years int) (*Engine, *dataset.Dataset) {
	t.Helper()
	d := dataset.Synthetic(uint64(regions), regions, 5, years)
	d.Schemes = []dataset.Scheme{pointsScheme()}
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Import(context.Background(), d, "test"); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(context.Background(), store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e, d
}

type refPoints struct {
	points float64
	rank   int
	tier   int
	value  []float64 // per line, NaN where none
}

// refRound12 rounds to 12 significant digits through the decimal text.
func refRound12(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	return v
}

// referencePoints scores group g in year of d under pointsScheme, the naive way: each line's quantity
// (the level; x/prev − 1 from a positive prev, rounded to 12 digits; the competition rank among the
// group's regions with a value the year before minus this year's, by counting better values), MIN_MAX over
// the regions with one (mirrored for lower-is-better, except rank changes; all equal → 100), points ×
// normalised/100 (0 without a value), the exact rational sum rounded once, competition ranks by counting
// greater totals, tiers by the quotas 2, 3.
func referencePoints(d *dataset.Dataset, g string, year int) map[string]*refPoints {
	val := map[string]float64{}
	for _, o := range d.Observations {
		val[fmt.Sprint(o.Region, o.Indicator, o.Year)] = o.Value
	}
	get := func(r, i string, y int) (float64, bool) { v, ok := val[fmt.Sprint(r, i, y)]; return v, ok }
	var members []string
	for _, r := range d.Regions {
		if r.Group == g {
			members = append(members, r.Code)
		}
	}
	sign := map[string]float64{}
	for _, in := range d.Indicators {
		sign[in.Code] = 1
		if in.Direction == analytics.LowerIsBetter {
			sign[in.Code] = -1
		}
	}
	rankIn := func(ind string, y int, r string) (int, bool) {
		x, ok := get(r, ind, y)
		if !ok {
			return 0, false
		}
		better := 0
		for _, q := range members {
			if v, ok := get(q, ind, y); ok && sign[ind]*v > sign[ind]*x {
				better++
			}
		}
		return better + 1, true
	}
	sc := pointsScheme()
	normOf := map[string]float64{}
	out := map[string]*refPoints{}
	for _, r := range members {
		out[r] = &refPoints{value: make([]float64, len(sc.Indicators))}
	}
	for i, line := range sc.Indicators {
		s := sign[line.Indicator]
		for _, r := range members {
			v := math.NaN()
			x, ok := get(r, line.Indicator, year)
			switch line.Basis {
			case analytics.BasisValue:
				if ok {
					v = x
				}
			case analytics.BasisGrowth:
				if p, okp := get(r, line.Indicator, year-1); ok && okp && p > 0 {
					v = refRound12(x/p - 1)
				}
			case analytics.BasisRankChange:
				s = 1
				c, ok1 := rankIn(line.Indicator, year, r)
				p, ok2 := rankIn(line.Indicator, year-1, r)
				if ok1 && ok2 {
					v = float64(p - c)
				}
			}
			out[r].value[i] = v
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range members {
			if v := out[r].value[i]; !math.IsNaN(v) {
				lo, hi = math.Min(lo, s*v), math.Max(hi, s*v)
			}
		}
		for _, r := range members {
			if v := out[r].value[i]; !math.IsNaN(v) {
				norm := 100.0
				if hi > lo {
					norm = 100 * (s*v - lo) / (hi - lo)
				}
				normOf[fmt.Sprint(r, i)] = norm
			}
		}
	}
	var scored []string
	for _, r := range members {
		sum, any := new(big.Rat), false
		for i, line := range sc.Indicators {
			n, ok := normOf[fmt.Sprint(r, i)]
			if !ok {
				continue
			}
			any = true
			sum.Add(sum, new(big.Rat).SetFloat64(*line.Points*math.Min(math.Max(n, 0), 100)/100))
		}
		if !any {
			delete(out, r) // no value of any line: not scored
			continue
		}
		f, _ := sum.Float64()
		out[r].points = refRound12(f)
		scored = append(scored, r)
	}
	for _, r := range scored {
		better := 0
		for _, q := range scored {
			if out[q].points > out[r].points {
				better++
			}
		}
		out[r].rank = better + 1
		out[r].tier = 3
		if out[r].rank <= 5 {
			out[r].tier = 2
		}
		if out[r].rank <= 2 {
			out[r].tier = 1
		}
	}
	return out
}

func TestPointsAgainstNaiveReference(t *testing.T) {
	ctx := context.Background()
	for _, size := range []struct{ regions, years int }{{40, 4}, {400, 3}, {3000, 3}} {
		e, d := pointsEngine(t, size.regions, size.years)
		year := 2000 + size.years
		checked, forgiven := 0, 0
		for _, g := range []string{"G01", "G02", "G07"} {
			ref := referencePoints(d, g, year)
			c, err := e.Composite(ctx, analytics.CompositeQuery{Year: year, Scheme: "pts", ScopeQuery: analytics.ScopeQuery{Group: g}})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Entries) != len(ref) || c.RankBy != analytics.RankByPoints {
				t.Fatalf("%d regions %s: %d entries ranked by %s, reference scores %d", size.regions, g, len(c.Entries), c.RankBy, len(ref))
			}
			for _, en := range c.Entries {
				w := ref[en.Region.Code]
				if w == nil || en.Points == nil || math.Abs(*en.Points-w.points) > 1e-9 {
					t.Fatalf("%d regions %s %s: points %v, reference %+v", size.regions, g, en.Region.Code, en.Points, w)
				}
				for i, comp := range en.Breakdown {
					if (comp.Value == nil) != math.IsNaN(w.value[i]) || comp.Value != nil && *comp.Value != w.value[i] {
						t.Fatalf("%s %s line %d (%s): value %v, reference %v", g, en.Region.Code, i, comp.Basis, comp.Value, w.value[i])
					}
				}
				if int(en.Rank) != w.rank || en.Tier == nil || *en.Tier != w.tier {
					if nearTie(ref, w) {
						forgiven++
						continue
					}
					t.Fatalf("%d regions %s %s: rank %v tier %v, reference %d %d", size.regions, g, en.Region.Code, en.Rank, en.Tier, w.rank, w.tier)
				}
				checked++
			}
		}
		t.Logf("%d regions: %d entries checked, %d forgiven at a near tie", size.regions, checked, forgiven)
		if checked == 0 {
			t.Errorf("%d regions: nothing checked", size.regions)
		}
	}
}

// nearTie: the reference's total is within 1e-9 of another's without equalling it, where two readings of
// the same sum may round apart.
func nearTie(ref map[string]*refPoints, w *refPoints) bool {
	for _, o := range ref {
		if o != w && o.points != w.points && math.Abs(o.points-w.points) < 1e-9 {
			return true
		}
	}
	return false
}

// entryView is what an entry says, without its class: what a per-group composite must say the same.
func entryView(t *testing.T, en *analytics.CompositeEntry) string {
	c := *en
	c.Class, c.Region = nil, nil
	var deps []analytics.PointsGroup
	for _, g := range append(append([]*analytics.PointsGroup{}, en.Departments...), en.Categories...) {
		x := *g
		x.Class, x.Region = nil, nil
		deps = append(deps, x)
	}
	c.Departments, c.Categories = nil, nil
	var comps []analytics.CompositeComponent
	for _, b := range en.Breakdown {
		x := *b
		x.Indicator = nil
		comps = append(comps, x)
	}
	c.Breakdown = nil
	b, err := json.Marshal(struct {
		R string
		E *analytics.CompositeEntry
		B []analytics.CompositeComponent
		G []analytics.PointsGroup
	}{en.Region.Code, &c, comps, deps})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// classes: [A, B, C] equals three composites with group: A, group: B and group: C, entry for entry (score,
// points, rank, tier, gaps, previous rank, breakdown, departments), and robustness likewise; the regions
// in none of the classes are listed in excluded with the reason.
func TestClassesEqualGroups(t *testing.T) {
	ctx := context.Background()
	for _, size := range []struct{ regions, years int }{{40, 4}, {600, 3}} {
		e, _ := pointsEngine(t, size.regions, size.years)
		year := 2000 + size.years
		classes := []string{"G03", "G01", "G05"}
		c, err := e.Composite(ctx, analytics.CompositeQuery{Year: year, Scheme: "pts", Classes: classes})
		if err != nil {
			t.Fatal(err)
		}
		at := 0
		for k, g := range classes {
			gc, err := e.Composite(ctx, analytics.CompositeQuery{Year: year, Scheme: "pts", ScopeQuery: analytics.ScopeQuery{Group: g}})
			if err != nil {
				t.Fatal(err)
			}
			if len(gc.Entries) == 0 {
				t.Fatalf("group %s scores nobody", g)
			}
			for _, want := range gc.Entries {
				if at >= len(c.Entries) {
					t.Fatalf("classes ran out of entries at %s", g)
				}
				got := c.Entries[at]
				at++
				if got.Class == nil || got.Class.Code != classes[k] {
					t.Fatalf("entry %s has class %v, want %s", got.Region.Code, got.Class, g)
				}
				if a, b := entryView(t, got), entryView(t, want); a != b {
					t.Fatalf("class %s, entry %d:\nclasses %s\ngroup   %s", g, at, a, b)
				}
			}
			rg, err := e.Robustness(ctx, analytics.RobustnessQuery{CompositeQuery: analytics.CompositeQuery{Year: year, Scheme: "pts", ScopeQuery: analytics.ScopeQuery{Group: g}},
				Runs: 50, WeightNoise: 0.3, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			rc, err := e.Robustness(ctx, analytics.RobustnessQuery{CompositeQuery: analytics.CompositeQuery{Year: year, Scheme: "pts", Classes: classes},
				Runs: 50, WeightNoise: 0.3, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			var ofClass []analytics.RobustnessEntry
			for _, en := range rc.Entries {
				if en.Class.Code == g {
					x := *en
					x.Class = nil
					ofClass = append(ofClass, x)
				}
			}
			for i, en := range rg.Entries {
				if i >= len(ofClass) || *en != ofClass[i] {
					t.Fatalf("robustness of class %s, entry %d: %+v, group's %+v", g, i, ofClass, *en)
				}
			}
		}
		if at != len(c.Entries) {
			t.Errorf("classes has %d entries, the groups %d", len(c.Entries), at)
		}
		none := 0
		for _, x := range c.Excluded {
			if strings.HasPrefix(x.Reason, "in none of the classes (G03, G01, G05)") {
				none++
			}
		}
		if none == 0 {
			t.Errorf("no region listed in none of the classes: %d excluded", len(c.Excluded))
		}
		if _, err := e.Composite(ctx, analytics.CompositeQuery{Year: year, Scheme: "pts", Classes: []string{"G01", "NOPE"}}); err == nil ||
			!strings.Contains(err.Error(), `classes lists "NOPE", which is not a group`) {
			t.Errorf("a class that is not a group: %v", err)
		}
		if _, err := e.Composite(ctx, analytics.CompositeQuery{Year: year, Scheme: "pts", Classes: []string{"G01"}, ScopeQuery: analytics.ScopeQuery{Group: "G02"}}); err == nil {
			t.Error("classes with group is not refused")
		}
	}
}

func TestBasisRefusals(t *testing.T) {
	e, _ := pointsEngine(t, 30, 3)
	ctx := context.Background()
	_, err := e.Composite(ctx, analytics.CompositeQuery{Year: 2001, Indicators: []analytics.WeightedIndicator{{Indicator: "I001", Weight: 1, Basis: analytics.BasisGrowth}}})
	if err == nil || !strings.Contains(err.Error(), `basis GROWTH of indicator "I001" needs its values of 2000`) {
		t.Errorf("GROWTH in the first year: %v", err)
	}
	points := analytics.RankByPoints
	_, err = e.Composite(ctx, analytics.CompositeQuery{Year: 2002, Indicators: []analytics.WeightedIndicator{{Indicator: "I001", Weight: 1}},
		RankBy: &points})
	if err == nil || !strings.Contains(err.Error(), "rankBy is POINTS, but no indicator scores points") {
		t.Errorf("POINTS without points: %v", err)
	}
}

// Targets given in the request count as targets.csv's would: DISTANCE_TO_TARGET scores 100·min(x/t, 1)
// against them (by hand from the region's value), targets(extra:) judges them, and bad ones are refused
// naming the field and the index.
func TestTargetsInTheRequest(t *testing.T) {
	e, d := pointsEngine(t, 30, 3)
	ctx := context.Background()
	var r string
	var x float64
	for _, o := range d.Observations {
		if o.Indicator == "I001" && o.Year == 2003 && o.Value > 0 {
			r, x = o.Region, o.Value
			break
		}
	}
	in := []analytics.WeightedIndicator{{Indicator: "I001", Weight: 1}}
	norm := analytics.DistanceToTarget
	if _, err := e.Composite(ctx, analytics.CompositeQuery{Year: 2003, Indicators: in, Normalisation: &norm}); err == nil {
		t.Fatal("DISTANCE_TO_TARGET without targets is not refused")
	}
	c, err := e.Composite(ctx, analytics.CompositeQuery{Year: 2003, Indicators: in, Normalisation: &norm,
		Targets: []analytics.TargetSpec{{Region: r, Indicator: "I001", Year: 2003, Value: 2 * x}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Entries) != 1 || c.Entries[0].Region.Code != r || *c.Entries[0].Breakdown[0].Normalised != 50 {
		t.Errorf("one region with a target at twice its value scores 50: %d entries, first %+v", len(c.Entries), c.Entries[0].Breakdown[0])
	}
	res, err := e.Targets(ctx, analytics.TargetQuery{Region: r, Extra: []analytics.TargetSpec{{Region: r, Indicator: "I001", Year: 2003, Value: x, Comparator: "<="}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Status != analytics.Met || res[0].Target != x {
		t.Errorf("a target at the value, <=, is met: %+v", res)
	}
	for _, bad := range []struct {
		spec analytics.TargetSpec
		want string
	}{
		{analytics.TargetSpec{Region: "NOPE", Indicator: "I001", Year: 2003, Value: 1}, "targets[0]: "},
		{analytics.TargetSpec{Region: r, Indicator: "I001", Year: 2003, Value: 1, Comparator: "=="}, `targets[0]: comparator "==" is not`},
		{analytics.TargetSpec{Region: r, Indicator: "I001", Year: 2003, Value: 1.5, Kind: analytics.TargetRank}, "targets[0]: a RANK target's value is a rank"},
		{analytics.TargetSpec{Region: r, Indicator: "I001", Year: 2003, Value: 1, Group: "G01"}, "targets[0]: group is for a RANK target"},
	} {
		_, err := e.Composite(ctx, analytics.CompositeQuery{Year: 2003, Indicators: in, Targets: []analytics.TargetSpec{bad.spec}})
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: %v, want %q", bad.spec, err, bad.want)
		}
	}
	// One target given twice is refused at its second place; another year of it is another target.
	twice := []analytics.TargetSpec{{Region: r, Indicator: "I001", Year: 2003, Value: 1}, {Region: r, Indicator: "I001", Year: 2002, Value: 1},
		{Region: r, Indicator: "I001", Year: 2003, Value: 2}}
	if _, err := e.Composite(ctx, analytics.CompositeQuery{Year: 2003, Indicators: in, Targets: twice}); err == nil ||
		!strings.Contains(err.Error(), "targets[2] repeats the LEVEL target of") {
		t.Errorf("a target given twice: %v, want targets[2] refused as a repeat", err)
	}
	if _, err := e.Composite(ctx, analytics.CompositeQuery{Year: 2003, Indicators: in, Targets: twice[:2]}); err != nil {
		t.Errorf("two years of one target: %v", err)
	}
}

// gapToTier and versus, checked against the entries of the same answer: the gap to tier 1 under quotas is
// the lowest tier-1 total minus the entry's own; versus's differences add up to the two totals' difference
// (every line has points) and come largest loss first.
func TestGapToTierAndVersus(t *testing.T) {
	e, _ := pointsEngine(t, 200, 3)
	c, err := e.Composite(context.Background(), analytics.CompositeQuery{Year: 2003, Scheme: "pts", ScopeQuery: analytics.ScopeQuery{Group: "G02"}})
	if err != nil {
		t.Fatal(err)
	}
	low := math.Inf(1)
	for _, en := range c.Entries {
		if *en.Tier == 1 {
			low = math.Min(low, *en.Points)
		}
	}
	last := c.Entries[len(c.Entries)-1]
	if *last.Tier != 3 {
		t.Fatalf("the last entry is in tier %d", *last.Tier)
	}
	g, err := last.GapToTier(1)
	if err != nil || g == nil || math.Abs(*g-(low-*last.Points)) > 1e-9 {
		t.Errorf("gapToTier(1) %v %v, want %v", g, err, low-*last.Points)
	}
	if g, err := c.Entries[0].GapToTier(2); g != nil || err != nil {
		t.Errorf("the first entry lacks nothing for tier 2: %v %v", g, err)
	}
	if _, err := last.GapToTier(4); err == nil {
		t.Error("tier 4 of 3 is not refused")
	}
	vs, err := last.Versus(c.Entries[0].Region.Code)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for i, v := range vs {
		sum += v.Difference
		if i > 0 && v.Difference < vs[i-1].Difference {
			t.Errorf("versus not largest loss first: %v after %v", v.Difference, vs[i-1].Difference)
		}
	}
	if math.Abs(sum-(*last.Points-*c.Entries[0].Points)) > 1e-9 {
		t.Errorf("versus differences add up to %v, the totals differ by %v", sum, *last.Points-*c.Entries[0].Points)
	}
	if _, err := last.Versus("R9999"); err == nil || !strings.Contains(err.Error(), "not scored in this answer") {
		t.Errorf("versus a region not in the answer: %v", err)
	}
}

// threshold over the engine: the latest value and gap by hand from the dataset's observations, and the
// refusals naming what was wrong.
func TestThresholdEngine(t *testing.T) {
	e, d := pointsEngine(t, 20, 4)
	ctx := context.Background()
	var latest float64
	for _, o := range d.Observations {
		if o.Region == "R0001" && o.Indicator == "I001" && o.Year == 2004 {
			latest = o.Value
		}
	}
	if latest <= 0 {
		t.Fatalf("R0001 has no positive I001 in 2004 (Synthetic is deterministic: pick another region)")
	}
	by := 2010
	th, err := e.Threshold(ctx, analytics.ThresholdQuery{Region: "R0001", Indicator: "I001", Value: 2 * latest, By: &by, Years: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := math.Pow(2, 1.0/6) - 1
	if th.LatestYear != 2004 || th.Latest != latest || th.Gap != latest || th.ReachedIn != nil || th.RequiredGrowth == nil || math.Abs(*th.RequiredGrowth-want) > 1e-9 {
		t.Errorf("%+v, want latest %v gap %v required %v", th, latest, latest, want)
	}
	if _, err := e.Threshold(ctx, analytics.ThresholdQuery{Region: "R0001", Indicator: "I001", Value: 1, By: &[]int{2003}[0], Years: 5}); err == nil ||
		!strings.Contains(err.Error(), "by is 2003, not after the latest year") {
		t.Errorf("by before the latest year: %v", err)
	}
	if _, err := e.Threshold(ctx, analytics.ThresholdQuery{Region: "R0001", Indicator: "I001", Value: -1, By: &by, Years: 5}); err == nil ||
		!strings.Contains(err.Error(), "needs a positive threshold") {
		t.Errorf("negative threshold: %v", err)
	}
}

// having compares a measure as the answer shows it (12 significant digits): 0.1 + 0.2 is taken as
// 0.30000000000000004 and shown as 0.3, so "SUM <= 0.3" and "SUM = 0.3" keep the row and "SUM > 0.3" drops it.
func TestHavingComparesTheValueShown(t *testing.T) {
	d := &dataset.Dataset{
		Regions:    []dataset.Region{{Code: "A", Name: "a"}, {Code: "B", Name: "b"}},
		Indicators: []dataset.Indicator{{Code: "x", Name: "x", Unit: "u", Direction: analytics.HigherIsBetter, Measure: analytics.Level, Rollup: analytics.RollupSum, Decimals: -1}},
		Observations: []dataset.Observation{{Region: "A", Indicator: "x", Year: 2020, Value: 0.1},
			{Region: "B", Indicator: "x", Year: 2020, Value: 0.2}},
	}
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Import(context.Background(), d, "test"); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(context.Background(), store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for op, keep := range map[analytics.CompareOp]bool{analytics.OpLe: true, analytics.OpEq: true, analytics.OpGe: true, analytics.OpGt: false, analytics.OpLt: false} {
		a, err := e.Aggregate(context.Background(), analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimYear},
			Measures: []analytics.AggregateMeasure{analytics.MeasureSum}, Having: []analytics.Having{{Measure: analytics.MeasureSum, Op: op, Value: 0.3}}, First: 10})
		if err != nil {
			t.Fatal(err)
		}
		if (len(a.Rows) == 1) != keep {
			t.Errorf("SUM %s 0.3 keeps %d rows, want the row kept: %v", op, len(a.Rows), keep)
		}
	}
}

// gapToTier under cut-offs: what an entry lacks is the tier's cut-off less its total (what the composite
// ranks by; the cut-offs 70 and 40 given in the request), null when it is in that tier or better.
func TestGapToTierByCutoffs(t *testing.T) {
	e, _ := pointsEngine(t, 200, 3)
	q := analytics.CompositeQuery{Year: 2003, Scheme: "pts", ScopeQuery: analytics.ScopeQuery{Group: "G02"},
		Tiers: &analytics.TierRule{Cutoffs: []float64{70, 40}}}
	c, err := e.Composite(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, en := range c.Entries {
		total := en.Score
		if c.RankBy == analytics.RankByPoints { // the scheme ranks by points: its cut-offs are in points
			total = *en.Points
		}
		for tier, cut := range map[int]float64{1: 70, 2: 40} {
			g, err := en.GapToTier(tier)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case total >= cut && g != nil:
				t.Errorf("%s (total %v) is in tier %d or better: gap %v", en.Region.Code, total, tier, *g)
			case total < cut && (g == nil || math.Abs(*g-(cut-total)) > 1e-9):
				t.Errorf("%s (total %v) gapToTier(%d) = %v, want %v", en.Region.Code, total, tier, g, cut-total)
			case total < cut:
				checked++
			}
		}
	}
	if checked == 0 {
		t.Error("no entry below a cut-off: the test checks nothing")
	}
}
