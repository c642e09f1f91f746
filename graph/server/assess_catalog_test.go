package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pacesetter/analytics/duck"
	"pacesetter/analytics/query"
)

// A small dataset written by hand for schemes and targets. It goes the whole way: a folder on disk,
// imported by Store.ImportDir (DuckDB's read_csv path) into a snapshot file, opened read-only as
// `pacesetter serve --db` opens it, and asked over HTTP.
var assessFiles = map[string]string{
	"regions.csv": "region_code,region_name,parent_code,group,level\nCN,China,,,country\nA,Alpha,CN,G,province\nB,Beta,CN,G,province\n" +
		"C,Gamma,CN,G,province\nD,Delta,CN,H,province\n",
	"indicators.csv": "indicator_code,name,unit,direction,measure,category\nout,Output,bn,higher_is_better,level,economy\n" +
		"unemp,Unemployment rate,%,lower_is_better,rate,jobs\nidx,Output index,prev = 100,higher_is_better,index,economy\n",
	"observations.csv": "region_code,indicator_code,year,value\n" +
		"A,out,2020,100\nA,out,2021,105\nA,out,2022,110.25\n" +
		"B,out,2020,50\nB,out,2021,52\nB,out,2022,52\nB,out,2023,55\n" +
		"C,out,2021,80\nC,out,2022,90\nC,out,2023,70\n" +
		"D,out,2022,200\nD,out,2023,210\n" +
		"A,unemp,2021,4.0\nA,unemp,2022,3.5\nB,unemp,2021,5.0\nB,unemp,2022,5.6\n" +
		"A,idx,2021,106.2\nA,idx,2022,104.8\nA,idx,2023,105.0\n",
	"schemes.yaml": `schemes:
  - code: s
    name: 测试评价
    name_en: Test assessment
    note: weights by hand
    scope: {group: G}
    missing: EXCLUDE
    tiers: {cutoffs: [60]}
    indicators:
      - indicator: out
        weight: 2
        from: 2022
        department: 财政厅
        low: 0
        high: 300
      - indicator: unemp
        points: 3
        rule: {kind: target, step: 0.5}
`,
	"targets.csv": "region_code,indicator_code,year,comparator,value,kind,group\n" +
		"A,out,2021,>=,5,growth,\n" + // line 2
		"A,out,2022,>=,5,growth,\n" +
		"A,out,2023,>=,5,growth,\n" +
		"B,out,2022,>=,3,growth,\n" +
		"B,out,2023,>=,5,growth,\n" +
		"B,unemp,2022,<=,5,level,\n" +
		"A,unemp,2022,<=,0.5,growth,\n" +
		"C,out,2022,<=,2,rank,G\n" +
		"D,out,2023,<=,1,rank,\n" +
		"B,out,2023,<=,2,rank,\n" +
		"A,idx,2022,>=,5,growth,\n" +
		"A,out,2021,>=,100,level,\n",
}

