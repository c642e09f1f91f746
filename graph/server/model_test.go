package server

import (
	"fmt"
	"math"
	"pacesetter/analytics/query"
	"strings"
	"testing"
	"testing/fstest"
)

// The data model through the API: measures, memberships by year, levels and ad-hoc scopes, derived values,
// flags and vintages. Expected numbers come from the CSV files by hand (the grep is beside each) or from
// the small dataset below, worked out in its comments.

func TestMeasuresOnNBS(t *testing.T) {
	srv := nbsServer(t)
	// gdp_index is an index with the previous year = 100, so its growth is x/100 − 1. East 2024, from
	//   grep -E '^(320000|370000|330000),[^,]*,gdp_index,202[34],' observations.csv
	// Jiangsu 105.7 → 0.057 (1st), Shandong 105.6 → 0.056, Zhejiang 105.5 → 0.055; in 2023 they read 105.9,
	// 106.1 and 106.2, and ranked 4th, 3rd and 2nd. year is left out: 2024 is the latest with a value.
	var a struct {
		Ranking struct {
			Year      int
			Indicator struct{ Measure string }
			Entries   []struct {
				Region       struct{ Code string }
				Value        float64
				Rank         int
				PreviousRank *int
			}
		}
	}
	mustPost(t, srv.URL, `{ ranking(indicator: "gdp_index", group: "East", basis: GROWTH) {
		year indicator { measure } entries(top: 3) { region { code } value rank previousRank } } }`, nil, &a)
	got := fmt.Sprintf("%d %s", a.Ranking.Year, a.Ranking.Indicator.Measure)
	for _, e := range a.Ranking.Entries {
		got += fmt.Sprintf(" %s=%v#%d(%s)", e.Region.Code, e.Value, e.Rank, ptrString(e.PreviousRank))
	}
	if want := "2024 INDEX 320000=0.057#1(4) 370000=0.056#2(3) 330000=0.055#3(2)"; got != want {
		t.Errorf("gdp_index growth:\n got %s\nwant %s", got, want)
	}

	// fai_funds_growth already is a % change: its growth is x/100, and no region is missing for want of a
	// year before. Northeast 2024 (grep -E '^(210000|220000|230000),[^,]*,fai_funds_growth,2024,'):
	// Heilongjiang 7.9, Liaoning −0.5, Jilin −1.8.
	var b rankingAnswer
	mustPost(t, srv.URL, `{ ranking(indicator: "fai_funds_growth", year: 2024, group: "Northeast", basis: GROWTH) {
		entries { region { code } value rank gapToLeader } missing { code } } }`, nil, &b)
	if b.order() != "230000:1 210000:2 220000:3" || b.missing() != "" {
		t.Errorf("fai_funds_growth: %s missing %s", b.order(), b.missing())
	}
	// Gaps to the leader, rounded: 0, 0.079 − (−0.005) = 0.084, 0.079 − (−0.018) = 0.097.
	for i, want := range [][2]float64{{0.079, 0}, {-0.005, 0.084}, {-0.018, 0.097}} {
		if e := b.Ranking.Entries[i]; e.Value != want[0] || e.GapToLeader != want[1] {
			t.Errorf("entry %d: value %v gap %v, want %v", i, e.Value, e.GapToLeader, want)
		}
	}
	// Differences are rounded to 12 significant digits: 9.62 − 9.02 reads 0.6 (death rate, lower is better).
	mustPost(t, srv.URL, `{ ranking(indicator: "death_rate", year: 2024, group: "Northeast") { entries { region { code } value rank gapToLeader } } }`, nil, &b)
	if e := b.Ranking.Entries; len(e) != 3 || e[1].GapToLeader != 0.6 || e[2].GapToLeader != 0.67 {
		t.Errorf("death_rate gaps: %+v", e)
	}

	// Jiangsu's gdp_index trend, 2022–2024 shown (102.7, 105.9, 105.7): yoy 0.027, 0.059, 0.057; every year
	// since 2016 grew, so the streak reaches 9 in 2024 (nine years, 2016–2024); cagr chains 2023 and 2024:
	// √(1.059 × 1.057) − 1.
	var tr struct {
		Trend struct {
			Cagr   *float64
			Points []struct {
				Year   int
				Yoy    *float64
				Streak int
				Flags  []string
			}
		}
	}
	mustPost(t, srv.URL, `{ trend(region: "320000", indicator: "gdp_index", from: 2022) { cagr points { year yoy streak flags } } }`, nil, &tr)
	pts := tr.Trend.Points
	if len(pts) != 3 || *pts[0].Yoy != 0.027 || *pts[1].Yoy != 0.059 || *pts[2].Yoy != 0.057 || pts[2].Streak != 9 || len(pts[2].Flags) != 0 {
		t.Errorf("gdp_index trend: %+v", pts)
	}
	if tr.Trend.Cagr == nil || math.Abs(*tr.Trend.Cagr-(math.Sqrt(1.059*1.057)-1)) > 1e-11 {
		t.Errorf("gdp_index cagr %s", ptrString(tr.Trend.Cagr))
	}
}

