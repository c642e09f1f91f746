package graph

import (
	"encoding/json"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// monthlyAndAnnual is synthetic data of 30 regions, 2001–2002: monthly I001–I003 and annual AI001–AI003.
func monthlyAndAnnual() *dataset.Dataset {
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
	return d
}

// A monthly trend over two years reads 24 values, not 2: its cost is twelve times an annual one's over the
// same years (the dataset's counts know each indicator's periods a year). Synthetic data: monthly I001
// and the annual AI001, 2001–2002, on 30 regions.
func TestCostPricesPeriods(t *testing.T) {
	d := monthlyAndAnnual()
	s := NewSchema(engineOf(t, d))
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

// A composite of a month reads each line's value of that month and of the same month a year earlier, not
// the two years' 24: its work is an annual composite's over the same regions. A monthly history of two
// years scores 24 periods: its work is one per period plus the values it reads (the 24 months'), where an
// annual history's over the same years is one per year. Synthetic data as TestCostPricesPeriods; the counts
// of values are taken from the dataset's rows here.
func TestCostPricesPeriodComposites(t *testing.T) {
	d := monthlyAndAnnual()
	monthly, annual := 0, 0 // I001's and AI001's values in 2001–2002
	for _, o := range d.Observations {
		switch o.Indicator {
		case "I001":
			monthly++
		case "AI001":
			annual++
		}
	}
	s := NewSchema(engineOf(t, d))
	for _, c := range []struct {
		q    string
		want int
	}{
		// 1 + the values read / memoryValues (20): a month's are a twelfth of its two years'.
		{`{ composite(input: {period: "2002-09", indicators: [{indicator: "I001", weight: 1}]}) { period } }`, 1 + monthly/12/20},
		{`{ composite(input: {year: 2002, indicators: [{indicator: "AI001", weight: 1}]}) { period } }`, 1 + annual/20},
		// One per line scored plus the values read from the year before the first line on.
		{`{ compositeHistory(input: {period: "2002-12", indicators: [{indicator: "I001", weight: 1}]}, fromPeriod: "2001-01") { periods } }`, 24 + monthly/20},
		{`{ compositeHistory(input: {year: 2002, indicators: [{indicator: "AI001", weight: 1}]}, from: 2001) { periods } }`, 2 + annual/20},
	} {
		_, work, err := priceWork(t, s, c.q, nil, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if work != c.want {
			t.Errorf("%s: work %d, want %d", c.q, work, c.want)
		}
	}
	if monthly == 0 || annual == 0 {
		t.Fatal("no values")
	}
}

// A filter given as a variable is priced as the same filter written in the document: its years are read
// whether they come as the request's JSON numbers or coerced. (They were once not read from a variable, so the
// dashboard's one-year table of months × 1,000 regions was priced as every year's and refused.) Synthetic
// monthly data, 2001–2003, 40 regions: a year of PERIOD rows costs a third of the three years'.
func TestCostReadsVariableFilters(t *testing.T) {
	d := dataset.SyntheticOf(1, 40, 3, 3, analytics.Monthly)
	s := NewSchema(engineOf(t, d))
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
