package server

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/query"
	"pacesetter/data"
)

// TestCompositeComputesWhatIsRead: a composite whose selection reads neither its entries' breakdowns (nor
// versus, which reads them) nor the year before's ranks is computed without them, and every field a
// selection does read is the full answer's, however it is selected (a fragment, aliases, @skip, versus).
// The expected values are the full answer's: the composite with every field selected, asked last on a
// server with both answer caches on, so that an answer computed for a narrower selection would be served
// to it if the caches' keys did not tell them apart.
func TestCompositeComputesWhatIsRead(t *testing.T) {
	srv, engine := newServer(t, loadStore(t, data.Default()), query.DefaultOptions, DefaultOptions)
	lines := weights("gdp", 2, "retail_sales", 1, "fiscal_revenue", 1)
	type entries = []map[string]any
	ask := func(sel string, vars map[string]any) entries {
		t.Helper()
		if vars == nil {
			vars = map[string]any{}
		}
		vars["in"] = map[string]any{"year": 2024, "level": "province", "indicators": lines}
		var out struct{ Composite struct{ Entries entries } }
		doc := `query($in: CompositeInput!) { composite(input: $in) { entries { region { code } ` + sel + ` } } }`
		if strings.Contains(sel, "$s") {
			doc = strings.Replace(doc, "!)", "!, $s: Boolean!)", 1)
		}
		if strings.Contains(sel, "...F") {
			doc += ` fragment F on CompositeEntry { was: previousRank b: breakdown { indicator { code } normalised } }`
		}
		mustPost(t, srv.URL, doc, vars, &out)
		if len(out.Composite.Entries) != 31 {
			t.Fatalf("%s: %d entries, want the 31 provinces", sel, len(out.Composite.Entries))
		}
		return out.Composite.Entries
	}
	lean := ask(`score rank`, nil)
	frag := ask(`...F`, nil)
	skipped := ask(`score breakdown @skip(if: $s) { indicator { code } normalised }`, map[string]any{"s": true})
	kept := ask(`score breakdown @skip(if: $s) { indicator { code } normalised }`, map[string]any{"s": false})
	versus := ask(`versus(region: "320000") { indicator { code } difference }`, nil)
	full := ask(`score rank previousRank breakdown { indicator { code } normalised } versus(region: "320000") { indicator { code } difference }`, nil)

	withPrevious, withBreakdown := 0, 0
	for i, f := range full {
		code := f["region"]
		same := func(what string, got, want any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%v, %s: %v; the full answer's %v", code, what, got, want)
			}
		}
		same("region", []any{lean[i]["region"], frag[i]["region"], skipped[i]["region"], kept[i]["region"], versus[i]["region"]},
			[]any{code, code, code, code, code})
		same("score and rank", []any{lean[i]["score"], lean[i]["rank"], skipped[i]["score"]}, []any{f["score"], f["rank"], f["score"]})
		same("previousRank (a fragment's alias)", frag[i]["was"], f["previousRank"])
		same("breakdown (a fragment's alias)", frag[i]["b"], f["breakdown"])
		same("breakdown (@skip false)", kept[i]["breakdown"], f["breakdown"])
		same("versus", versus[i]["versus"], f["versus"])
		if _, ok := skipped[i]["breakdown"]; ok {
			t.Errorf("%v: breakdown under @skip(if: true) is in the answer", code)
		}
		if f["previousRank"] != nil {
			withPrevious++
		}
		if b, _ := f["breakdown"].([]any); len(b) == 3 {
			withBreakdown++
		}
	}
	if withPrevious != 31 || withBreakdown != 31 {
		t.Errorf("the full answer: %d entries with a previous rank, %d with a breakdown of 3 lines; want 31 each", withPrevious, withBreakdown)
	}

	// What the engine leaves out, as the resolver asks for it.
	q := analytics.CompositeQuery{Year: 2024, ScopeQuery: analytics.ScopeQuery{Level: "province"}, Indicators: []analytics.WeightedIndicator{
		{Indicator: "gdp", Weight: 2}, {Indicator: "retail_sales", Weight: 1}, {Indicator: "fiscal_revenue", Weight: 1}}}
	for _, without := range []analytics.CompositeParts{{}, {Breakdown: true}, {Previous: true}, {Breakdown: true, Previous: true}} {
		q.Without = without
		c, err := engine.Composite(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range c.Entries {
			if (e.Breakdown == nil) != without.Breakdown || (e.PreviousRank == nil) != without.Previous {
				t.Errorf("without %+v: %s has breakdown %v, previous rank %v", without, e.Region.Code, e.Breakdown != nil, e.PreviousRank != nil)
				break
			}
		}
	}
}
