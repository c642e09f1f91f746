package server

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
	"pacesetter/data"
)

// periodsPage is what the dashboard shows of a monthly or quarterly indicator, read from the page: the
// period selector, each chart's data as ECharts holds it, and the tables' text.
type periodsPage struct {
	SelName, SelLabel, Selected string
	Options                     []string
	RankTitle                   string
	RankCodes                   []string
	RankValues                  []float64
	TrendX                      []string
	TrendValues                 []float64
	TrendRecords                int
	CompareX                    []string
	CompareTable                [][]string // code, name, value, rank; the header's second cell first
	PivotTitle                  string
	PivotRows                   []string
	YtdHidden                   bool
	YtdTitle, YtdUnit           string
	YtdX                        []string
	Ytd, Before, Growth         []*float64
	LevelLine, GrowthLine       []float64 // a value a period
	Note                        string
	Targets                     [][]string // kind, then the cells
}

const readPeriodsPage = `(() => {
  const sel = document.getElementById('when');
  const chart = (id) => { const c = echarts.getInstanceByDom(document.getElementById(id)); return c ? c.getOption() : null; };
  const r = chart('ranking-chart'), tr = chart('trend-chart'), c = chart('compare-chart'), y = chart('ytd-chart');
  const series = (o, id) => (o && o.series && o.series.find((s) => s.id === id)) || null;
  const line = (id) => (series(y, id) ? series(y, id).data : []);
  return {
    selName: sel.name, selLabel: document.getElementById('when-label').textContent, selected: sel.value,
    options: [...sel.options].map((o) => o.value),
    rankTitle: r.title[0].text, rankCodes: r.series[0].data.map((d) => d.code), rankValues: r.series[0].data.map((d) => d.value),
    trendX: tr.xAxis[0].data, trendValues: tr.series[0].data, trendRecords: tr.series[0].markPoint.data.length,
    compareX: c.xAxis[0].data,
    compareTable: [[...document.querySelectorAll('#compare-table tr:first-child th')].map((x) => x.textContent),
      ...[...document.querySelectorAll('#compare-table tr[data-code]')].map((x) => [x.dataset.code, ...[...x.cells].map((td) => td.textContent)])],
    pivotTitle: document.getElementById('pivot-title').textContent,
    pivotRows: [...document.querySelectorAll('#pivot-table tr')].slice(1).map((x) => x.cells[0].textContent),
    ytdHidden: document.getElementById('ytd-view').hidden,
    // A chart cleared (of a flow) has no title, axes or series.
    ytdTitle: y && y.title && y.title.length ? y.title[0].text : '', ytdUnit: y && y.title && y.title.length ? y.title[0].subtext : '',
    ytdX: y && y.xAxis && y.xAxis.length ? y.xAxis[0].data : [],
    ytd: series(y, 'ytd') ? series(y, 'ytd').data : null, before: series(y, 'ytd-before') ? series(y, 'ytd-before').data : null,
    growth: series(y, 'ytd-growth') ? series(y, 'ytd-growth').data : null,
    levelLine: line('ytd-target'), growthLine: line('ytd-growth-target'),
    note: document.getElementById('ytd-note').textContent,
    targets: [...document.querySelectorAll('#ytd-targets tr[data-kind]')].map((x) => [x.dataset.kind, ...[...x.cells].map((td) => td.textContent)]),
  };
})()`

// forget clears the tab's record of requests, so that checkClean looks at the next server's only.
func (b *browserTab) forget() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = nil
}

// periodName writes a period as observations.csv does, independently of analytics.Period: 2002-09, 2002-Q3.
func periodName(f analytics.Frequency, year, p int) string {
	if f == analytics.Quarterly {
		return fmt.Sprintf("%d-Q%d", year, p)
	}
	return fmt.Sprintf("%d-%02d", year, p)
}

// shownNumber reads a number the page wrote with thousands separators and maybe a " %".
func shownNumber(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.ReplaceAll(s, ",", ""), " %"), 64)
	if err != nil {
		t.Fatalf("the page shows %q, not a number", s)
	}
	return v
}

// shownAs says whether a number the page shows to 3 decimals is v.
func shownAs(shown, v float64) bool { return math.Abs(shown-v) <= 5e-4+1e-12*math.Abs(v) }

