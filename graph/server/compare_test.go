package server

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
)

// Tests of compare, the standings' benchmarks and the trend's ranks: by hand on the small dataset of
// testdata/compare (ties, a lower-is-better rate, a group whose members change), and on the NBS data for
// consistency with the ranking query's own answers.
//
// testdata/compare, values by region and year (P0 is the parent of A–D; G1 = {A, B, C}; G2 = {C}, and D from
// 2021):
//
//	out (LEVEL, higher is better, category econ)   jobless (RATE, lower is better)   grow (GROWTH, econ)
//	      2020 2021 2022                                 2020 2021 2022                      2020 2021 2022
//	P0     100  110  130                           P0      5    5    4
//	A       40   50   60                           A       6    4    3                A       5    7    3
//	B       40   45   66                           B       4    4    5                B       6    7    2
//	C       20   15   20                           C       8    6    3                C       4    1    9
//	D       30   10   20                           D       5    –    2                D       –    8    8

func handServer(t *testing.T) string {
	t.Helper()
	srv, _ := newServer(t, loadStore(t, os.DirFS("testdata/compare")), query.DefaultOptions, DefaultOptions)
	return srv.URL
}

func fstr(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

func istr(p *int) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(*p)
}

type code struct{ Code string }

type compareAnswer struct {
	Compare struct {
		Regions []code
		Rows    []struct {
			Region, Indicator           code
			Year                        int
			Value                       float64
			Rank                        *int
			Baseline, Difference, Ratio *float64
			Unit, Measure, Direction    string
			DifferenceUnit              string
		}
		Leaders []struct {
			Indicator, Region code
			Year              int
			Value             float64
		}
		Leads []struct {
			Region code
			Count  int
		}
		Gaps []struct {
			Region, Indicator               code
			FirstYear, LastYear             int
			FirstDifference, LastDifference float64
			ChangePerYear                   *float64
			Closing                         *bool
			YearsLed                        int
		}
	}
}

const compareFields = `{ regions { code }
	rows { region { code } indicator { code } year value rank baseline difference ratio unit differenceUnit measure direction }
	leaders { indicator { code } year region { code } value }
	leads { region { code } count }
	gaps { region { code } indicator { code } firstYear lastYear firstDifference lastDifference changePerYear closing yearsLed } }`

// rows renders the rows as "indicator year region value rank baseline difference ratio", one per line.
func (a compareAnswer) rows() string {
	var s []string
	for _, r := range a.Compare.Rows {
		s = append(s, fmt.Sprintf("%s %d %s %v r%s b%s d%s q%s", r.Indicator.Code, r.Year, r.Region.Code, r.Value,
			istr(r.Rank), fstr(r.Baseline), fstr(r.Difference), fstr(r.Ratio)))
	}
	return strings.Join(s, "\n")
}

func (a compareAnswer) leaders() string {
	var s []string
	for _, l := range a.Compare.Leaders {
		s = append(s, fmt.Sprintf("%s %d %s %v", l.Indicator.Code, l.Year, l.Region.Code, l.Value))
	}
	return strings.Join(s, "\n")
}

func (a compareAnswer) leads() string {
	var s []string
	for _, l := range a.Compare.Leads {
		s = append(s, fmt.Sprintf("%s:%d", l.Region.Code, l.Count))
	}
	return strings.Join(s, " ")
}

func (a compareAnswer) gaps() string {
	var s []string
	for _, g := range a.Compare.Gaps {
		closing := "-"
		if g.Closing != nil {
			closing = strconv.FormatBool(*g.Closing)
		}
		s = append(s, fmt.Sprintf("%s %s %d..%d %v→%v %s %s led %d", g.Indicator.Code, g.Region.Code, g.FirstYear, g.LastYear,
			g.FirstDifference, g.LastDifference, fstr(g.ChangePerYear), closing, g.YearsLed))
	}
	return strings.Join(s, "\n")
}

func checkText(t *testing.T, what, got, want string) {
	t.Helper()
	want = strings.TrimSpace(strings.ReplaceAll(want, "\t", ""))
	if got != want {
		t.Errorf("%s:\n got:\n%s\nwant:\n%s", what, got, want)
	}
}

