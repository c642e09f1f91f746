package query

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/internal/fixture"
)

// The aggregate statement is checked against a plain-Go statement of the schema's rules over the dataset's
// own observations (never DuckDB), on random datasets: memberships by year, parents with rolled-up values,
// levels, vintages, indicators that add up and ones that do not.

// refObs is one value that counts, with what it can be grouped by.
type refObs struct {
	region, indicator, parent, level, category string
	rollup                                     analytics.Rollup
	year                                       int
	value                                      float64
}

// refFiltered lists the values a filter keeps: newest vintage (or newest released by asOf), and without a
// filter naming regions only regions with a value of their own (not RolledUp) of the indicator none of
// whose children (by parent) has one.
func refFiltered(d *dataset.Dataset, f analytics.ValueFilter) []refObs {
	regions := map[string]dataset.Region{}
	for _, r := range d.Regions {
		regions[r.Code] = r
	}
	inds := map[string]dataset.Indicator{}
	for _, in := range d.Indicators {
		inds[in.Code] = in
	}
	own := map[string]bool{}
	type key struct {
		r, i string
		y    int
	}
	latest, chosen := map[key]dataset.Observation{}, map[key]dataset.Observation{}
	for _, o := range d.Observations { // sorted: a later row of a key is a newer vintage
		latest[key{o.Region, o.Indicator, o.Year}] = o
		if f.AsOf == nil || o.Vintage <= *f.AsOf {
			chosen[key{o.Region, o.Indicator, o.Year}] = o
		}
	}
	above := map[string]bool{} // region|indicator with a child in own
	for _, o := range latest {
		if o.Flags&analytics.RolledUp == 0 {
			own[o.Region+"|"+o.Indicator] = true
			if p := regions[o.Region].Parent; p != "" {
				above[p+"|"+o.Indicator] = true
			}
		}
	}
	var out []refObs
	for _, o := range chosen {
		r, in := regions[o.Region], inds[o.Indicator]
		member := func(g string) bool {
			for _, m := range d.Memberships {
				if m.Group == g && m.Region == o.Region && (m.From == 0 || m.From <= o.Year) && (m.To == 0 || o.Year <= m.To) {
					return true
				}
			}
			return false
		}
		if f.Regions != nil && !slices.Contains(f.Regions, o.Region) || f.Indicators != nil && !slices.Contains(f.Indicators, o.Indicator) ||
			f.Group != "" && !member(f.Group) || f.Parent != "" && r.Parent != f.Parent || f.Level != "" && r.Level != f.Level ||
			f.Category != "" && in.Category != f.Category || f.From != nil && o.Year < *f.From || f.To != nil && o.Year > *f.To ||
			!f.NarrowsRegions() && (!own[o.Region+"|"+o.Indicator] || above[o.Region+"|"+o.Indicator]) {
			continue
		}
		out = append(out, refObs{o.Region, o.Indicator, r.Parent, r.Level, in.Category, in.Rollup, o.Year, o.Value})
	}
	return out
}

// refStats are the measures of one group of values, as the schema states them.
type refStats struct {
	count                               int
	sum                                 *float64
	mean, median, min, max, stddev, q30 float64
	stddevOK                            bool
}

func refMeasures(obs []refObs) refStats {
	var vals []float64
	adds := true
	for _, o := range obs {
		vals = append(vals, o.value)
		adds = adds && o.rollup == analytics.RollupSum
	}
	sort.Float64s(vals)
	n := len(vals)
	st := refStats{count: n, min: vals[0], max: vals[n-1]}
	total := 0.0
	for _, v := range vals {
		total += v
	}
	if adds {
		st.sum = &total
	}
	st.mean = total / float64(n)
	quantile := func(p float64) float64 { // linear between the two nearest ranks
		h := p * float64(n-1)
		lo := math.Floor(h)
		if int(lo)+1 >= n {
			return vals[n-1]
		}
		return vals[int(lo)] + (h-lo)*(vals[int(lo)+1]-vals[int(lo)])
	}
	st.median, st.q30 = quantile(0.5), quantile(0.3)
	if n > 1 {
		ss := 0.0
		for _, v := range vals {
			ss += (v - st.mean) * (v - st.mean)
		}
		st.stddev, st.stddevOK = math.Sqrt(ss/float64(n-1)), true
	}
	return st
}