// assessServer writes assessFiles to a folder, imports it into a snapshot file and serves that file.
func assessServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range assessFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "assess.db")
	ctx := context.Background()
	st, err := duck.WriteSnapshot(ctx, db, func(s *duck.Store) (duck.ImportStats, error) { return s.ImportDir(ctx, dir, "assess") })
	if err != nil {
		t.Fatal(err)
	}
	if !st.Fast || st.Schemes != 1 || st.Targets != 12 {
		t.Fatalf("import: fast %v, %d schemes, %d targets", st.Fast, st.Schemes, st.Targets)
	}
	served, err := query.OpenServed(ctx, db, query.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { served.Close() })
	srv := httptest.NewServer(NewHandler(served, DefaultOptions))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSchemeCatalog(t *testing.T) {
	url := assessServer(t)
	q := `{ dataset { schemes targets }
	  schemes { code name nameEn note scope { group { code } parent { code } level } normalisation aggregation missing minWeightShare
	    ties cutoffs quotas
	    indicators { indicator { code } weight points category department low high target from to rule { kind met missed step cap } } }
	  y2021: scheme(code: "s") { indicators(year: 2021) { indicator { code } } }
	  y2022: scheme(code: "s") { indicators(year: 2022) { indicator { code } } } }`
	var got json.RawMessage
	mustPost(t, url, q, nil, &got)
	// Defaults filled in: MIN_MAX, ARITHMETIC, COMPETITION; unemp has points and no weight, so its weight is 3,
	// and its category is the indicator's (jobs); the target rule's met, missed and cap take their defaults
	// (1, 0, 1) and its step the file's 0.5. out counts from 2022 only.
	want := `{"dataset":{"schemes":1,"targets":12},"schemes":[{"code":"s","name":"测试评价","nameEn":"Test assessment","note":"weights by hand",` +
		`"scope":{"group":{"code":"G"},"parent":null,"level":null},"normalisation":"MIN_MAX","aggregation":"ARITHMETIC","missing":"EXCLUDE",` +
		`"minWeightShare":null,"ties":"COMPETITION","cutoffs":[60],"quotas":null,"indicators":[` +
		`{"indicator":{"code":"out"},"weight":2,"points":null,"category":"economy","department":"财政厅","low":0,"high":300,"target":null,"from":2022,"to":null,"rule":{"kind":"SCALED","met":0,"missed":0,"step":0,"cap":0}},` +
		`{"indicator":{"code":"unemp"},"weight":3,"points":3,"category":"jobs","department":"","low":null,"high":null,"target":null,"from":null,"to":null,"rule":{"kind":"TARGET","met":1,"missed":0,"step":0.5,"cap":1}}]}],` +
		`"y2021":{"indicators":[{"indicator":{"code":"unemp"}}]},"y2022":{"indicators":[{"indicator":{"code":"out"}},{"indicator":{"code":"unemp"}}]}}`
	if string(got) != want {
		t.Errorf("catalog\n got %s\nwant %s", got, want)
	}
	res := post(t, url, `{ scheme(code: "t") { code } }`, nil, nil)
	if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "NOT_FOUND" || !strings.Contains(res.Errors[0].Message, `unknown scheme "t" (did you mean "s"?); the schemes are s`) {
		t.Errorf("unknown scheme: %+v", res.Errors)
	}
}

type targetRow struct {
	Region     struct{ Code string }
	Indicator  struct{ Code string }
	Year       int
	Kind       string
	Comparator string
	Target     float64
	Actual     *float64
	Status     string
	Attainment *float64
	Gap        *float64
	Streak     int
	Unit       string
	Group      *struct{ Code string }
}

func (r targetRow) String() string {
	num := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	g := ""
	if r.Group != nil {
		g = " in " + r.Group.Code
	}
	return fmt.Sprintf("%s %s %d %s %s%v%s: actual %s %s attainment %s gap %s streak %d [%s]", r.Region.Code, r.Indicator.Code, r.Year,
		r.Kind, r.Comparator, r.Target, g, num(r.Actual), r.Status, num(r.Attainment), num(r.Gap), r.Streak, r.Unit)
}

const targetsQuery = `query($r: ID, $i: ID, $y: Int, $f: Int, $t: Int, $g: ID, $s: ID) {
  targets(region: $r, indicator: $i, year: $y, from: $f, to: $t, group: $g, scheme: $s) {
    region { code } indicator { code } year kind comparator target actual status attainment gap streak unit group { code } } }`

func targets(t *testing.T, url string, vars map[string]any) []string {
	t.Helper()
	var a struct{ Targets []targetRow }
	mustPost(t, url, targetsQuery, vars, &a)
	out := make([]string, len(a.Targets))
	for i, r := range a.Targets {
		out[i] = r.String()
	}
	return out
}