func TestCompareByHand(t *testing.T) {
	url := handServer(t)

	// Without a scope: ranks among A, B, C; baseline A's value.
	var a compareAnswer
	mustPost(t, url, `{ compare(regions: ["A", "B", "C"], indicators: ["out", "jobless"], from: 2020, to: 2022,
		baseline: {region: "A"}) `+compareFields+` }`, nil, &a)
	// out, higher is better: 2020 A = B = 40 (ranks 1, 1), C 20 (3); ratios 40/40, 20/40 = 0.5.
	// 2021: 50, 45, 15: differences to A's 50: 0, −5, −35; ratios 0.9, 0.3. 2022: B 66 first, A 60, C 20:
	// 66 − 60 = 6, 66/60 = 1.1, 20 − 60 = −40, 20/60 = 0.333333333333 (12 digits).
	// jobless, lower is better, a RATE (no ratio): 2020 B 4 (1), A 6 (2), C 8 (3); differences to A's 6:
	// 0, −2, 2. 2021: A = B = 4 (1, 1), C 6 (3). 2022: A = C = 3 (1, 1), B 5 (3).
	checkText(t, "rows", a.rows(), `
		out 2020 A 40 r1 b40 d0 q1
		out 2020 B 40 r1 b40 d0 q1
		out 2020 C 20 r3 b40 d-20 q0.5
		out 2021 A 50 r1 b50 d0 q1
		out 2021 B 45 r2 b50 d-5 q0.9
		out 2021 C 15 r3 b50 d-35 q0.3
		out 2022 A 60 r2 b60 d0 q1
		out 2022 B 66 r1 b60 d6 q1.1
		out 2022 C 20 r3 b60 d-40 q0.333333333333
		jobless 2020 A 6 r2 b6 d0 q-
		jobless 2020 B 4 r1 b6 d-2 q-
		jobless 2020 C 8 r3 b6 d2 q-
		jobless 2021 A 4 r1 b4 d0 q-
		jobless 2021 B 4 r1 b4 d0 q-
		jobless 2021 C 6 r3 b4 d2 q-
		jobless 2022 A 3 r1 b3 d0 q-
		jobless 2022 B 5 r3 b3 d2 q-
		jobless 2022 C 3 r1 b3 d0 q-`)
	checkText(t, "leaders", a.leaders(), `
		out 2020 A 40
		out 2020 B 40
		out 2021 A 50
		out 2022 B 66
		jobless 2020 B 4
		jobless 2021 A 4
		jobless 2021 B 4
		jobless 2022 A 3
		jobless 2022 C 3`)
	// A leads out 2020, 2021 and jobless 2021, 2022; B out 2020, 2022 and jobless 2020, 2021; C jobless 2022.
	checkText(t, "leads", a.leads(), "A:4 B:4 C:1")
	// Gaps are sign·(value − A's value). out (+): B 0, −5, 6 → (6 − 0)/2 = 3 a year, closing; C −20, −35, −40
	// → −10 a year. jobless (−): B −(4 − 6) = 2, 0, −(5 − 3) = −2 → −2 a year; C −2, −2, 0 → 1 a year.
	checkText(t, "gaps", a.gaps(), `
		out A 2020..2022 0→0 0 false led 2
		out B 2020..2022 0→6 3 true led 2
		out C 2020..2022 -20→-40 -10 false led 0
		jobless A 2020..2022 0→0 0 false led 2
		jobless B 2020..2022 2→-2 -2 false led 2
		jobless C 2020..2022 -2→0 1 true led 1`)
	r := a.Compare.Rows[9]
	if r.Unit != "%" || r.DifferenceUnit != "points (%)" || r.Measure != "RATE" || r.Direction != "LOWER_IS_BETTER" ||
		a.Compare.Rows[0].Unit != "bn" || a.Compare.Rows[0].DifferenceUnit != "bn" || a.Compare.Rows[0].Measure != "LEVEL" {
		t.Errorf("unit, measure, direction: %+v / %+v", a.Compare.Rows[0], r)
	}

	// A group and a category expand; rank and the mean are taken among P0's children A–D.
	var b compareAnswer
	mustPost(t, url, `{ compare(regions: ["G2", "A"], indicators: ["econ"], from: 2020, to: 2022,
		scope: {parent: "P0"}, baseline: {stat: MEAN}) `+compareFields+` }`, nil, &b)
	// G2 brings C (always) and D (from 2021): D's out of 2020 (30) is ranked in the scope but not compared.
	// out 2020 in the scope: A = B = 40 (1), D 30 (3), C 20 (4); mean 130/4 = 32.5; C: 20 − 32.5 = −12.5,
	// 20/32.5 = 0.615384615385, A: 7.5, 40/32.5 = 1.23076923077. 2021: 50, 45, 15, 10, mean 30. 2022: B 66,
	// A 60, C = D = 20 (3, 3), mean 166/4 = 41.5: 20 − 41.5 = −21.5, 20/41.5 = 0.481927710843, 60/41.5 =
	// 1.44578313253. grow (GROWTH: no ratio) 2020: B 6, A 5, C 4, mean 5; 2021: D 8, A = B 7, C 1, mean
	// 23/4 = 5.75; 2022: C 9, D 8, A 3, B 2, mean 22/4 = 5.5.
	checkText(t, "rows with a group, a category and a scope", b.rows(), `
		out 2020 C 20 r4 b32.5 d-12.5 q0.615384615385
		out 2020 A 40 r1 b32.5 d7.5 q1.23076923077
		out 2021 C 15 r3 b30 d-15 q0.5
		out 2021 D 10 r4 b30 d-20 q0.333333333333
		out 2021 A 50 r1 b30 d20 q1.66666666667
		out 2022 C 20 r3 b41.5 d-21.5 q0.481927710843
		out 2022 D 20 r3 b41.5 d-21.5 q0.481927710843
		out 2022 A 60 r2 b41.5 d18.5 q1.44578313253
		grow 2020 C 4 r3 b5 d-1 q-
		grow 2020 A 5 r2 b5 d0 q-
		grow 2021 C 1 r4 b5.75 d-4.75 q-
		grow 2021 D 8 r1 b5.75 d2.25 q-
		grow 2021 A 7 r2 b5.75 d1.25 q-
		grow 2022 C 9 r1 b5.5 d3.5 q-
		grow 2022 D 8 r2 b5.5 d2.5 q-
		grow 2022 A 3 r3 b5.5 d-2.5 q-`)
	if got := codeList(b.Compare.Regions); got != "C D A" {
		t.Errorf("compared regions %s", got)
	}
	// Among the compared (C, D from 2021, A): A leads out every year (40; 50; 60 over 20, 20) and grow 2020
	// (5 over 4); D grow 2021 (8 over 7, 1); C grow 2022 (9).
	checkText(t, "leads with a group", b.leads(), "C:1 D:1 A:4")

	// PARENT, LEADER and MEDIAN baselines, out in 2022 (P0 130; in P0's children B 66, A 60, C 20, D 20).
	for _, c := range []struct{ baseline, want string }{
		// 60 − 130 = −70, 60/130 = 0.461538461538; 20 − 130 = −110, 20/130 = 0.153846153846.
		{"{stat: PARENT}", "out 2022 A 60 r2 b130 d-70 q0.461538461538\nout 2022 C 20 r3 b130 d-110 q0.153846153846"},
		// B's 66: 60 − 66 = −6, 60/66 = 0.909090909091; 20/66 = 0.30303030303.
		{"{stat: LEADER}", "out 2022 A 60 r2 b66 d-6 q0.909090909091\nout 2022 C 20 r3 b66 d-46 q0.30303030303"},
		// The median of 66, 60, 20, 20 is (60 + 20)/2 = 40.
		{"{stat: MEDIAN}", "out 2022 A 60 r2 b40 d20 q1.5\nout 2022 C 20 r3 b40 d-20 q0.5"},
	} {
		var c2 compareAnswer
		mustPost(t, url, `{ compare(regions: ["A", "C"], indicators: ["out"], from: 2022, to: 2022, scope: {parent: "P0"},
			baseline: `+c.baseline+`) `+compareFields+` }`, nil, &c2)
		checkText(t, c.baseline, c2.rows(), c.want)
	}

	// Without a baseline, rows have none and gaps are to the leader among the compared. C and D on
	// jobless: 2020 C 8 (D is not compared yet); 2021 C 6 (D has none); 2022 D 2, C 3: C's gap −(3 − 2) = −1.
	var d compareAnswer
	mustPost(t, url, `{ compare(regions: ["G2"], indicators: ["jobless"], from: 2020, to: 2022) `+compareFields+` }`, nil, &d)
	checkText(t, "rows without a baseline", d.rows(), `
		jobless 2020 C 8 r1 b- d- q-
		jobless 2021 C 6 r1 b- d- q-
		jobless 2022 C 3 r2 b- d- q-
		jobless 2022 D 2 r1 b- d- q-`)
	checkText(t, "gaps to the leader", d.gaps(), `
		jobless C 2020..2022 0→-1 -0.5 false led 2
		jobless D 2022..2022 0→0 - - led 1`)

	// A baseline region without a value (D's jobless 2021) leaves that year without a gap, but the year C
	// led (6, alone) still counts: 2020 C 8, D 5 → C's gap −(8 − 5) = −3; 2022 C 3, D 2 → −1; (−1 + 3)/2 = 1.
	var e compareAnswer
	mustPost(t, url, `{ compare(regions: ["C", "D"], indicators: ["jobless"], from: 2020, to: 2022, baseline: {region: "D"}) `+compareFields+` }`, nil, &e)
	checkText(t, "gaps to D", e.gaps(), `
		jobless C 2020..2022 -3→-1 1 true led 1
		jobless D 2020..2022 0→0 0 false led 2`)
	checkText(t, "rows without D's 2021", e.rows(), `
		jobless 2020 C 8 r2 b5 d3 q-
		jobless 2020 D 5 r1 b5 d0 q-
		jobless 2021 C 6 r1 b- d- q-
		jobless 2022 C 3 r2 b2 d1 q-
		jobless 2022 D 2 r1 b2 d0 q-`)

	// Refusals.
	for _, c := range []struct{ args, code, msg string }{
		{`regions: ["A", "X1"], indicators: ["out"], from: 2020, to: 2022`, "NOT_FOUND", `unknown region or group code "X1"`},
		{`regions: ["A"], indicators: ["ecom"], from: 2020, to: 2022`, "NOT_FOUND", `did you mean "econ"?`},
		{`regions: ["A"], indicators: ["out"], from: 2022, to: 2020`, "BAD_USER_INPUT", "from (2022) is after to (2020)"},
		{`regions: ["A"], indicators: ["out"], from: 2020, to: 2022, baseline: {region: "A", stat: MEAN}`, "BAD_USER_INPUT", "exactly one of region and stat"},
		{`regions: ["A"], indicators: ["out"], from: 2020, to: 2022, baseline: {}`, "BAD_USER_INPUT", "exactly one of region and stat"},
		{`regions: ["A"], indicators: ["out"], from: 2020, to: 2022, scope: {group: "G1", parent: "P0"}`, "BAD_USER_INPUT", "give one of group, parent and regions"},
		{`regions: [], indicators: ["out"], from: 2020, to: 2022`, "BAD_USER_INPUT", "regions is empty"},
	} {
		res := post(t, url, `{ compare(`+c.args+`) { rows { value } } }`, nil, nil)
		if errorCode(res) != c.code || !strings.Contains(res.Errors[0].Message, c.msg) {
			t.Errorf("%s: %+v, want %s %q", c.args, res.Errors, c.code, c.msg)
		}
	}
}