// refGroupKeys are the groups an observation falls in: one per combination of its dimensions, and one per
// group its region is a member of that year for GROUP (only the filter's group, when it names one).
func refGroupKeys(d *dataset.Dataset, f analytics.ValueFilter, o refObs, by []analytics.Dimension) []string {
	keys := []string{""}
	for _, dim := range by {
		var vals []string
		switch dim {
		case analytics.DimRegion:
			vals = []string{o.region}
		case analytics.DimParent:
			vals = []string{o.parent}
		case analytics.DimLevel:
			vals = []string{o.level}
		case analytics.DimIndicator:
			vals = []string{o.indicator}
		case analytics.DimCategory:
			vals = []string{o.category}
		case analytics.DimYear:
			vals = []string{fmt.Sprint(o.year)}
		case analytics.DimPeriod: // this reference's values are annual: a year's period is its four digits
			vals = []string{fmt.Sprintf("%04d", o.year)}
		case analytics.DimGroup:
			for _, m := range d.Memberships {
				if (f.Group == "" || m.Group == f.Group) && m.Region == o.region && (m.From == 0 || m.From <= o.year) && (m.To == 0 || o.year <= m.To) && !slices.Contains(vals, m.Group) {
					vals = append(vals, m.Group)
				}
			}
		}
		var next []string
		for _, k := range keys {
			for _, v := range vals {
				next = append(next, k+"|"+v)
			}
		}
		keys = next
	}
	return keys
}

func rowKey(r *analytics.AggregateRow, by []analytics.Dimension) string {
	k := ""
	for _, dim := range by {
		v := ""
		switch dim {
		case analytics.DimRegion:
			v = r.Region.Code
		case analytics.DimParent:
			if r.Parent != nil {
				v = r.Parent.Code
			}
		case analytics.DimLevel:
			if r.Level != nil {
				v = *r.Level
			}
		case analytics.DimIndicator:
			v = r.Indicator.Code
		case analytics.DimCategory:
			if r.Category != nil {
				v = *r.Category
			}
		case analytics.DimYear:
			v = fmt.Sprint(*r.Year)
		case analytics.DimPeriod:
			v = *r.Period
		case analytics.DimGroup:
			v = r.Group.Code
		}
		k += "|" + v
	}
	return k
}

// shareKey drops REGION from a row key: the rows a share is taken within.
func shareKey(key string, by []analytics.Dimension) string {
	parts := strings.Split(key, "|")[1:]
	k := ""
	for i, dim := range by {
		if dim != analytics.DimRegion {
			k += "|" + parts[i]
		}
	}
	return k
}