func TestMetadataMembershipsAndFlagsOnNBS(t *testing.T) {
	srv := nbsServer(t)
	var a struct {
		Indicator struct {
			Measure, Rollup, Category, Source, NameEn string
			Decimals, FirstYear, LastYear             int
			Formula                                   *string
		}
		Derived struct {
			Formula   string
			FirstYear int
		}
		Group struct {
			Before []struct{ Code string }
			After  []struct{ Code string }
		}
		Region struct {
			Level  string
			NameEn string
			Y2018  []struct{ Code string }
			Y2019  []struct{ Code string }
		}
		Ranking struct {
			Year       int
			Flagged    int
			FlagCounts []struct {
				Flag  string
				Count int
			}
			Entries []struct {
				Region struct{ Code string }
				Value  float64
				Flags  []string
			}
		}
		Observations struct {
			Nodes []struct {
				Year  int
				Flags []string
			}
		}
	}
	mustPost(t, srv.URL, `{
		indicator(code: "retail_sales") { measure rollup category source nameEn decimals firstYear lastYear formula }
		derived: indicator(code: "retail_sales_pc") { formula firstYear }
		group(code: "YangtzeRiverDelta") { before: members(year: 2018) { code } after: members(year: 2019) { code } }
		region(code: "340000") { level nameEn y2018: groups(year: 2018) { code } y2019: groups(year: 2019) { code } }
		ranking(indicator: "gdp_per_capita", level: "province") { year flagged flagCounts { flag count } entries(top: 1) { region { code } value flags } }
		observations(regions: ["110000"], indicators: ["gdp_per_capita"], from: 2024) { nodes { year flags } }
	}`, nil, &a)
	in := a.Indicator
	if in.Measure != "LEVEL" || in.Rollup != "SUM" || in.Category != "consumption" || in.NameEn != "Total retail sales of consumer goods" ||
		in.Decimals != 1 || in.FirstYear != 2016 || in.LastYear != 2024 || in.Formula != nil || !strings.HasPrefix(in.Source, "NBS") {
		t.Errorf("retail_sales: %+v", in)
	}
	if a.Derived.Formula != "retail_sales / population * 10000" || a.Derived.FirstYear != 2024 {
		t.Errorf("retail_sales_pc: %+v", a.Derived)
	}
	// Anhui joins the Yangtze River Delta in 2019 (data/china-provinces-nbs/memberships.csv).
	if fmt.Sprint(a.Group.Before) != "[{310000} {320000} {330000}]" || fmt.Sprint(a.Group.After) != "[{310000} {320000} {330000} {340000}]" {
		t.Errorf("YangtzeRiverDelta members: %v then %v", a.Group.Before, a.Group.After)
	}
	if a.Region.Level != "province" || a.Region.NameEn != "Anhui" || fmt.Sprint(a.Region.Y2018) != "[{Central} {MiddleYangtze}]" ||
		fmt.Sprint(a.Region.Y2019) != "[{Central} {MiddleYangtze} {YangtzeRiverDelta}]" {
		t.Errorf("Anhui: %+v", a.Region)
	}
	// gdp_per_capita's latest year is 2025, preliminary for all 31 provinces (flag p); Beijing leads with
	// 238705 (grep -E '^110000,[^,]*,gdp_per_capita,2025,' observations.csv).
	r := a.Ranking
	if r.Year != 2025 || r.Flagged != 31 || fmt.Sprint(r.FlagCounts) != "[{p 31}]" || r.Entries[0].Region.Code != "110000" ||
		r.Entries[0].Value != 238705 || fmt.Sprint(r.Entries[0].Flags) != "[p]" {
		t.Errorf("gdp_per_capita ranking: %+v", r)
	}
	if fmt.Sprint(a.Observations.Nodes) != "[{2024 []} {2025 [p]}]" {
		t.Errorf("observations flags: %v", a.Observations.Nodes)
	}
	// The NBS data gives no release dates, so it cannot tell what was known on 1 January 2000: asOf is
	// refused rather than answered with values published since.
	res := post(t, srv.URL, `{ ranking(indicator: "gdp_per_capita", asOf: "2000-01-01") { year } }`, nil, nil)
	if errorCode(res) != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, "asOf needs release dates") {
		t.Errorf("asOf without vintages: %+v", res.Errors)
	}
}