func codeList(cs []code) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Code)
	}
	return strings.Join(s, " ")
}

type standingsAnswer struct {
	Standings struct {
		Ranked, InTop, First int
		Entries              []struct {
			Indicator code
			Value     float64
			Rank      int
			Leader    struct {
				Region code
				Value  float64
			}
			Above *struct {
				Region code
				Value  float64
			}
			GapToLeader, GapToAbove, MoveToGainRank, LeadOverNext *float64
			Top1, Top2, Top3, Top9                                *float64
		}
	}
}

const standingsFields = `{ ranked inTop first entries { indicator { code } value rank leader { region { code } value }
	above { region { code } value } gapToLeader gapToAbove moveToGainRank leadOverNext
	top1: moveToTop(n: 1) top2: moveToTop(n: 2) top3: moveToTop(n: 3) top9: moveToTop(n: 9) } }`

func (a standingsAnswer) render() string {
	var s []string
	for _, e := range a.Standings.Entries {
		above := "-"
		if e.Above != nil {
			above = fmt.Sprintf("%s:%v", e.Above.Region.Code, e.Above.Value)
		}
		s = append(s, fmt.Sprintf("%s %v r%d leader %s:%v above %s gapL %s gapA %s move %s lead %s top %s %s %s %s", e.Indicator.Code, e.Value, e.Rank,
			e.Leader.Region.Code, e.Leader.Value, above, fstr(e.GapToLeader), fstr(e.GapToAbove), fstr(e.MoveToGainRank), fstr(e.LeadOverNext),
			fstr(e.Top1), fstr(e.Top2), fstr(e.Top3), fstr(e.Top9)))
	}
	return strings.Join(s, "\n")
}

