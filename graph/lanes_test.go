package graph

import (
	"testing"
)

// TestCheapLaneClassification prices the shapes admission sees most (the dashboard's requests, lookups,
// standings, composites, robustness, aggregates) with the real cost model on datasets of several sizes,
// and checks which lane each enters under the default bounds (CheapOperation with DefaultCheapCost and
// DefaultCheapWork): rankings, trends, lookups and one indicator's pivot are cheap at every size, and
// composites, robustness, standings and aggregates over many indicators of a big scope are costly at every
// size that has such a scope. The classification is written by hand from what each shape does; a change of
// prices or bounds that moves a composite into the cheap lane (or a full ranking out of it) fails here.
// Two works are checked against a count by hand: a ranking of every region reads this year's and last
// year's values, 3,000 × 2 / 20 = 300, plus 1 for the field; an aggregate of every value of the 3 M set
// scans 3,000 × 50 × 20 / 1,000 = 3,000.
func TestCheapLaneClassification(t *testing.T) {
	base := nbsEngine(t)
	dash := map[string]example{}
	for _, ex := range dashboardQueries(t) {
		dash[ex.where] = ex
	}
	sizes := []datasetSize{
		costSizes[0], // NBS: 31 provinces × 27 indicators × 10 years, 5 k values
		{name: "1,000×50×5 (250 k, pacebench lanes)", regions: 1000, indicators: 50, years: 5, density: 1, scaled: true},
		costSizes[2], // 1,000 × 50 × 20, 1 M
		costSizes[3], // 3,000 × 50 × 20, 3 M
	}
	// A shape's lane may depend on the size: cheap, except costly where the dataset has a big scope (1,000
	// regions or more, for composites, robustness and standings over every region) or where it reads a
	// large scan (a million values or more, for aggregates of every value).
	const (
		cheap = iota
		costly
		costlyOverBigScope
		costlyOverBigScan
	)
	type shape struct {
		example
		lane int
	}
	for _, size := range sizes {
		s := NewSchema(scale(base, &size))
		fifty := []any{}
		for i, c := range append([]string{"gdp", "population", "retail_sales", "fiscal_revenue"}, size.synthetic...) {
			if i < 50 {
				fifty = append(fifty, map[string]any{"indicator": c, "weight": i%4 + 1})
			}
		}
		in := map[string]any{"in": map[string]any{"year": 2024, "indicators": fifty}}
		shapes := []shape{
			{dash["dashboard ranking of a group"], cheap},
			{dash["dashboard ranking"], cheap}, // every region listed
			{dash["dashboard trend"], cheap},
			{dash["dashboard catalog"], cheap},
			{dash["dashboard pivot"], cheap}, // one indicator, every region × year
			{dash["dashboard pivot of a group"], cheap},
			{dash["dashboard comparison"], cheap},
			{example{"lookup", `{ region(code: "320000") { code name value(indicator: "gdp", year: 2024) rank(indicator: "gdp", year: 2024) } }`, nil}, cheap},
			{example{"version", `{ dataset { version observations } }`, nil}, cheap},
			{example{"top 10", `{ ranking(indicator: "gdp", year: 2024) { count entries(top: 10) { region { code } value rank } } }`, nil}, cheap},
			{example{"standings of a group", `{ standings(region: "320000", year: 2024, group: "East") { ranked inTop entries { indicator { code } rank } } }`, nil}, cheap},
			{example{"standings of every region", `{ standings(region: "320000", year: 2024) { ranked inTop entries { indicator { code } rank } } }`, nil}, costlyOverBigScope},
			{example{"composite", `query($in: CompositeInput!) { composite(input: $in) { entries { region { code name } score rank tier } } }`, in}, costlyOverBigScope},
			{example{"composite top 10", `query($in: CompositeInput!) { composite(input: $in) { entries(first: 10) { region { code } score rank } } }`, in}, costlyOverBigScope},
			{example{"robustness", `query($in: CompositeInput!) { robustness(input: $in, runs: 1000) { entries { region { code } medianRank p05Rank p95Rank } } }`, in}, costlyOverBigScope},
			{example{"aggregate of every value by year", `{ aggregate(by: [YEAR]) { rows { year count mean } } }`, nil}, costlyOverBigScan},
			{example{"aggregate by region", `{ aggregate(by: [REGION], first: 5000) { rows { region { code } count mean } } }`, nil}, costlyOverBigScan},
			{example{"aggregate region × indicator × year", `{ aggregate(by: [REGION, INDICATOR, YEAR], first: 10000) { rows { region { code } indicator { code } year mean } } }`, nil}, costly},
		}
		for _, sh := range shapes {
			if sh.query == "" {
				t.Fatalf("%s: no such query", sh.where)
			}
			// On smaller sets these are small: on the NBS set (31 provinces) a composite of all 27 indicators
			// takes 0.6 ms hot and its robustness 4.6 ms (docs/performance.md); 250 k values scan in a few ms.
			want := sh.lane == cheap ||
				sh.lane == costlyOverBigScope && size.regions < 1000 ||
				sh.lane == costlyOverBigScan && size.observations < 1000000
			cost, work, err := priceWork(t, s, sh.query, sh.vars, 1<<30)
			if err != nil {
				t.Fatalf("%s on %s: %v", sh.where, size.name, err)
			}
			if got := CheapOperation(cost, work, DefaultCheapCost, DefaultCheapWork); got != want {
				t.Errorf("%s on %s: cost %d, work %d: cheap %v, want %v", sh.where, size.name, cost, work, got, want)
			}
			t.Logf("%-36s %-36s cost %6d work %6d cheap %v", size.name, sh.where, cost, work, want)
			switch {
			case sh.where == "dashboard ranking" && size.regions == 3000 && work != 3000*2/20+1:
				t.Errorf("a ranking of 3,000 regions: work %d, want 301", work)
			case sh.where == "aggregate of every value by year" && size.regions == 3000 && work != 3000*50*20/1000:
				t.Errorf("an aggregate of 3 M values: work %d, want 3,000", work)
			}
		}
	}
	// One lane for all with a negative cheap cost; nothing over either bound is cheap.
	if CheapOperation(0, 0, -1, DefaultCheapWork) || CheapOperation(DefaultCheapCost+1, 0, DefaultCheapCost, DefaultCheapWork) ||
		CheapOperation(1, DefaultCheapWork+1, DefaultCheapCost, DefaultCheapWork) || !CheapOperation(DefaultCheapCost, DefaultCheapWork, DefaultCheapCost, DefaultCheapWork) {
		t.Error("CheapOperation's bounds")
	}
}
