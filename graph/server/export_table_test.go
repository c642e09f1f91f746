package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
)

// pivotTable is a pivot's /graphql answer as the table its export must be, built here from the answer
// alone: code, label, then one column per pivot column named by its label, each row's cells beneath.
func pivotTable(t *testing.T, base, q string, labels bool) table {
	t.Helper()
	var a struct {
		Pivot struct {
			Columns []struct{ Key, Label string }
			Rows    []struct {
				Code, Label string
				Cells       []*float64
			}
		}
	}
	if !strings.Contains(q, "columns {") { // the answer's columns, which the exported query need not select
		q = strings.Replace(q, "{ rows {", "{ columns { key label } rows {", 1)
	}
	mustPost(t, base, q, nil, &a)
	tb := table{header: []string{"code", "label"}}
	if labels {
		tb.header = []string{"Code", "Label"}
	}
	for _, c := range a.Pivot.Columns {
		tb.header = append(tb.header, c.Label)
	}
	for _, r := range a.Pivot.Rows {
		row := []any{r.Code, r.Label}
		for _, c := range r.Cells {
			if c == nil {
				row = append(row, nil)
			} else {
				row = append(row, *c)
			}
		}
		tb.rows = append(tb.rows, row)
	}
	if len(tb.rows) == 0 || len(tb.header) < 4 {
		t.Fatalf("%s: a pivot of %d rows and %d columns", q, len(tb.rows), len(tb.header))
	}
	return tb
}

// TestPivotExportsAsATable: a pivot's export has one numeric column per pivot column, named by its label
// (a year, an indicator's Chinese name), in CSV, XLSX and Parquet, each read back by its own reader and
// equal to the GraphQL answer cell for cell, on the NBS dataset and a generated one; the query need not
// select columns (the dashboard's comparison download does not).
func TestPivotExportsAsATable(t *testing.T) {
	nbs := nbsServer(t)
	gen, _ := newServer(t, importDataset(t, dataset.Synthetic(4, 300, 8, 9)), query.DefaultOptions, DefaultOptions)
	for _, c := range []struct {
		base, name, query string
	}{
		{nbs.URL, "regions × years", `{ pivot(indicator: "gdp", filter: {level: "province", from: 2019}) { columns { key label } rows { code label cells } } }`},
		{nbs.URL, "regions × indicators", `{ pivot(rows: REGION, columns: INDICATOR, filter: {indicators: ["gdp", "population", "retail_sales"], from: 2024, to: 2024}) { rows { code label cells } } }`},
		{nbs.URL, "years × regions", `{ pivot(indicator: "retail_sales", rows: YEAR, columns: REGION, filter: {group: "East"}) { rows { code label cells } } }`},
		{gen.URL, "generated regions × years", `{ pivot(indicator: "I003") { rows { code label cells } } }`},
		{gen.URL, "generated groups × indicators", `{ pivot(rows: GROUP, columns: INDICATOR, measure: MEAN, filter: {from: 2009, to: 2009}) { rows { code label cells } } }`},
	} {
		want := pivotTable(t, c.base, c.query, false)
		for _, format := range []string{"csv", "xlsx", "parquet"} {
			res, raw := exportOf(t, c.base, "format="+format, c.query, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: status %d: %s", c.name, format, res.StatusCode, raw)
			}
			var got table
			switch format {
			case "csv":
				got = readCSVTable(t, raw)
			case "xlsx":
				got, _ = readXLSXTable(t, raw)
			case "parquet":
				var types []arrow.DataType
				got, _, types = readParquetTable(t, raw)
				for i, typ := range types[2:] {
					if typ.ID() != arrow.FLOAT64 {
						t.Errorf("%s parquet: column %s is %s, want double", c.name, got.header[i+2], typ)
					}
				}
			}
			compareTables(t, c.name+" "+format, got, want)
		}
	}

	// header=label: every column by its display label.
	q := `{ pivot(rows: REGION, columns: INDICATOR, filter: {indicators: ["gdp", "population"], from: 2024, to: 2024}) { rows { code label cells } } }`
	want := pivotTable(t, nbs.URL, q, true)
	_, raw := exportOf(t, nbs.URL, "format=csv&header=label", q, nil)
	compareTables(t, "header=label", readCSVTable(t, raw), want)
	if !strings.HasPrefix(string(raw), "Code,Label,地区生产总值,年末常住人口\n") {
		t.Errorf("header=label: %.120s", raw)
	}
	_, raw = exportOf(t, nbs.URL, "format=csv&header=label", `{ ranking(indicator: "gdp", year: 2024, group: "East") { entries { region { code nameEn } value rankChange } } }`, nil)
	if !strings.HasPrefix(string(raw), "Region code,Region name en,Value,Rank change\n") {
		t.Errorf("header=label of a ranking: %.120s", raw)
	}
	res, raw := exportOf(t, nbs.URL, "format=csv&header=names", q, nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "header must be path") {
		t.Errorf("header=names: %d %s", res.StatusCode, raw)
	}
}