// TestBrowserDashboardPeriods opens the dashboard on datasets `pacesetter synth --frequency M` and `--frequency
// Q` write (dataset.WriteSyntheticOf, what the command runs; 6 regions × 2 years monthly, 40 regions × 3 years
// quarterly), with a targets.csv the test writes (synth writes none): a level and a growth target of the
// cumulative I002 for one region, none for the others. For I002 in a period of the last year it checks the
// period selector against the periods the dataset's own observations.csv has, and every panel against the
// API's answer to the same question and, where it is a number, against the observations themselves: the
// ranking's bars, the trend's points, the comparison's columns and table, the periods × regions table; the
// year-to-date chart's values and those of the same periods a year earlier, its growth line (100 · (YTD(Y,
// p)/YTD(Y−1, p) − 1), worked out here) and target lines (the values written into targets.csv), and its
// table of progress, onTrack and requiredRestOfYear (targets(period:)'s, and the schema's formulas worked
// out here). Then: a region without targets says so and draws no line, a flow (not cumulative) says the
// chart is for year-to-date totals, invalid period= and year= are named in the status line, and the
// embedded annual dataset still shows a year selector and no year-to-date chart. With PACESETTER_SCREENSHOT=1
// it writes docs/dashboard-periods.png, the picture in docs/periods.md.
func TestBrowserDashboardPeriods(t *testing.T) {
	b := newBrowser(t)
	for _, c := range []struct {
		f              analytics.Frequency
		regions, years int
		label          string
		per            int
	}{
		{analytics.Monthly, 6, 2, "Month 月份", 12},
		{analytics.Quarterly, 40, 3, "Quarter 季度", 4},
	} {
		t.Run(string(c.f), func(t *testing.T) {
			dir := t.TempDir()
			if _, _, err := dataset.WriteSyntheticOf(dir, 22, c.regions, 3, c.years, c.f); err != nil {
				t.Fatal(err)
			}
			ref, err := dataset.Read(os.DirFS(dir))
			if err != nil {
				t.Fatal(err)
			}
			// The observations by region and period, and I002's periods with a value, latest first.
			value := map[string]float64{}
			var periods []string
			for _, o := range ref.Observations {
				name := periodName(c.f, o.Year, o.Period)
				value[o.Region+"|"+o.Indicator+"|"+name] = o.Value
				if o.Indicator == "I002" && !slices.Contains(periods, name) {
					periods = append(periods, name)
				}
			}
			slices.SortFunc(periods, func(a, b string) int { return -strings.Compare(a, b) })
			// The period asked: the third quarter or the ninth month of the last year.
			year := 2000 + c.years
			pn := c.per * 3 / 4
			period := periodName(c.f, year, pn)
			has := func(region, p string) bool { _, ok := value[region+"|I002|"+p]; return ok }
			// The targeted region has this year's, last year's same period and last year's last period.
			var targeted, untargeted string
			for _, rg := range ref.Regions[1:] {
				ok := has(rg.Code, period) && has(rg.Code, periodName(c.f, year-1, pn)) && has(rg.Code, periodName(c.f, year-1, c.per))
				switch {
				case ok && targeted == "":
					targeted = rg.Code
				case has(rg.Code, periods[0]) && untargeted == "":
					untargeted = rg.Code
				}
			}
			if targeted == "" || untargeted == "" {
				t.Fatalf("no region with the values the test needs (seed 22): %q %q", targeted, untargeted)
			}
			// The level target: the previous year's total and 5 %, to the nearest 100.
			const growth = 5.0
			level := math.Round(value[targeted+"|I002|"+periodName(c.f, year-1, c.per)]*1.05/100) * 100
			targets := fmt.Sprintf("region_code,indicator_code,year,comparator,value,kind\n%s,I002,%d,>=,%v,level\n%s,I002,%d,>=,%v,growth\n",
				targeted, year, level, targeted, year, growth)
			if err := os.WriteFile(filepath.Join(dir, "targets.csv"), []byte(targets), 0o644); err != nil {
				t.Fatal(err)
			}
			srv, _ := newServer(t, loadStore(t, os.DirFS(dir)), query.DefaultOptions, DefaultOptions)
			b.forget() // the requests to this server only, for checkClean

			open := func(params string) periodsPage {
				t.Helper()
				b.do(t, params, chromedp.EmulateViewport(1280, 1000), chromedp.Navigate(srv.URL+"/dashboard?"+params))
				if ready := poll[string](t, b, `document.body.dataset.ready`); ready != "true" {
					t.Fatalf("%s: %s", params, eval[string](t, b, `document.getElementById('status').textContent`))
				}
				return eval[periodsPage](t, b, readPeriodsPage)
			}
			got := open("indicator=I002&period=" + period + "&region=" + targeted)
			if os.Getenv("PACESETTER_SCREENSHOT") == "1" && c.f == analytics.Monthly { // docs/periods.md's picture
				png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile("../../docs/dashboard-periods.png", png, 0o644); err != nil {
					t.Fatal(err)
				}
			}

			// The period selector: I002's periods, latest first, the one asked chosen.
			if got.SelName != "period" || got.SelLabel != c.label || got.Selected != period || !slices.Equal(got.Options, periods) {
				t.Errorf("period selector %q %q, %q of %q; want %q of the dataset's %q", got.SelName, got.SelLabel, got.Selected, got.Options, period, periods)
			}

			var api struct {
				Ranking struct {
					Period  string
					Entries []struct {
						Region struct{ Code string }
						Value  float64
					}
				}
				Trend struct{ Points []struct{ Period string } }
				Ytd   struct {
					Points []struct {
						Period string
						Value  float64
						Yoy    *float64
					}
				}
				Targets []struct {
					Kind                         string
					Target                       float64
					Progress, RequiredRestOfYear *float64
					OnTrack                      *bool
				}
				Pivot struct{ Rows []struct{ Label string } }
			}
			mustPost(t, srv.URL, `query($p: String!, $r: ID!, $y: Int!, $from: PeriodOrYear!, $to: PeriodOrYear!) {
			  ranking(indicator: "I002", period: $p) { period entries { region { code } value } }
			  trend(region: $r, indicator: "I002") { points { period } }
			  ytd: trend(region: $r, indicator: "I002", from: $from, to: $to) { points { period value yoy } }
			  targets(region: $r, indicator: "I002", year: $y, period: $p) { kind target progress onTrack requiredRestOfYear }
			  pivot(indicator: "I002", rows: PERIOD, columns: REGION, filter: {from: $y, to: $y}) { rows { label } } }`,
				map[string]any{"p": period, "r": targeted, "y": year, "from": strconv.Itoa(year - 1), "to": period}, &api)

			// The ranking: the API's bars in the period, each the observation's value.
			var codes []string
			var values []float64
			for _, e := range api.Ranking.Entries {
				codes = append(codes, e.Region.Code)
				values = append(values, e.Value)
				if v, ok := value[e.Region.Code+"|I002|"+period]; !ok || v != e.Value {
					t.Errorf("the API ranks %s at %v in %s; observations.csv has %v (%v)", e.Region.Code, e.Value, period, v, ok)
				}
			}
			if api.Ranking.Period != period || !strings.HasSuffix(got.RankTitle, " · "+period) || !slices.Equal(got.RankCodes, codes) || !slices.Equal(got.RankValues, values) {
				t.Errorf("ranking chart %q %q %v\nAPI's %s %q %v", got.RankTitle, got.RankCodes, got.RankValues, api.Ranking.Period, codes, values)
			}
			// The trend: a point a period of the region, and no records or runs for a year-to-date total.
			var trendX []string
			var trendValues []float64
			for _, p := range api.Trend.Points {
				trendX = append(trendX, p.Period)
				trendValues = append(trendValues, value[targeted+"|I002|"+p.Period])
			}
			if !slices.Equal(got.TrendX, trendX) || !slices.Equal(got.TrendValues, trendValues) || got.TrendRecords != 0 {
				t.Errorf("trend chart %q %v (%d records)\nAPI's periods %q, observations %v", got.TrendX, got.TrendValues, got.TrendRecords, trendX, trendValues)
			}
			// The comparison: a column a period of every year; the table: a row a period of the chosen one's year.
			// The comparison's table is the ranking's first three in the period chosen, ranked among themselves
			// (more is better: rank = 1 + how many have more).
			all := slices.Clone(periods)
			slices.Reverse(all)
			var pivotRows, ofYear []string
			for _, r := range api.Pivot.Rows {
				pivotRows = append(pivotRows, r.Label)
			}
			for _, p := range all {
				if strings.HasPrefix(p, strconv.Itoa(year)+"-") {
					ofYear = append(ofYear, p)
				}
			}
			wantTitle := fmt.Sprintf("Periods of %d × regions %d年 期间 × 地区", year, year)
			if !slices.Equal(pivotRows, ofYear) || !slices.Equal(got.CompareX, all) || got.PivotTitle != wantTitle || !slices.Equal(got.PivotRows, ofYear) {
				t.Errorf("comparison columns %q, table %q rows %q (the API's %q); want the periods %q, of %d %q", got.CompareX, got.PivotTitle, got.PivotRows, pivotRows, all, year, ofYear)
			}
			if len(got.CompareTable) != 4 || len(got.CompareTable[0]) != 3 || got.CompareTable[0][1] != period {
				t.Fatalf("comparison table %q", got.CompareTable)
			}
			for _, row := range got.CompareTable[1:] {
				v := value[row[0]+"|I002|"+period]
				rank := 1
				for _, other := range codes[:3] {
					if value[other+"|I002|"+period] > v {
						rank++
					}
				}
				if !slices.Contains(codes[:3], row[0]) || shownNumber(t, row[2]) != v || row[3] != strconv.Itoa(rank) {
					t.Errorf("comparison row %q; want %v, rank %d in %s", row, v, rank, period)
				}
			}

			// The year-to-date chart: this year's periods up to the one chosen, the values there and a year
			// earlier, the growth between them, and the two target lines.
			if got.YtdHidden || got.YtdUnit != "CNY 100 million" || !strings.Contains(got.YtdTitle, strconv.Itoa(year)+" year to date") {
				t.Errorf("year-to-date chart hidden %v, title %q, unit %q", got.YtdHidden, got.YtdTitle, got.YtdUnit)
			}
			var axis []string
			for k := 1; k <= pn; k++ {
				axis = append(axis, periodName(c.f, year, k))
			}
			if !slices.Equal(got.YtdX, axis) || len(got.Ytd) != pn || len(got.Before) != pn || len(got.Growth) != pn {
				t.Fatalf("year-to-date axis %q (%d, %d, %d values), want %q", got.YtdX, len(got.Ytd), len(got.Before), len(got.Growth), axis)
			}
			yoy := map[string]*float64{}
			for _, p := range api.Ytd.Points {
				yoy[p.Period] = p.Yoy
			}
			for k, p := range axis {
				before := periodName(c.f, year-1, k+1)
				v, ok := value[targeted+"|I002|"+p]
				w, okw := value[targeted+"|I002|"+before]
				if (got.Ytd[k] == nil) == ok || (ok && *got.Ytd[k] != v) || (got.Before[k] == nil) == okw || (okw && *got.Before[k] != w) {
					t.Errorf("year to date at %s: %v and a year earlier %v; observations.csv has %v (%v) and %v (%v)", p, got.Ytd[k], got.Before[k], v, ok, w, okw)
				}
				// The growth, from the API's yoy as the page takes it, and worked out from the two values.
				g := got.Growth[k]
				switch {
				case !ok || !okw:
					if g != nil {
						t.Errorf("growth at %s is %v without both values", p, *g)
					}
				case g == nil || yoy[p] == nil:
					t.Errorf("no growth at %s (the API's yoy %v)", p, yoy[p])
				case *g != *yoy[p]*100 || !near(*g, 100*(v/w-1)):
					t.Errorf("growth at %s is %v; the API's yoy ×100 is %v, 100·(%v/%v − 1) = %v", p, *g, *yoy[p]*100, v, w, 100*(v/w-1))
				}
			}
			flat := func(v float64) []float64 { return slices.Repeat([]float64{v}, pn) }
			if !slices.Equal(got.LevelLine, flat(level)) || !slices.Equal(got.GrowthLine, flat(growth)) {
				t.Errorf("target lines %v (level) %v (growth), want %v and %v", got.LevelLine, got.GrowthLine, level, growth)
			}
			// The table of targets: the API's progress, onTrack and requiredRestOfYear, shown to 3 decimals,
			// and each the schema's formula worked out here from the observations.
			ytd, ytd1 := value[targeted+"|I002|"+period], value[targeted+"|I002|"+periodName(c.f, year-1, pn)]
			whole1 := value[targeted+"|I002|"+periodName(c.f, year-1, c.per)]
			want := map[string][3]float64{ // progress, requiredRestOfYear, target
				"LEVEL":  {ytd / level * 100, level - ytd, level},
				"GROWTH": {(ytd/ytd1 - 1) * 100, ((whole1*(1+growth/100)-ytd)/(whole1-ytd1) - 1) * 100, growth},
			}
			if len(got.Targets) != 2 || len(api.Targets) != 2 || !strings.Contains(got.Note, "Annual targets of "+strconv.Itoa(year)) {
				t.Fatalf("targets table %q (note %q); the API's %+v", got.Targets, got.Note, api.Targets)
			}
			for i, row := range got.Targets {
				a := api.Targets[i]
				w := want[row[0]]
				if row[0] != a.Kind || a.Progress == nil || a.RequiredRestOfYear == nil || a.OnTrack == nil || len(row) != 6 {
					t.Errorf("targets row %q; the API's %+v", row, a)
					continue
				}
				progress, required := shownNumber(t, row[3]), shownNumber(t, row[5])
				onTrack := *a.OnTrack && row[4] == "yes 是" || !*a.OnTrack && row[4] == "no 否"
				if !shownAs(progress, *a.Progress) || !shownAs(required, *a.RequiredRestOfYear) || !onTrack ||
					!near(*a.Progress, w[0]) || !near(*a.RequiredRestOfYear, w[1]) || a.Target != w[2] ||
					*a.OnTrack != (*a.Progress >= map[string]float64{"LEVEL": 100, "GROWTH": growth}[a.Kind]) {
					t.Errorf("targets row %q; the API's progress %v, onTrack %v, required %v; worked out %v", row, *a.Progress, *a.OnTrack, *a.RequiredRestOfYear, w)
				}
				if row[0] == "GROWTH" && !near(*got.Growth[pn-1], *a.Progress) {
					t.Errorf("the growth line ends at %v; the growth target's progress is %v", *got.Growth[pn-1], *a.Progress)
				}
			}

			// Without period=, the latest; a region without targets: no line, and the chart says so.
			got = open("indicator=I002&region=" + untargeted)
			if got.Selected != periods[0] || !strings.HasSuffix(got.RankTitle, " · "+periods[0]) {
				t.Errorf("by default period %q, ranking %q; want the latest %s", got.Selected, got.RankTitle, periods[0])
			}
			if got.YtdHidden || !strings.HasPrefix(got.YtdTitle, ref.Regions[slices.IndexFunc(ref.Regions, func(r dataset.Region) bool { return r.Code == untargeted })].Name+" · ") ||
				len(got.Ytd) == 0 || got.Growth != nil || len(got.LevelLine) != 0 || len(got.Targets) != 0 ||
				!strings.Contains(got.Note, "No level or growth target") {
				t.Errorf("a region without targets (%s): %q, lines %v %v, growth %v, targets %q, note %q", untargeted, got.YtdTitle, got.LevelLine, got.GrowthLine, got.Growth, got.Targets, got.Note)
			}
			// A flow: the panels by period, the chart says it is for year-to-date totals.
			got = open("indicator=I001&period=" + period)
			if got.SelName != "period" || got.Selected != period || got.YtdHidden || got.Ytd != nil || !strings.Contains(got.Note, "not a year-to-date total") {
				t.Errorf("a flow: selector %q %q, chart %v, note %q", got.SelName, got.Selected, got.Ytd, got.Note)
			}
			// Invalid parameters, each named with what is shown instead.
			bad := periodName(c.f, year, c.per+1) // month 13, quarter 5
			open("indicator=I002&period=" + bad)
			msg := eval[string](t, b, `document.getElementById('status').textContent`)
			if w := "period=" + bad + " is not valid here: showing " + periods[0]; !strings.Contains(msg, w) {
				t.Errorf("status %q lacks %q", msg, w)
			}
			got = open("indicator=I002&year=" + strconv.Itoa(year-1))
			last1 := periodName(c.f, year-1, c.per)
			if w := "year=" + strconv.Itoa(year-1) + " is not valid here: showing period " + last1; got.Selected != last1 ||
				!strings.Contains(eval[string](t, b, `document.getElementById('status').textContent`), w) {
				t.Errorf("year= of a %s indicator: selected %q, status lacks %q", c.f, got.Selected, w)
			}
			b.checkClean(t, srv.URL)
		})
	}

	// The annual dataset: a year selector, no year-to-date chart.
	nbs, _ := newServer(t, loadStore(t, data.Default()), query.DefaultOptions, DefaultOptions)
	b.forget()
	b.do(t, "annual", chromedp.Navigate(nbs.URL+"/dashboard?indicator=retail_sales&year=2024&period=2024-09"))
	if ready := poll[string](t, b, `document.body.dataset.ready`); ready != "true" {
		t.Fatalf("annual: %s", eval[string](t, b, `document.getElementById('status').textContent`))
	}
	type annual struct {
		Name, Value, Label, Status string
		Hidden                     bool
	}
	a := eval[annual](t, b, `({ name: document.getElementById('when').name, value: document.getElementById('when').value,
	  label: document.getElementById('when-label').textContent, hidden: document.getElementById('ytd-view').hidden,
	  status: document.getElementById('status').textContent })`)
	if a.Name != "year" || a.Value != "2024" || a.Label != "Year 年份" || !a.Hidden ||
		!strings.Contains(a.Status, "period=2024-09 is not valid here: showing year 2024") {
		t.Errorf("annual indicator: %+v", a)
	}
	b.checkClean(t, nbs.URL)
}
