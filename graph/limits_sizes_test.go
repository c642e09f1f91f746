package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/query"
	"pacesetter/data"
)

// The cost model reads only counts: the catalog's regions, groups and schemes, and the values per
// indicator and year (analytics.ValueCounts). So datasets too large to import in a test (25 million
// values: the World Bank WDI's 265 × 1,500 × 64) are priced here from counts built in the test over the
// real NBS catalog (its regions, groups, schemes, read from DuckDB), as if the dataset had that many
// regions, indicators and years with a value in each (or, with density, that share of them). The
// queries priced are the real ones: every GraphQL example of README.md and docs/, every request the
// dashboard sends (read from dashboard.js), and the shapes issue 17 measured.

// scaledEngine is a real engine over the NBS dataset whose DatasetInfo says the dataset is larger.
type scaledEngine struct {
	*query.Engine
	info analytics.DatasetInfo
}

func (s scaledEngine) Dataset(context.Context) (*analytics.DatasetInfo, error) {
	info := s.info
	return &info, nil
}

// datasetSize is a dataset's shape: regions × indicators × years, of which a share has values.
type datasetSize struct {
	name                       string
	regions, indicators, years int
	density                    float64 // the share of region-indicator-years with a value
	scaled                     bool    // false: the NBS dataset itself
	observations               int     // filled by scale
	synthetic                  []string
}

// scale builds the counts of size: the NBS indicators first, then X0001… up to size.indicators, each
// with round(regions × density) values in each of the last size.years years up to 2025.
func scale(base *query.Engine, size *datasetSize) scaledEngine {
	info, _ := base.Dataset(context.Background())
	if !size.scaled {
		size.observations = info.Observations
		return scaledEngine{base, *info}
	}
	first, last := 2025-size.years+1, 2025
	counts := analytics.NewValueCounts(first, last)
	inds, _ := base.Indicators(context.Background())
	codes := []string{}
	for _, in := range inds {
		codes = append(codes, in.Code)
	}
	for i := 1; len(codes) < size.indicators; i++ {
		codes = append(codes, fmt.Sprintf("X%04d", i))
		size.synthetic = append(size.synthetic, codes[len(codes)-1])
	}
	per := int(float64(size.regions)*size.density + 0.5)
	for _, c := range codes[:size.indicators] {
		for y := first; y <= last; y++ {
			counts.Add(c, y, per)
		}
	}
	size.observations = per * size.indicators * size.years
	out := *info
	out.Regions, out.Indicators, out.Observations = size.regions, size.indicators, size.observations
	out.FirstYear, out.LastYear, out.Counts = &first, &last, counts
	return scaledEngine{base, out}
}

// price runs costLimit on one operation as the handler does (parsed, validated, variables coerced) and
// returns its cost, or the refusal.
func price(t *testing.T, s *Schema, q string, vars map[string]any, limit int) (int, error) {
	t.Helper()
	cost, _, err := priceWork(t, s, q, vars, limit)
	return cost, err
}

// priceWork is price with the work part of the cost (OperationWork).
func priceWork(t *testing.T, s *Schema, q string, vars map[string]any, limit int) (cost, work int, err error) {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(s.es.Schema(), q)
	if errs != nil {
		return 0, 0, fmt.Errorf("invalid: %v", errs)
	}
	op := doc.Operations[0]
	coerced, err := validator.VariableValues(s.es.Schema(), op, vars)
	if err != nil {
		return 0, 0, fmt.Errorf("variables: %v", err)
	}
	rc := &graphql.OperationContext{RawQuery: q, Variables: coerced, Doc: doc, Operation: op}
	cl := &costLimit{limit: limit, introspection: true}
	if err := cl.Validate(s.Executable()); err != nil {
		t.Fatal(err)
	}
	if gerr := cl.MutateOperationContext(context.Background(), rc); gerr != nil {
		return 0, 0, gerr
	}
	return rc.Stats.GetExtension(costExtension).(int), rc.Stats.GetExtension(workExtension).(int), nil
}

