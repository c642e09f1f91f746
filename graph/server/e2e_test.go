package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
	"pacesetter/data"
)

// End-to-end tests: GraphQL over the real HTTP handler over real DuckDB, on the embedded NBS dataset.
// Every expected number was read off data/china-provinces-nbs/observations.csv by hand, e.g. the East
// provinces' retail sales in 2024, best first:
//
//	E='110000|120000|130000|310000|320000|330000|350000|370000|440000|460000'
//	grep -E "^($E),[^,]*,retail_sales,2024," observations.csv | sort -t, -k5 -g -r
//
// and the arithmetic is written out beside each expectation.

const rankingQuery = `query($i: ID!, $y: Int!, $g: ID, $t: TieRule) {
  ranking(indicator: $i, year: $y, group: $g, ties: $t) {
    entries { region { code name } value rank percentile }
    missing { code }
  }
}`

type rankingAnswer struct {
	Ranking struct {
		Count   int
		Mean    *float64
		Median  *float64
		Leader  *struct{ Code string }
		Entries []struct {
			Region       struct{ Code, Name string }
			Value        float64
			Rank         int
			Percentile   float64
			PreviousRank *int
			RankChange   *int
			GapToLeader  float64
			VsMean       float64
			VsMedian     float64
		}
		Missing []struct{ Code string }
	}
}

func (a rankingAnswer) order() string {
	var s []string
	for _, e := range a.Ranking.Entries {
		s = append(s, fmt.Sprintf("%s:%d", e.Region.Code, e.Rank))
	}
	return strings.Join(s, " ")
}

func (a rankingAnswer) missing() string {
	var s []string
	for _, m := range a.Ranking.Missing {
		s = append(s, m.Code)
	}
	return strings.Join(s, " ")
}

