package server

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"pacesetter/analytics/query"
	"pacesetter/graph"
)

// Numbers at the edges of a double through the whole stack (HTTP, gqlgen, the engine, DuckDB): the largest
// values (1e308, −1e308), the smallest subnormal (5e-324 = 2^-1074) and −0. Every answer must come without
// an error, without null in a non-null field (walked against the schema), and with the numbers worked out
// by hand below (the ones needing more than a double's precision with exact rationals, Python's
// fractions.Fraction of the doubles and decimal square roots at 50 digits, then rounded to 12 significant
// digits as the API rounds derived numbers).
//
//	x (LEVEL, rollup SUM)  2020: A 1e308, B −1e308, C 5e-324, D −0 (stored 0), E 5e-324, F 5e-324
//	                       2021: A 1e308, B 1e308, C 1e300;  2023: C 1e300
//	r (RATE)               2020: A −1e308, B 5e-324;  2021: A 1e308, B −0
var edgeData = fstest.MapFS{
	"regions.csv": {Data: []byte("region_code,region_name,parent_code,group\nA,A,,G\nB,B,,G\nC,C,,G\nD,D,,G\nE,E,,G\nF,F,,G\n")},
	"indicators.csv": {Data: []byte("indicator_code,name,unit,direction,measure,rollup\n" +
		"x,X,u,higher_is_better,level,sum\nr,R,pt,higher_is_better,rate,none\n")},
	"observations.csv": {Data: []byte("region_code,indicator_code,year,value\n" +
		"A,x,2020,1e308\nB,x,2020,-1e308\nC,x,2020,5e-324\nD,x,2020,-0\nE,x,2020,5e-324\nF,x,2020,5e-324\n" +
		"A,x,2021,1e308\nB,x,2021,1e308\nC,x,2021,1e300\nC,x,2023,1e300\n" +
		"A,r,2020,-1e308\nB,r,2020,5e-324\nA,r,2021,1e308\nB,r,2021,-0\n")},
}

const tinyF = 5e-324