// example is a query to price, with where it comes from.
type example struct {
	where string
	query string
	vars  map[string]any
}

// docQueries are the ```graphql blocks of README.md and docs/*.md (schema.md holds definitions), with
// their "# variables:" lines.
func docQueries(t *testing.T) []example {
	files, _ := filepath.Glob("../docs/*.md")
	files = append(files, "../README.md")
	var out []example
	for _, f := range files {
		if filepath.Base(f) == "schema.md" {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		for i := 0; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) != "```graphql" {
				continue
			}
			ex := example{where: fmt.Sprintf("%s:%d", filepath.Base(f), i+1)}
			var q []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				if v, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "# variables:"); ok {
					if err := json.Unmarshal([]byte(v), &ex.vars); err != nil {
						t.Fatalf("%s: variables: %v", ex.where, err)
					}
					continue
				}
				q = append(q, lines[i])
			}
			ex.query = strings.Join(q, "\n")
			out = append(out, ex)
		}
	}
	return out
}

// dashboardQueries are the dashboard's requests (the Q table of dashboard.js), each with the variables it
// sends: the catalog, a ranking with and without a group, a trend, a pivot with and without a group, and
// a comparison of the most regions it holds (6).
func dashboardQueries(t *testing.T) []example {
	raw, err := os.ReadFile("server/assets/dashboard.js")
	if err != nil {
		t.Fatal(err)
	}
	q := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)\n  (\\w+): `(.*?)`").FindAllStringSubmatch(string(raw), -1) {
		q[m[1]] = m[2]
	}
	six := []any{"110000", "120000", "130000", "140000", "150000", "210000"}
	out := []example{
		{"dashboard catalog", q["catalog"], nil},
		{"dashboard ranking", q["ranking"], map[string]any{"i": "gdp", "y": 2024}},
		{"dashboard ranking of a group", q["ranking"], map[string]any{"i": "gdp", "y": 2024, "g": "East"}},
		{"dashboard trend", q["trend"], map[string]any{"r": "320000", "i": "gdp"}},
		{"dashboard pivot", q["pivot"], map[string]any{"i": "gdp"}},
		{"dashboard pivot of a group", q["pivot"], map[string]any{"i": "gdp", "f": map[string]any{"group": "East"}}},
		{"dashboard comparison", q["compare"], map[string]any{"i": "gdp", "rs": six}},
		{"dashboard comparison export", q["compareRows"], map[string]any{"i": "gdp", "rs": six}},
		// A monthly or quarterly indicator's requests (priced here on the shapes of these datasets).
		{"dashboard periods", q["periods"], map[string]any{"i": "gdp"}},
		{"dashboard ranking by period", q["ranking"], map[string]any{"i": "gdp", "p": "2024-09"}},
		{"dashboard pivot of a year", q["pivot"], map[string]any{"i": "gdp", "t": "PERIOD", "f": map[string]any{"from": 2024, "to": 2024}}},
		{"dashboard comparison by period", q["compare"], map[string]any{"i": "gdp", "rs": six, "t": "PERIOD", "p": "2024-09"}},
		{"dashboard year to date", q["ytd"], map[string]any{"r": "320000", "i": "gdp", "from": "2023", "to": "2024-09", "p": "2024-09", "y": 2024}},
	}
	for _, ex := range out {
		if ex.query == "" {
			t.Fatalf("%s: no such query in dashboard.js", ex.where)
		}
	}
	return out
}