func approx(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestIssueRankingQuery(t *testing.T) {
	srv := nbsServer(t)
	var a rankingAnswer
	mustPost(t, srv.URL, rankingQuery, map[string]any{"i": "retail_sales", "y": 2024, "g": "East"}, &a)
	want := "440000:1 320000:2 370000:3 330000:4 350000:5 310000:6 130000:7 110000:8 120000:9 460000:10"
	if a.order() != want {
		t.Fatalf("order\n got %s\nwant %s", a.order(), want)
	}
	js := a.Ranking.Entries[1]
	if js.Region.Name != "江苏省" || js.Value != 44922.1 {
		t.Errorf("Jiangsu entry %+v", js)
	}
	approx(t, "Jiangsu percentile", js.Percentile, 8.0/9) // (n − rank)/(n − 1) = (10 − 2)/9
	approx(t, "leader percentile", a.Ranking.Entries[0].Percentile, 1)
	approx(t, "last percentile", a.Ranking.Entries[9].Percentile, 0)
	if a.missing() != "" {
		t.Errorf("missing %q", a.missing())
	}
}

func TestRankingDetails(t *testing.T) {
	srv := nbsServer(t)
	q := `query($i: ID!, $y: Int!, $g: ID, $t: TieRule) { ranking(indicator: $i, year: $y, group: $g, ties: $t) {
		count mean median leader { code }
		entries { region { code } value rank percentile previousRank rankChange gapToLeader vsMean vsMedian }
		missing { code } } }`
	var a rankingAnswer
	mustPost(t, srv.URL, q, map[string]any{"i": "retail_sales", "y": 2024, "g": "East"}, &a)
	// Sum of the ten 2024 values = 243385.5, so the mean is 24338.55; the median is the mean of the 5th
	// and 6th, (24370.8 + 15872.3)/2 = 20121.55.
	if a.Ranking.Count != 10 || a.Ranking.Leader.Code != "440000" {
		t.Errorf("count %d leader %v", a.Ranking.Count, a.Ranking.Leader)
	}
	approx(t, "mean", *a.Ranking.Mean, 24338.55)
	approx(t, "median", *a.Ranking.Median, 20121.55)
	js := a.Ranking.Entries[1]
	approx(t, "Jiangsu gap to leader", js.GapToLeader, 45029.2-44922.1)
	approx(t, "Jiangsu vs mean", js.VsMean, 44922.1-24338.55)
	approx(t, "Jiangsu vs median", js.VsMedian, 44922.1-20121.55)
	// 2023 order: 440000 320000 370000 330000 350000 310000 110000 130000 120000 460000, so Beijing fell
	// from 7th to 8th and Hebei rose from 8th to 7th.
	for _, e := range a.Ranking.Entries {
		switch e.Region.Code {
		case "110000":
			if *e.PreviousRank != 7 || *e.RankChange != -1 {
				t.Errorf("Beijing previous %d change %d", *e.PreviousRank, *e.RankChange)
			}
		case "130000":
			if *e.PreviousRank != 8 || *e.RankChange != 1 {
				t.Errorf("Hebei previous %d change %d", *e.PreviousRank, *e.RankChange)
			}
		case "320000":
			if *e.PreviousRank != 2 || *e.RankChange != 0 {
				t.Errorf("Jiangsu previous %d change %d", *e.PreviousRank, *e.RankChange)
			}
		}
	}
}

func TestRankingTies(t *testing.T) {
	srv := nbsServer(t)
	// gdp_index 2024, East: 320000 105.7, 370000 105.6, 330000 105.5, 350000 and 130000 105.4,
	// 110000 105.1, 310000 and 120000 104.9, 460000 103.8, 440000 103.5.
	cases := map[string]string{
		"COMPETITION": "320000:1 370000:2 330000:3 130000:4 350000:4 110000:6 120000:7 310000:7 460000:9 440000:10",
		"DENSE":       "320000:1 370000:2 330000:3 130000:4 350000:4 110000:5 120000:6 310000:6 460000:7 440000:8",
	}
	for tie, want := range cases {
		var a rankingAnswer
		mustPost(t, srv.URL, rankingQuery, map[string]any{"i": "gdp_index", "y": 2024, "g": "East", "t": tie}, &a)
		if a.order() != want {
			t.Errorf("%s\n got %s\nwant %s", tie, a.order(), want)
		}
		// The percentile always uses the competition rank: 310000 is 7th of 10, (10 − 7)/9.
		for _, e := range a.Ranking.Entries {
			if e.Region.Code == "310000" {
				approx(t, tie+" percentile of 310000", e.Percentile, 3.0/9)
			}
		}
	}
}

func TestRankingLowerIsBetter(t *testing.T) {
	srv := nbsServer(t)
	// death_rate (lower is better) 2024, East: 440000 5.20 first … 130000 8.22 last.
	var a rankingAnswer
	mustPost(t, srv.URL, `{ ranking(indicator: "death_rate", year: 2024, group: "East") {
		entries { region { code } value rank gapToLeader } } }`, nil, &a)
	want := "440000:1 110000:2 310000:3 460000:4 330000:5 350000:6 120000:7 320000:8 370000:9 130000:10"
	if a.order() != want {
		t.Fatalf("\n got %s\nwant %s", a.order(), want)
	}
	approx(t, "Hebei gap to leader", a.Ranking.Entries[9].GapToLeader, 8.22-5.20) // −1·(5.20 − 8.22)
	if g := a.Ranking.Entries[0].GapToLeader; g != 0 || math.Signbit(g) {
		t.Errorf("the leader's gap is %v, want 0 (not -0)", g)
	}
}

func TestRankingGrowthBasis(t *testing.T) {
	srv := nbsServer(t)
	// Retail sales growth 2024 over 2023, East (values from the two years above):
	//   350000 24370.8/23348.6 − 1 = 4.378%   120000 4128.3/4261.7 − 1 = −3.130%
	//   130000 14657.4/13895.6 − 1 = 5.482%   460000 2546.1/2658.7 − 1 = −4.235%
	//   370000 40059.2/38152.6 − 1 = 4.997%   310000 15872.3/16385.8 − 1 = −3.134%
	//   320000 44922.1/42940.6 − 1 = 4.615%   110000 14092.4/14485.9 − 1 = −2.716%
	//   330000 37707.7/36267.9 − 1 = 3.970%   440000 45029.2/44685.9 − 1 = 0.768%
	var a rankingAnswer
	mustPost(t, srv.URL, `{ ranking(indicator: "retail_sales", year: 2024, group: "East", basis: GROWTH) {
		entries { region { code } value rank } missing { code } } }`, nil, &a)
	want := "130000:1 370000:2 320000:3 350000:4 330000:5 440000:6 110000:7 120000:8 310000:9 460000:10"
	if a.order() != want {
		t.Fatalf("\n got %s\nwant %s", a.order(), want)
	}
	approx(t, "Hebei growth", a.Ranking.Entries[0].Value, 14657.4/13895.6-1)
	// 2016 is the first year of retail_sales: nobody has a growth, so everyone is missing, nobody last.
	mustPost(t, srv.URL, `{ ranking(indicator: "retail_sales", year: 2016, group: "East", basis: GROWTH) {
		entries { region { code } rank } missing { code } } }`, nil, &a)
	if len(a.Ranking.Entries) != 0 || a.missing() != "110000 120000 130000 310000 320000 330000 350000 370000 440000 460000" {
		t.Errorf("2016 growth: entries %s, missing %s", a.order(), a.missing())
	}
}

func TestRankingScopes(t *testing.T) {
	srv := nbsServer(t)
	var a rankingAnswer
	// Without a scope every region with a gdp value of its own in some year none of whose children has one is
	// in scope: the 31 provinces. CN has its own 2024 gdp (the communiqué's, observations.csv) and sums of
	// provinces in other years, but its provinces have values of their own, so it does not rank among them.
	mustPost(t, srv.URL, `{ ranking(indicator: "gdp", year: 2024) { count entries { region { code } rank } missing { code } } }`, nil, &a)
	if a.Ranking.Count != 31 || a.Ranking.Entries[0].Region.Code != "440000" || len(a.Ranking.Missing) != 0 {
		t.Errorf("all: count %d first %s missing %s", a.Ranking.Count, a.Ranking.Entries[0].Region.Code, a.missing())
	}
	// The children of CN are the same 31 provinces, and so is the level province.
	var b, c, cn rankingAnswer
	mustPost(t, srv.URL, `{ ranking(indicator: "gdp", year: 2024, parent: "CN") { count entries { region { code } rank } } }`, nil, &b)
	mustPost(t, srv.URL, `{ ranking(indicator: "gdp", year: 2024, level: "province") { count entries { region { code } rank } } }`, nil, &c)
	if b.order() != a.order() || b.order() != c.order() {
		t.Errorf("all, parent CN and level province differ:\n%s\n%s\n%s", a.order(), b.order(), c.order())
	}
	// Asked for by level, CN is there, with its own 2024 gdp: 1349084 (observations.csv), not the provinces'
	// sum 1337605.8.
	mustPost(t, srv.URL, `{ ranking(indicator: "gdp", year: 2024, level: "country") { count entries { region { code } value } } }`, nil, &cn)
	if cn.Ranking.Count != 1 || cn.Ranking.Entries[0].Region.Code != "CN" || cn.Ranking.Entries[0].Value != 1349084 {
		t.Errorf("level country: %+v", cn.Ranking.Entries)
	}
	// gdp starts in 2019: 2018 is refused with the years there are, rather than answered all missing.
	res := post(t, srv.URL, `{ ranking(indicator: "gdp", year: 2018, group: "East") { count } }`, nil, nil)
	if errorCode(res) != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, "from 2019 to 2024") {
		t.Errorf("2018: %+v", res.Errors)
	}
	// In a year with values, a province without one is missing, not ranked last: registered_unemployed 2023
	// has all 31, so use the GROWTH of 2016, which nobody has (no 2015 base).
	mustPost(t, srv.URL, `{ ranking(indicator: "registered_unemployed", year: 2016, group: "East", basis: GROWTH) { count entries { rank } missing { code } } }`, nil, &a)
	if a.Ranking.Count != 0 || len(a.Ranking.Entries) != 0 || len(a.Ranking.Missing) != 10 {
		t.Errorf("2016 growth: count %d, %d entries, missing %s", a.Ranking.Count, len(a.Ranking.Entries), a.missing())
	}
}