func TestStandingsBenchmarksByHand(t *testing.T) {
	url := handServer(t)
	var a standingsAnswer
	mustPost(t, url, `{ standings(region: "C", year: 2022, parent: "P0") `+standingsFields+` }`, nil, &a)
	// out 2022: B 66, A 60, C = D = 20. C is 3rd; leader B; above A (the worst value better than 20): gap 40,
	// move +40; to the best other 66 − 20 = 46; the 2nd best other is A's 60 (+40); the 3rd is D's 20, as
	// good as C's: 0; 9 > 3 others: 0.
	// jobless 2022 (lower is better): D 2, A = C = 3, B 5. C is 2nd; leader and above D: gap −(2 − 3) = 1,
	// move 2 − 3 = −1; the best other is D (−1); the 2nd best other A's 3 is as good as C's: 0.
	// grow 2022: C 9, D 8, A 3, B 2: C leads by 9 − 8 = 1; no above; moves 0.
	checkText(t, "C's standings", a.render(), `
		out 20 r3 leader B:66 above A:60 gapL 46 gapA 40 move 40 lead - top 46 40 0 0
		jobless 3 r2 leader D:2 above D:2 gapL 1 gapA 1 move -1 lead - top -1 0 0 0
		grow 9 r1 leader C:9 above - gapL 0 gapA - move - lead 1 top 0 0 0 0`)

	// Orders (ties keep dataset order): RANK grow 1, jobless 2, out 3. CLOSEST_GAIN by gapToAbove/|value|:
	// jobless 1/3, out 40/20 = 2, then grow (first: nothing to gain). GAP_TO_LEADER by gapToLeader/|leader|
	// descending: out 46/66, jobless 1/2, grow 0.
	for order, want := range map[string]string{"DATASET": "out jobless grow", "RANK": "grow jobless out",
		"CLOSEST_GAIN": "jobless out grow", "GAP_TO_LEADER": "out jobless grow"} {
		var o standingsAnswer
		mustPost(t, url, `{ standings(region: "C", year: 2022, parent: "P0", orderBy: `+order+`) `+standingsFields+` }`, nil, &o)
		var got []string
		for _, e := range o.Standings.Entries {
			got = append(got, e.Indicator.Code)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("orderBy %s: %v, want %s", order, got, want)
		}
	}

	// A tie for first: A and B at 40 on out in 2020 among P0's children. A's leader is A (first by code),
	// B's leader is A too; neither has an above; both lead the next by 0 (the other tied one).
	for _, c := range []struct{ region, want string }{
		{"A", "out 40 r1 leader A:40 above - gapL 0 gapA - move - lead 0 top 0 0 0 0"},
		{"B", "out 40 r1 leader A:40 above - gapL 0 gapA - move - lead 0 top 0 0 0 0"},
		// D 30: above is A (first by code of A = B = 40), move +10; top 1 and 2 both 40: +10; 3rd other C 20: 0.
		{"D", "out 30 r3 leader A:40 above A:40 gapL 10 gapA 10 move 10 lead - top 10 10 0 0"},
	} {
		var s standingsAnswer
		mustPost(t, url, `{ standings(region: "`+c.region+`", year: 2020, parent: "P0", indicators: ["out"]) `+standingsFields+` }`, nil, &s)
		checkText(t, c.region+" on out in 2020", s.render(), c.want)
	}

	// indicators and category restrict what is counted: econ is out and grow; C is first on grow only.
	var e standingsAnswer
	mustPost(t, url, `{ standings(region: "C", year: 2022, parent: "P0", category: "econ", top: 1) `+standingsFields+` }`, nil, &e)
	if s := e.Standings; s.Ranked != 2 || s.InTop != 1 || s.First != 1 || len(s.Entries) != 2 {
		t.Errorf("econ standings %+v", s)
	}
	for _, c := range []struct{ args, code, msg string }{
		{`category: "econ", indicators: ["out"]`, "BAD_USER_INPUT", "not both"},
		{`category: "ecno"`, "NOT_FOUND", `did you mean "econ"?`},
		{`indicators: ["nope"]`, "NOT_FOUND", `unknown indicator "nope"`},
		{`indicators: []`, "BAD_USER_INPUT", "indicators is empty"},
	} {
		res := post(t, url, `{ standings(region: "C", year: 2022, parent: "P0", `+c.args+`) { ranked } }`, nil, nil)
		if errorCode(res) != c.code || !strings.Contains(res.Errors[0].Message, c.msg) {
			t.Errorf("%s: %+v", c.args, res.Errors)
		}
	}
	res := post(t, url, `{ standings(region: "C", year: 2022, parent: "P0") { entries { moveToTop(n: 0) } } }`, nil, nil)
	if errorCode(res) != "BAD_USER_INPUT" {
		t.Errorf("moveToTop(n: 0): %+v", res.Errors)
	}
}

