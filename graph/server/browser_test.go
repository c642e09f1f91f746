package server

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
	"pacesetter/data"
)

// Browser tests: the pages at / and /dashboard in a real headless Chromium, over the real handler and the
// embedded NBS dataset. They fail, never skip, without Chromium: a green run means the pages were tried.

// chromiumPath is Debian's Chromium; PACESETTER_CHROMIUM names another binary.
func chromiumPath() string {
	if p := os.Getenv("PACESETTER_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// browserTab is a fresh headless Chromium (its own profile) with one tab. It records every request the page
// makes, uncaught exceptions and Content-Security-Policy violations, so a test can check the page used
// nothing but this server and broke no rule of its policy.
type browserTab struct {
	ctx        context.Context
	mu         sync.Mutex
	requests   []string
	exceptions []string
}

func newBrowser(t *testing.T) *browserTab {
	t.Helper()
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no Chromium at %s (%v): the browser tests need it; install it with `apt-get install -y chromium fonts-noto-cjk` (Debian) or set PACESETTER_CHROMIUM to a Chromium binary", path, err)
	}
	// No network here and none wanted: background networking, updates and sync only make noise.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browserTab{}
	// The listener is on from the tab's start, so it sees the first request.
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		case *runtime.EventExceptionThrown:
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			b.exceptions = append(b.exceptions, msg)
		}
	}))
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b.ctx = ctx
	// Violations of the page's CSP are collected from the first script on.
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`})
		return err
	}))
	if err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return b
}

// do runs steps in the tab, failing the test with what the page threw.
func (b *browserTab) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.fail(t, what, err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](t *testing.T, b *browserTab, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail(t, expr, err)
	}
	return v
}

// poll waits until a JavaScript expression is truthy and decodes its value.
func poll[T any](t *testing.T, b *browserTab, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		b.fail(t, "wait for "+expr, err)
	}
	return v
}

func (b *browserTab) fail(t *testing.T, what string, err error) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	t.Fatalf("%s: %v (page exceptions: %q)", what, err, b.exceptions)
}

// checkClean fails the test if the page requested anything from another origin, threw, or broke its CSP.
func (b *browserTab) checkClean(t *testing.T, origin string) {
	t.Helper()
	csp := eval[[]string](t, b, `window.__csp`)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range b.requests {
		if !strings.HasPrefix(u, origin+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			t.Errorf("the page requested %s, not from this server", u)
		}
	}
	if len(b.exceptions) > 0 {
		t.Errorf("uncaught exceptions: %q", b.exceptions)
	}
	if len(csp) > 0 {
		t.Errorf("Content-Security-Policy violations: %q", csp)
	}
}

// TestBrowserGraphiQL loads / with no network beyond this server, writes a query into GraphiQL's editor,
// clicks its run button and reads the answer from the page.
func TestBrowserGraphiQL(t *testing.T) {
	b := newBrowser(t)
	srv := nbsServer(t)
	const query = `{ ranking(indicator: "retail_sales", year: 2024, group: "East") { entries(top: 2) { region { code name nameEn } value rank } } }`
	b.do(t, "GraphiQL",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`.graphiql-query-editor .CodeMirror`)))
	// The editor is CodeMirror: its own API sets the text (typed keys would get brackets auto-closed).
	eval[chromedp.Void](t, b, `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(`+jsString(query)+`)`)
	b.do(t, "run the query", chromedp.Click(chromedp.CSS(`.graphiql-execute-button`)))
	answer := poll[string](t, b, `(() => { const t = document.querySelector('.graphiql-response').innerText; return t.includes('"rank"') ? t : null })()`)
	shown := eval[string](t, b, `document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()`)
	var got struct {
		Data struct {
			Ranking struct {
				Entries []struct {
					Region struct{ Code, Name, NameEn string }
					Value  float64
					Rank   int
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(shown), &got); err != nil {
		t.Fatalf("GraphiQL shows no JSON answer: %v\n%s", err, shown)
	}
	e := got.Data.Ranking.Entries
	if len(e) != 2 || e[0].Region.Code != "440000" || e[0].Region.Name != "广东省" || e[0].Value != 45029.2 || e[0].Rank != 1 ||
		e[1].Region.NameEn != "Jiangsu" || e[1].Rank != 2 {
		t.Errorf("GraphiQL shows %s", shown)
	}
	// The page's text (CodeMirror draws the lines it shows) has the Chinese name as well.
	if !strings.Contains(answer, "广东省") {
		t.Errorf("the response pane reads %q", answer)
	}
	b.checkClean(t, srv.URL)
}

// TestBrowserDashboardAtScale: at 31 and at 300 regions every region's name is on the ranking chart (one
// horizontal bar a region, every label drawn, at least 16 px a bar), and the unit is the chart's subtitle,
// not an axis name cut at the chart's edge; an invalid URL parameter is named on the page with what was used
// instead.
func TestBrowserDashboardAtScale(t *testing.T) {
	b := newBrowser(t)
	nbs, _ := newServer(t, loadStore(t, data.Default()), query.DefaultOptions, DefaultOptions)
	d := dataset.Synthetic(6, 300, 3, 4)
	big, _ := newServer(t, importDataset(t, d), query.DefaultOptions, DefaultOptions)
	ranked := 0 // the regions with a value of I002 in 2004 (about 3 % have none)
	for _, o := range d.Observations {
		if o.Indicator == "I002" && o.Year == 2004 {
			ranked++
		}
	}
	for _, c := range []struct {
		url     string
		regions int
		unit    string
	}{
		{nbs.URL + "/dashboard?indicator=gdp&year=2024", 31, "亿元 (100 million CNY, current prices)"},
		{big.URL + "/dashboard?indicator=I002&year=2004", ranked, "current US$"},
	} {
		b.do(t, c.url, chromedp.EmulateViewport(1280, 1000), chromedp.Navigate(c.url))
		if ready := poll[string](t, b, `document.body.dataset.ready`); ready != "true" {
			t.Fatalf("%s: %s", c.url, eval[string](t, b, `document.getElementById('status').textContent`))
		}
		type chart struct {
			Names    []string
			Interval int
			Height   int
			Subtext  string
			AxisName string
		}
		got := eval[chart](t, b, `(() => {
		  const el = document.getElementById('ranking-chart'), o = echarts.getInstanceByDom(el).getOption();
		  return { names: o.yAxis[0].data, interval: o.yAxis[0].axisLabel.interval, height: el.clientHeight,
		           subtext: o.title[0].subtext, axisName: o.xAxis[0].name || '' };
		})()`)
		if len(got.Names) != c.regions || got.Interval != 0 || got.Height < 16*c.regions || got.Subtext != c.unit || got.AxisName != "" {
			t.Errorf("%d regions: %d names, label interval %d, %d px high, subtitle %q, axis name %q", c.regions, len(got.Names), got.Interval, got.Height, got.Subtext, got.AxisName)
		}
		seen := map[string]bool{}
		for _, n := range got.Names {
			seen[n] = true
		}
		if len(seen) != c.regions {
			t.Errorf("%d regions: %d distinct names", c.regions, len(seen))
		}
	}

	// Invalid parameters: each named, with what is shown instead; the page still draws.
	b.do(t, "bad parameters", chromedp.Navigate(nbs.URL+"/dashboard?indicator=nope&year=1999&group=Nowhere&lang=fr&compare=999999,440000,110000"))
	if ready := poll[string](t, b, `document.body.dataset.ready`); ready != "true" {
		t.Fatalf("with bad parameters: %s", eval[string](t, b, `document.getElementById('status').textContent`))
	}
	msg := eval[string](t, b, `document.getElementById('status').textContent`)
	first := eval[string](t, b, `document.querySelector('select[name=indicator]').value`)
	for _, want := range []string{"indicator=nope is not valid here: showing " + first + " instead", "year=1999 is not valid here: showing 2024",
		"group=Nowhere is not valid here: showing no group", "lang=fr is not valid here: showing zh", "compare=999999: no such region"} {
		if !strings.Contains(msg, want) {
			t.Errorf("status %q lacks %q", msg, want)
		}
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBrowserDashboard opens a shared dashboard URL and checks each view against the API's own answer to the
// same query: the ranking chart's bars, mean and leader, the trend line with its records, the years × regions
// table, a download button's file, and the English names. With PACESETTER_SCREENSHOT=1 it writes
// docs/dashboard.png, the picture in README.
func TestBrowserDashboard(t *testing.T) {
	b := newBrowser(t)
	srv, _ := newServer(t, loadStore(t, data.Default()), query.DefaultOptions, DefaultOptions)
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	b.do(t, "dashboard", chromedp.EmulateViewport(1280, 1000),
		chromedp.Navigate(srv.URL+"/dashboard?indicator=retail_sales&year=2024&group=East&region=320000&compare=440000,110000,510000"))
	if ready := poll[string](t, b, `document.body.dataset.ready`); ready != "true" {
		t.Fatalf("the dashboard failed: %s", eval[string](t, b, `document.getElementById('status').textContent`))
	}

	var api struct {
		Ranking struct {
			Year    int
			Mean    float64
			Leader  struct{ Code string }
			Entries []struct {
				Region struct{ Code, Name, NameEn string }
				Value  float64
			}
		}
		Trend struct {
			Points []struct {
				Year     int
				Value    *float64
				BestEver *bool
			}
		}
		Pivot struct {
			Columns []struct{ Key string }
			Rows    []struct{ Code string }
		}
	}
	mustPost(t, srv.URL, `{ ranking(indicator: "retail_sales", year: 2024, group: "East") { year mean leader { code }
	    entries { region { code name nameEn } value } }
	  trend(region: "320000", indicator: "retail_sales") { points { year value bestEver } }
	  pivot(indicator: "retail_sales", filter: {group: "East"}) { columns { key } rows { code } } }`, nil, &api)

	type chart struct {
		Names  []string
		Codes  []string
		Values []float64
		Mean   float64
		Leader string
	}
	read := `(() => {
	  const o = echarts.getInstanceByDom(document.getElementById('ranking-chart')).getOption(), s = o.series[0];
	  return { names: o.yAxis[0].data, codes: s.data.map(d => d.code), values: s.data.map(d => d.value),
	           mean: s.markLine.data[0].xAxis, leader: s.markPoint.data[0].coord[1] };
	})()`
	got := eval[chart](t, b, read)
	var want chart
	for _, e := range api.Ranking.Entries {
		want.Names = append(want.Names, e.Region.Name)
		want.Codes = append(want.Codes, e.Region.Code)
		want.Values = append(want.Values, e.Value)
		if e.Region.Code == api.Ranking.Leader.Code {
			want.Leader = e.Region.Name
		}
	}
	want.Mean = api.Ranking.Mean
	if len(want.Codes) != 10 || !slices.Equal(got.Names, want.Names) || !slices.Equal(got.Codes, want.Codes) ||
		!slices.Equal(got.Values, want.Values) || got.Mean != want.Mean || got.Leader != want.Leader || want.Leader != "广东省" {
		t.Errorf("ranking chart %+v\nAPI's answer %+v", got, want)
	}

	// The trend: a point a year, records pinned where the API says bestEver.
	type trend struct {
		Years   []string
		Values  []float64
		Records []string
	}
	gotTrend := eval[trend](t, b, `(() => {
	  const o = echarts.getInstanceByDom(document.getElementById('trend-chart')).getOption(), s = o.series[0];
	  return { years: o.xAxis[0].data, values: s.data, records: s.markPoint.data.map(d => d.coord[0]) };
	})()`)
	var wantTrend trend
	for _, p := range api.Trend.Points {
		if p.Value == nil {
			continue
		}
		wantTrend.Years = append(wantTrend.Years, strconv.Itoa(p.Year))
		wantTrend.Values = append(wantTrend.Values, *p.Value)
		if p.BestEver != nil && *p.BestEver {
			wantTrend.Records = append(wantTrend.Records, strconv.Itoa(p.Year))
		}
	}
	if len(wantTrend.Records) == 0 || !slices.Equal(gotTrend.Years, wantTrend.Years) || !slices.Equal(gotTrend.Values, wantTrend.Values) ||
		!slices.Equal(gotTrend.Records, wantTrend.Records) {
		t.Errorf("trend chart %+v\nAPI's answer %+v", gotTrend, wantTrend)
	}

	// The table: a row a year and a column a region, Jiangsu's 2024 value where it belongs.
	table := eval[[][]string](t, b, `[...document.querySelectorAll('#pivot-table tr')].map(tr => [...tr.children].map(c => c.textContent))`)
	if len(table) != len(api.Pivot.Columns)+1 || len(table[0]) != len(api.Pivot.Rows)+1 {
		t.Fatalf("table of %d rows, want %d years and a header: %q", len(table), len(api.Pivot.Columns), table)
	}
	col := slices.Index(table[0], "江苏省")
	row := slices.IndexFunc(table, func(r []string) bool { return r[0] == "2024" })
	if col < 0 || row < 0 || table[row][col] != "44,922.1" {
		t.Errorf("table: Jiangsu 2024 at [%d][%d]: %q", row, col, table)
	}
	// Its download is the same table: code and label (the year), then a column a region named as on the
	// screen, each cell the number shown (without its thousands separators).
	_, pv := download(t, b, downloads, "pivot")
	if len(pv) != len(table) || !slices.Equal(pv[0][2:], table[0][1:]) {
		t.Fatalf("downloaded pivot.csv %q; the table %q", pv, table)
	}
	for i := 1; i < len(pv); i++ {
		if pv[i][1] != table[i][0] || len(pv[i]) != len(table[i])+1 {
			t.Errorf("pivot.csv row %d: %q; the table's %q", i, pv[i], table[i])
			continue
		}
		for j, c := range pv[i][2:] {
			if shown := strings.ReplaceAll(table[i][j+1], ",", ""); c != shown {
				t.Errorf("pivot.csv row %s, %s: %q; the table shows %q", pv[i][1], pv[0][j+2], c, table[i][j+1])
			}
		}
	}

	// The ranking's download button: the file /export wrote for the chart's own query.
	raw, rows := download(t, b, downloads, "ranking")
	if len(rows) != len(api.Ranking.Entries)+1 || rows[0][0] != "region.code" || rows[1][0] != "440000" || rows[2][1] != "江苏省" ||
		rows[2][3] != "44922.1" {
		t.Errorf("downloaded ranking.csv:\n%s", raw)
	}

	checkCompare(t, b, srv.URL, downloads)
	// Nothing is pushed beyond the window's width (a chart's canvas once pushed the comparison's table out).
	if w := eval[int](t, b, `document.documentElement.scrollWidth`); w > 1280 {
		t.Errorf("the page is %d px wide in a window of 1280", w)
	}

	if os.Getenv("PACESETTER_SCREENSHOT") == "1" {
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../docs/dashboard.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// English names from the URL alone.
	b.do(t, "dashboard in English", chromedp.Navigate(srv.URL+"/dashboard?indicator=retail_sales&year=2024&group=East&region=320000&compare=440000,110000,510000&lang=en"))
	poll[string](t, b, `document.body.dataset.ready`)
	names := eval[[]string](t, b, `echarts.getInstanceByDom(document.getElementById('ranking-chart')).getOption().yAxis[0].data`)
	if len(names) < 2 || names[0] != "Guangdong" || names[1] != "Jiangsu" {
		t.Errorf("English names: %q", names)
	}
	compared := eval[[]string](t, b, `echarts.getInstanceByDom(document.getElementById('compare-chart')).getOption().series.map(s => s.name)`)
	firsts := eval[[]string](t, b, `[...document.querySelectorAll('#compare-table tr[data-code]')].map(tr => tr.cells[0].textContent)`)
	if !slices.Equal(compared, []string{"Guangdong", "Beijing", "Sichuan"}) || !slices.Equal(firsts, []string{"Guangdong", "Sichuan", "Beijing"}) { // the table by rank
		t.Errorf("English names in the comparison: chart %q, table %q", compared, firsts)
	}
	b.checkClean(t, srv.URL)
}

// download clicks a view's download button and returns the file it saved, parsed as CSV.
func download(t *testing.T, b *browserTab, dir, view string) ([]byte, [][]string) {
	t.Helper()
	file := filepath.Join(dir, view+".csv")
	os.Remove(file)
	b.do(t, "download "+view, chromedp.Click(chromedp.CSS(`button[data-export="`+view+`"]`)))
	var raw []byte
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if raw, err = os.ReadFile(file); err == nil && len(raw) > 0 {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("no %s after clicking the download button (%v; in the folder: %v; status: %q)", file, err, entries,
				eval[string](t, b, `document.getElementById('status').textContent`))
		}
	}
	rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if err != nil {
		t.Fatalf("the downloaded CSV does not parse: %v\n%s", err, raw)
	}
	return raw, rows
}

// compareChart is the comparison chart as ECharts holds it, and its table of latest values.
type compareChart struct {
	Years  []string
	Codes  []string
	Names  []string
	Values [][]*float64
	Table  [][]string // code, name, value, rank
}

const readCompare = `(() => {
  const o = echarts.getInstanceByDom(document.getElementById('compare-chart')).getOption();
  return { years: o.xAxis[0].data, codes: o.series.map(s => s.id), names: o.series.map(s => s.name),
           values: o.series.map(s => s.data),
           table: [...document.querySelectorAll('#compare-table tr[data-code]')].map(tr => [tr.dataset.code, ...[...tr.cells].map(c => c.textContent)]) };
})()`

// checkCompare checks the comparison of the regions in the URL (Guangdong, Beijing, and Sichuan, which is
// not of the East group) against the API's trends of each region, fetched here with other queries than the
// page's (aliased trends, not a pivot and a ranking): a line a region over the years, and the latest year's
// values ranked among the three by a count in the test; then that removing a region changes the URL and that
// the URL alone restores the view, and that the download holds a row a region with the chart's values.
func checkCompare(t *testing.T, b *browserTab, url string, downloads string) {
	t.Helper()
	first := eval[string](t, b, `location.href`)
	codes := []string{"440000", "110000", "510000"}
	type point struct {
		Year  int
		Value *float64
	}
	var api map[string]struct {
		Region struct{ Code, Name string }
		Points []point
	}
	mustPost(t, url, `{ a: trend(region: "440000", indicator: "retail_sales") { region { code name } points { year value } }
	  b: trend(region: "110000", indicator: "retail_sales") { region { code name } points { year value } }
	  c: trend(region: "510000", indicator: "retail_sales") { region { code name } points { year value } } }`, nil, &api)
	// value[code][year] from the API; the years any of them has.
	value := map[string]map[string]float64{}
	var names []string
	yearSet := map[int]bool{}
	for i, alias := range []string{"a", "b", "c"} {
		tr := api[alias]
		if tr.Region.Code != codes[i] {
			t.Fatalf("trend %s is of %s", alias, tr.Region.Code)
		}
		names = append(names, tr.Region.Name)
		value[codes[i]] = map[string]float64{}
		for _, p := range tr.Points {
			if p.Value != nil {
				value[codes[i]][strconv.Itoa(p.Year)] = *p.Value
				yearSet[p.Year] = true
			}
		}
	}
	got := eval[compareChart](t, b, readCompare)
	if !slices.Equal(got.Codes, codes) || !slices.Equal(got.Names, names) || !slices.Equal(names, []string{"广东省", "北京市", "四川省"}) {
		t.Errorf("comparison series %q %q, want %q %q", got.Codes, got.Names, codes, names)
	}
	if len(got.Years) != len(yearSet) || len(got.Years) < 5 {
		t.Errorf("comparison years %q, the API has values in %d years", got.Years, len(yearSet))
	}
	for i, code := range got.Codes {
		for j, year := range got.Years {
			want, ok := value[code][year]
			if v := got.Values[i][j]; (v == nil) == ok || (v != nil && *v != want) {
				t.Errorf("comparison: %s in %s is %v, the API's trend says %v (has %v)", code, year, v, want, ok)
			}
		}
	}
	// The table: the latest year with a value, and the regions by rank there (retail sales: more is better;
	// rank = 1 + how many have more).
	latest := 0
	for y := range yearSet {
		latest = max(latest, y)
	}
	ly := strconv.Itoa(latest)
	var wantTable [][]string
	for i, code := range codes {
		rank := 1
		for _, other := range codes {
			if value[other][ly] > value[code][ly] {
				rank++
			}
		}
		wantTable = append(wantTable, []string{code, names[i], strconv.FormatFloat(value[code][ly], 'f', -1, 64), strconv.Itoa(rank)})
	}
	slices.SortFunc(wantTable, func(a, b []string) int { return strings.Compare(a[3], b[3]) })
	header := eval[[]string](t, b, `[...document.querySelectorAll('#compare-table tr:first-child th')].map(c => c.textContent)`)
	for _, row := range got.Table {
		if len(row) == 4 {
			row[2] = strings.ReplaceAll(row[2], ",", "") // shown with thousands separators
		}
	}
	if len(header) != 3 || header[1] != ly || !slices.EqualFunc(got.Table, wantTable, slices.Equal) {
		t.Errorf("comparison table %q %q\nwant %s %q", header, got.Table, ly, wantTable)
	}

	// The download: a row a region (the pivot's order, by code), a column a year of the chart, named by the
	// year, each cell the region's value that year (issue 17: no longer one text cell of values joined by ';').
	_, rows := download(t, b, downloads, "compare")
	if len(rows) != 4 || !slices.Equal(rows[0], append([]string{"code", "label"}, got.Years...)) {
		t.Fatalf("downloaded compare.csv: %q; want the header code, label, %v", rows, got.Years)
	}
	for _, row := range rows[1:] {
		i := slices.Index(got.Codes, row[0])
		if i < 0 || row[1] != names[i] {
			t.Errorf("compare.csv row %q", row)
			continue
		}
		for j, c := range row[2:] {
			if v, err := strconv.ParseFloat(c, 64); err != nil || v != value[row[0]][got.Years[j]] {
				t.Errorf("compare.csv: %s in %s is %q, want %v", row[0], got.Years[j], c, value[row[0]][got.Years[j]])
			}
		}
	}

	// Removing Beijing: the URL holds the two left, and opening that URL alone draws the same two.
	b.do(t, "remove a region", chromedp.Click(chromedp.CSS(`.chip[data-code="110000"] button`)))
	poll[string](t, b, `document.body.dataset.ready`)
	search := eval[string](t, b, `new URLSearchParams(location.search).get('compare')`)
	href := eval[string](t, b, `location.href`)
	if search != "440000,510000" {
		t.Errorf("after removing Beijing the URL's compare is %q", search)
	}
	b.do(t, "the URL again", chromedp.Navigate("about:blank"), chromedp.Navigate(href))
	poll[string](t, b, `document.body.dataset.ready`)
	again := eval[compareChart](t, b, readCompare)
	if !slices.Equal(again.Codes, []string{"440000", "510000"}) || !slices.Equal(again.Names, []string{"广东省", "四川省"}) ||
		len(again.Values) != 2 || !slices.EqualFunc(again.Values[1], got.Values[2], func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }) {
		t.Errorf("the URL %s restores %q %q", href, again.Codes, again.Names)
	}
	// A region added from the list goes into the URL too.
	b.do(t, "add a region", chromedp.SetValue(chromedp.CSS(`#compare-add`), "310000"))
	eval[chromedp.Void](t, b, `document.getElementById('compare-add').dispatchEvent(new Event('change'))`)
	poll[string](t, b, `document.body.dataset.ready`)
	if s := eval[string](t, b, `new URLSearchParams(location.search).get('compare')`); s != "440000,510000,310000" {
		t.Errorf("after adding Shanghai the URL's compare is %q", s)
	}
	// Back to the view the test began with, for the screenshot.
	b.do(t, "the first URL", chromedp.Navigate(first))
	if ready := poll[string](t, b, `document.body.dataset.ready`); ready != "true" {
		t.Fatalf("the dashboard failed: %s", eval[string](t, b, `document.getElementById('status').textContent`))
	}
}

