package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/query"
	"pacesetter/data"
)

// Aggregates, pivots, dashboard-sized requests and CORS, through the real handler over real DuckDB.

const issueAggregateQuery = `query($f: ObservationFilter) {
  aggregate(by: [INDICATOR, YEAR], filter: $f, having: [{measure: COUNT, op: GE, value: 5}],
            orderBy: [{key: YEAR, desc: false}], first: 1000) {
    totalCount
    rows { region { code } group { code } indicator { code } year category
           count sum mean median min max stddev quantile(p: 0.9) share }
    totals { count sum mean min max }
    warnings { indicator { code } message }
  }
}`

type aggRow struct {
	Region    *struct{ Code string }
	Group     *struct{ Code string }
	Indicator *struct{ Code string }
	Year      *int
	Category  *string
	Count     int
	Sum       *float64
	Mean      *float64
	Median    *float64
	Min, Max  *float64
	Stddev    *float64
	Quantile  *float64
	Share     *float64
}

// nbsReference is an independent statement of which NBS values an aggregate without a region filter
// counts: the dataset's own rows (not DuckDB's), newest vintage, regions with a value of their own of the
// indicator none of whose children has one (CN's rolled-up sums are left out, and so are its own national
// figures of 2024, which its provinces' values sit under).
func nbsReference(t *testing.T) (map[string][]float64, map[string]dataset.Indicator) {
	d, err := dataset.Read(data.Default())
	if err != nil {
		t.Fatal(err)
	}
	parent := map[string]string{}
	for _, r := range d.Regions {
		parent[r.Code] = r.Parent
	}
	own, above := map[string]bool{}, map[string]bool{}
	for _, o := range d.Observations {
		if o.Flags&analytics.RolledUp == 0 {
			own[o.Region+"|"+o.Indicator] = true
			above[parent[o.Region]+"|"+o.Indicator] = true
		}
	}
	vals := map[string][]float64{} // "indicator|year" → values
	for _, o := range d.Observations {
		if own[o.Region+"|"+o.Indicator] && !above[o.Region+"|"+o.Indicator] {
			k := o.Indicator + "|" + strconv.Itoa(o.Year)
			vals[k] = append(vals[k], o.Value)
		}
	}
	inds := map[string]dataset.Indicator{}
	for _, in := range d.Indicators {
		inds[in.Code] = in
	}
	return vals, inds
}

