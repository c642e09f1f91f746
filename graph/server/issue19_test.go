package server

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pacesetter/data"
)

// Formulas, weighted means, search and names end to end, over real HTTP and DuckDB on the embedded NBS
// data. The expected numbers are worked out here from observations.csv itself, not from the engine.
func TestFormulasWeightedMeansAndNamesOverHTTP(t *testing.T) {
	srv := nbsServer(t)
	f, err := data.Default().Open("observations.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	val := map[string]float64{} // region|indicator|year → value
	for _, r := range rows[1:] {
		v, _ := strconv.ParseFloat(r[4], 64)
		val[r[0]+"|"+r[2]+"|"+r[3]] = v
	}

	// Fiscal revenue as a share of GRP among the eastern provinces, by formula.
	var rk struct {
		Ranking struct {
			Indicator struct{ Code, Unit string }
			Entries   []struct {
				Region struct{ Code, Name string }
				Value  float64
				Flags  []string
				VsWM   *float64
			}
			WeightedMean *float64
			Mean         float64
		}
	}
	mustPost(t, srv.URL, `{ ranking(formula: "fiscal_revenue/gdp*100", year: 2024, group: "East", direction: HIGHER_IS_BETTER, unit: "%") {
		indicator { code unit } mean weightedMean(weight: "gdp")
		entries { region { code name(lang: EN) } value flags vsWM: vsWeightedMean(weight: "gdp") } } }`, nil, &rk)
	r := rk.Ranking
	if r.Indicator.Code != "fiscal_revenue / gdp * 100" || r.Indicator.Unit != "%" || len(r.Entries) != 10 {
		t.Fatalf("ranking: %+v", r)
	}
	num, den := 0.0, 0.0
	for i, e := range r.Entries {
		fr, gdp := val[e.Region.Code+"|fiscal_revenue|2024"], val[e.Region.Code+"|gdp|2024"]
		want := fr / gdp * 100
		if diff := e.Value - want; diff > 1e-9 || diff < -1e-9 || !strings.Contains(strings.Join(e.Flags, ","), "computed") {
			t.Fatalf("entry %d %s: %v flags %v, by hand %v", i, e.Region.Code, e.Value, e.Flags, want)
		}
		if i > 0 && e.Value > r.Entries[i-1].Value {
			t.Fatalf("not ranked best first at %d", i)
		}
		num += want * gdp
		den += gdp
	}
	wm := num / den // Σ share·gdp / Σ gdp: the group's fiscal revenue over its GRP
	if r.WeightedMean == nil || *r.WeightedMean-wm > 1e-9 || wm-*r.WeightedMean > 1e-9 || *r.WeightedMean == r.Mean {
		t.Fatalf("weightedMean %v, by hand %v (mean %v)", r.WeightedMean, wm, r.Mean)
	}
	if e := r.Entries[0]; e.VsWM == nil || *e.VsWM-(e.Value-*r.WeightedMean) > 1e-9 || (e.Value-*r.WeightedMean)-*e.VsWM > 1e-9 {
		t.Fatalf("vsWeightedMean %v", e.VsWM)
	}
	if r.Entries[0].Region.Name == "" || strings.ContainsAny(r.Entries[0].Region.Name, "省市") {
		t.Fatalf("name(lang: EN) is %q", r.Entries[0].Region.Name)
	}

	// Errors: the place in the formula, and a suggestion; NOT_FOUND by name.
	for _, c := range []struct{ q, code, msg string }{
		{`{ ranking(formula: "fiscal_revenu / gdp", year: 2024) { count } }`, "NOT_FOUND", `formula: 1:1: unknown indicator "fiscal_revenu" (did you mean "fiscal_revenue"?)`},
		{`{ ranking(indicator: "gdp", formula: "gdp / population", year: 2024) { count } }`, "BAD_USER_INPUT", "not both"},
		{`{ ranking(indicator: "gdp", unit: "%", year: 2024) { count } }`, "BAD_USER_INPUT", "describe a formula"},
		{`{ region(code: "江苏省") { code } }`, "NOT_FOUND", `did you mean "320000" (江苏省)`},
	} {
		res := post(t, srv.URL, c.q, nil, nil)
		if len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != c.code || !strings.Contains(res.Errors[0].Message, c.msg) {
			t.Errorf("%s: %+v", c.q, res.Errors)
		}
	}

	// search(text: "江苏") and compare's WEIGHTED_MEAN baseline.
	var s struct {
		Search  []struct{ Kind, Code, Name, Match string }
		Compare struct {
			Rows []struct {
				Value    float64
				Baseline *float64
			}
		}
	}
	mustPost(t, srv.URL, `{ search(text: "江苏") { kind code name match }
		compare(regions: ["320000"], indicators: ["disposable_income_pc"], from: 2024, to: 2024, scope: {parent: "CN"},
			baseline: {stat: WEIGHTED_MEAN, weight: "population"}) { rows { value baseline } } }`, nil, &s)
	if len(s.Search) != 1 || s.Search[0].Code != "320000" || s.Search[0].Kind != "REGION" || s.Search[0].Match != "PREFIX" {
		t.Fatalf("search: %+v", s.Search)
	}
	num, den = 0, 0
	for k, v := range val {
		if p := strings.Split(k, "|"); p[1] == "disposable_income_pc" && p[2] == "2024" && p[0] != "CN" {
			num += v * val[p[0]+"|population|2024"]
			den += val[p[0]+"|population|2024"]
		}
	}
	if len(s.Compare.Rows) != 1 || s.Compare.Rows[0].Baseline == nil || *s.Compare.Rows[0].Baseline-num/den > 1e-6 || num/den-*s.Compare.Rows[0].Baseline > 1e-6 {
		t.Fatalf("compare: %+v, by hand %v", s.Compare.Rows, num/den)
	}
	// name(lang:) in an answer the plain writer writes itself, as gqlgen would.
	var names struct {
		Ranking struct {
			Entries []struct {
				Region struct{ Zh, En, Plain string }
			}
		}
	}
	before := plainWritten.Load()
	mustPost(t, srv.URL, `query($l: Lang) { ranking(indicator: "gdp", year: 2024, group: "East", ties: DENSE) { entries { region {
		zh: name(lang: ZH) en: name(lang: $l) plain: name } } } }`, map[string]any{"l": "EN"}, &names)
	if plainWritten.Load() == before {
		t.Error("name(lang:) took the answer away from the plain writer")
	}
	if g := names.Ranking.Entries[0].Region; g.Zh != "广东省" || g.En != "Guangdong" || g.Plain != "广东省" {
		t.Fatalf("names: %+v", g)
	}
	if res := post(t, srv.URL, `{ search(text: "x", first: 1000) { code } }`, nil, nil); res.Status == http.StatusOK && len(res.Errors) == 0 {
		t.Fatal("search first: 1000 accepted")
	}
}

// Categories and departments have names in Chinese and English (schemes.yaml categories: and departments:),
// shown wherever a category or department is, and search finds them by either. The expected names are
// those written in data/china-provinces-nbs/schemes.yaml.
func TestCategoryAndDepartmentNamesOverHTTP(t *testing.T) {
	srv := nbsServer(t)
	type label struct{ Code, Name, En, NameEn string }
	var a struct {
		Indicator struct{ CategoryLabel label }
		Schemes   []struct {
			Indicators []struct {
				Indicator                      struct{ Code string }
				Department                     string
				CategoryLabel, DepartmentLabel label
			}
		}
		Departments []struct {
			Department      string
			DepartmentLabel label
		}
		Categories []struct{ CategoryLabel label }
		Health     []struct{ Kind, Code, Name, NameEn, Match string }
		Minsheng   []struct{ Kind, Code, Name, NameEn, Match string }
		Economy    []struct{ Kind, Code, Match string }
	}
	l := `{ code name en: name(lang: EN) nameEn }`
	mustPost(t, srv.URL, `{ indicator(code: "gdp") { categoryLabel `+l+` }
		schemes { indicators { indicator { code } department categoryLabel `+l+` departmentLabel `+l+` } }
		departments(input: {year: 2024, scheme: "hqd"}, region: "320000") { department departmentLabel `+l+` }
		categories(input: {year: 2024, scheme: "hqd"}, region: "320000") { categoryLabel `+l+` }
		health: search(text: "health commission") { kind code name nameEn match }
		minsheng: search(text: "民生") { kind code name nameEn match }
		economy: search(text: "经济发展", kinds: [CATEGORY]) { kind code match } }`, nil, &a)
	if got := a.Indicator.CategoryLabel; got != (label{"output", "产出", "Output", "Output"}) {
		t.Errorf("gdp's category: %+v", got)
	}
	line := a.Schemes[0].Indicators[0] // gdp_per_capita: economy, 发展改革委
	if line.Indicator.Code != "gdp_per_capita" || line.CategoryLabel != (label{"economy", "经济发展", "Economic development", "Economic development"}) ||
		line.DepartmentLabel != (label{"发展改革委", "发展和改革委员会", "Development and Reform Commission", "Development and Reform Commission"}) {
		t.Errorf("scheme line: %+v", line)
	}
	var deps []string
	for _, d := range a.Departments {
		if d.DepartmentLabel.Code != d.Department || d.DepartmentLabel.NameEn == "" {
			t.Errorf("department %+v", d)
		}
		deps = append(deps, d.DepartmentLabel.En)
	}
	if len(deps) != 6 || !slices.Contains(deps, "Health Commission") || len(a.Categories) != 3 || a.Categories[2].CategoryLabel.Name != "民生" {
		t.Errorf("points by department %v, by category %+v", deps, a.Categories)
	}
	if len(a.Health) != 1 || a.Health[0].Kind != "DEPARTMENT" || a.Health[0].Code != "卫生健康委" || a.Health[0].Name != "卫生健康委员会" || a.Health[0].Match != "NAME" {
		t.Errorf("search health commission: %+v", a.Health)
	}
	if len(a.Minsheng) != 1 || a.Minsheng[0].Kind != "CATEGORY" || a.Minsheng[0].Code != "livelihood" || a.Minsheng[0].NameEn != "Livelihood" {
		t.Errorf("search 民生: %+v", a.Minsheng)
	}
	if len(a.Economy) != 1 || a.Economy[0].Code != "economy" || a.Economy[0].Match != "NAME" {
		t.Errorf("search 经济发展: %+v", a.Economy)
	}
}

// Region.valueSource says whether a value is the region's own or its children's rollup: CN has no value of
// its own of va_primary (derived.csv's parent_rollup fills it), a province's is published; none, null.
// (By hand from observations.csv: no CN row of va_primary; a 320000 row of it in 2024.)
func TestRegionValueSourceOverHTTP(t *testing.T) {
	srv := nbsServer(t)
	var a struct {
		CN, JS struct {
			Value       *float64
			ValueSource *string
			None        *string
		}
	}
	mustPost(t, srv.URL, `{ cn: region(code: "CN") { value(indicator: "va_primary", year: 2024) valueSource(indicator: "va_primary", year: 2024)
			none: valueSource(indicator: "va_primary", year: 1990) }
		js: region(code: "320000") { value(indicator: "va_primary", year: 2024) valueSource(indicator: "va_primary", year: 2024)
			none: valueSource(indicator: "va_primary", year: 1990) } }`, nil, &a)
	if a.CN.Value == nil || a.CN.ValueSource == nil || *a.CN.ValueSource != "ROLLED_UP" || a.CN.None != nil {
		t.Errorf("CN: %+v", a.CN)
	}
	if a.JS.Value == nil || a.JS.ValueSource == nil || *a.JS.ValueSource != "OBSERVED" || a.JS.None != nil {
		t.Errorf("320000: %+v", a.JS)
	}
}