// TestBrowserTokens: a server started with tokens. The dashboard says plainly that it needs one; with the
// token typed into its field it draws its views and downloads, the token kept in sessionStorage and never
// in the URL; a wrong token is said to be refused. GraphiQL sends the token given in its headers editor.
func TestBrowserTokens(t *testing.T) {
	const token = "dashboard-secret"
	file := filepath.Join(t.TempDir(), "tokens")
	sum := sha256.Sum256([]byte(token))
	if err := os.WriteFile(file, []byte(hex.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := LoadTokens(file)
	if err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptions
	opt.Tokens = tokens
	srv, _ := newServer(t, loadStore(t, data.Default()), query.DefaultOptions, opt)
	b := newBrowser(t)
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	const view = "/dashboard?indicator=retail_sales&year=2024&group=East&region=320000"
	b.do(t, "dashboard", chromedp.Navigate(srv.URL+view))
	status := `document.getElementById('status').textContent`
	if ready := poll[string](t, b, `document.body.dataset.ready`); ready != "error" {
		t.Fatalf("without a token the dashboard is %q: %s", ready, eval[string](t, b, status))
	}
	if msg := eval[string](t, b, status); !strings.Contains(msg, "401") || !strings.Contains(msg, "needs a bearer token") {
		t.Errorf("without a token the dashboard says %q", msg)
	}

	setToken := func(tok string) string {
		t.Helper()
		eval[chromedp.Void](t, b, `(() => { const i = document.getElementById('token'); i.value = `+jsString(tok)+`; i.dispatchEvent(new Event('change')); })()`)
		return poll[string](t, b, `document.body.dataset.ready`)
	}
	if ready := setToken("not-it"); ready != "error" || !strings.Contains(eval[string](t, b, status), "refused this token") {
		t.Errorf("with a wrong token: %q, %q", ready, eval[string](t, b, status))
	}
	if ready := setToken(token); ready != "true" {
		t.Fatalf("with the token the dashboard is %q: %s", ready, eval[string](t, b, status))
	}
	if bars := eval[int](t, b, `echarts.getInstanceByDom(document.getElementById('ranking-chart')).getOption().series[0].data.length`); bars != 10 {
		t.Errorf("with the token the ranking has %d bars", bars)
	}
	_, rows := download(t, b, downloads, "ranking")
	if len(rows) != 11 || rows[1][0] != "440000" {
		t.Errorf("the download with the token: %q", rows)
	}
	// Kept for the tab, never in the URL; a reload of the page still has it.
	if got := eval[string](t, b, `sessionStorage.getItem('pacesetter:token')`); got != token {
		t.Errorf("sessionStorage holds %q", got)
	}
	b.do(t, "reload", chromedp.Reload())
	if ready := poll[string](t, b, `document.body.dataset.ready`); ready != "true" {
		t.Errorf("after a reload: %q %s", ready, eval[string](t, b, status))
	}
	b.mu.Lock()
	for _, u := range b.requests {
		if strings.Contains(u, token) {
			t.Errorf("the token is in a URL: %s", u)
		}
	}
	b.mu.Unlock()

	// GraphiQL: the token in its headers editor goes with the query.
	b.do(t, "GraphiQL", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`.graphiql-query-editor .CodeMirror`)))
	eval[chromedp.Void](t, b, `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('{ dataset { regions } }')`)
	eval[chromedp.Void](t, b, `[...document.querySelectorAll('.graphiql-editor-tools button')].find(b => b.textContent.trim() === 'Headers').click()`)
	// The tool pane holds the variables and the headers editors; the one not hidden is the headers'.
	headers := `document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')`
	poll[bool](t, b, headers+` !== null`)
	eval[chromedp.Void](t, b, headers+`.CodeMirror.setValue(`+
		jsString(`{"Authorization": "Bearer `+token+`"}`)+`)`)
	b.do(t, "run the query", chromedp.Click(chromedp.CSS(`.graphiql-execute-button`)))
	shown := poll[string](t, b, `(() => { const v = document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue(); return v.includes('"data"') || v.includes('errors') ? v : null })()`)
	if !strings.Contains(shown, `"regions": 32`) {
		t.Errorf("GraphiQL with the token in its headers shows %s", shown)
	}
	b.checkClean(t, srv.URL)
}
