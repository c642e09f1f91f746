package graph

import (
	"context"
	"encoding/json"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/query"
)

// A monthly trend over two years reads 24 values, not 2: its cost is twelve times an annual one's over the
// same years (the dataset's counts know each indicator's periods a year). Synthetic data: monthly I001
// and the annual AI001, 2001–2002, on 30 regions.
func TestCostPricesPeriods(t *testing.T) {
	d := dataset.SyntheticOf(1, 30, 3, 2, analytics.Monthly)
	a := dataset.Synthetic(1, 30, 3, 2)
	for _, in := range a.Indicators {
		in.Code = "A" + in.Code
		d.Indicators = append(d.Indicators, in)
	}
	for _, o := range a.Observations {
		o.Indicator = "A" + o.Indicator
		d.Observations = append(d.Observations, o)
	}
	d.SortObservations()
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Import(context.Background(), d, "test"); err != nil {
		t.Fatal(err)
	}
	e, err := query.NewEngine(context.Background(), store, query.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSchema(e)
	monthly, err := price(t, s, `{ trend(region: "R0001", indicator: "I001", from: "2001-01", to: "2002-12") { points { value } } }`, nil, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	annual, err := price(t, s, `{ trend(region: "R0001", indicator: "AI001", from: 2001, to: 2002) { points { value } } }`, nil, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	// Each costs 2 for the fields, plus its work (one per point read) and one per point answered: 2 + 24 + 24
	// = 50 against 2 + 2 + 2 = 6.
	if monthly != 50 || annual != 6 {
		t.Errorf("a monthly trend over two years costs %d, an annual one %d: want 50 and 6", monthly, annual)
	}
}

// A filter given as a variable is priced as the same filter written in the document: its years are read
// whether they come as the request's JSON numbers or coerced. (They were once not read from a variable, so the
// dashboard's one-year table of months × 1,000 regions was priced as every year's and refused.) Synthetic
// monthly data, 2001–2003, 40 regions: a year of PERIOD rows costs a third of the three years'.
func TestCostReadsVariableFilters(t *testing.T) {
	d := dataset.SyntheticOf(1, 40, 3, 3, analytics.Monthly)
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Import(context.Background(), d, "test"); err != nil {
		t.Fatal(err)
	}
	e, err := query.NewEngine(context.Background(), store, query.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSchema(e)
	const byVar = `query($f: ObservationFilter) { pivot(indicator: "I001", rows: PERIOD, columns: REGION, filter: $f) { rows { cells } } }`
	literal, err := price(t, s, `{ pivot(indicator: "I001", rows: PERIOD, columns: REGION, filter: {from: 2002, to: 2002}) { rows { cells } } }`, nil, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	all, err := price(t, s, byVar, nil, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for _, y := range []any{json.Number("2002"), 2002} {
		got, err := price(t, s, byVar, map[string]any{"f": map[string]any{"from": y, "to": y}}, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if got != literal || got >= all {
			t.Errorf("from and to %T in a variable: cost %d; written in the document %d, without them %d", y, got, literal, all)
		}
	}
}