func TestWorldBankCountriesOnly(t *testing.T) {
	srv, _ := newServer(t, loadStore(t, worldBank()), query.DefaultOptions, DefaultOptions)
	// Without a level the aggregates rank first (World, High income…); with level "country" they are left
	// out: 185 economies have a 2023 GDP (data/worldbank-gdp-population/README.md), the United States first.
	var all, countries struct {
		Ranking struct {
			Year    int
			Count   int
			Entries []struct {
				Region struct{ Code, Level string }
			}
		}
	}
	mustPost(t, srv.URL, `{ ranking(indicator: "NY.GDP.MKTP.CD", year: 2023) { year count entries(top: 1) { region { code level } } } }`, nil, &all)
	mustPost(t, srv.URL, `{ ranking(indicator: "NY.GDP.MKTP.CD", level: "country") { year count entries { region { code level } } } }`, nil, &countries)
	if all.Ranking.Entries[0].Region.Code != "WLD" {
		t.Errorf("all: first %+v", all.Ranking.Entries[0])
	}
	c := countries.Ranking
	if c.Year != 2023 || c.Count != 185 || c.Entries[0].Region.Code != "USA" || c.Entries[1].Region.Code != "CHN" {
		t.Errorf("countries: year %d count %d first %v", c.Year, c.Count, c.Entries[:2])
	}
	for _, e := range c.Entries {
		if e.Region.Level != "country" {
			t.Errorf("%s of level %s ranked among countries", e.Region.Code, e.Region.Level)
		}
	}
}

// A small dataset whose numbers are worked out by hand: regions of two levels, a group whose members change,
// a RATE indicator, and values released, then revised.
var vintageData = fstest.MapFS{
	"regions.csv": {Data: []byte("region_code,region_name,parent_code,level\n" +
		"W,World,,world\nA,Alpha,W,country\nB,Beta,W,country\nC,Gamma,W,country\nD,Delta,W,country\n")},
	"groups.csv":      {Data: []byte("group_code,name\nClub,The club\n")},
	"memberships.csv": {Data: []byte("group_code,region_code,from_year,to_year\nClub,A,,\nClub,B,,2020\nClub,C,2021,\n")},
	"indicators.csv": {Data: []byte("indicator_code,name,unit,direction,measure,rollup\n" +
		"gdp,GDP,bn,higher_is_better,level,sum\nunemp,Unemployment rate,%,lower_is_better,rate,none\n")},
	"derived.csv": {Data: []byte("indicator_code,name,unit,direction,measure,formula\ngdp,,,,,parent_rollup\n")},
	// gdp 2021 was first published on 2022-03-01 (A 100 p, B 90 p, C 95 p, D 80), then A and C were revised
	// on 2022-09-01 (A 88, C 99). unemp is undated.
	"observations.csv": {Data: []byte("region_code,indicator_code,year,value,flag,vintage\n" +
		"A,gdp,2020,80,,\nB,gdp,2020,85,,\nC,gdp,2020,70,,\nD,gdp,2020,60,,\n" +
		"A,gdp,2021,100,p,2022-03-01\nB,gdp,2021,90,p,2022-03-01\nC,gdp,2021,95,p,2022-03-01\nD,gdp,2021,80,,2022-03-01\n" +
		"A,gdp,2021,88,r,2022-09-01\nC,gdp,2021,99,r,2022-09-01\n" +
		"A,unemp,2020,5.2,,\nA,unemp,2021,5.5,,\nB,unemp,2020,6.1,,\nB,unemp,2021,5.1,,\nC,unemp,2021,4,,\n")},
}