func TestIssueTrendQuery(t *testing.T) {
	srv := nbsServer(t)
	// Jiangsu retail sales 2016–2024: 29612.5 32818.2 35472.6 37240.6 36261.8 41261.1 40803.0 42940.6 44922.1.
	// It rose every year but 2020 and 2022, so the streaks are 1 2 3 0 1 0 1 2 and every rising year but
	// 2022 (below 2021's 41261.1) is a record.
	var a struct {
		Trend struct {
			Cagr   *float64
			Points []struct {
				Year     int
				Value    float64
				Yoy      *float64
				BestEver *bool
				Streak   int
			}
		}
	}
	mustPost(t, srv.URL, `query($r: ID!, $i: ID!) {
  trend(region: $r, indicator: $i) { cagr points { year value yoy bestEver streak } }
}`, map[string]any{"r": "320000", "i": "retail_sales"}, &a)
	values := []float64{29612.5, 32818.2, 35472.6, 37240.6, 36261.8, 41261.1, 40803.0, 42940.6, 44922.1}
	streaks := []int{0, 1, 2, 3, 0, 1, 0, 1, 2}
	records := []string{"null", "true", "true", "true", "false", "true", "false", "true", "true"}
	if len(a.Trend.Points) != len(values) {
		t.Fatalf("%d points", len(a.Trend.Points))
	}
	for i, p := range a.Trend.Points {
		if p.Year != 2016+i || p.Value != values[i] || p.Streak != streaks[i] || ptrString(p.BestEver) != records[i] {
			t.Errorf("point %d: %+v (bestEver %s)", i, p, ptrString(p.BestEver))
		}
		if i == 0 {
			if p.Yoy != nil {
				t.Errorf("first yoy %v", *p.Yoy)
			}
			continue
		}
		approx(t, fmt.Sprint(p.Year, " yoy"), *p.Yoy, values[i]/values[i-1]-1)
	}
	approx(t, "cagr", *a.Trend.Cagr, math.Pow(44922.1/29612.5, 1.0/8)-1)

	// from/to choose the years shown; growth and streaks still see the years before.
	mustPost(t, srv.URL, `{ trend(region: "320000", indicator: "retail_sales", from: 2021, to: 2023) { cagr points { year yoy streak bestEver } } }`, nil, &a)
	if len(a.Trend.Points) != 3 || a.Trend.Points[0].Year != 2021 || a.Trend.Points[0].Streak != 1 || a.Trend.Points[0].Yoy == nil {
		t.Errorf("bounded trend %+v", a.Trend.Points)
	}
	approx(t, "bounded cagr", *a.Trend.Cagr, math.Pow(42940.6/41261.1, 1.0/2)-1)
}