type trendAnswer struct {
	Trend struct {
		BestRank, BestRankYear, Streak1, Streak3, Above6, Above8, Below6 *int
		Points                                                           []struct {
			Year            int
			Value           float64
			Rank, RankCount *int
		}
	}
}

const trendFields = `{ bestRank bestRankYear streak1: rankStreak(atOrAbove: 1) streak3: rankStreak(atOrAbove: 3)
	above6: firstYearAbove(value: 6) above8: firstYearAbove(value: 8) below6: firstYearBelow(value: 6)
	points { year value rank rankCount } }`

func (a trendAnswer) render() string {
	t := a.Trend
	s := []string{fmt.Sprintf("best %s in %s streak %s %s above6 %s above8 %s below6 %s", istr(t.BestRank), istr(t.BestRankYear),
		istr(t.Streak1), istr(t.Streak3), istr(t.Above6), istr(t.Above8), istr(t.Below6))}
	for _, p := range t.Points {
		s = append(s, fmt.Sprintf("%d %v %s/%s", p.Year, p.Value, istr(p.Rank), istr(p.RankCount)))
	}
	return strings.Join(s, "\n")
}

func TestTrendRanksByHand(t *testing.T) {
	url := handServer(t)
	// C on jobless (lower is better) among P0's children: 2020 B 4, D 5, A 6, C 8 → 4th of 4; 2021 A = B = 4,
	// C 6 (D has none) → 3rd of 3; 2022 D 2, A = C = 3 → 2nd of 4. Best 2 in 2022; at 3 or better the last
	// two years; never 1st. Values 8, 6, 3: first above 6 is 2020 (8), none above 8, first below 6 is 2022.
	var a trendAnswer
	mustPost(t, url, `{ trend(region: "C", indicator: "jobless", parent: "P0") `+trendFields+` }`, nil, &a)
	checkText(t, "C's jobless ranks", a.render(), `
		best 2 in 2022 streak 0 2 above6 2020 above8 - below6 2022
		2020 8 4/4
		2021 6 3/3
		2022 3 2/4`)
	// Without a scope, no ranks (and the answer cache keeps the two apart).
	var b trendAnswer
	mustPost(t, url, `{ trend(region: "C", indicator: "jobless") `+trendFields+` }`, nil, &b)
	checkText(t, "without a scope", b.render(), `
		best - in - streak - - above6 2020 above8 - below6 2022
		2020 8 -/-
		2021 6 -/-
		2022 3 -/-`)
	// from hides 2020: the best rank, streak and first years are of the points shown. DENSE: 2021 3rd → 2nd.
	var c trendAnswer
	mustPost(t, url, `{ trend(region: "C", indicator: "jobless", parent: "P0", from: 2021, ties: DENSE) `+trendFields+` }`, nil, &c)
	checkText(t, "from 2021, dense", c.render(), `
		best 2 in 2021 streak 0 2 above6 - above8 - below6 2022
		2021 6 2/3
		2022 3 2/4`)
}