func TestAggregateMatchesReference(t *testing.T) {
	ctx := context.Background()
	all := analytics.AllMeasures
	checked := 0
	for seed := range uint64(25) {
		rng := rand.New(rand.NewPCG(seed, 11))
		d := fixture.RandomDataset(rng)
		for i := range d.Indicators { // some add up, with a category each
			d.Indicators[i].Category = []string{"a", "b"}[rng.IntN(2)]
			if rng.IntN(2) == 0 {
				d.Indicators[i].Rollup = analytics.RollupSum
			}
		}
		// The parents get values of their own in some years and rolled-up ones in others: without a filter
		// naming regions, only the former count, and only of a parent none of whose children has a value of
		// its own (P1 without children, or whose children have no values). ROOT, above P1 and P2, has a value
		// of its own in 2002 of some indicators: it counts only where P1 has none of its own.
		for _, in := range d.Indicators {
			if rng.IntN(2) == 0 {
				d.Observations = append(d.Observations, dataset.Observation{Region: "ROOT", Indicator: in.Code, Year: 2002, Value: float64(rng.IntN(9))})
			}
			for y := 2000; y <= 2004; y++ {
				f := analytics.FlagSet(0)
				if rng.IntN(2) == 0 {
					f = analytics.Derived | analytics.RolledUp
				}
				d.Observations = append(d.Observations, dataset.Observation{Region: "P1", Indicator: in.Code, Year: y, Value: float64(rng.IntN(9)), Flags: f})
				d.Observations = append(d.Observations, dataset.Observation{Region: "P2", Indicator: in.Code, Year: y, Value: float64(rng.IntN(9)),
					Flags: analytics.Derived | analytics.RolledUp})
			}
		}
		d.SortObservations()
		e := newTestEngine(t, d, Options{})
		// Every other dataset takes the measures meant for values at the edges of a double (measureSQLWide):
		// on ordinary values they must give the plain answers.
		e.snap.Load().Wide = seed%2 == 1
		for trial := range 8 {
			var by []analytics.Dimension
			for _, dim := range analytics.AllDimensions {
				if rng.IntN(3) == 0 {
					by = append(by, dim)
				}
			}
			if len(by) == 0 {
				by = []analytics.Dimension{analytics.AllDimensions[rng.IntN(len(analytics.AllDimensions))]}
			}
			var f analytics.ValueFilter
			switch rng.IntN(5) {
			case 1:
				f.Group = d.Groups[rng.IntN(len(d.Groups))].Code
			case 2:
				f.Level = d.Regions[rng.IntN(len(d.Regions))].Level
			case 3:
				f.Parent = "P1"
			}
			if rng.IntN(3) == 0 {
				f.From = ptr(2001 + rng.IntN(2))
			}
			if rng.IntN(3) == 0 {
				f.AsOf = asOfs[2+rng.IntN(3)]
			}
			if rng.IntN(3) == 0 {
				f.Category = "a"
				if !slices.ContainsFunc(d.Indicators, func(in dataset.Indicator) bool { return in.Category == "a" }) {
					f.Category = "b"
				}
			}
			q := analytics.AggregateQuery{By: by, Filter: f, Measures: all, Quantiles: []float64{0.3}, Totals: all[:len(all)-1], First: MaxAggregatePage}
			got, err := e.Aggregate(ctx, q)
			if err != nil {
				t.Fatalf("seed %d trial %d %+v: %v", seed, trial, q, err)
			}
			obs := refFiltered(d, f)
			groups := map[string][]refObs{}
			for _, o := range obs {
				for _, k := range refGroupKeys(d, f, o, by) {
					groups[k] = append(groups[k], o)
				}
			}
			shareTotal := map[string]float64{} // rows without a sum have no share, and add nothing to the others'
			for k, g := range groups {
				if st := refMeasures(g); st.sum != nil {
					shareTotal[shareKey(k, by)] += *st.sum
				}
			}
			what := fmt.Sprintf("seed %d trial %d by %v filter %+v", seed, trial, by, f)
			if len(got.Rows) != len(groups) || got.TotalCount != len(groups) {
				t.Fatalf("%s: %d rows (total %d), want %d", what, len(got.Rows), got.TotalCount, len(groups))
			}
			// checkRows holds each row to its group of the reference: the measures asked for (and the
			// quantile 0.3 if quantile) as the reference has them, the others null.
			checkRows := func(what string, rows []*analytics.AggregateRow, asked []analytics.AggregateMeasure, quantile bool) {
				t.Helper()
				for _, r := range rows {
					k := rowKey(r, by)
					g, ok := groups[k]
					if !ok {
						t.Fatalf("%s: row %s is not a group of the reference", what, k)
					}
					st := refMeasures(g)
					checkNum := func(name string, got *float64, want float64, ok bool) {
						t.Helper()
						if !ok || !slices.Contains(asked, analytics.AggregateMeasure(strings.ToUpper(name))) && (name != "quantile(0.3)" || !quantile) {
							if got != nil {
								t.Errorf("%s row %s: %s = %v, want null", what, k, name, *got)
							}
							return
						}
						if got == nil || !near(*got, want) {
							t.Errorf("%s row %s: %s = %v, want %v", what, k, name, show64(got), want)
						}
					}
					if c := slices.Contains(asked, analytics.MeasureCount); c && (r.Count == nil || *r.Count != st.count) || !c && r.Count != nil {
						t.Errorf("%s row %s: count %v, want %d (asked: %v)", what, k, show(r.Count), st.count, c)
					}
					checkNum("sum", r.Sum, deref64(st.sum), st.sum != nil)
					checkNum("mean", r.Mean, st.mean, true)
					checkNum("median", r.Median, st.median, true)
					checkNum("min", r.Min, st.min, true)
					checkNum("max", r.Max, st.max, true)
					checkNum("stddev", r.Stddev, st.stddev, st.stddevOK)
					checkNum("quantile(0.3)", r.Quantile(0.3), st.q30, true)
					sk := shareKey(k, by)
					checkNum("share", r.Share, deref64(st.sum)/shareTotal[sk], st.sum != nil && shareTotal[sk] != 0)
					checked++
				}
			}
			checkRows(what, got.Rows, all, true)
			// The same groups as a client mostly asks for them: a few measures, no totals, often no
			// totalCount. That is the lean statement with only those measures' columns (and no count of
			// the groups without totalCount): its rows must be the reference's too, in pages that add up.
			var some []analytics.AggregateMeasure
			for _, m := range all {
				if rng.IntN(3) == 0 {
					some = append(some, m)
				}
			}
			lq := analytics.AggregateQuery{By: by, Filter: f, Measures: some, First: 1 + rng.IntN(len(groups)+1), NoTotalCount: rng.IntN(2) == 0}
			if rng.IntN(2) == 0 {
				lq.Quantiles = []float64{0.3}
			}
			lean, seen := &analytics.Aggregate{HasNextPage: true}, 0
			for page := 0; lean.HasNextPage; page++ {
				if page > 0 {
					lq.After = lean.Cursors[len(lean.Cursors)-1]
				}
				if lean, err = e.Aggregate(ctx, lq); err != nil {
					t.Fatalf("%s, lean %+v: %v", what, lq, err)
				}
				lwhat := fmt.Sprintf("%s, page %d of %d rows of %v (no totalCount: %v)", what, page, lq.First, some, lq.NoTotalCount)
				checkRows(lwhat, lean.Rows, some, lq.Quantiles != nil)
				if !lq.NoTotalCount && lean.TotalCount != len(groups) {
					t.Errorf("%s: total count %d, want %d", lwhat, lean.TotalCount, len(groups))
				}
				seen += len(lean.Rows)
			}
			if seen != len(groups) {
				t.Errorf("%s: the lean pages hold %d rows, want %d", what, seen, len(groups))
			}
			if len(obs) > 0 {
				tot := refMeasures(obs)
				if *got.Totals.Count != tot.count || !near(*got.Totals.Mean, tot.mean) || !near(*got.Totals.Min, tot.min) ||
					(tot.sum == nil) != (got.Totals.Sum == nil) || tot.sum != nil && !near(*got.Totals.Sum, *tot.sum) {
					t.Errorf("%s: totals %+v, want %+v", what, got.Totals, tot)
				}
			}
		}
	}
	if checked < 500 {
		t.Errorf("only %d rows checked", checked)
	}
}