func ptrString[T any](p *T) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func TestStandings(t *testing.T) {
	srv := nbsServer(t)
	// Jiangsu among the East provinces in 2024, top 2, counted by hand from observations.csv indicator by
	// indicator: ranked on 26 (registered_unemployed has no 2024 data for anyone, so it is not missing
	// either), in the top 2 on 15, first on 6 (va_secondary, va_industry, va_construction,
	// va_wholesale_retail, va_transport, gdp_index). gdp_index went from 4th in 2023 to 1st: it entered.
	// The 26th is the derived retail_sales_pc, only in 2024, where Jiangsu is 5th (retail_sales / population
	// × 10000 by awk: 110000 64555.2, 310000 64001.2, 350000 58122.6, 330000 56533.3, 320000 52688.4, …).
	var a struct {
		Standings struct {
			Ranked, InTop, First int
			Entered, Left        []struct{ Code string }
			Missing              []struct{ Code string }
			Entries              []struct {
				Indicator struct{ Code string }
				Rank      int
				InTop     bool
			}
		}
	}
	mustPost(t, srv.URL, `{ standings(region: "320000", year: 2024, group: "East", top: 2) {
		ranked inTop first entered { code } left { code } missing { code } entries { indicator { code } rank inTop } } }`, nil, &a)
	s := a.Standings
	if s.Ranked != 26 || s.InTop != 15 || s.First != 6 || len(s.Entered) != 1 || s.Entered[0].Code != "gdp_index" || len(s.Left) != 0 || len(s.Missing) != 0 {
		t.Errorf("standings %+v", s)
	}
	var firsts []string
	for _, e := range s.Entries {
		if e.Rank == 1 {
			firsts = append(firsts, e.Indicator.Code)
		}
	}
	if got := strings.Join(firsts, " "); got != "va_secondary va_industry va_construction va_wholesale_retail va_transport gdp_index" {
		t.Errorf("first on %s", got)
	}
	// A region outside the scope is refused.
	res := post(t, srv.URL, `{ standings(region: "510000", year: 2024, group: "East") { ranked } }`, nil, nil)
	if code := errorCode(res); code != "BAD_USER_INPUT" {
		t.Errorf("Sichuan in East: %+v", res.Errors)
	}
}