// TestCompareMatchesRanking holds compare's ranks, the standings' benchmarks and the trend's ranks to the
// ranking query's own entries on the NBS data.
func TestCompareMatchesRanking(t *testing.T) {
	url := nbsServer(t).URL
	// registered_unemployed (lower is better) has values to 2023 and death_rate (lower is better) in 2024 only.
	indicators := []string{"gdp", "registered_unemployed", "death_rate", "disposable_income_pc", "fai_funds_growth"}
	regions := []string{"320000", "330000", "440000"}
	var a compareAnswer
	mustPost(t, url, `query($r: [ID!]!, $i: [ID!]!) { compare(regions: $r, indicators: $i, from: 2019, to: 2024,
		scope: {group: "East"}, baseline: {stat: LEADER}) `+compareFields+` }`, map[string]any{"r": regions, "i": indicators}, &a)
	type key struct {
		region, indicator string
		year              int
	}
	rankings := map[key]rankingAnswer{}
	rankingOf := func(indicator string, year int) rankingAnswer {
		k := key{"", indicator, year}
		if r, ok := rankings[k]; ok {
			return r
		}
		var r rankingAnswer
		res := post(t, url, `query($i: ID!, $y: Int!) { ranking(indicator: $i, year: $y, group: "East") {
			leader { code } entries { region { code } value rank gapToLeader } } }`, map[string]any{"i": indicator, "y": year}, &r)
		if len(res.Errors) > 0 && !strings.Contains(res.Errors[0].Message, "is outside them") {
			t.Fatalf("ranking %s %d: %+v", indicator, year, res.Errors)
		}
		rankings[k] = r // no entries in a year outside the indicator's
		return r
	}
	seen := map[key]bool{}
	for _, row := range a.Compare.Rows {
		seen[key{row.Region.Code, row.Indicator.Code, row.Year}] = true
		r := rankingOf(row.Indicator.Code, row.Year)
		i := slices.IndexFunc(r.Ranking.Entries, func(e struct {
			Region       struct{ Code, Name string }
			Value        float64
			Rank         int
			Percentile   float64
			PreviousRank *int
			RankChange   *int
			GapToLeader  float64
			VsMean       float64
			VsMedian     float64
		}) bool {
			return e.Region.Code == row.Region.Code
		})
		if i < 0 || row.Rank == nil || *row.Rank != r.Ranking.Entries[i].Rank || row.Value != r.Ranking.Entries[i].Value {
			t.Errorf("%s %s %d: compare rank %s value %v, ranking %+v", row.Region.Code, row.Indicator.Code, row.Year, istr(row.Rank), row.Value, r.Ranking.Entries)
			continue
		}
		// LEADER is the ranking's first value; the difference, direction-adjusted, is its gapToLeader.
		lead := r.Ranking.Entries[0].Value
		sign := 1.0
		if row.Direction == "LOWER_IS_BETTER" {
			sign = -1
		}
		if row.Baseline == nil || *row.Baseline != lead || row.Difference == nil || -sign**row.Difference+0 != r.Ranking.Entries[i].GapToLeader {
			t.Errorf("%s %s %d: baseline %s difference %s, leader %v gapToLeader %v", row.Region.Code, row.Indicator.Code, row.Year,
				fstr(row.Baseline), fstr(row.Difference), lead, r.Ranking.Entries[i].GapToLeader)
		}
	}
	// Every compared region with a value has a row: the ranking's entries of the three, each year.
	for _, in := range indicators {
		for y := 2019; y <= 2024; y++ {
			for _, e := range rankingOf(in, y).Ranking.Entries {
				if slices.Contains(regions, e.Region.Code) && !seen[key{e.Region.Code, in, y}] {
					t.Errorf("no row for %s %s %d", e.Region.Code, in, y)
				}
			}
		}
	}
	if len(a.Compare.Rows) < 50 {
		t.Errorf("only %d rows", len(a.Compare.Rows))
	}

	// Standings: every benchmark follows from the ranking's entries (best first, ties by code).
	var s standingsAnswer
	mustPost(t, url, `{ standings(region: "330000", year: 2024, group: "East") `+standingsFields+` }`, nil, &s)
	if len(s.Standings.Entries) < 20 {
		t.Fatalf("only %d entries", len(s.Standings.Entries))
	}
	var in struct {
		Indicators []struct {
			Code, Direction string
		}
	}
	mustPost(t, url, `{ indicators { code direction } }`, nil, &in)
	dir := map[string]float64{}
	for _, i := range in.Indicators {
		dir[i.Code] = 1
		if i.Direction == "LOWER_IS_BETTER" {
			dir[i.Code] = -1
		}
	}
	for _, e := range s.Standings.Entries {
		es := rankingOf(e.Indicator.Code, 2024).Ranking.Entries
		sign := dir[e.Indicator.Code]
		me := -1
		for i := range es {
			if es[i].Region.Code == "330000" {
				me = i
			}
		}
		what := e.Indicator.Code
		if e.Leader.Region.Code != es[0].Region.Code || e.Leader.Value != es[0].Value || e.GapToLeader == nil || *e.GapToLeader != es[me].GapToLeader {
			t.Errorf("%s: leader %+v gap %s; ranking %+v", what, e.Leader, fstr(e.GapToLeader), es[0])
		}
		// above: the first entry (by the ranking's order, ties by code) holding the best value strictly
		// worse... that is, the worst value strictly better than ours.
		var above *int
		for i := range es {
			if sign*es[i].Value > sign*e.Value && (above == nil || es[i].Value != es[*above].Value) {
				j := i
				above = &j
			}
		}
		if above == nil {
			if e.Above != nil || e.MoveToGainRank != nil || e.Rank != 1 {
				t.Errorf("%s: rank %d above %+v move %s, want none", what, e.Rank, e.Above, fstr(e.MoveToGainRank))
			}
			// The leader's lead over the best of the others.
			next := es[0].Value
			if es[0].Region.Code == "330000" {
				next = es[1].Value
			}
			if want := sign * (e.Value - next); e.LeadOverNext == nil || math.Abs(*e.LeadOverNext-want) > 1e-9*max(1, math.Abs(want)) {
				t.Errorf("%s: leadOverNext %s, want %v", what, fstr(e.LeadOverNext), want)
			}
			continue
		}
		ab := es[*above]
		if e.Above == nil || e.Above.Region.Code != ab.Region.Code || e.Above.Value != ab.Value || e.LeadOverNext != nil {
			t.Errorf("%s: above %+v, want %s %v", what, e.Above, ab.Region.Code, ab.Value)
			continue
		}
		// The move makes the value tie above's: value + move == above.value (values of at most 2 decimals).
		if e.MoveToGainRank == nil || strconv.FormatFloat(e.Value+*e.MoveToGainRank, 'g', 12, 64) != strconv.FormatFloat(ab.Value, 'g', 12, 64) {
			t.Errorf("%s: %v + %s is not above's %v", what, e.Value, fstr(e.MoveToGainRank), ab.Value)
		}
		if e.GapToAbove == nil || math.Abs(*e.GapToAbove-sign*(ab.Value-e.Value)) > 1e-9*math.Abs(ab.Value) || *e.GapToAbove <= 0 {
			t.Errorf("%s: gapToAbove %s", what, fstr(e.GapToAbove))
		}
		// moveToTop(1) reaches the best other: the leader's value.
		if e.Top1 == nil || math.Abs(*e.Top1-(es[0].Value-e.Value)) > 1e-9*math.Abs(es[0].Value) {
			t.Errorf("%s: moveToTop(1) %s, want %v", what, fstr(e.Top1), es[0].Value-e.Value)
		}
	}

	// Trend ranks are the ranking's, year by year.
	var tr trendAnswer
	mustPost(t, url, `{ trend(region: "330000", indicator: "registered_unemployed", group: "East") `+trendFields+` }`, nil, &tr)
	if len(tr.Trend.Points) < 5 {
		t.Fatalf("trend points %d", len(tr.Trend.Points))
	}
	best := 1 << 30
	for _, p := range tr.Trend.Points {
		es := rankingOf("registered_unemployed", p.Year).Ranking.Entries
		i := slices.IndexFunc(es, func(e struct {
			Region       struct{ Code, Name string }
			Value        float64
			Rank         int
			Percentile   float64
			PreviousRank *int
			RankChange   *int
			GapToLeader  float64
			VsMean       float64
			VsMedian     float64
		}) bool {
			return e.Region.Code == "330000"
		})
		if p.Rank == nil || *p.Rank != es[i].Rank || p.RankCount == nil || *p.RankCount != len(es) {
			t.Errorf("%d: trend rank %s of %s, ranking %d of %d", p.Year, istr(p.Rank), istr(p.RankCount), es[i].Rank, len(es))
		}
		best = min(best, es[i].Rank)
	}
	if tr.Trend.BestRank == nil || *tr.Trend.BestRank != best {
		t.Errorf("bestRank %s, want %d", istr(tr.Trend.BestRank), best)
	}
}