func TestVintagesScopesAndRates(t *testing.T) {
	srv, _ := newServer(t, loadStore(t, vintageData), query.DefaultOptions, DefaultOptions)
	rank := func(args string) string {
		t.Helper()
		var a struct {
			Ranking struct {
				Year    int
				Flagged int
				Entries []struct {
					Region struct{ Code string }
					Value  float64
					Rank   int
					Flags  []string
				}
				Missing []struct{ Code string }
			}
		}
		mustPost(t, srv.URL, `{ ranking(`+args+`) { year flagged entries { region { code } value rank flags } missing { code } } }`, nil, &a)
		s := fmt.Sprintf("%d flagged=%d", a.Ranking.Year, a.Ranking.Flagged)
		for _, e := range a.Ranking.Entries {
			s += fmt.Sprintf(" %s=%v#%d%v", e.Region.Code, e.Value, e.Rank, e.Flags)
		}
		for _, m := range a.Ranking.Missing {
			s += " -" + m.Code
		}
		return s
	}
	for _, c := range []struct{ args, want string }{
		// As revised (the default): C 99, B 90, A 88, D 80; three rest on flagged values.
		{`indicator: "gdp", year: 2021, level: "country"`, "2021 flagged=3 C=99#1[r] B=90#2[p] A=88#3[r] D=80#4[]"},
		// As first published: A 100, C 95, B 90, D 80.
		{`indicator: "gdp", year: 2021, level: "country", asOf: "2022-06-30"`, "2021 flagged=3 A=100#1[p] C=95#2[p] B=90#3[p] D=80#4[]"},
		// Before any release of 2021: nobody has a value, all four are missing, not ranked last.
		{`indicator: "gdp", year: 2021, level: "country", asOf: "2022-01-01"`, "2021 flagged=0 -A -B -C -D"},
		// The world is the countries' sum (parent_rollup): 60+70+80+85 = 295 in 2020; 88+90+99+80 = 357 as
		// revised, 100+90+95+80 = 365 as first published, flagged derived plus its inputs' flags.
		{`indicator: "gdp", year: 2020, level: "world"`, "2020 flagged=1 W=295#1[derived]"},
		{`indicator: "gdp", year: 2021, level: "world"`, "2021 flagged=1 W=357#1[p r derived]"},
		{`indicator: "gdp", year: 2021, level: "world", asOf: "2022-03-01"`, "2021 flagged=1 W=365#1[p derived]"},
		// The club in 2020 is A and B; in 2021 A and C (B left, C joined). Growth of a level: A 88/80 − 1 = 0.1,
		// C 99/70 − 1 = 0.414285714286 (12 significant digits); previous ranks are within 2020's club.
		{`indicator: "gdp", year: 2020, group: "Club"`, "2020 flagged=0 B=85#1[] A=80#2[]"},
		{`indicator: "gdp", year: 2021, group: "Club", basis: GROWTH`, "2021 flagged=2 C=0.414285714286#1[r] A=0.1#2[r]"},
		// An ad-hoc scope: just B and D.
		{`indicator: "gdp", year: 2021, regions: ["D", "B"]`, "2021 flagged=1 B=90#1[p] D=80#2[]"},
		// A rate grows in points and lower is better: B 5.1 − 6.1 = −1 (best), A 5.5 − 5.2 = 0.3; C has no 2020.
		{`indicator: "unemp", year: 2021, basis: GROWTH`, "2021 flagged=0 B=-1#1[] A=0.3#2[] -C"},
		// year left out: the latest year with a value in the scope.
		{`indicator: "unemp", regions: ["C"]`, "2021 flagged=0 C=4#1[]"},
	} {
		if got := rank(c.args); got != c.want {
			t.Errorf("ranking(%s):\n got %s\nwant %s", c.args, got, c.want)
		}
	}

	// Every date between two releases reads the same values; the answer echoes the date asked.
	var d1, d2 struct {
		Ranking struct {
			AsOf    string
			Entries []struct{ Value float64 }
		}
	}
	mustPost(t, srv.URL, `{ ranking(indicator: "gdp", year: 2021, level: "country", asOf: "2022-03-01") { asOf entries { value } } }`, nil, &d1)
	mustPost(t, srv.URL, `{ ranking(indicator: "gdp", year: 2021, level: "country", asOf: "2022-08-31") { asOf entries { value } } }`, nil, &d2)
	if d1.Ranking.AsOf != "2022-03-01" || d2.Ranking.AsOf != "2022-08-31" || fmt.Sprint(d1.Ranking.Entries) != "[{100} {95} {90} {80}]" ||
		fmt.Sprint(d2.Ranking.Entries) != fmt.Sprint(d1.Ranking.Entries) {
		t.Errorf("asOf between releases: %+v and %+v", d1.Ranking, d2.Ranking)
	}

	// Trend and observations follow asOf too.
	var tr struct {
		Trend struct {
			Points []struct {
				Year  int
				Value float64
				Yoy   *float64
				Flags []string
			}
		}
		Observations struct {
			Nodes []struct {
				Value   float64
				Flags   []string
				Vintage *string
			}
		}
	}
	mustPost(t, srv.URL, `{ trend(region: "A", indicator: "gdp", asOf: "2022-03-01") { points { year value yoy flags } }
		observations(regions: ["A"], indicators: ["gdp"], from: 2021) { nodes { value flags vintage } } }`, nil, &tr)
	p := tr.Trend.Points
	if len(p) != 2 || p[1].Value != 100 || *p[1].Yoy != 0.25 || fmt.Sprint(p[1].Flags) != "[p]" {
		t.Errorf("trend as of 2022-03-01: %+v", p)
	}
	if n := tr.Observations.Nodes; len(n) != 1 || n[0].Value != 88 || n[0].Vintage == nil || *n[0].Vintage != "2022-09-01" {
		t.Errorf("observations, newest vintage: %+v", n)
	}

	for _, c := range []struct{ query, mentions string }{
		{`{ ranking(indicator: "gdp", group: "Club", regions: ["A"]) { count } }`, "give one of group, parent and regions"},
		{`{ ranking(indicator: "gdp", level: "country", regions: ["A"]) { count } }`, "give level or regions, not both"},
		{`{ ranking(indicator: "gdp", regions: []) { count } }`, "regions is empty"},
		{`{ ranking(indicator: "gdp", regions: ["A", "A"]) { count } }`, `regions lists "A" twice`},
		{`{ ranking(indicator: "gdp", level: "city") { count } }`, `unknown level "city"; the levels are world, country`},
		{`{ ranking(indicator: "gdp", year: 1999) { count } }`, `indicator "gdp" has values from 2020 to 2021; 1999 is outside them`},
		{`{ observations(regions: []) { totalCount } }`, "regions is an empty list"},
		{`{ ranking(indicator: "gdp", asOf: "2022-02-30") { count } }`, "YYYY-MM-DD"},
		{`{ ranking(indicator: "unemp", regions: ["D"]) { count } }`, `no region of the scope (the 1 regions listed) has a value of "unemp": give a year`},
		{`{ ranking(indicator: "unemp", regions: ["C"], basis: GROWTH) { count } }`, `has a growth (for a LEVEL or RATE, a value in two years in a row) of "unemp"`},
	} {
		res := post(t, srv.URL, c.query, nil, nil)
		if len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Message, c.mentions) {
			t.Errorf("%s: %+v, want an error mentioning %q", c.query, res.Errors, c.mentions)
		} else if code := errorCode(res); code != "BAD_USER_INPUT" && code != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("%s: code %s", c.query, code)
		}
	}
}