func TestIssueAggregateQuery(t *testing.T) {
	srv := nbsServer(t)
	var a struct {
		Aggregate struct {
			TotalCount int
			Rows       []aggRow
			Totals     struct {
				Count    int
				Sum      *float64
				Mean     float64
				Min, Max float64
			}
			Warnings []struct {
				Indicator struct{ Code string }
				Message   string
			}
		}
	}
	mustPost(t, srv.URL, issueAggregateQuery, map[string]any{"f": nil}, &a)
	ref, inds := nbsReference(t)
	if a.Aggregate.TotalCount != len(ref) || len(a.Aggregate.Rows) != len(ref) {
		t.Fatalf("%d rows (total %d), want one per indicator and year with values: %d", len(a.Aggregate.Rows), a.Aggregate.TotalCount, len(ref))
	}
	lastYear, totalCount := 0, 0
	for _, r := range a.Aggregate.Rows {
		if r.Region != nil || r.Group != nil || r.Category != nil {
			t.Fatalf("a dimension not grouped by is set: %+v", r)
		}
		if *r.Year < lastYear {
			t.Errorf("rows not ordered by year: %d after %d", *r.Year, lastYear)
		}
		lastYear = *r.Year
		k := r.Indicator.Code + "|" + strconv.Itoa(*r.Year)
		vals := slices.Sorted(slices.Values(ref[k]))
		n := len(vals)
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		mean := sum / float64(n)
		ss := 0.0
		for _, v := range vals {
			ss += (v - mean) * (v - mean)
		}
		h := 0.9 * float64(n-1) // the 0.9 quantile, linear between neighbours
		lo := int(h)
		q90 := vals[lo] + (h-float64(lo))*(vals[min(lo+1, n-1)]-vals[lo])
		what := k
		if r.Count != n || n < 5 {
			t.Errorf("%s: count %d, want %d (and having keeps ≥ 5)", what, r.Count, n)
		}
		approx(t, what+" mean", *r.Mean, mean)
		approx(t, what+" min", *r.Min, vals[0])
		approx(t, what+" max", *r.Max, vals[n-1])
		approx(t, what+" median", *r.Median, (vals[(n-1)/2]+vals[n/2])/2)
		approx(t, what+" stddev", *r.Stddev, math.Sqrt(ss/float64(n-1)))
		approx(t, what+" quantile(0.9)", *r.Quantile, q90)
		if inds[r.Indicator.Code].Rollup == analytics.RollupSum {
			approx(t, what+" sum", *r.Sum, sum)
			approx(t, what+" share", *r.Share, 1) // by has no REGION: each row is the whole of its partition
		} else if r.Sum != nil || r.Share != nil {
			t.Errorf("%s: sum %v share %v of an indicator that does not add up", what, *r.Sum, r.Share)
		}
		// By hand (awk -F, '$1!="CN" && $3=="gdp" && $4==2024 {n++; s+=$5} END {print n, s}' observations.csv):
		// the 31 provinces, 1337605.8; CN's own 1349084 would make it 32 and 2686689.8.
		if k == "gdp|2024" && (r.Count != 31 || math.Abs(*r.Sum-1337605.8) > 1e-6) {
			t.Errorf("gdp 2024: count %d sum %v, want the 31 provinces' 1337605.8", r.Count, *r.Sum)
		}
		totalCount += n
	}
	if a.Aggregate.Totals.Count != totalCount || a.Aggregate.Totals.Sum != nil {
		t.Errorf("totals %+v, want count %d and no sum (rates do not add up)", a.Aggregate.Totals, totalCount)
	}
	warned := map[string]bool{}
	for _, w := range a.Aggregate.Warnings {
		warned[w.Indicator.Code] = true
	}
	if !warned["gdp_index"] || warned["retail_sales"] || !strings.Contains(a.Aggregate.Warnings[0].Message, "do not add up") {
		t.Errorf("warnings %+v", a.Aggregate.Warnings)
	}
}

// totalCount is counted whenever the selection asks for it, however it does (by a fragment, an inline one,
// a directive), and is spared otherwise (AggregateQuery.NoTotalCount): the ten East provinces have retail
// sales in 2024 (TestAggregateByHand). The page without it is asked first, so that its cached answer cannot
// stand in for the others: each is the same three rows.
func TestAggregateTotalCountWhenAsked(t *testing.T) {
	srv := nbsServer(t)
	const args = `by: [REGION], filter: {group: "East", indicators: ["retail_sales"], from: 2024, to: 2024}, first: 3`
	var first []string
	for _, c := range []struct {
		query string
		vars  map[string]any
		want  int // 0: not asked
	}{
		{`{ aggregate(` + args + `) { rows { region { code } } } }`, nil, 0},
		{`{ aggregate(` + args + `) { totalCount rows { region { code } } } }`, nil, 10},
		{`{ aggregate(` + args + `) { ...C rows { region { code } } } } fragment C on Aggregate { totalCount }`, nil, 10},
		{`{ aggregate(` + args + `) { ... on Aggregate { totalCount } rows { region { code } } } }`, nil, 10},
		{`query($c: Boolean!) { aggregate(` + args + `) { totalCount @include(if: $c) rows { region { code } } } }`, map[string]any{"c": true}, 10},
		{`query($c: Boolean!) { aggregate(` + args + `) { totalCount @include(if: $c) rows { region { code } } } }`, map[string]any{"c": false}, 0},
	} {
		var a struct {
			Aggregate struct {
				TotalCount *int
				Rows       []struct{ Region struct{ Code string } }
			}
		}
		mustPost(t, srv.URL, c.query, c.vars, &a)
		var codes []string
		for _, r := range a.Aggregate.Rows {
			codes = append(codes, r.Region.Code)
		}
		if first == nil {
			first = codes
		}
		got := 0
		if a.Aggregate.TotalCount != nil {
			got = *a.Aggregate.TotalCount
		}
		if got != c.want || (a.Aggregate.TotalCount != nil) != (c.want != 0) || len(codes) != 3 || !slices.Equal(codes, first) {
			t.Errorf("%s %v: totalCount %v rows %v, want %d and the first page's %v", c.query, c.vars, got, codes, c.want, first)
		}
	}
}