func TestNumbersAtTheEdges(t *testing.T) {
	srv, _ := newServer(t, loadStore(t, edgeData), query.DefaultOptions, DefaultOptions)
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema()
	warn := func(parts ...string) []string { return parts }
	for _, c := range []struct {
		name  string
		query string
		want  map[string]any // path (response keys and list indexes joined by dots) → number, nil, or []string of warning fragments
	}{{
		// Mean: 1e308 + 5e-324·3 + 0 − 1e308 = 1.5e-323, over 6 = half of 5e-324, a tie rounded to even: 0.
		// Median: the two middle values are 5e-324 and 5e-324. Percentile (6 − rank)/5. The gap of B is
		// 1e308 − (−1e308) = 2e308, beyond the largest double: null, and said in warnings.
		"ranking 2020",
		`{ ranking(indicator: "x", year: 2020, group: "G") { indicator { code } year scope { kind group { code } } ties basis asOf count flagged
		   flagCounts { flag count } mean median leader { code } missing { code } warnings { indicator { code } message }
		   entries { region { code } value rank percentile previousRank rankChange gapToLeader vsMean vsMedian flags } } }`,
		map[string]any{
			"ranking.count": 6.0, "ranking.mean": 0.0, "ranking.median": tinyF, "ranking.leader.code": "A",
			"ranking.entries.0.region.code": "A", "ranking.entries.0.value": 1e308, "ranking.entries.0.percentile": 1.0,
			"ranking.entries.0.gapToLeader": 0.0, "ranking.entries.0.vsMean": 1e308, "ranking.entries.0.vsMedian": 1e308,
			"ranking.entries.1.region.code": "C", "ranking.entries.1.value": tinyF, "ranking.entries.1.rank": 2.0, "ranking.entries.1.percentile": 0.8,
			"ranking.entries.1.gapToLeader": 1e308, "ranking.entries.1.vsMean": tinyF, "ranking.entries.1.vsMedian": 0.0,
			"ranking.entries.4.region.code": "D", "ranking.entries.4.value": 0.0, "ranking.entries.4.rank": 5.0,
			"ranking.entries.4.gapToLeader": 1e308, "ranking.entries.4.vsMean": 0.0, "ranking.entries.4.vsMedian": -tinyF,
			"ranking.entries.5.region.code": "B", "ranking.entries.5.value": -1e308, "ranking.entries.5.rank": 6.0, "ranking.entries.5.percentile": 0.0,
			"ranking.entries.5.gapToLeader": nil, "ranking.entries.5.vsMean": -1e308, "ranking.entries.5.vsMedian": -1e308,
			"ranking.entries.5.previousRank": nil,
			"ranking.warnings":               warn("gapToLeader is null on 1 entries"),
		},
	}, {
		// The running sum 1e308 + 1e308 overflows; the mean is (2e308 + 1e300)/3 = 6.6666667e307 (Fraction),
		// the median the middle value 1e308; C is 1e308 − 1e300 = 9.9999999e307 behind.
		"ranking 2021",
		`{ ranking(indicator: "x", year: 2021, group: "G") { mean median missing { code } warnings { message }
		   entries { region { code } value rank previousRank rankChange gapToLeader vsMean vsMedian } } }`,
		map[string]any{
			"ranking.mean": 6.6666667e307, "ranking.median": 1e308,
			"ranking.entries.0.region.code": "A", "ranking.entries.0.rank": 1.0, "ranking.entries.0.previousRank": 1.0, "ranking.entries.0.vsMean": 3.3333333e307,
			"ranking.entries.1.region.code": "B", "ranking.entries.1.rank": 1.0, "ranking.entries.1.previousRank": 6.0, "ranking.entries.1.rankChange": 5.0,
			"ranking.entries.2.region.code": "C", "ranking.entries.2.gapToLeader": 9.9999999e307, "ranking.entries.2.vsMean": -6.6666666e307,
			"ranking.entries.2.vsMedian": -9.9999999e307, "ranking.entries.2.rankChange": -1.0,
			"ranking.missing.0.code": "D", "ranking.warnings": warn(),
		},
	}, {
		// Growth 2021: A 1e308/1e308 − 1 = 0; B has a negative base; C's 1e300/5e-324 − 1 is beyond range.
		"ranking by growth",
		`{ ranking(indicator: "x", year: 2021, group: "G", basis: GROWTH) { count mean median missing { code } warnings { message }
		   entries { region { code } value rank gapToLeader vsMean vsMedian } } }`,
		map[string]any{
			"ranking.count": 1.0, "ranking.entries.0.region.code": "A", "ranking.entries.0.value": 0.0, "ranking.mean": 0.0,
			"ranking.missing.0.code": "B", "ranking.missing.1.code": "C", "ranking.warnings": warn("C listed in missing"),
		},
	}, {
		// A rate in points: A −1e308 → 1e308 is 2e308 points (beyond range, missing); B 5e-324 → 0 is −5e-324.
		"rate growth",
		`{ ranking(indicator: "r", year: 2021, basis: GROWTH) { entries { region { code } value gapToLeader } missing { code } warnings { message } } }`,
		map[string]any{"ranking.entries.0.region.code": "B", "ranking.entries.0.value": -tinyF, "ranking.entries.0.gapToLeader": 0.0,
			"ranking.missing.0.code": "A", "ranking.warnings": warn("A listed in missing")},
	}, {
		"standings",
		`{ standings(region: "D", year: 2020, group: "G") { region { code } year top ties basis ranked inTop first
		   entries { indicator { code } value rank count percentile previousRank rankChange inTop flags }
		   entered { code } left { code } missing { code } } }`,
		map[string]any{"standings.ranked": 1.0, "standings.entries.0.value": 0.0, "standings.entries.0.rank": 5.0,
			"standings.entries.0.percentile": 0.2, "standings.missing.0.code": "r"},
	}, {
		"standings by growth",
		`{ standings(region: "A", year: 2021, group: "G", basis: GROWTH) { ranked entries { indicator { code } value rank count percentile } missing { code } } }`,
		map[string]any{"standings.ranked": 1.0, "standings.entries.0.value": 0.0, "standings.entries.0.count": 1.0, "standings.missing.0.code": "r"},
	}, {
		// (1e300/5e-324)^(1/3) − 1 in log space = 5.87135645693e207 (decimal); 2021's yoy is beyond range,
		// 2023's has no 2022. 1e300 beats 5e-324 (a record, a streak of 1) whatever the ratio.
		"trend",
		`{ trend(region: "C", indicator: "x") { cagr warnings { message } points { year value yoy bestEver streak flags } } }`,
		map[string]any{"trend.cagr": 5.87135645693e207, "trend.points.0.value": tinyF, "trend.points.1.yoy": nil, "trend.points.1.streak": 1.0,
			"trend.points.1.bestEver": true, "trend.points.2.yoy": nil, "trend.warnings": warn("yoy is null in 2021")},
	}, {
		"trend of one year of growth beyond range",
		`{ trend(region: "C", indicator: "x", to: 2021) { cagr warnings { message } points { year yoy } } }`,
		map[string]any{"trend.cagr": nil, "trend.warnings": warn("cagr is null", "yoy is null in 2021")},
	}, {
		"trend of the largest",
		`{ a: trend(region: "A", indicator: "x") { cagr points { yoy } } b: trend(region: "B", indicator: "r") { cagr points { value yoy } } }`,
		map[string]any{"a.cagr": 0.0, "a.points.1.yoy": 0.0, "b.cagr": nil, "b.points.1.value": 0.0, "b.points.1.yoy": -tinyF},
	}, {
		// 2020: sum 1e308 − 1e308 + 3·5e-324 = 1.5e-323 exactly; mean half of 5e-324, rounded to even: 0;
		// median (and quantile 0.5) 5e-324; quantile 0.9 between 5e-324 and 1e308 at the middle: 5e307;
		// stddev √((2·1e616)/5) = 6.32455532034e307. 2021: the sum 2e308 + 1e300 is beyond range (null,
		// warned), the mean 6.6666667e307, stddev √(Σ(x − mean)²/2) = 5.77350263416e307 (Fraction,
		// decimal √). 2023: one value, no stddev. Totals over all ten: the mean 2.00000002e307, the median
		// between 5e-324 and 1e300: 5e299, stddev 6.32455531331e307, the sum beyond range.
		"aggregate",
		`{ aggregate(by: [YEAR], filter: {indicators: ["x"]}, orderBy: [{key: YEAR}]) { totalCount
		   rows { year count sum mean median min max stddev q5: quantile(p: 0.5) q9: quantile(p: 0.9) share }
		   totals { count sum mean median min max stddev } warnings { message } pageInfo { hasNextPage } } }`,
		map[string]any{
			"aggregate.rows.0.year": 2020.0, "aggregate.rows.0.count": 6.0, "aggregate.rows.0.sum": 1.5e-323, "aggregate.rows.0.mean": 0.0,
			"aggregate.rows.0.median": tinyF, "aggregate.rows.0.q5": tinyF, "aggregate.rows.0.q9": 5e307, "aggregate.rows.0.min": -1e308,
			"aggregate.rows.0.max": 1e308, "aggregate.rows.0.stddev": 6.32455532034e307, "aggregate.rows.0.share": 1.0,
			"aggregate.rows.1.sum": nil, "aggregate.rows.1.mean": 6.6666667e307, "aggregate.rows.1.median": 1e308,
			"aggregate.rows.1.stddev": 5.77350263416e307, "aggregate.rows.1.share": 1.0,
			"aggregate.rows.2.year": 2023.0, "aggregate.rows.2.sum": 1e300, "aggregate.rows.2.stddev": nil,
			"aggregate.totals.count": 10.0, "aggregate.totals.sum": nil, "aggregate.totals.mean": 2.00000002e307, "aggregate.totals.median": 5e299,
			"aggregate.totals.stddev": 6.32455531331e307, "aggregate.totals.min": -1e308,
			"aggregate.warnings": warn("sum is null on 2 rows or totals"),
		},
	}, {
		// Shares of a year whose total 2e308 + 1e300 is beyond range: 1e308/(2e308 + 1e300) = 0.4999999975,
		// 1e300/(2e308 + 1e300) = 4.999999975e-9 (Fraction).
		"aggregate shares",
		`{ aggregate(by: [REGION, YEAR], filter: {indicators: ["x"], from: 2021, to: 2021}) { rows { region { code } sum share } warnings { message } } }`,
		map[string]any{"aggregate.rows.0.sum": 1e308, "aggregate.rows.0.share": 0.4999999975, "aggregate.rows.2.share": 4.999999975e-9,
			"aggregate.warnings": warn()},
	}, {
		"pivot",
		`{ a: pivot(indicator: "x") { indicator { code } rowDimension columnDimension measure columns { key } rows { code label cells } warnings { message } }
		   b: pivot(indicator: "x", rows: GROUP) { columns { key } rows { code cells } warnings { message } }
		   c: pivot(indicator: "x", rows: GROUP, measure: MEDIAN) { rows { cells } } }`,
		map[string]any{"a.rows.0.cells.0": 1e308, "a.rows.1.cells.0": -1e308, "a.rows.2.cells.0": tinyF, "a.rows.3.cells.0": 0.0,
			"a.rows.0.cells.2": nil, "a.warnings": warn(),
			"b.rows.0.cells.0": 1.5e-323, "b.rows.0.cells.1": nil, "b.rows.0.cells.2": 1e300, "b.warnings": warn("sum is null on 1 rows"),
			"c.rows.0.cells.0": tinyF, "c.rows.0.cells.1": 1e308},
	}, {
		"observations",
		`{ observations(indicators: ["x"], orderBy: [{key: VALUE}]) { totalCount nodes { region { code } year value } } }`,
		map[string]any{"observations.nodes.0.value": -1e308, "observations.nodes.1.value": 0.0, "observations.nodes.2.value": tinyF,
			"observations.nodes.9.value": 1e308},
	}} {
		t.Run(c.name, func(t *testing.T) {
			res := post(t, srv.URL, c.query, nil, nil)
			if len(res.Errors) > 0 || res.Status != http.StatusOK {
				t.Fatalf("status %d, errors %+v", res.Status, res.Errors)
			}
			var data any
			if err := json.Unmarshal(res.Data, &data); err != nil {
				t.Fatal(err)
			}
			doc, errs := gqlparser.LoadQuery(schema, c.query)
			if errs != nil {
				t.Fatal(errs)
			}
			checkNonNull(t, "", data, doc.Operations[0].SelectionSet)
			for path, want := range c.want {
				got, ok := at(data, path)
				if !ok {
					t.Errorf("%s: no such path in %s", path, res.Data)
					continue
				}
				switch w := want.(type) {
				case []string: // warnings: one per fragment, in order
					list, _ := got.([]any)
					if len(list) != len(w) {
						t.Errorf("%s = %v, want %d warnings %q", path, got, len(w), w)
						continue
					}
					for i, frag := range w {
						if msg := fmt.Sprint(list[i].(map[string]any)["message"]); !strings.Contains(msg, frag) {
							t.Errorf("%s.%d = %q, want it to say %q", path, i, msg, frag)
						}
					}
				default:
					if fmt.Sprint(got) != fmt.Sprint(want) || got == nil != (want == nil) {
						t.Errorf("%s = %v, want %v", path, got, want)
					}
					if f, ok := got.(float64); ok && math.Signbit(f) && f == 0 {
						t.Errorf("%s is −0", path)
					}
				}
			}
		})
	}
}