func errorCode(r gqlResponse) string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func TestCatalog(t *testing.T) {
	srv := nbsServer(t)
	var a struct {
		Dataset struct {
			Regions, Indicators, Observations int
			FirstYear, LastYear               int
			Version                           string
		}
		Regions []struct{ Code string }
		Region  struct {
			Name     string
			Parent   struct{ Code string }
			Groups   []struct{ Code string }
			Children []struct{ Code string }
		}
		Indicator struct {
			Unit      string
			Direction string
		}
		Groups []struct {
			Code    string
			Members []struct{ Code string }
		}
	}
	mustPost(t, srv.URL, `{
		dataset { regions indicators observations firstYear lastYear version }
		regions(group: "Northeast") { code }
		region(code: "320000") { name parent { code } groups { code } children { code } }
		indicator(code: "death_rate") { unit direction }
		groups { code members { code } }
	}`, nil, &a)
	d := a.Dataset
	// 26 published indicators and retail_sales_pc; 4,907 published values (9 of them CN's, from the 2024 communiqué) and 143 derived (TestShippedDerived).
	if d.Regions != 32 || d.Indicators != 27 || d.Observations != 4907+143 || d.FirstYear != 2016 || d.LastYear != 2025 || len(d.Version) != 16 {
		t.Errorf("dataset %+v", d)
	}
	if fmt.Sprint(a.Regions) != "[{210000} {220000} {230000}]" {
		t.Errorf("Northeast %v", a.Regions)
	}
	if a.Region.Name != "江苏省" || a.Region.Parent.Code != "CN" || fmt.Sprint(a.Region.Groups) != "[{East} {EasternCoast} {YangtzeRiverDelta}]" || len(a.Region.Children) != 0 {
		t.Errorf("Jiangsu %+v", a.Region)
	}
	if a.Indicator.Direction != "LOWER_IS_BETTER" || a.Indicator.Unit != "‰ (per mille)" {
		t.Errorf("death_rate %+v", a.Indicator)
	}
	sizes := map[string]int{}
	for _, g := range a.Groups {
		sizes[g.Code] = len(g.Members)
	}
	// The four zones and the eight economic zones (each of 31 provinces once), plus the Yangtze River Delta,
	// whose four members (Anhui from 2019) all count when no year is asked.
	if fmt.Sprint(sizes) != "map[Central:6 East:10 EasternCoast:3 MiddleYangtze:4 MiddleYellowRiver:4 Northeast:3 NortheastZone:3 "+
		"NorthernCoast:4 Northwest:5 SouthernCoast:3 Southwest:5 West:12 YangtzeRiverDelta:4]" {
		t.Errorf("groups %v", sizes)
	}
}