func deref64(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func show64(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// A page of an aggregate by region, indicator and year with previous looks up only its own groups a year
// earlier: on 3,000 regions × 10 indicators × 5 years the years before a first page hold 120,000 groups
// (more than MaxPivotCells, which refused it); a page of 10 rows (one region, two indicators) needs 8 of
// them, one of 500 (ten regions) 400. Each row's previous mean is the region's own value of the indicator
// the year before, read from the dataset (its newest vintage).
func TestAggregatePreviousOfAPage(t *testing.T) {
	d := dataset.Synthetic(11, 3000, 10, 5)
	e := newTestEngine(t, d, Options{})
	latest := map[string]dataset.Observation{}
	for _, o := range d.Observations {
		k := fmt.Sprintf("%s|%s|%d", o.Region, o.Indicator, o.Year)
		if cur, ok := latest[k]; !ok || o.Vintage > cur.Vintage {
			latest[k] = o
		}
	}
	for _, first := range []int{10, 500} {
		agg, err := e.Aggregate(context.Background(), analytics.AggregateQuery{
			By:       []analytics.Dimension{analytics.DimRegion, analytics.DimIndicator, analytics.DimYear},
			Measures: []analytics.AggregateMeasure{analytics.MeasureMean}, First: first, Previous: true})
		if err != nil {
			t.Fatalf("first %d: %v", first, err)
		}
		if len(agg.Rows) != first {
			t.Fatalf("first %d: %d rows", first, len(agg.Rows))
		}
		linked := 0
		for _, r := range agg.Rows {
			prev, ok := latest[fmt.Sprintf("%s|%s|%d", r.Region.Code, r.Indicator.Code, *r.Year-1)]
			got := r.Previous(analytics.MeasureMean)
			switch {
			case !ok && got != nil:
				t.Errorf("%s %s %d: previous %v, but the year before has no value", r.Region.Code, r.Indicator.Code, *r.Year, *got)
			case ok && (got == nil || *got != prev.Value):
				t.Errorf("%s %s %d: previous %v, want %v", r.Region.Code, r.Indicator.Code, *r.Year, got, prev.Value)
			case ok:
				linked++
			}
		}
		if linked == 0 {
			t.Errorf("first %d: no row has a previous to check", first)
		}
	}
}

// Without totals an aggregate takes duck's lean statement, which orders regions, groups and indicators by
// their place in the dataset without a join where it can (by the code itself when the dataset's order is
// the codes', by the code's place in a short list otherwise); a long list in another order is looked up,
// in the classic statement. On a dataset of each kind, every page of first 7 is checked against the
// reference: each group once with its count and mean, in the order the schema states (dataset order, then
// years up), counted in totalCount, and a page after the last is empty with the same totalCount. The
// expected order is the dataset's slices' own, sorted here by position.
func TestAggregatePagesInDatasetOrder(t *testing.T) {
	ctx := context.Background()
	sorted := dataset.Synthetic(3, 40, 6, 4) // ROOT first: moved last, every code is then in its own order
	sorted.Regions = append(sorted.Regions[1:], sorted.Regions[0])
	slices.SortFunc(sorted.Groups, func(a, b dataset.Group) int { return strings.Compare(a.Code, b.Code) })
	shuffled := dataset.Synthetic(3, 40, 6, 4) // ROOT first, groups as met, indicators reversed: short lists
	slices.Reverse(shuffled.Indicators)
	long := dataset.Synthetic(5, 100, 3, 3) // 101 regions, ROOT first: looked up
	for _, c := range []struct {
		name string
		d    *dataset.Dataset
	}{{"sorted", sorted}, {"shuffled", shuffled}, {"long", long}} {
		e := newTestEngine(t, c.d, Options{})
		pos := map[string]int{} // a code's place in its kind's dataset order
		for i, r := range c.d.Regions {
			pos["r"+r.Code] = i
		}
		for i, g := range c.d.Groups {
			pos["g"+g.Code] = i
		}
		for i, in := range c.d.Indicators {
			pos["i"+in.Code] = i
		}
		for _, by := range [][]analytics.Dimension{{analytics.DimIndicator, analytics.DimYear}, {analytics.DimRegion, analytics.DimYear},
			{analytics.DimGroup, analytics.DimIndicator}, {analytics.DimYear, analytics.DimGroup, analytics.DimRegion}} {
			f := analytics.ValueFilter{From: ptr(2002)}
			groups := map[string][]refObs{}
			for _, o := range refFiltered(c.d, f) {
				for _, k := range refGroupKeys(c.d, f, o, by) {
					groups[k] = append(groups[k], o)
				}
			}
			var want []string
			for k := range groups {
				want = append(want, k)
			}
			rank := func(k string) []int {
				var out []int
				for i, v := range strings.Split(k, "|")[1:] {
					switch by[i] {
					case analytics.DimRegion:
						out = append(out, pos["r"+v])
					case analytics.DimGroup:
						out = append(out, pos["g"+v])
					case analytics.DimIndicator:
						out = append(out, pos["i"+v])
					default:
						y := 0
						fmt.Sscan(v, &y)
						out = append(out, y)
					}
				}
				return out
			}
			slices.SortFunc(want, func(a, b string) int { return slices.Compare(rank(a), rank(b)) })
			what := fmt.Sprintf("%s by %v", c.name, by)
			q := analytics.AggregateQuery{By: by, Filter: f, Measures: []analytics.AggregateMeasure{analytics.MeasureCount, analytics.MeasureMean}, First: 7}
			var got []string
			for page := 0; ; page++ {
				agg, err := e.Aggregate(ctx, q)
				if err != nil {
					t.Fatalf("%s page %d: %v", what, page, err)
				}
				if agg.TotalCount != len(want) {
					t.Fatalf("%s page %d: totalCount %d, want %d", what, page, agg.TotalCount, len(want))
				}
				for _, r := range agg.Rows {
					k := rowKey(r, by)
					got = append(got, k)
					if g, ok := groups[k]; !ok || *r.Count != len(g) || !near(*r.Mean, refMeasures(g).mean) {
						t.Fatalf("%s: row %s count %d mean %v, want %d values", what, k, *r.Count, *r.Mean, len(g))
					}
				}
				if !agg.HasNextPage {
					if len(agg.Rows) == 0 {
						t.Fatalf("%s page %d: empty", what, page)
					}
					q.After = agg.Cursors[len(agg.Cursors)-1]
					break
				}
				q.After = agg.Cursors[len(agg.Cursors)-1]
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: rows in order\n%v\nwant\n%v", what, got, want)
			}
			past, err := e.Aggregate(ctx, q)
			if err != nil || len(past.Rows) != 0 || past.HasNextPage || past.TotalCount != len(want) {
				t.Fatalf("%s: the page after the last: %v rows, totalCount %d (want 0, %d), %v", what, len(past.Rows), past.TotalCount, len(want), err)
			}
		}
	}
}
