package server

import (
	"strings"
	"testing"

	"pacesetter/analytics/query"
)

// composite's period arguments over HTTP on periodsDataset (monthly I001–I003, quarterly QI001–QI003,
// 2001–2002): the latest period without year or period, a quarter's composite and history, and each
// refusal of the arguments with what is wrong and where.
func TestCompositePeriodArgsOverHTTP(t *testing.T) {
	srv, _ := newServer(t, importDataset(t, periodsDataset()), query.DefaultOptions, DefaultOptions)
	var latest struct {
		Composite struct {
			Period string
			Year   int
			Count  int
		}
	}
	mustPost(t, srv.URL, `{ composite(input: {indicators: [{indicator: "I001", weight: 1}, {indicator: "I003", weight: 1}]}) { period year count } }`, nil, &latest)
	if c := latest.Composite; c.Period != "2002-12" || c.Year != 2002 || c.Count != 6 {
		t.Errorf("the latest month: %+v, want 2002-12 of 2002 over 6 regions", c)
	}
	var quarter struct {
		CompositeHistory struct {
			Years   []int
			Periods []string
			Regions []struct {
				Years []struct {
					Year   int
					Period string
				}
			}
		}
	}
	mustPost(t, srv.URL, `{ compositeHistory(input: {period: "2002-Q2", indicators: [{indicator: "QI001", weight: 1}]}, fromPeriod: "2001-Q4") {
		years periods regions { years { year period } } } }`, nil, &quarter)
	h := quarter.CompositeHistory
	if strings.Join(h.Periods, ",") != "2001-Q4,2002-Q1,2002-Q2" || len(h.Years) != 3 || h.Years[0] != 2001 || h.Years[2] != 2002 || len(h.Regions) != 6 {
		t.Errorf("a quarterly history: %+v", h)
	}
	for _, c := range []struct{ query, want string }{
		{`{ composite(input: {year: 2002, period: "2002-09", indicators: [{indicator: "I001", weight: 1}]}) { period } }`, "both year and period are given"},
		{`{ composite(input: {period: "2002-13", indicators: [{indicator: "I001", weight: 1}]}) { period } }`, `period: period "2002-13" has month 13`},
		{`{ composite(input: {indicators: [{indicator: "I001", weight: 1}, {indicator: "QI001", weight: 1}]}) { period } }`, "give year or period: the indicators are of several frequencies"},
		{`{ composite(input: {period: "2002-Q3", indicators: [{indicator: "QI001", weight: 1}, {indicator: "I002", weight: 1}]}) { period } }`, `indicators[1]: "I002" is monthly; period "2002-Q3" is quarterly`},
		{`{ compositeHistory(input: {period: "2002-09", indicators: [{indicator: "I001", weight: 1}]}, from: 2002, fromPeriod: "2002-01") { periods } }`, "both from and fromPeriod are given"},
		{`{ compositeHistory(input: {period: "2002-09", indicators: [{indicator: "I001", weight: 1}]}) { periods } }`, "give from (the first year) or fromPeriod"},
		{`{ compositeHistory(input: {period: "2002-09", indicators: [{indicator: "I001", weight: 1}]}, fromPeriod: "2002-Q1") { periods } }`, `fromPeriod 2002-Q1 is quarterly, and the input's period 2002-09 is monthly`},
		{`{ compositeHistory(input: {period: "2002-09", indicators: [{indicator: "I001", weight: 1}]}, fromPeriod: "2002-10") { periods } }`, "fromPeriod (2002-10) is after the input's period (2002-09)"},
	} {
		res := post(t, srv.URL, c.query, nil, nil)
		if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, c.want) || res.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
			t.Errorf("%s: %+v, want a BAD_USER_INPUT saying %q", c.query, res.Errors, c.want)
		}
	}
}
