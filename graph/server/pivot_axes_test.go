package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
)

type pivotAnswer struct {
	Pivot struct {
		Indicator *struct{ Code string }
		Measure   string
		Columns   []struct {
			Key, Label string
			Unit       *string
			Year       *int
			Indicator  *struct{ Code string }
		}
		Rows []struct {
			Code, Label string
			Cells       []*float64
		}
	}
}

// TestPivotOverIndicators: regions × indicators in one year and indicators × years of one region, on
// generated datasets of two sizes; every cell is compared with the dataset's own value (looked up in its
// observations), every column with its indicator (name, unit) or year, and the rows with the regions that
// have a value, in dataset order.
func TestPivotOverIndicators(t *testing.T) {
	for _, size := range []struct{ regions, indicators, years int }{{40, 6, 4}, {600, 12, 5}} {
		d := dataset.Synthetic(uint64(size.regions), size.regions, size.indicators, size.years)
		srv, _ := newServer(t, importDataset(t, d), query.DefaultOptions, DefaultOptions)
		value := map[string]float64{} // region|indicator|year → value
		for _, o := range d.Observations {
			value[fmt.Sprintf("%s|%s|%d", o.Region, o.Indicator, o.Year)] = o.Value
		}
		name, unit := map[string]string{}, map[string]string{}
		for _, in := range d.Indicators {
			name[in.Code], unit[in.Code] = in.Name, in.Unit
		}
		year := 2001 + size.years - 1
		asked := []string{"I005", "I002", "I001"} // laid out in dataset order: I001, I002, I005
		want := slices.Clone(asked)
		slices.Sort(want)

		var a pivotAnswer
		q := fmt.Sprintf(`{ pivot(rows: REGION, columns: INDICATOR, filter: {indicators: ["I005", "I002", "I001"], from: %d, to: %d}) {
			indicator { code } measure columns { key label unit year indicator { code } } rows { code label cells } } }`, year, year)
		mustPost(t, srv.URL, q, nil, &a)
		p := a.Pivot
		if p.Indicator != nil || len(p.Columns) != 3 {
			t.Fatalf("%d regions: indicator %v, %d columns", size.regions, p.Indicator, len(p.Columns))
		}
		for j, c := range p.Columns {
			if c.Key != want[j] || c.Label != name[want[j]] || c.Unit == nil || *c.Unit != unit[want[j]] || c.Year != nil || c.Indicator == nil || c.Indicator.Code != want[j] {
				t.Errorf("column %d: %+v; want %s", j, c, want[j])
			}
		}
		var regions []string // those with a value of one of the three in that year, in dataset order
		for _, r := range d.Regions {
			for _, in := range want {
				if _, ok := value[fmt.Sprintf("%s|%s|%d", r.Code, in, year)]; ok {
					regions = append(regions, r.Code)
					break
				}
			}
		}
		if len(p.Rows) != len(regions) {
			t.Fatalf("%d rows; want %d", len(p.Rows), len(regions))
		}
		cells := 0
		for i, r := range p.Rows {
			if r.Code != regions[i] || r.Label != "Region "+strings.TrimPrefix(r.Code, "R") {
				t.Errorf("row %d: %s %s; want %s", i, r.Code, r.Label, regions[i])
			}
			for j, in := range want {
				v, ok := value[fmt.Sprintf("%s|%s|%d", r.Code, in, year)]
				if got := r.Cells[j]; ok != (got != nil) || ok && *got != v {
					t.Errorf("%s %s %d: %s; want %v (present %v)", r.Code, in, year, showFloat(got), v, ok)
				}
				if ok {
					cells++
				}
			}
		}
		if cells < len(regions) {
			t.Errorf("only %d values compared", cells)
		}

		// Indicators down, years across, for one region.
		mustPost(t, srv.URL, `{ pivot(rows: INDICATOR, columns: YEAR, filter: {regions: ["R0002"], indicators: ["I001", "I003"]}) {
			indicator { code } columns { key label unit year indicator { code } } rows { code label cells } } }`, nil, &a)
		p = a.Pivot
		if len(p.Columns) != size.years || len(p.Rows) != 2 || p.Rows[0].Code != "I001" || p.Rows[1].Label != name["I003"] {
			t.Fatalf("indicators × years: %+v", p)
		}
		for j, c := range p.Columns {
			y := 2001 + j
			if c.Key != fmt.Sprint(y) || c.Year == nil || *c.Year != y || c.Indicator != nil {
				t.Errorf("column %d: %+v", j, c)
			}
			for i, in := range []string{"I001", "I003"} {
				v, ok := value[fmt.Sprintf("R0002|%s|%d", in, y)]
				if got := p.Rows[i].Cells[j]; ok != (got != nil) || ok && *got != v {
					t.Errorf("R0002 %s %d: %s; want %v", in, y, showFloat(got), v)
				}
			}
		}
	}

	// One indicator per axis only when the other axes are not indicators; a clear refusal otherwise.
	srv := nbsServer(t)
	for q, want := range map[string]string{
		`{ pivot(indicator: "gdp", columns: INDICATOR, filter: {from: 2024, to: 2024}) { rows { code } } }`: `indicator "gdp" is for a pivot of one indicator`,
		`{ pivot(rows: REGION, columns: YEAR) { rows { code } } }`:                                          "indicator is missing",
		`{ pivot(columns: INDICATOR, filter: {indicators: ["gpd"]}) { rows { code } } }`:                    `did you mean "gdp"`,
	} {
		res := post(t, srv.URL, q, nil, nil)
		if errorCode(res) != "BAD_USER_INPUT" && errorCode(res) != "NOT_FOUND" || !strings.Contains(res.Errors[0].Message, want) {
			t.Errorf("%s: %+v; want %q", q, res.Errors, want)
		}
	}
}
