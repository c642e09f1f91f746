package query

import (
	"context"
	"encoding/csv"
	"fmt"
	"io/fs"
	"strconv"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
	"pacesetter/analytics/dataset"
	"pacesetter/data"
)

// handWeightedMean is Σ v·w / Σ w worked out from rows of (region, indicator, year, value) read straight
// from observations.csv, over the regions given: the oracle of the weighted means, independent of the
// dataset reader, DuckDB and the matrices.
func handWeightedMean(t *testing.T, rows [][]string, value, weight string, year int, regions map[string]bool) float64 {
	t.Helper()
	vals, ws := map[string]float64{}, map[string]float64{}
	for _, r := range rows {
		if r[3] != strconv.Itoa(year) || !regions[r[0]] {
			continue
		}
		x, err := strconv.ParseFloat(r[4], 64)
		if err != nil {
			t.Fatal(err)
		}
		switch r[2] {
		case value:
			vals[r[0]] = x
		case weight:
			ws[r[0]] = x
		}
	}
	num, den := 0.0, 0.0
	for r, v := range vals {
		if w, ok := ws[r]; ok {
			num += v * w
			den += w
		}
	}
	return num / den
}

func nbsRows(t *testing.T) [][]string {
	t.Helper()
	f, err := data.Default().Open("observations.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f.(fs.File)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

func TestWeightedMeanByHand(t *testing.T) {
	d, err := dataset.Read(data.Default())
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, d, Options{CacheEntries: 100})
	ctx := context.Background()
	rows := nbsRows(t)
	y := 2024
	for _, c := range []struct {
		indicator string
		scope     analytics.ScopeQuery
	}{
		{"disposable_income_pc", analytics.ScopeQuery{}},
		{"disposable_income_pc", analytics.ScopeQuery{Group: "East"}},
		{"consumption_pc", analytics.ScopeQuery{Parent: "CN"}},
		{"birth_rate", analytics.ScopeQuery{Group: "West"}},
	} {
		rk, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: c.indicator, Year: &y, ScopeQuery: c.scope})
		if err != nil {
			t.Fatal(err)
		}
		in := map[string]bool{}
		for _, en := range rk.Entries {
			in[en.Region.Code] = true
		}
		want := calc.Round12(handWeightedMean(t, rows, c.indicator, "population", y, in))
		got, err := e.WeightedMean(ctx, rk, "population")
		if err != nil || got == nil || !near(*got, want) {
			t.Fatalf("%s %+v: weighted mean %v (%v), by hand %v", c.indicator, c.scope, got, err, want)
		}
		if *got == *rk.Mean {
			t.Fatalf("%s: the weighted mean equals the plain mean %v: the test cannot tell them apart", c.indicator, *rk.Mean)
		}
		// compare's WEIGHTED_MEAN baseline is the same number.
		sq := c.scope
		cmp, err := e.Compare(ctx, analytics.CompareQuery{Regions: []string{rk.Entries[0].Region.Code}, Indicators: []string{c.indicator}, From: y, To: y,
			Scope: &sq, Baseline: &analytics.BaselineQuery{Stat: analytics.BaselineWeightedMean, Weight: "population"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(cmp.Rows) != 1 || cmp.Rows[0].Baseline == nil || *cmp.Rows[0].Baseline != *got ||
			cmp.Rows[0].Difference == nil || !near(*cmp.Rows[0].Difference, rk.Entries[0].Value-want) {
			t.Fatalf("compare baseline %+v, want %v", cmp.Rows[0], *got)
		}
		t.Logf("%s %+v: weighted %v, unweighted %v", c.indicator, c.scope, *got, *rk.Mean)
	}
	// A weight no region has that year: no weighted mean; an unknown weight: NOT_FOUND with a suggestion.
	rk, _ := e.Ranking(ctx, analytics.RankingQuery{Indicator: "gdp", Year: ptr(2019)})
	if m, err := e.WeightedMean(ctx, rk, "population"); err != nil || m != nil {
		t.Fatalf("gdp 2019 weighted by population (2024 only): %v %v", m, err)
	}
	if _, err := e.WeightedMean(ctx, rk, "populaton"); analytics.ErrorCode(err) != analytics.NotFound {
		t.Fatalf("unknown weight: %v", err)
	}
	for _, b := range []analytics.BaselineQuery{{Stat: analytics.BaselineWeightedMean}, {Stat: analytics.BaselineMean, Weight: "population"}} {
		if _, err := e.Compare(ctx, analytics.CompareQuery{Regions: []string{"320000"}, Indicators: []string{"gdp"}, From: 2020, To: 2020, Baseline: &b}); analytics.ErrorCode(err) != analytics.BadUserInput {
			t.Fatalf("baseline %+v: %v", b, err)
		}
	}
}

// On generated data of several sizes, against the same sum over the dataset's observations.
func TestWeightedMeanGenerated(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{30, 800, 5000} {
		d := dataset.Synthetic(uint64(n), n, 3, 4)
		e := newTestEngine(t, d, Options{CacheEntries: 100})
		y := 2003
		rk, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: "I001", Year: &y, ScopeQuery: analytics.ScopeQuery{Group: "G04"}})
		if err != nil {
			t.Fatal(err)
		}
		in := map[string]bool{}
		for _, en := range rk.Entries {
			in[en.Region.Code] = true
		}
		var rows [][]string
		for _, o := range d.Observations {
			rows = append(rows, []string{o.Region, "", o.Indicator, strconv.Itoa(o.Year), strconv.FormatFloat(o.Value, 'g', -1, 64)})
		}
		want := calc.Round12(handWeightedMean(t, rows, "I001", "I002", y, in))
		got, err := e.WeightedMean(ctx, rk, "I002")
		if err != nil || got == nil || !near(*got, want) {
			t.Fatalf("%d regions: %v (%v), by hand %v", n, got, err, want)
		}
	}
}

