package server

import (
	"strings"
	"testing"
)

// The seed's bad inputs over HTTP on the embedded data: each is refused with BAD_USER_INPUT (or NOT_FOUND
// for an unknown code) and a message naming what was wrong.
func TestAssessmentRefusals(t *testing.T) {
	srv := nbsServer(t)
	cases := []struct{ query, code, want string }{
		{`{ composite(input: {year: 2019, indicators: [{indicator: "gdp", weight: 1, basis: GROWTH}]}) { count } }`,
			"BAD_USER_INPUT", `basis GROWTH of indicator "gdp" needs its values of 2018`},
		{`{ composite(input: {year: 2024, scheme: "hqd", classes: ["East", "Eats"]}) { count } }`,
			"NOT_FOUND", `classes lists "Eats", which is not a group`},
		{`{ composite(input: {year: 2024, scheme: "hqd", classes: ["East", "EasternCoast"]}) { count } }`,
			"BAD_USER_INPUT", `is in two of the classes in 2024, "East" and "EasternCoast"`},
		{`{ composite(input: {year: 2024, scheme: "hqd"}) { entries(first: 1) { versus(region: "999999") { difference } } } }`,
			"BAD_USER_INPUT", `versus(region: "999999"): that region is not scored in this answer`},
		{`{ composite(input: {year: 2024, scheme: "hqd"}) { entries(first: 1) { gapToTier(tier: 9) } } }`,
			"BAD_USER_INPUT", `gapToTier(tier: 9): give a tier from 1 to 3`},
		{`{ threshold(region: "370000", indicator: "gdp", value: 100000, by: 2023) { gap } }`,
			"BAD_USER_INPUT", `by is 2023, not after the latest year with a value (2024)`},
		{`{ threshold(region: "370000", indicator: "gdp", value: -5, by: 2030) { gap } }`,
			"BAD_USER_INPUT", `needs a positive threshold`},
		{`{ composite(input: {year: 2024, scheme: "hqd", targets: [{region: "320000", indicator: "gdp", year: 2024, value: 1, comparator: "=>"}]}) { count } }`,
			"BAD_USER_INPUT", `targets[0]: comparator "=>" is not`},
	}
	for _, c := range cases {
		res := post(t, srv.URL, c.query, nil, nil)
		if errorCode(res) != c.code || len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Message, c.want) {
			t.Errorf("%s\n got %s %+v\nwant %s %q", c.query, errorCode(res), res.Errors, c.code, c.want)
		}
	}
	// A growth projection of a non-level indicator: null growth fields and a warning saying why.
	var th struct {
		Threshold struct {
			GrowthUsed *float64
			Warnings   []struct{ Message string }
		}
	}
	mustPost(t, srv.URL, `{ threshold(region: "370000", indicator: "gdp_index", value: 110) { growthUsed warnings { message } } }`, nil, &th)
	if th.Threshold.GrowthUsed != nil || len(th.Threshold.Warnings) != 1 || !strings.Contains(th.Threshold.Warnings[0].Message, "LEVEL") {
		t.Errorf("threshold of an index: %+v", th.Threshold)
	}
}