// issueQueries are the shapes issue 17 measured, on the NBS codes (and X0001… on the scaled datasets).
func issueQueries(synthetic []string) []example {
	fifty := []any{}
	for i, c := range append([]string{"gdp", "population", "retail_sales", "fiscal_revenue"}, synthetic...) {
		if i == 50 {
			break
		}
		fifty = append(fifty, map[string]any{"indicator": c, "weight": i%4 + 1})
	}
	return []example{
		{"issue: aggregate by year", `{ aggregate(by: [YEAR], first: 10) { rows { year count } } }`, nil},
		{"issue: aggregate of one region", `{ aggregate(by: [YEAR], filter: {regions: ["320000"]}, first: 10) { rows { year count } } }`, nil},
		{"issue: aggregate of two years", `{ aggregate(by: [YEAR], filter: {from: 2023, to: 2024}, first: 10) { rows { year count } } }`, nil},
		{"issue: standings", `{ standings(region: "320000", year: 2024) { ranked } }`, nil},
		{"issue: robustness of 50 indicators", `query($in: CompositeInput!) { robustness(input: $in, runs: 1000) { entries { region { code } medianRank p05Rank p95Rank } } }`,
			map[string]any{"in": map[string]any{"year": 2024, "indicators": fifty}}},
		{"issue: two panels", `{ a: ranking(indicator: "gdp", year: 2024, group: "East") { count } b: ranking(indicator: "nope", year: 2024) { count } }`, nil},
		{"issue: pivot", `{ pivot(indicator: "gdp", filter: {from: 2024, to: 2024}) { columns { key } rows { code label cells } } }`, nil},
		{"issue: pivot regions × indicators", `{ pivot(rows: REGION, columns: INDICATOR, filter: {indicators: ["gdp", "population"], from: 2024, to: 2024})
			{ columns { key label unit year indicator { code } } rows { code label cells } } }`, nil},
		{"issue: aggregate change", `{ aggregate(by: [YEAR], filter: {indicators: ["gdp"]}) {
			rows { year sum previous(measure: SUM) change(measure: SUM) changeRatio(measure: SUM) } } }`, nil},
	}
}

// sizes of the note: the NBS dataset (5,044 values), the 113,261 values of 259 countries × 8 indicators ×
// 270 years (1751–2020; about a fifth of the cells hold a value), the 1,000 × 50 × 20 and 3,000 × 50 × 20
// synthetic sets (1 M and 3 M values) and the WDI's 265 × 1,500 × 64 (25 M).
var costSizes = []datasetSize{
	{name: "NBS 31×27×10"},
	{name: "259×8×270 (113 k)", regions: 259, indicators: 8, years: 270, density: 113261.0 / (259 * 8 * 270), scaled: true},
	{name: "1,000×50×20 (1 M)", regions: 1000, indicators: 50, years: 20, density: 1, scaled: true},
	{name: "3,000×50×20 (3 M)", regions: 3000, indicators: 50, years: 20, density: 1, scaled: true},
	{name: "265×1,500×64 (25 M)", regions: 265, indicators: 1500, years: 64, density: 1, scaled: true},
}

func nbsEngine(t *testing.T) *query.Engine {
	t.Helper()
	d, err := dataset.Read(data.Default())
	if err != nil {
		t.Fatal(err)
	}
	return engineOf(t, d)
}