// at reads a path of response keys and list indexes joined by dots.
func at(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// checkNonNull walks an answer against the schema's types of the fields selected: a null where the type is
// non-null is a spec violation that breaks typed clients.
func checkNonNull(t *testing.T, path string, v any, sel ast.SelectionSet) {
	t.Helper()
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, s := range sel {
		f, ok := s.(*ast.Field)
		if !ok {
			t.Fatalf("%s: the test's walk takes fields only", path)
		}
		key := f.Alias
		if key == "" {
			key = f.Name
		}
		checkAnswerValue(t, path+"."+key, obj[key], f.Definition.Type, f.SelectionSet)
	}
}

func checkAnswerValue(t *testing.T, path string, v any, typ *ast.Type, sel ast.SelectionSet) {
	t.Helper()
	if v == nil {
		if typ.NonNull {
			t.Errorf("%s is null, but its type is %s", path, typ)
		}
		return
	}
	if typ.Elem != nil {
		for i, e := range v.([]any) {
			checkAnswerValue(t, fmt.Sprintf("%s.%d", path, i), e, typ.Elem, sel)
		}
		return
	}
	checkNonNull(t, path, v, sel)
}

// An empty list would match nothing: it is refused, not read as "every region".
func TestEmptyListsRefused(t *testing.T) {
	srv, _ := newServer(t, loadStore(t, edgeData), query.DefaultOptions, DefaultOptions)
	for _, q := range []string{
		`{ observations(regions: []) { totalCount } }`,
		`{ observations(indicators: []) { totalCount } }`,
		`{ aggregate(by: [YEAR], filter: {regions: []}) { totalCount } }`,
		`{ aggregate(by: [YEAR], filter: {indicators: []}) { totalCount } }`,
		`{ pivot(indicator: "x", filter: {regions: []}) { columns { key } } }`,
		`{ ranking(indicator: "x", year: 2020, regions: []) { count } }`,
	} {
		res := post(t, srv.URL, q, nil, nil)
		if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, "empty") {
			t.Errorf("%s: %+v", q, res.Errors)
		}
	}
}