// TestTrendFirstYearAbove: Jiangsu's GDP (亿元) from observations.csv, 320000,gdp: 2019 99836.9, 2020
// 104566.6, 2021 119853.2, 2022 124564.2, 2023 130924.3, 2024 136696.9: first above 100,000 in 2020, above
// 120,000 in 2022 (2021 falls short by 146.8), never above 1e9; first below 100,000 in 2019, never below
// 90,000.
func TestTrendFirstYearAbove(t *testing.T) {
	url := nbsServer(t).URL
	var a struct {
		Trend struct {
			A100, A120, A1e9, B100, B90 *int
		}
	}
	mustPost(t, url, `{ trend(region: "320000", indicator: "gdp", from: 2019) { a100: firstYearAbove(value: 100000)
		a120: firstYearAbove(value: 120000) a1e9: firstYearAbove(value: 1e9) b100: firstYearBelow(value: 100000)
		b90: firstYearBelow(value: 90000) } }`, nil, &a)
	got := fmt.Sprintf("%s %s %s %s %s", istr(a.Trend.A100), istr(a.Trend.A120), istr(a.Trend.A1e9), istr(a.Trend.B100), istr(a.Trend.B90))
	if got != "2020 2022 - 2019 -" {
		t.Errorf("first years %s", got)
	}
}

// TestCompareExport exports compare's rows and leaders as CSV through /export with path, and holds every
// cell to the /graphql answer.
func TestCompareExport(t *testing.T) {
	url := nbsServer(t).URL
	query := `{ compare(regions: ["320000", "330000", "440000"], indicators: ["gdp", "registered_unemployed"], from: 2021, to: 2023,
		baseline: {region: "320000"}) {
		leaders { indicator { code } year region { code } value unit }
		rows { region { code } indicator { code } year value rank baseline difference ratio unit measure direction flags } } }`
	var d map[string]any
	mustPost(t, url, query, nil, &d)
	for _, c := range []struct {
		path    string
		columns []string
	}{
		{"compare.rows", []string{"region.code", "indicator.code", "year", "value", "rank", "baseline", "difference", "ratio", "unit", "measure", "direction", "flags"}},
		{"compare.leaders", []string{"indicator.code", "year", "region.code", "value", "unit"}},
	} {
		list := d["compare"].(map[string]any)[strings.TrimPrefix(c.path, "compare.")].([]any)
		want := graphqlTable(t, list, c.columns)
		res, raw := exportOf(t, url, "format=csv&path="+c.path, query, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", c.path, res.StatusCode, raw)
		}
		got := readCSVTable(t, raw)
		if strings.Join(got.header, ",") != strings.Join(c.columns, ",") {
			t.Errorf("%s: columns %v, want %v", c.path, got.header, c.columns)
		}
		// 3 regions × 2 indicators × 3 years, all with values: 18 rows; leaders one per indicator-year.
		if len(got.rows) != len(want.rows) || c.path == "compare.rows" && len(got.rows) != 18 {
			t.Fatalf("%s: %d rows, /graphql %d", c.path, len(got.rows), len(want.rows))
		}
		for i := range want.rows {
			for j, w := range want.rows[i] {
				g := got.rows[i][j].(string)
				switch w := w.(type) {
				case nil:
					if g != "" {
						t.Errorf("%s row %d %s: %q, want empty", c.path, i, c.columns[j], g)
					}
				case float64:
					if f, err := strconv.ParseFloat(g, 64); err != nil || f != w {
						t.Errorf("%s row %d %s: %q, want %v", c.path, i, c.columns[j], g, w)
					}
				default:
					if g != fmt.Sprint(w) {
						t.Errorf("%s row %d %s: %q, want %v", c.path, i, c.columns[j], g, w)
					}
				}
			}
		}
	}
}