// engineOf is an engine over d, imported into a store in memory.
func engineOf(t *testing.T, d *dataset.Dataset) *query.Engine {
	t.Helper()
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Import(context.Background(), d, "test"); err != nil {
		t.Fatal(err)
	}
	e, err := query.NewEngine(context.Background(), store, query.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestCostsOnDatasetSizes: the docs' queries, the dashboard's requests and the issue's shapes pass the
// default limit (50,000) on every size, from 5 thousand to 25 million values; the costs are logged (the
// table of the issue's note: go test ./graph -run TestCostsOnDatasetSizes -v).
func TestCostsOnDatasetSizes(t *testing.T) {
	base := nbsEngine(t)
	docs := docQueries(t)
	if len(docs) < 25 {
		t.Fatalf("only %d examples found in the docs", len(docs))
	}
	dash := dashboardQueries(t)
	const limit = 50000
	for _, size := range costSizes {
		s := NewSchema(scale(base, &size))
		priced := 0
		for _, ex := range append(append(append([]example{}, docs...), dash...), issueQueries(size.synthetic)...) {
			cost, err := price(t, s, ex.query, ex.vars, limit)
			if err != nil && strings.HasPrefix(err.Error(), "invalid") {
				// An example of a validation error: refused before it is priced, whatever the dataset.
				if !strings.Contains(ex.where, ".md") {
					t.Errorf("%s: %v", ex.where, err)
				}
				continue
			}
			priced++
			if err != nil {
				t.Errorf("%s on %s: %v", ex.where, size.name, err)
				continue
			}
			if strings.HasPrefix(ex.where, "dashboard") || strings.HasPrefix(ex.where, "issue") {
				t.Logf("%-22s %-40s %6d", size.name, ex.where, cost)
			}
		}
		if priced < 30 {
			t.Errorf("%s: only %d queries priced", size.name, priced)
		}
	}
}

// A request that really reads or returns more than the limit allows is still refused, with its estimate,
// the dearest root field by its alias, and what to narrow.
func TestTooCostlyNamesWhatToNarrow(t *testing.T) {
	base := nbsEngine(t)
	for _, c := range []struct {
		size            datasetSize
		query, mentions string
	}{
		// 265 × 1,500 × 64 = 25 M values scanned, and up to 100,000 rows of 4 fields.
		{costSizes[4], `{ cheap: dataset { version } all: aggregate(by: [REGION, INDICATOR, YEAR], first: 100000) { rows { region { code } indicator { code } year mean } } }`,
			`the dearest field is "all" (aggregate) at `},
		// 3,000 regions ranked 20 times over, every entry listed.
		{costSizes[3], rankings(20), `the dearest field is "r00" (ranking) at `},
		// Every region's composite rank in each of 20 years.
		{costSizes[3], `{ compositeHistory(input: {year: 2024, indicators: [{indicator: "gdp", weight: 1}]}, from: 2005) {
			regions { region { code } years { year rank tier } } } }`, `the dearest field is "compositeHistory" at`},
	} {
		size := c.size
		_, err := price(t, NewSchema(scale(base, &size)), c.query, nil, 50000)
		if err == nil {
			t.Errorf("%s on %s: not refused", c.query, size.name)
			continue
		}
		if !regexp.MustCompile(`operation has complexity \d+, which exceeds the limit of 50000`).MatchString(err.Error()) ||
			!strings.Contains(err.Error(), c.mentions) || !strings.Contains(err.Error(), "narrow") && !strings.Contains(err.Error(), "fewer") {
			t.Errorf("%s on %s: %v", c.query, size.name, err)
		}
	}
}

// rankings is an operation of n rankings of every region, r00…, each listing its entries.
func rankings(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " r%02d: ranking(indicator: \"gdp\", year: 2024) { entries { region { code name } value rank } }", i)
	}
	return b.String() + " }"
}