func TestObservationsPaging(t *testing.T) {
	srv := nbsServer(t)
	type page struct {
		Observations struct {
			TotalCount int
			Nodes      []struct {
				Region    struct{ Code string }
				Indicator struct{ Code string }
				Year      int
				Value     float64
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
	}
	q := `query($after: String) { observations(regions: ["320000", "110000"], indicators: ["retail_sales"], from: 2018, to: 2022, first: 4, after: $after) {
		totalCount nodes { region { code } indicator { code } year value } pageInfo { hasNextPage endCursor } } }`
	// Beijing and Jiangsu, 2018–2022: 2 × 5 = 10 observations, ordered by region then year.
	var got []string
	var after any
	for i := 0; ; i++ {
		var p page
		mustPost(t, srv.URL, q, map[string]any{"after": after}, &p)
		if p.Observations.TotalCount != 10 {
			t.Fatalf("totalCount %d", p.Observations.TotalCount)
		}
		for _, n := range p.Observations.Nodes {
			got = append(got, fmt.Sprintf("%s/%d", n.Region.Code, n.Year))
		}
		if !p.Observations.PageInfo.HasNextPage {
			break
		}
		if i > 5 {
			t.Fatal("paging does not end")
		}
		after = *p.Observations.PageInfo.EndCursor
	}
	want := "110000/2018 110000/2019 110000/2020 110000/2021 110000/2022 320000/2018 320000/2019 320000/2020 320000/2021 320000/2022"
	if strings.Join(got, " ") != want {
		t.Errorf("pages\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

// Every refused request names what was wrong and what is allowed, carries extensions.code, and shows no SQL.
func TestErrors(t *testing.T) {
	srv := nbsServer(t)
	cases := []struct {
		name, query, code, mentions string
	}{
		{"unknown indicator", `{ ranking(indicator: "gpd", year: 2024) { count } }`, "NOT_FOUND", `unknown indicator "gpd" (did you mean "gdp"?); there are 27 indicators, listed by the indicators query`},
		{"unknown group", `{ ranking(indicator: "gdp", year: 2024, group: "Eats") { count } }`, "NOT_FOUND", `unknown group "Eats" (did you mean "East"?); there are 13 groups, listed by the groups query`},
		{"unknown region", `{ trend(region: "999999", indicator: "gdp") { cagr } }`, "NOT_FOUND", `unknown region "999999"`},
		{"group and parent", `{ ranking(indicator: "gdp", year: 2024, group: "East", parent: "CN") { count } }`, "BAD_USER_INPUT", "give one of group, parent and regions"},
		{"year out of range", `{ ranking(indicator: "gdp", year: 20240) { count } }`, "BAD_USER_INPUT", `indicator "gdp" has values from 2019 to 2024; 20240 is outside them`},
		{"standings year out of range", `{ standings(region: "320000", year: 20240) { ranked } }`, "BAD_USER_INPUT", "from 1 to 9999"},
		{"top below 1", `{ standings(region: "320000", year: 2024, top: 0) { ranked } }`, "BAD_USER_INPUT", "top must be at least 1"},
		{"page too large", `{ observations(first: 5000) { totalCount } }`, "BAD_USER_INPUT", "first must be from 0 to 1000"},
		{"bad cursor", `{ observations(after: "x'; DROP TABLE observations; --") { totalCount } }`, "BAD_USER_INPUT", "not a cursor"},
		{"from after to", `{ trend(region: "320000", indicator: "gdp", from: 2024, to: 2020) { cagr } }`, "BAD_USER_INPUT", "from (2024) is after to (2020)"},
		{"bad enum", `{ ranking(indicator: "gdp", year: 2024, ties: AVERAGE) { count } }`, "GRAPHQL_VALIDATION_FAILED", "AVERAGE"},
		{"fractional ranks", `{ ranking(indicator: "gdp", year: 2024, ties: FRACTIONAL) { count } }`, "BAD_USER_INPUT", "COMPETITION or DENSE"},
		{"standings in a year without values", `{ standings(region: "320000", year: 2030) { ranked } }`, "BAD_USER_INPUT", "none of the indicators has values in 2030"},
		{"unknown field", `{ ranking(indicator: "gdp", year: 2024) { score } }`, "GRAPHQL_VALIDATION_FAILED", `"score"`},
		{"syntax", `{ ranking(indicator: "gdp" year: }`, "GRAPHQL_PARSE_FAILED", "Unexpected"},
		{"empty group", `{ ranking(indicator: "gdp", year: 2024, group: "") { count } }`, "BAD_USER_INPUT", "group is empty"},
		{"long code", `{ region(code: "` + strings.Repeat("x", 100000) + `") { name } }`, "NOT_FOUND", `unknown region "xxxxxxxx`},
		{"too many tokens", `{ ` + strings.Repeat("a: dataset { version } ", 4000) + `}`, "GRAPHQL_PARSE_FAILED", "token limit"},
		// Each nested list multiplies the cost by the most elements it can hold: children by the 32 regions, so
		// 4 levels of children cost about 32⁴: with code 1, children 1 + 32·x and parent and region 1 + x, 1,116,226.
		{"nested lists", `{ region(code: "CN") { children { parent { children { parent { children { parent { children { code } } } } } } } } }`,
			"QUERY_TOO_COMPLEX", "operation has complexity 1116226, which exceeds the limit of 50000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := post(t, srv.URL, c.query, nil, nil)
			if len(res.Errors) == 0 {
				t.Fatalf("no error; data %s", res.Data)
			}
			e := res.Errors[0]
			if errorCode(res) != c.code || !strings.Contains(e.Message, c.mentions) {
				t.Errorf("got %s %q; want %s mentioning %q", errorCode(res), e.Message, c.code, c.mentions)
			}
			if len(e.Message) > 1000 {
				t.Errorf("message of %d bytes", len(e.Message))
			}
			for _, leak := range []string{"SELECT", "FROM observations", "duckdb", "goroutine", ".go:"} {
				if strings.Contains(e.Message, leak) {
					t.Errorf("message leaks %q: %s", leak, e.Message)
				}
			}
		})
	}
	// A well-formed cursor carrying SQL reaches DuckDB only as a parameter: the page starts after that key.
	cur := base64.RawURLEncoding.EncodeToString([]byte(`{"r":"320000' OR 1=1; DROP TABLE observations; --","i":"","y":0}`))
	var page struct {
		Observations struct {
			Nodes []struct{ Region struct{ Code string } }
		}
	}
	mustPost(t, srv.URL, `query($a: String) { observations(first: 3, after: $a) { nodes { region { code } } } }`, map[string]any{"a": cur}, &page)
	if n := page.Observations.Nodes; len(n) != 3 || n[0].Region.Code != "330000" {
		t.Errorf("page after an injected cursor: %+v", n)
	}
	// The data is untouched after the injection attempts above.
	var a struct{ Dataset struct{ Observations int } }
	mustPost(t, srv.URL, `{ dataset { observations } }`, nil, &a)
	if a.Dataset.Observations != 4907+143 {
		t.Errorf("observations %d", a.Dataset.Observations)
	}
}

func TestLimits(t *testing.T) {
	store := loadStore(t, data.Default())
	// A tiny complexity limit refuses a query that selects more fields than it allows, before running it.
	srv, _ := newServer(t, store, query.Options{}, Options{Timeout: time.Minute, Complexity: 5})
	res := post(t, srv.URL, `{ ranking(indicator: "gdp", year: 2024) { entries { region { code name } value rank percentile } } }`, nil, nil)
	if errorCode(res) != "QUERY_TOO_COMPLEX" || !strings.Contains(res.Errors[0].Message, "exceeds the limit of 5") {
		t.Errorf("complexity: %+v", res.Errors)
	}
	// A request past its deadline is stopped with TIMEOUT (the deadline reaches DuckDB through the context;
	// analytics/duck tests that DuckDB really stops a running query).
	srv, _ = newServer(t, store, query.Options{}, Options{Timeout: time.Nanosecond, Complexity: 100})
	res = post(t, srv.URL, `{ ranking(indicator: "gdp", year: 2024) { count } }`, nil, nil)
	if errorCode(res) != "TIMEOUT" || res.Status != http.StatusOK && res.Status >= 500 {
		t.Errorf("timeout: status %d %+v", res.Status, res.Errors)
	}
}

// The two queries of the issue answer on any dataset of the format: here the World Bank set.
func TestWorldBank(t *testing.T) {
	srv, _ := newServer(t, loadStore(t, worldBank()), query.DefaultOptions, DefaultOptions)
	// GDP 2020 in Europe (46 members; Gibraltar has no GDP): DEU 3.888e12, GBR 2.698e12, FRA 2.647e12 lead.
	var a rankingAnswer
	mustPost(t, srv.URL, rankingQuery, map[string]any{"i": "NY.GDP.MKTP.CD", "y": 2020, "g": "Europe"}, &a)
	if len(a.Ranking.Entries) != 45 || !strings.HasPrefix(a.order(), "DEU:1 GBR:2 FRA:3 ") || a.missing() != "GIB" {
		t.Errorf("Europe 2020: %d entries, %s…, missing %s", len(a.Ranking.Entries), a.order()[:30], a.missing())
	}
	var tr struct {
		Trend struct {
			Points []struct {
				Year  int
				Value float64
			}
		}
	}
	mustPost(t, srv.URL, `query($r: ID!, $i: ID!) { trend(region: $r, indicator: $i) { cagr points { year value yoy bestEver streak } } }`,
		map[string]any{"r": "CHN", "i": "SP.POP.TOTL"}, &tr)
	if n := len(tr.Trend.Points); n != 65 || tr.Trend.Points[0].Year != 1960 || tr.Trend.Points[n-1].Year != 2024 {
		t.Errorf("China population: %d points", n)
	}
}

// Repeated requests are answered from the response cache, which a new dataset version invalidates, and
// which never keeps an error.
func TestResponseCache(t *testing.T) {
	store := loadStore(t, data.Default())
	srv, engine := newServer(t, store, query.DefaultOptions, DefaultOptions)
	ask := func(query string) (string, string) {
		t.Helper()
		res, err := http.Post(srv.URL+"/graphql", "application/json", strings.NewReader(`{"query":`+strconv.Quote(query)+`}`))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.Header.Get("X-Cache"), string(b)
	}
	q := `{ dataset { version observations } ranking(indicator: "gdp", year: 2024) { count } }`
	hit, first := ask(q)
	if hit != "" || !strings.Contains(first, `"observations":5050`) {
		t.Fatalf("first answer: %q %s", hit, first)
	}
	if hit, again := ask(q); hit != "hit" || again != first {
		t.Errorf("repeat: %q %s", hit, again)
	}
	for range 2 {
		if hit, body := ask(`{ ranking(indicator: "nope", year: 2024) { count } }`); hit != "" || !strings.Contains(body, "NOT_FOUND") {
			t.Errorf("an error was cached: %q %s", hit, body)
		}
	}
	// Another dataset in the same store: the version changes, and so does the answer.
	d, err := dataset.Read(worldBank())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Import(context.Background(), d, "wb"); err != nil {
		t.Fatal(err)
	}
	if err := engine.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hit, body := ask(`{ dataset { version observations } }`); hit != "" || !strings.Contains(body, `"observations":31174`) {
		t.Errorf("after a new dataset: %q %s", hit, body)
	}
}

// Growth from a negative or zero base is not ranked: worked out by hand on a four-region balance.
func TestGrowthFromNegativeBase(t *testing.T) {
	fsys := fstest.MapFS{
		"regions.csv":    {Data: []byte("region_code,region_name,parent_code,group\nA,A,,G\nB,B,,G\nC,C,,G\nD,D,,G\nE,E,,G\n")},
		"indicators.csv": {Data: []byte("indicator_code,name,unit,direction\nbal,Balance,u,higher_is_better\n")},
		// A −100 → −50, B 100 → 90, C −10 → 10, D 50 → 60, E 0 → 5
		"observations.csv": {Data: []byte("region_code,region_name,indicator_code,year,value\n" +
			"A,A,bal,2020,-100\nA,A,bal,2021,-50\nB,B,bal,2020,100\nB,B,bal,2021,90\nC,C,bal,2020,-10\nC,C,bal,2021,10\n" +
			"D,D,bal,2020,50\nD,D,bal,2021,60\nE,E,bal,2020,0\nE,E,bal,2021,5\n")},
	}
	srv, _ := newServer(t, loadStore(t, fsys), query.DefaultOptions, DefaultOptions)
	var a rankingAnswer
	mustPost(t, srv.URL, `{ ranking(indicator: "bal", year: 2021, group: "G", basis: GROWTH) { entries { region { code } value rank } missing { code } } }`, nil, &a)
	// D grew 60/50 − 1 = +20 %, B 90/100 − 1 = −10 %; A, C and E have no positive base.
	if a.order() != "D:1 B:2" || a.missing() != "A C E" {
		t.Errorf("got %s, missing %s", a.order(), a.missing())
	}
	approx(t, "D growth", a.Ranking.Entries[0].Value, 0.2)
	approx(t, "B growth", a.Ranking.Entries[1].Value, -0.1)
}

// Requests the endpoint cannot take are refused with a status and an error that says what it accepts.
func TestHTTPRefusals(t *testing.T) {
	srv := nbsServer(t)
	send := func(method, contentType, body string) (int, gqlResponse) {
		t.Helper()
		var req *http.Request
		switch {
		case strings.HasPrefix(body, "?"):
			req, _ = http.NewRequest(method, srv.URL+"/graphql"+body, nil)
		case strings.HasPrefix(body, "chunked:"):
			// A reader of unknown length makes the client send the body chunked, without Content-Length.
			req, _ = http.NewRequest(method, srv.URL+"/graphql", io.MultiReader(strings.NewReader(strings.TrimPrefix(body, "chunked:"))))
		default:
			req, _ = http.NewRequest(method, srv.URL+"/graphql", strings.NewReader(body))
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out gqlResponse
		b, _ := io.ReadAll(res.Body)
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, contentType, b)
		}
		return res.StatusCode, out
	}
	huge := `{"query":"{ dataset { version } }","variables":{"pad":"` + strings.Repeat("x", MaxRequestBytes) + `"}}`
	for _, c := range []struct {
		name, method, contentType, body string
		status                          int
		mentions                        string
	}{
		{"PUT", http.MethodPut, "application/json", `{"query":"{ dataset { version } }"}`, 405, "method PUT is not supported"},
		{"text body", http.MethodPost, "text/plain", `{ dataset { version } }`, 415, `content type "text/plain" is not supported`},
		{"not JSON", http.MethodPost, "application/json", `{"query": secret-text`, 400, "not valid GraphQL-over-HTTP JSON"},
		{"too large", http.MethodPost, "application/json", huge, 413, "larger than 1048576 bytes"},
		{"too large, chunked", http.MethodPost, "application/json", "chunked:" + huge, 413, "larger than 1048576 bytes"},
		{"GET with bad variables", http.MethodGet, "", "?query=%7Bdataset%7Bversion%7D%7D&variables=zz", 400, "variables could not be decoded"},
	} {
		status, res := send(c.method, c.contentType, c.body)
		if status != c.status || errorCode(res) != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, c.mentions) {
			t.Errorf("%s: status %d, errors %+v", c.name, status, res.Errors)
		}
		if len(res.Errors) > 0 && strings.Contains(res.Errors[0].Message, "secret-text") {
			t.Errorf("%s: the message echoes the body", c.name)
		}
	}
}

func TestRankingTop(t *testing.T) {
	srv := nbsServer(t)
	var a rankingAnswer
	// gdp_index 2024, East (see TestRankingTies): 4th place is shared by 130000 and 350000, so the top 4 has 5.
	mustPost(t, srv.URL, `{ ranking(indicator: "gdp_index", year: 2024, group: "East") { count entries(top: 4) { region { code } rank } } }`, nil, &a)
	if a.order() != "320000:1 370000:2 330000:3 130000:4 350000:4" || a.Ranking.Count != 10 {
		t.Errorf("top 4: %s (count %d)", a.order(), a.Ranking.Count)
	}
	res := post(t, srv.URL, `{ ranking(indicator: "gdp_index", year: 2024) { entries(top: 0) { rank } } }`, nil, nil)
	if errorCode(res) != "BAD_USER_INPUT" {
		t.Errorf("top 0: %+v", res.Errors)
	}
}
