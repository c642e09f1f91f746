package server

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAssessment opens the assessment page for hqd ranked by points in two classes and reads every
// chart's numbers back from ECharts: the stacked breakdown, the points by department, the robustness
// interval and median, and the rank history must be the API's own answers to the same inputs, entry for
// entry; the table lists each entry with its class and tier.
func TestBrowserAssessment(t *testing.T) {
	b := newBrowser(t)
	srv := nbsServer(t)
	b.do(t, "assessment", chromedp.EmulateViewport(1280, 1000),
		chromedp.Navigate(srv.URL+"/assessment?scheme=hqd&year=2024&rankBy=POINTS&classes=East,Central&from=2022"))
	if ready := poll[string](t, b, `document.body.dataset.ready`); ready != "true" {
		t.Fatalf("the assessment page failed: %s", eval[string](t, b, `document.getElementById('status').textContent`))
	}
	in := map[string]any{"year": 2024, "scheme": "hqd", "rankBy": "POINTS", "classes": []string{"East", "Central"}}
	var api struct {
		Composite struct {
			Entries []struct {
				Class       struct{ Code string }
				Region      struct{ Code string }
				Points      float64
				Tier        int
				Breakdown   []struct{ Points *float64 }
				Departments []struct {
					Department string
					Earned     float64
				}
			}
		}
		Robustness struct {
			Entries []struct{ P05Rank, P95Rank, MedianRank float64 }
		}
		CompositeHistory struct {
			Years   []int
			Regions []struct {
				Region struct{ Code string }
				Years  []struct {
					Year int
					Rank float64
				}
			}
		}
	}
	mustPost(t, srv.URL, `query($in: CompositeInput!) { composite(input: $in) { entries { class { code } region { code } points tier
		breakdown { points } departments { department earned } } }
		robustness(input: $in, runs: 500, seed: 1) { entries { p05Rank p95Rank medianRank } }
		compositeHistory(input: $in, from: 2022) { years regions { region { code } years { year rank } } } }`, map[string]any{"in": in}, &api)
	entries := api.Composite.Entries
	if len(entries) != 16 { // 10 East + 6 Central provinces
		t.Fatalf("the API scores %d regions", len(entries))
	}

	// The table: a row per entry, in order, with class and tier.
	rows := eval[[][]string](t, b, `[...document.querySelectorAll('#assess-table tr[data-region]')].map(tr => [tr.dataset.region, ...[...tr.cells].map(c => c.textContent)])`)
	if len(rows) != len(entries) {
		t.Fatalf("the table has %d rows, the API %d entries", len(rows), len(entries))
	}
	for i, e := range entries {
		if rows[i][0] != e.Region.Code || rows[i][1] != e.Class.Code || rows[i][6] != fmt.Sprint(e.Tier) {
			t.Errorf("row %d %v, API %s %s tier %d", i, rows[i], e.Region.Code, e.Class.Code, e.Tier)
		}
	}

	series := func(chart string) [][]*float64 {
		return eval[[][]*float64](t, b, `assessCharts.`+chart+`.getOption().series.map(s => s.data.map(v => (v === null || v === undefined || v === '-') ? null : Number(v)))`)
	}
	same := func(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	// Breakdown: series i is indicator i, its data one value per entry.
	bd := series("breakdown")
	for i, e := range entries {
		for k, comp := range e.Breakdown {
			if !same(bd[k][i], comp.Points) {
				t.Errorf("breakdown of %s, indicator %d: chart %v, API %v", e.Region.Code, k, showNum(bd[k][i]), showNum(comp.Points))
			}
		}
	}
	// Departments: the stacks add up to what the API lists for each department.
	names := eval[[]string](t, b, `assessCharts.departments.getOption().series.map(s => s.name)`)
	dp := series("departments")
	for i, e := range entries {
		for _, d := range e.Departments {
			k := indexOf(names, d.Department)
			if k < 0 || dp[k][i] == nil || *dp[k][i] != d.Earned {
				t.Errorf("department %s of %s: chart %v, API %v", d.Department, e.Region.Code, k, d.Earned)
			}
		}
	}
	// Robustness: an invisible bar to p05, the interval p95 − p05 on it, the median as a dot.
	rb := series("robustness")
	for i, r := range api.Robustness.Entries {
		if *rb[0][i] != r.P05Rank || *rb[0][i]+*rb[1][i] != r.P95Rank || *rb[2][i] != r.MedianRank {
			t.Errorf("robustness of entry %d: chart p05 %v width %v median %v, API %+v", i, *rb[0][i], *rb[1][i], *rb[2][i], r)
		}
	}
	// History: a line per region, a point per year.
	hs := series("history")
	for k, rh := range api.CompositeHistory.Regions {
		for _, y := range rh.Years {
			j := y.Year - api.CompositeHistory.Years[0]
			if hs[k][j] == nil || *hs[k][j] != y.Rank {
				t.Errorf("history of %s in %d: chart %v, API %v", rh.Region.Code, y.Year, showNum(hs[k][j]), y.Rank)
			}
		}
	}
	b.checkClean(t, srv.URL)
}

func showNum(p *float64) string {
	if p == nil {
		return "null"
	}
	b, _ := json.Marshal(*p)
	return string(b)
}