// A parent's own value is its baseline where it has one (OBSERVED), and its children's rollup only where it
// has none (ROLLED_UP); worked out here from the observations: the sum of every child's value in the year,
// none when a child has none.
func TestParentBaselineSource(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{12, 300} {
		d := dataset.Synthetic(uint64(n)+1, n, 2, 5)
		d.Indicators[0].Rollup, d.Indicators[0].FillParents = analytics.RollupSum, true
		d.Observations = append(d.Observations, dataset.Observation{Region: "ROOT", Indicator: "I001", Year: 2002, Value: 12345.5})
		d.SortObservations()
		dir := t.TempDir()
		if err := d.WriteDir(dir); err != nil {
			t.Fatal(err)
		}
		d2, err := dataset.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		e := newTestEngine(t, d2, Options{})
		sums, counts := map[int]float64{}, map[int]int{}
		for _, o := range d.Observations {
			if o.Indicator == "I001" && o.Region != "ROOT" {
				sums[o.Year] += o.Value
				counts[o.Year]++
			}
		}
		c, err := e.Compare(ctx, analytics.CompareQuery{Regions: []string{"R" + fmt.Sprintf("%04d", 1)}, Indicators: []string{"I001"}, From: 2001, To: 2005,
			Baseline: &analytics.BaselineQuery{Stat: analytics.BaselineParent}})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[analytics.BaselineSource]int{}
		for _, row := range c.Rows {
			switch {
			case row.Year == 2002:
				if row.Baseline == nil || *row.Baseline != 12345.5 || row.BaselineSource == nil || *row.BaselineSource != analytics.SourceObserved {
					t.Fatalf("%d: 2002 baseline %v %v, want the parent's own 12345.5 OBSERVED", n, row.Baseline, row.BaselineSource)
				}
			case counts[row.Year] == n:
				if row.Baseline == nil || !near(*row.Baseline, sums[row.Year]) || *row.BaselineSource != analytics.SourceRolledUp {
					t.Fatalf("%d: %d baseline %v %v, want the rollup %v", n, row.Year, row.Baseline, row.BaselineSource, sums[row.Year])
				}
			default:
				if row.Baseline != nil || row.BaselineSource != nil {
					t.Fatalf("%d: %d baseline %v %v with a child missing", n, row.Year, row.Baseline, row.BaselineSource)
				}
			}
			if row.BaselineSource != nil {
				seen[*row.BaselineSource]++
			}
		}
		if seen[analytics.SourceObserved] != 1 {
			t.Fatalf("%d: sources %v", n, seen)
		}
		t.Logf("%d regions: sources %v", n, seen)
	}
}