// TestCompareCost: the issue's comparison (three provinces, ten indicators since 2019, the issue's fields)
// fits the default cost limit; every province on every indicator over the dataset's ten years (31 × 27 × 10
// rows, over 8,000) is refused before it runs.
func TestCompareCost(t *testing.T) {
	url := nbsServer(t).URL
	issue := `{ compare(regions: ["320000", "330000", "440000"], indicators: ["gdp", "va_primary", "va_secondary", "va_tertiary",
		"gdp_per_capita", "gdp_index", "retail_sales", "disposable_income_pc", "consumption_pc", "fiscal_revenue"],
		from: 2019, to: 2025, scope: {group: "East"}, baseline: {stat: LEADER}) {
		rows { region { code } indicator { code } year value rank baseline difference ratio }
		leaders { indicator { code } year region { code } value }
		leads { region { code } count } } }`
	var a compareAnswer
	mustPost(t, url, issue, nil, &a)
	if len(a.Compare.Rows) < 150 || len(a.Compare.Leads) != 3 {
		t.Errorf("%d rows, %d leads", len(a.Compare.Rows), len(a.Compare.Leads))
	}
	res := post(t, url, `{ compare(regions: ["East", "Central", "West", "Northeast"], indicators: ["output", "prosperity", "consumption",
		"fiscal", "growth", "population", "employment", "retail_sales_pc"], from: 2016, to: 2025) { rows { region { code } indicator { code } year value rank } } }`, nil, nil)
	if errorCode(res) != "QUERY_TOO_COMPLEX" {
		t.Errorf("every province on everything: %+v", res.Errors)
	}
}

// TestCompareWrittenPlain: compare, standings with their benchmarks (moveToTop included) and trends with
// ranks are answered by the plain writer, not left to gqlgen's slower path.
func TestCompareWrittenPlain(t *testing.T) {
	url := handServer(t)
	for _, q := range []string{
		`{ compare(regions: ["G1"], indicators: ["econ", "jobless"], from: 2020, to: 2022, scope: {parent: "P0"}, baseline: {stat: MEDIAN}) ` + compareFields + ` }`,
		`{ standings(region: "C", year: 2022, parent: "P0", orderBy: RANK) ` + standingsFields + ` }`,
		`{ trend(region: "C", indicator: "jobless", parent: "P0") ` + trendFields + ` }`,
	} {
		before := plainWritten.Load()
		mustPost(t, url, q, nil, nil)
		if plainWritten.Load() == before {
			t.Errorf("not written by the plain writer: %.60s", q)
		}
	}
}

// TestCompareCap: 3,000 synthetic regions (ten groups G01–G10) × 5 indicators × 3 years are 45,000 values,
// over the 20,000 one comparison may hold: refused by the engine (with the cost limit lifted so that the
// request reaches it). Years outside the data cost nothing: 1 to 9999 spans the dataset's 3.
func TestCompareCap(t *testing.T) {
	opt := DefaultOptions
	opt.Complexity = 1 << 30
	srv, _ := newServer(t, importDataset(t, dataset.Synthetic(1, 3000, 5, 3)), query.DefaultOptions, opt)
	groups := `["G01", "G02", "G03", "G04", "G05", "G06", "G07", "G08", "G09", "G10"]`
	res := post(t, srv.URL, `{ compare(regions: `+groups+`, indicators: ["I001", "I002", "I003", "I004", "I005"], from: 1, to: 9999) { rows { value } } }`, nil, nil)
	if errorCode(res) != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, "3000 regions × 5 indicators × 3 years (45000 values) is over the most one comparison may hold, 20000") {
		t.Errorf("45,000 values: %+v", res.Errors)
	}
	var a compareAnswer
	mustPost(t, srv.URL, `{ compare(regions: ["G01", "G02"], indicators: ["I001", "I003"], from: 1, to: 9999, scope: {}) `+compareFields+` }`, nil, &a)
	if len(a.Compare.Rows) < 1000 || len(a.Compare.Leaders) < 6 {
		t.Errorf("%d rows, %d leaders", len(a.Compare.Rows), len(a.Compare.Leaders))
	}
}