// The values a query reads are priced at 1/20 of a unit each in memory (memoryValues), whoever asks: a
// ranking by formula reads its operands' values, so "gdp / population" costs a ranking of gdp plus
// population's values this year and the year before (3,000 regions × 2 years / 20 = 300 more, worked by
// hand on the 3 M size, every region with a value each year); and a composite history answering only its
// years is refused for the values it scores (3,000 regions × 10 lines × 20 years / 20 = 30,000)
// at a limit of 20,000. Targets given in the request (extra) are rows of the answer like the file's.
func TestCostPricesValuesRead(t *testing.T) {
	base := nbsEngine(t)
	size := costSizes[3]
	s := NewSchema(scale(base, &size))
	byCode, err := price(t, s, `{ ranking(indicator: "gdp", year: 2025) { count } }`, nil, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	byFormula, err := price(t, s, `{ ranking(formula: "gdp / population", year: 2025) { count } }`, nil, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if byFormula-byCode != 3000*2/20 {
		t.Errorf("a ranking by gdp / population costs %d, by gdp %d: want 300 more (population's 6,000 values / 20)", byFormula, byCode)
	}
	// Observations, an aggregate and a pivot of a formula compute it in memory over every value of its
	// operands (3,000 regions × 20 years × 2 indicators / 20 = 6,000), and an aggregate or pivot scans
	// population's values beside gdp's (60,000 / 1,000 = 60 more).
	for _, c := range []struct {
		code, formula string
		more          int
	}{
		{`{ observations(indicators: ["gdp"], first: 10) { totalCount } }`, `{ observations(indicators: ["gdp / population"], first: 10) { totalCount } }`, 6000},
		{`{ aggregate(by: [YEAR], filter: {indicators: ["gdp"]}) { rows { year mean } } }`, `{ aggregate(by: [YEAR], filter: {indicators: ["gdp / population"]}) { rows { year mean } } }`, 6060},
		{`{ pivot(indicator: "gdp") { rows { code } } }`, `{ pivot(indicator: "gdp / population") { rows { code } } }`, 6060},
	} {
		a, err := price(t, s, c.code, nil, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		b, err := price(t, s, c.formula, nil, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if b-a != c.more {
			t.Errorf("%s costs %d, by gdp %d: want %d more", c.formula, b, a, c.more)
		}
	}
	inds, err := base.Indicators(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, in := range inds[:10] {
		lines = append(lines, fmt.Sprintf(`{indicator: %q, weight: 1}`, in.Code))
	}
	values := 3000 * len(lines) * 20 // every region, 2006–2025: the years counted before and in the span
	const limit = 20000              // the answer (20 years) costs about 20: only what it reads can pass this
	if values/20 <= limit {
		t.Fatalf("the history reads %d values, too few for this test", values)
	}
	_, err = price(t, s, `{ compositeHistory(input: {year: 2025, indicators: [`+strings.Join(lines, ", ")+`]}, from: 2006) { years } }`, nil, limit)
	if err == nil || !strings.Contains(err.Error(), `the dearest field is "compositeHistory"`) {
		t.Errorf("a history over %d values, answering only its years: %v; want refused for what it reads", values, err)
	}
	// Targets given in the request are answered like the file's: each costs its row (1 + status).
	var extra []string
	for y := range 100 {
		extra = append(extra, fmt.Sprintf(`{region: "110000", indicator: "gdp", year: %d, value: 1}`, 1900+y))
	}
	plain, err := price(t, s, `{ targets { status } }`, nil, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	more, err := price(t, s, `{ targets(extra: [`+strings.Join(extra, ", ")+`]) { status } }`, nil, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if more-plain < 2*100 {
		t.Errorf("targets with 100 extra cost %d, without %d: want at least 200 more (100 rows of 1 + status)", more, plain)
	}
}

// Every indicator's count and mean by year of the big dataset issue 20 measures (3,000 regions × 200
// indicators × 30 years, here every value present: 18 M) passes the default limit, priced by hand: its
// 6,000 rows of 6 fields (the row, indicator and its code, year, count, mean) at rowFieldsPerUnit, 18,000,
// plus 18 M values scanned at scanValues, 18,000, plus the field itself.
func TestAggregateOfTheBigSetPasses(t *testing.T) {
	size := datasetSize{name: "3,000×200×30 (18 M)", regions: 3000, indicators: 200, years: 30, density: 1, scaled: true}
	s := NewSchema(scale(nbsEngine(t), &size))
	q := `query($y: Int!) { aggregate(by: [INDICATOR, YEAR], filter: {from: $y}, first: 6000) { rows { indicator { code } year count mean } } }`
	cost, work, err := priceWork(t, s, q, map[string]any{"y": 1996}, 50000)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + 6000*6/rowFieldsPerUnit + 18_000_000/scanValues; cost != want || work != 18_000_000/scanValues {
		t.Errorf("cost %d, work %d; want %d and %d", cost, work, want, 18_000_000/scanValues)
	}
}