func TestTargets(t *testing.T) {
	url := assessServer(t)
	// Worked by hand from assessFiles, in the answer's order (regions A B C D, indicators out unemp idx,
	// then year, then kind LEVEL GROWTH RANK):
	want := []string{
		// out is a LEVEL: growth = 100·(x(t)/x(t−1) − 1). 2021: 100·(105/100 − 1) = 5 ≥ 5, met, attainment 5/5 = 1,
		// gap 0; the first year with this target, streak 1. The level target: 105 ≥ 100, 105/100 = 1.05, gap 5.
		"A out 2021 LEVEL >=100: actual 105 MET attainment 1.05 gap 5 streak 1 [bn]",
		"A out 2021 GROWTH >=5: actual 5 MET attainment 1 gap 0 streak 1 [%]",
		// 2022: 100·(110.25/105 − 1) = 100·0.05 = 5, met again: streak 2.
		"A out 2022 GROWTH >=5: actual 5 MET attainment 1 gap 0 streak 2 [%]",
		// 2023: A has no value: pending, no actual, streak 0.
		"A out 2023 GROWTH >=5: actual null PENDING attainment null gap null streak 0 [%]",
		// unemp is a RATE: its growth is x(t) − x(t−1) = 3.5 − 4.0 = −0.5 points ≤ 0.5: met; attainment =
		// target/actual = 0.5/(−0.5) has a divisor ≤ 0: null; gap −0.5 − 0.5 = −1.
		"A unemp 2022 GROWTH <=0.5: actual -0.5 MET attainment null gap -1 streak 1 [points (%)]",
		// idx is an INDEX: growth = 104.8 − 100 = 4.8 < 5: missed; 4.8/5 = 0.96; gap −0.2.
		"A idx 2022 GROWTH >=5: actual 4.8 MISSED attainment 0.96 gap -0.2 streak 0 [%]",
		// B: 2022 100·(52/52 − 1) = 0 < 3: missed, 0/3 = 0, gap −3.
		"B out 2022 GROWTH >=3: actual 0 MISSED attainment 0 gap -3 streak 0 [%]",
		// 2023: 100·(55/52 − 1) = 5.76923076923 ≥ 5, met (the year before missed: streak 1);
		// 5.76923076923/5 = 1.15384615385; the gap is taken from the actual as shown (12 significant digits):
		// 5.76923076923 − 5 = 0.76923076923.
		"B out 2023 GROWTH >=5: actual 5.76923076923 MET attainment 1.15384615385 gap 0.76923076923 streak 1 [%]",
		// Rank without a group: the provinces with a value of out in 2023: D 210, C 70, B 55 (A has none):
		// B is 3rd > 2: missed; attainment 2/3, gap 3 − 2 = 1.
		"B out 2023 RANK <=2: actual 3 MISSED attainment 0.666666666667 gap 1 streak 0 [rank]",
		// unemp 2022 level 5.6 > 5: missed; target/actual = 5/5.6 = 0.892857142857; gap 0.6.
		"B unemp 2022 LEVEL <=5: actual 5.6 MISSED attainment 0.892857142857 gap 0.6 streak 0 [%]",
		// Rank in group G (A, B, C) in 2022: A 110.25, C 90, B 52: C is 2nd ≤ 2: met, 2/2 = 1, gap 0.
		"C out 2022 RANK <=2 in G: actual 2 MET attainment 1 gap 0 streak 1 [rank]",
		// D is 1st of the 2023 provinces (above): met.
		"D out 2023 RANK <=1: actual 1 MET attainment 1 gap 0 streak 1 [rank]",
	}
	if got := targets(t, url, nil); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("targets\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Filters. The scheme counts out from 2022 and unemp always: idx and out's 2021 targets are left out.
	count := func(vars map[string]any, n int) {
		t.Helper()
		if got := targets(t, url, vars); len(got) != n {
			t.Errorf("%v: %d targets, want %d:\n%s", vars, len(got), n, strings.Join(got, "\n"))
		}
	}
	// A streak looks back at years the filter leaves out.
	if got := targets(t, url, map[string]any{"r": "A", "i": "out", "y": 2022}); len(got) != 1 || !strings.HasSuffix(got[0], "streak 2 [%]") {
		t.Errorf("A out 2022 alone: %v", got)
	}
	count(map[string]any{"s": "s"}, 9)
	count(map[string]any{"r": "A"}, 6)
	count(map[string]any{"i": "out", "y": 2023}, 4)
	count(map[string]any{"f": 2022, "t": 2022}, 6)
	count(map[string]any{"g": "G", "y": 2023}, 3) // A, B, B: D is in H
	count(map[string]any{"g": "H"}, 1)
	count(map[string]any{"y": 2030}, 0)
	for _, c := range []struct {
		vars map[string]any
		code string
		msg  string
	}{
		{map[string]any{"s": "x"}, "NOT_FOUND", `unknown scheme "x"`},
		{map[string]any{"r": "Z"}, "NOT_FOUND", `unknown region "Z"`},
		{map[string]any{"y": 2022, "f": 2021}, "BAD_USER_INPUT", "give year, or from and to, not both"},
		{map[string]any{"f": 2023, "t": 2022}, "BAD_USER_INPUT", "from 2023 is after to 2022"},
		{map[string]any{"g": ""}, "BAD_USER_INPUT", "group is empty"},
	} {
		res := post(t, url, targetsQuery, c.vars, nil)
		if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != c.code || !strings.Contains(res.Errors[0].Message, c.msg) {
			t.Errorf("%v: %+v, want %s %q", c.vars, res.Errors, c.code, c.msg)
		}
	}
}

// The embedded NBS dataset ships a scheme and the national growth target applied to every province. Jiangsu's
// gdp_index rows in data/china-provinces-nbs/observations.csv:
//
//	320000,江苏省,gdp_index,2022,102.7,
//	320000,江苏省,gdp_index,2023,105.9,
//	320000,江苏省,gdp_index,2024,105.7,
//
// (none for 2025). gdp_index is an INDEX, so the growth is x − 100: 2023 5.9 ≥ 5, met, 5.9/5 = 1.18, gap 0.9,
// streak 1 (no target in 2022); 2024 5.7, met, 1.14, 0.7, streak 2; 2025 pending. Shanghai (310000) 2024:
// 104.9 → 4.9 < 5, missed, 0.98, −0.1.
func TestEmbeddedSchemeAndTargets(t *testing.T) {
	srv := nbsServer(t)
	var a struct {
		Dataset struct{ Schemes, Targets int }
		Scheme  struct {
			Code       string
			Scope      struct{ Level string }
			Quotas     []int
			Indicators []struct {
				Indicator  struct{ Code string }
				Weight     float64
				Points     float64
				Department string
				Rule       struct{ Kind string }
			}
		}
	}
	mustPost(t, srv.URL, `{ dataset { schemes targets } scheme(code: "hqd") { code scope { level } quotas
		indicators(year: 2024) { indicator { code } weight points department rule { kind } } } }`, nil, &a)
	// 31 provinces × 2023, 2024, 2025.
	if a.Dataset.Schemes != 1 || a.Dataset.Targets != 93 || a.Scheme.Scope.Level != "province" || fmt.Sprint(a.Scheme.Quotas) != "[8 12]" {
		t.Errorf("%+v", a)
	}
	sum, codes := 0.0, []string{}
	for _, si := range a.Scheme.Indicators {
		sum += si.Weight
		codes = append(codes, si.Indicator.Code+":"+si.Rule.Kind)
		if si.Points != si.Weight || si.Department == "" {
			t.Errorf("line %+v", si)
		}
	}
	if sum != 100 || len(codes) != 9 || codes[1] != "gdp_index:TARGET" {
		t.Errorf("2024: weights sum to %v over %v", sum, codes)
	}
	got := targets(t, srv.URL, map[string]any{"r": "320000"})
	want := []string{
		"320000 gdp_index 2023 GROWTH >=5: actual 5.9 MET attainment 1.18 gap 0.9 streak 1 [%]",
		"320000 gdp_index 2024 GROWTH >=5: actual 5.7 MET attainment 1.14 gap 0.7 streak 2 [%]",
		"320000 gdp_index 2025 GROWTH >=5: actual null PENDING attainment null gap null streak 0 [%]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Jiangsu\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = targets(t, srv.URL, map[string]any{"r": "310000", "y": 2024, "s": "hqd"})
	if len(got) != 1 || got[0] != "310000 gdp_index 2024 GROWTH >=5: actual 4.9 MISSED attainment 0.98 gap -0.1 streak 0 [%]" {
		t.Errorf("Shanghai 2024: %v", got)
	}
}
