package server

import (
	"fmt"
	"strings"
	"testing"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
)

// TestIssueShapesOnAMillionValues imports 1,000 regions × 52 indicators × 20 years (about 1,009,000 values)
// and sends, at the default limit, the shapes issue 17 found refused and the dashboard's requests: each is
// answered. Their costs on more sizes (to 25 M values, priced from counts) are checked in graph's
// TestCostsOnDatasetSizes; here they run for real. A really expensive operation is still refused, naming
// its dearest field and what to narrow.
func TestIssueShapesOnAMillionValues(t *testing.T) {
	if testing.Short() {
		t.Skip("imports a million values")
	}
	d := dataset.Synthetic(17, 1000, 52, 20)
	if len(d.Observations) < 1_000_000 {
		t.Fatalf("%d values; want at least a million", len(d.Observations))
	}
	srv, _ := newServer(t, importDataset(t, d), query.DefaultOptions, DefaultOptions)
	var fifty []map[string]any
	for i := 1; i <= 50; i++ {
		fifty = append(fifty, map[string]any{"indicator": fmt.Sprintf("I%03d", i), "weight": i%4 + 1})
	}
	six := []string{"R0001", "R0002", "R0003", "R0004", "R0005", "R0006"}
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		check       func(map[string]any) bool
	}{
		{"aggregate by year", `{ aggregate(by: [YEAR], first: 10) { rows { year count } } }`, nil,
			func(a map[string]any) bool { return len(rows(a, "aggregate")) == 10 }},
		{"aggregate of one region", `{ aggregate(by: [YEAR], filter: {regions: ["R0001"]}, first: 10) { rows { year count } } }`, nil,
			func(a map[string]any) bool { return len(rows(a, "aggregate")) == 10 }},
		{"aggregate of two years", `{ aggregate(by: [YEAR], filter: {from: 2019, to: 2020}) { rows { year count } } }`, nil,
			func(a map[string]any) bool { return len(rows(a, "aggregate")) == 2 }},
		{"standings", `{ standings(region: "R0001", year: 2020) { ranked } }`, nil,
			func(a map[string]any) bool { return a["standings"].(map[string]any)["ranked"].(float64) > 40 }},
		{"robustness of 1,000 runs", `query($in: CompositeInput!) { robustness(input: $in, runs: 1000) { entries { region { code } medianRank p05Rank p95Rank } } }`,
			map[string]any{"in": map[string]any{"year": 2020, "indicators": fifty}},
			func(a map[string]any) bool { return len(a["robustness"].(map[string]any)["entries"].([]any)) > 900 }},
		// The dashboard's requests with the variables it sends (dashboard.js).
		{"dashboard ranking", `query($i: ID!, $y: Int, $g: ID) { ranking(indicator: $i, year: $y, group: $g) {
			year mean leader { code } entries { region { code name nameEn } value rank } } }`, map[string]any{"i": "I001", "y": 2020},
			func(a map[string]any) bool { return len(a["ranking"].(map[string]any)["entries"].([]any)) > 900 }},
		// 1,000 regions × 20 years: 20,000 cells, more than an aggregate's page (10,000) and priced 10,021.
		{"dashboard pivot", `query($i: ID!, $f: ObservationFilter) { pivot(indicator: $i, filter: $f) { columns { key label year } rows { code label cells } } }`,
			map[string]any{"i": "I001"}, func(a map[string]any) bool { return len(rows(a, "pivot")) == 1000 }},
		{"dashboard pivot of a group", `query($i: ID!, $f: ObservationFilter) { pivot(indicator: $i, filter: $f) { columns { key label year } rows { code label cells } } }`,
			map[string]any{"i": "I001", "f": map[string]any{"group": "G03"}}, func(a map[string]any) bool { return len(rows(a, "pivot")) > 50 }},
		{"dashboard comparison", `query($i: ID!, $rs: [ID!]!) { pivot(indicator: $i, filter: { regions: $rs }) { columns { key label year } rows { code label cells } }
			ranking(indicator: $i, regions: $rs) { year entries { region { code } value rank } missing { code } } }`,
			map[string]any{"i": "I001", "rs": six}, func(a map[string]any) bool { return len(rows(a, "pivot")) == 6 }},
	} {
		var a map[string]any
		mustPost(t, srv.URL, c.query, c.vars, &a)
		if !c.check(a) {
			t.Errorf("%s: %.300v", c.name, a)
		}
	}
	res := post(t, srv.URL, `{ all: aggregate(by: [REGION, INDICATOR, YEAR], first: 1000000) { rows { region { code } indicator { code } year mean } } }`, nil, nil)
	if errorCode(res) != "QUERY_TOO_COMPLEX" || !strings.Contains(res.Errors[0].Message, `the dearest field is "all" (aggregate)`) ||
		!strings.Contains(res.Errors[0].Message, "narrow its filter") || res.Errors[0].Extensions["cost"] == nil {
		t.Errorf("a million rows: %+v", res.Errors)
	}
}

// rows are the rows of an aggregate's or a pivot's answer.
func rows(a map[string]any, field string) []any {
	f, _ := a[field].(map[string]any)
	r, _ := f["rows"].([]any)
	return r
}