// Numbers worked out by hand from data/china-provinces-nbs/observations.csv (see e2e_test.go for the grep).
func TestAggregateByHand(t *testing.T) {
	srv := nbsServer(t)
	type answer struct {
		Aggregate struct {
			TotalCount int
			Rows       []aggRow
			PageInfo   struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
	// The ten East provinces' retail sales in 2024 sum to 243385.5: mean 24338.55, median (24370.8 +
	// 15872.3)/2 = 20121.55; Jiangsu's share 44922.1/243385.5.
	var a answer
	mustPost(t, srv.URL, `{ aggregate(by: [GROUP, YEAR], filter: {group: "East", indicators: ["retail_sales"], from: 2024, to: 2024}) {
		rows { group { code } year count sum mean median } } }`, nil, &a)
	if len(a.Aggregate.Rows) != 1 {
		t.Fatalf("rows %+v", a.Aggregate.Rows)
	}
	r := a.Aggregate.Rows[0]
	if r.Group.Code != "East" || *r.Year != 2024 || r.Count != 10 {
		t.Errorf("row %+v", r)
	}
	approx(t, "East sum", *r.Sum, 243385.5)
	approx(t, "East mean", *r.Mean, 24338.55)
	approx(t, "East median", *r.Median, 20121.55)
	mustPost(t, srv.URL, `{ aggregate(by: [REGION, YEAR], filter: {group: "East", indicators: ["retail_sales"], from: 2024, to: 2024},
		orderBy: [{key: SUM, desc: true}], first: 2) { totalCount rows { region { code } share } pageInfo { hasNextPage endCursor } } }`, nil, &a)
	if a.Aggregate.TotalCount != 10 || len(a.Aggregate.Rows) != 2 || a.Aggregate.Rows[1].Region.Code != "320000" || !a.Aggregate.PageInfo.HasNextPage {
		t.Fatalf("%+v", a.Aggregate)
	}
	approx(t, "Jiangsu share", *a.Aggregate.Rows[1].Share, 44922.1/243385.5)
	// The next page starts with the third: Shandong (40059.2).
	var b answer
	mustPost(t, srv.URL, `query($a: String) { aggregate(by: [REGION, YEAR], filter: {group: "East", indicators: ["retail_sales"], from: 2024, to: 2024},
		orderBy: [{key: SUM, desc: true}], first: 2, after: $a) { rows { region { code } sum } } }`, map[string]any{"a": a.Aggregate.PageInfo.EndCursor}, &b)
	if len(b.Aggregate.Rows) != 2 || b.Aggregate.Rows[0].Region.Code != "370000" || *b.Aggregate.Rows[0].Sum != 40059.2 {
		t.Errorf("page 2 %+v", b.Aggregate.Rows)
	}
	// Memberships by year: Anhui (340000) joined the Yangtze River Delta in 2019, so the group counts three
	// retail sales values in 2018 and four from 2019.
	mustPost(t, srv.URL, `{ aggregate(by: [GROUP, YEAR], filter: {group: "YangtzeRiverDelta", indicators: ["retail_sales"], from: 2018, to: 2024},
		having: [{measure: COUNT, op: GE, value: 1}], orderBy: [{key: YEAR}]) { rows { group { code } year count } } }`, nil, &a)
	counts := map[int]int{}
	for _, r := range a.Aggregate.Rows {
		if r.Group.Code != "YangtzeRiverDelta" {
			t.Errorf("row of group %s", r.Group.Code)
		}
		counts[*r.Year] = r.Count
	}
	if counts[2018] != 3 || counts[2019] != 4 || counts[2024] != 4 {
		t.Errorf("YRD counts by year %v", counts)
	}
	// Refusals, with what was wrong.
	for q, want := range map[string]string{
		`{ aggregate(by: [YEAR], filter: {regions: []}) { totalCount } }`:                          "regions is an empty list",
		`{ aggregate(by: [YEAR], filter: {group: ""}) { totalCount } }`:                            "group is empty",
		`{ aggregate(by: [YEAR], orderBy: [{key: REGION}]) { totalCount } }`:                       "not grouped by REGION",
		`{ aggregate(by: [YEAR]) { rows { quantile(p: 1.5) } } }`:                                  "from 0 to 1",
		`{ aggregate(by: [YEAR], filter: {category: "nope"}) { totalCount } }`:                     `unknown category "nope"`,
		`{ pivot(indicator: "gdp", rows: YEAR, columns: YEAR) { columns { key } } }`:               "both YEAR",
		`{ aggregate(by: [YEAR], filter: {indicators: ["gpd"]}) { totalCount } }`:                  `did you mean "gdp"`,
		`{ observations(indicators: ["gdp"], regions: ["320000"], group: "East") { totalCount } }`: "not both",
	} {
		res := post(t, srv.URL, q, nil, nil)
		if len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Message, want) {
			t.Errorf("%s: errors %+v, want one mentioning %q", q, res.Errors, want)
		}
	}
}

func TestPivot(t *testing.T) {
	srv := nbsServer(t)
	type pivot struct {
		Pivot struct {
			Measure string
			Columns []struct{ Key string }
			Rows    []struct {
				Code, Label string
				Cells       []*float64
			}
		}
	}
	// Jiangsu's retail sales, as in README example 4 (from observations.csv).
	var p pivot
	mustPost(t, srv.URL, `{ pivot(indicator: "retail_sales", filter: {group: "East", from: 2022, to: 2024}) { measure columns { key } rows { code label cells } } }`, nil, &p)
	if fmt.Sprint(p.Pivot.Columns) != "[{2022} {2023} {2024}]" || len(p.Pivot.Rows) != 10 || p.Pivot.Measure != "SUM" {
		t.Fatalf("%+v", p.Pivot)
	}
	for _, r := range p.Pivot.Rows {
		if r.Code == "320000" {
			if r.Label != "江苏省" || *r.Cells[0] != 40803 || *r.Cells[1] != 42940.6 || *r.Cells[2] != 44922.1 {
				t.Errorf("Jiangsu row %+v", r)
			}
		}
	}
	// Any two dimensions: the groups' sums by year, rows in dataset order of the groups.
	mustPost(t, srv.URL, `{ pivot(indicator: "retail_sales", rows: GROUP, filter: {from: 2024, to: 2024}) { columns { key } rows { code cells } } }`, nil, &p)
	for _, r := range p.Pivot.Rows {
		if r.Code == "East" {
			approx(t, "East 2024", *r.Cells[0], 243385.5)
		}
	}

	// Null where there is no value, on a dataset made up here: B has no 2020 value.
	fsys := fstest.MapFS{
		"regions.csv":    {Data: []byte("region_code,region_name,parent_code\nA,Alpha,\nB,Beta,\n")},
		"indicators.csv": {Data: []byte("indicator_code,name,unit,direction,rollup\nx,X,u,higher_is_better,sum\n")},
		"observations.csv": {Data: []byte("region_code,region_name,indicator_code,year,value\n" +
			"A,A,x,2020,1.5\nA,A,x,2021,2\nB,B,x,2021,7\n")},
	}
	small, _ := newServer(t, loadStore(t, fsys), query.DefaultOptions, DefaultOptions)
	mustPost(t, small.URL, `{ pivot(indicator: "x") { columns { key } rows { code label cells } } }`, nil, &p)
	got := fmt.Sprint(p.Pivot.Columns)
	for _, r := range p.Pivot.Rows {
		got += " " + r.Code + "/" + r.Label + ":"
		for _, c := range r.Cells {
			got += " " + showFloat(c)
		}
	}
	if want := "[{2020} {2021}] A/Alpha: 1.5 2 B/Beta: null 7"; got != want {
		t.Errorf("pivot\n got %s\nwant %s", got, want)
	}
}

func showFloat(p *float64) string {
	if p == nil {
		return "null"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

// dashboardQuery is a dashboard's first request: 25 rankings, 5 trends, an aggregate and a pivot.
func dashboardQuery() string {
	var b strings.Builder
	b.WriteString("{\n")
	inds := []string{"gdp", "retail_sales", "population", "fiscal_revenue", "gdp_per_capita"}
	groups := []string{"East", "Central", "West", "Northeast", "YangtzeRiverDelta"}
	for i, in := range inds {
		for j, g := range groups {
			fmt.Fprintf(&b, "  r%d_%d: ranking(indicator: %q, year: 2024, group: %q) { mean entries { region { code name } value rank rankChange } }\n", i, j, in, g)
		}
	}
	for i, r := range []string{"320000", "440000", "330000", "370000", "510000"} {
		fmt.Fprintf(&b, "  t%d: trend(region: %q, indicator: \"retail_sales\") { cagr points { year value yoy } }\n", i, r)
	}
	b.WriteString(`  agg: aggregate(by: [INDICATOR, YEAR], filter: {category: "consumption"}, orderBy: [{key: YEAR}]) { totalCount rows { indicator { code } year count sum mean median } totals { count } }
  pivot: pivot(indicator: "gdp", filter: {level: "province", from: 2020}) { columns { key } rows { code label cells } }
}`)
	return b.String()
}

// answerFields counts what a JSON answer holds as the cost model prices it: 1 per field of an object (with
// what it holds), a quarter per scalar in a list.
func answerFields(raw json.RawMessage) int {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	var count func(any) float64
	count = func(v any) float64 {
		n := 0.0
		switch v := v.(type) {
		case map[string]any:
			for _, f := range v {
				n += 1 + count(f)
			}
		case []any:
			for _, e := range v {
				switch e.(type) {
				case map[string]any, []any:
					n += count(e)
				default:
					n += 0.25
				}
			}
		}
		return n
	}
	return int(count(v))
}

var complexityRE = regexp.MustCompile(`operation has complexity (\d+), which exceeds the limit of (\d+)`)

// costOf is the cost the handler charges a query: its error under a limit of 1 says it.
func costOf(t *testing.T, store *duck.Store, gql string) int {
	t.Helper()
	srv, _ := newServer(t, store, query.DefaultOptions, Options{Complexity: 1})
	res := post(t, srv.URL, gql, nil, nil)
	if errorCode(res) != "QUERY_TOO_COMPLEX" {
		t.Fatalf("no complexity error: %+v", res.Errors)
	}
	m := complexityRE.FindStringSubmatch(res.Errors[0].Message)
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestDashboardQuery(t *testing.T) {
	store := loadStore(t, data.Default())
	q := dashboardQuery()
	cost := costOf(t, store, q)
	t.Logf("dashboard cost %d, limit %d", cost, DefaultOptions.Complexity)
	srv, _ := newServer(t, store, query.DefaultOptions, DefaultOptions)
	var a map[string]struct {
		Entries []struct{ Rank int }
		Points  []struct{ Year int }
		Rows    []any
	}
	var raw json.RawMessage
	mustPost(t, srv.URL, q, nil, &raw)
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	// The cost is at least what the answer holds: a field per object field, a quarter per number in a list
	// (a pivot's cells), counted in the real answer.
	fields := answerFields(raw)
	t.Logf("the answer holds %d fields", fields)
	if cost > DefaultOptions.Complexity || cost < fields {
		t.Errorf("dashboard costs %d; want it under the limit %d and at least its %d answer fields", cost, DefaultOptions.Complexity, fields)
	}
	if len(a) != 32 || len(a["r1_0"].Entries) != 10 || len(a["t0"].Points) == 0 || len(a["agg"].Rows) == 0 || len(a["pivot"].Rows) != 31 {
		t.Errorf("dashboard answer: %d fields, r1_0 %d entries, pivot %d rows", len(a), len(a["r1_0"].Entries), len(a["pivot"].Rows))
	}
	// A query that really is expensive is still refused, with its cost and the limit: the same dashboard
	// over 3,000 regions asks for 75,000 ranking entries.
	big := importDataset(t, dataset.Synthetic(1, 3000, 5, 3))
	bigQ := strings.NewReplacer(`"gdp"`, `"I001"`, `"retail_sales"`, `"I002"`, `"population"`, `"I003"`, `"fiscal_revenue"`, `"I004"`,
		`"gdp_per_capita"`, `"I005"`, "year: 2024", "year: 2003").Replace(q[:strings.Index(q, "  t0:")]) + "}"
	for _, g := range []string{"East", "Central", "West", "Northeast", "YangtzeRiverDelta"} {
		bigQ = strings.ReplaceAll(bigQ, `, group: "`+g+`"`, "")
	}
	bigSrv, _ := newServer(t, big, query.DefaultOptions, DefaultOptions)
	res := post(t, bigSrv.URL, bigQ, nil, nil)
	if errorCode(res) != "QUERY_TOO_COMPLEX" || !strings.Contains(res.Errors[0].Message, fmt.Sprintf("exceeds the limit of %d", DefaultOptions.Complexity)) {
		t.Errorf("expensive dashboard: %+v", res.Errors)
	}
}

// 300 regions × 5 per-region fields make a handful of statements, not 1,500: the dataloaders hand the
// engine every key at once, and the engine loads the indicators' values in one query.
func TestRegionFieldsAreBatched(t *testing.T) {
	d := dataset.Synthetic(2, 300, 5, 4)
	store := importDataset(t, d)
	statements := &statementCount{}
	eopt := query.DefaultOptions
	eopt.Observer = statements
	srv, _ := newServer(t, store, eopt, DefaultOptions)
	q := `{ regions { code
		v1: value(indicator: "I001", year: 2002) v2: value(indicator: "I002", year: 2003) v3: value(indicator: "I003", year: 2001)
		r1: rank(indicator: "I001", year: 2002) r2: rank(indicator: "I004", year: 2002, group: "G01") } }`
	before := statements.n.Load()
	var a struct {
		Regions []struct {
			Code       string
			V1, V2, V3 *float64
			R1, R2     *int
		}
	}
	mustPost(t, srv.URL, q, nil, &a)
	n := statements.n.Load() - before
	t.Logf("%d regions × 5 fields: %d SQL statements", len(a.Regions), n)
	// Each batch loads the indicators not yet in memory in one statement: 2 when every field's keys make one
	// batch, a few more when a slow run (-race) splits a batch across the loaders' 16 ms window; unbatched it
	// would be 1,505.
	if n > 10 {
		t.Errorf("%d statements for %d regions × 5 fields; want a handful", n, len(a.Regions))
	}
	// The values are the dataset's own, and the ranks those of the ranking query.
	want := map[string]float64{}
	for _, o := range d.Observations {
		if o.Indicator == "I001" && o.Year == 2002 {
			want[o.Region] = o.Value
		}
	}
	var rk rankingAnswer
	mustPost(t, srv.URL, `{ ranking(indicator: "I004", year: 2002, group: "G01") { entries { region { code } rank } } }`, nil, &rk)
	ranks := map[string]int{}
	for _, e := range rk.Ranking.Entries {
		ranks[e.Region.Code] = e.Rank
	}
	checked := 0
	for _, r := range a.Regions {
		if w, ok := want[r.Code]; ok != (r.V1 != nil) || ok && *r.V1 != w {
			t.Errorf("%s value %v, want %v", r.Code, showFloat(r.V1), w)
		}
		if w, ok := ranks[r.Code]; ok != (r.R2 != nil) || ok && *r.R2 != w {
			t.Errorf("%s rank in G01 %v, want %d", r.Code, r.R2, w)
		}
		checked++
	}
	if checked != 301 {
		t.Errorf("%d regions", checked)
	}
}

// statementCount is an engine observer that counts the SQL statements the engine runs.
type statementCount struct{ n atomic.Int64 }

func (c *statementCount) Statement(ctx context.Context, _ string) (context.Context, func(error)) {
	c.n.Add(1)
	return ctx, func(error) {}
}

func (c *statementCount) AnswerCache(bool) {}

func TestObservationFiltersAndOrder(t *testing.T) {
	srv := nbsServer(t)
	type page struct {
		Observations struct {
			TotalCount int
			Nodes      []struct {
				Region struct{ Code string }
				Value  float64
			}
			PageInfo struct{ EndCursor string }
		}
	}
	q := `query($a: String) { observations(indicators: ["retail_sales"], group: "East", from: 2024, to: 2024, orderBy: [{key: VALUE, desc: true}], first: 3, after: $a) {
		totalCount nodes { region { code } value } pageInfo { endCursor } } }`
	var p1, p2 page
	mustPost(t, srv.URL, q, nil, &p1)
	mustPost(t, srv.URL, q, map[string]any{"a": p1.Observations.PageInfo.EndCursor}, &p2)
	codes := func(p page) string {
		var s []string
		for _, n := range p.Observations.Nodes {
			s = append(s, n.Region.Code)
		}
		return strings.Join(s, " ")
	}
	// The East ranking's order (TestIssueRankingQuery), best first.
	if p1.Observations.TotalCount != 10 || codes(p1) != "440000 320000 370000" || codes(p2) != "330000 350000 310000" {
		t.Errorf("pages %q %q (total %d)", codes(p1), codes(p2), p1.Observations.TotalCount)
	}
	// parent and level: CN's children are the 31 provinces; CN itself is the one country.
	var c page
	mustPost(t, srv.URL, `{ observations(indicators: ["gdp"], parent: "CN", from: 2024, to: 2024) { totalCount } }`, nil, &c)
	var l page
	mustPost(t, srv.URL, `{ observations(indicators: ["gdp"], level: "country", from: 2024, to: 2024) { totalCount nodes { region { code } } } }`, nil, &l)
	if c.Observations.TotalCount != 31 || l.Observations.TotalCount != 1 || l.Observations.Nodes[0].Region.Code != "CN" {
		t.Errorf("parent %d, level %+v", c.Observations.TotalCount, l.Observations)
	}
	// Ranking entries paged: the 3rd to 5th of the East ranking.
	var rk rankingAnswer
	mustPost(t, srv.URL, `{ ranking(indicator: "retail_sales", year: 2024, group: "East") { entries(offset: 2, first: 3) { region { code } rank } } }`, nil, &rk)
	if rk.order() != "370000:3 330000:4 350000:5" {
		t.Errorf("entries page %s", rk.order())
	}
}

func TestCORS(t *testing.T) {
	store := loadStore(t, data.Default())
	preflight := func(url, origin string) *http.Response {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodOptions, url+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	off, _ := newServer(t, store, query.DefaultOptions, DefaultOptions)
	if h := preflight(off.URL, "https://dash.example.org").Header.Get("Access-Control-Allow-Origin"); h != "" {
		t.Errorf("CORS is on by default: %q", h)
	}
	opt := DefaultOptions
	opt.CORSOrigins = []string{"https://dash.example.org"}
	on, _ := newServer(t, store, query.DefaultOptions, opt)
	res := preflight(on.URL, "https://dash.example.org")
	if res.StatusCode/100 != 2 || res.Header.Get("Access-Control-Allow-Origin") != "https://dash.example.org" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "content-type") {
		t.Errorf("preflight of an allowed origin: %d %v", res.StatusCode, res.Header)
	}
	if h := preflight(on.URL, "https://evil.example").Header.Get("Access-Control-Allow-Origin"); h != "" {
		t.Errorf("another origin allowed: %q", h)
	}
	// The request itself carries the header, and the API still answers.
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, on.URL+"/graphql", strings.NewReader(`{"query":"{ dataset { regions } }"}`))
	req.Header.Set("Origin", "https://dash.example.org")
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://dash.example.org" {
		t.Errorf("POST from an allowed origin: %d %v", r.StatusCode, r.Header)
	}
}
