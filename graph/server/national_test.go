package server

import (
	"encoding/csv"
	"io/fs"
	"math"
	"strconv"
	"testing"

	"pacesetter/data"
)

// CN's own 2024 figures (the communiqué's, observations.csv) on the embedded data, over HTTP: CN stays out of
// the scope ALL, where its provinces have values of their own; level: "country" asks for it; its own value
// is Region.value and the PARENT baseline (OBSERVED), its rollup fills the years it has none (ROLLED_UP).
// Expected numbers are read from observations.csv here: CN's rows, and sums of the 31 provinces' rows.
func TestNationalFiguresOverHTTP(t *testing.T) {
	f, err := data.Default().Open("observations.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f.(fs.File)).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cn, sum, provinces := map[string]float64{}, map[string]float64{}, map[string]int{} // indicator|year →
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[4], 64)
		if err != nil {
			t.Fatal(err)
		}
		k := r[2] + "|" + r[3]
		if r[0] == "CN" {
			cn[k] = v
		} else {
			sum[k] += v
			provinces[k]++
		}
	}
	if cn["gdp|2024"] != 1349084 || cn["disposable_income_pc|2024"] != 41314 || provinces["gdp|2024"] != 31 || provinces["gdp|2023"] != 31 {
		t.Fatalf("observations.csv: CN %v, %d provinces", cn, provinces["gdp|2024"])
	}

	srv := nbsServer(t)
	type entry struct {
		Region struct{ Code string }
		Value  float64
		Rank   int
	}
	var a struct {
		All, Country struct {
			Count   int
			Entries []entry
			Missing []struct{ Code string }
		}
		CN struct {
			V24, V23 *float64
			S24, S23 *string
		}
		Cmp struct {
			Rows []struct {
				Baseline       *float64
				BaselineSource *string
			}
		}
		ByRegion struct {
			Rows []struct {
				Baseline       *float64
				BaselineSource *string
			}
		}
		Agg struct {
			Rows []struct {
				Count int
				Sum   float64
			}
		}
	}
	mustPost(t, srv.URL, `{
  all: ranking(indicator: "gdp", year: 2024) { count entries { region { code } value rank } missing { code } }
  country: ranking(indicator: "gdp", year: 2024, level: "country") { count entries { region { code } value rank } missing { code } }
  cn: region(code: "CN") { v24: value(indicator: "gdp", year: 2024) s24: valueSource(indicator: "gdp", year: 2024)
    v23: value(indicator: "gdp", year: 2023) s23: valueSource(indicator: "gdp", year: 2023) }
  cmp: compare(regions: ["320000"], indicators: ["disposable_income_pc"], from: 2023, to: 2024, baseline: {stat: PARENT}) {
    rows { baseline baselineSource } }
  byRegion: compare(regions: ["320000"], indicators: ["disposable_income_pc"], from: 2024, to: 2024, baseline: {region: "CN"}) {
    rows { baseline baselineSource } }
  agg: aggregate(by: [YEAR], filter: {indicators: ["gdp"], from: 2024, to: 2024}) { rows { count sum } }
}`, nil, &a)
	if a.All.Count != 31 || len(a.All.Entries) != 31 || len(a.All.Missing) != 0 {
		t.Errorf("unscoped gdp 2024: count %d, %d entries, missing %v; want the 31 provinces", a.All.Count, len(a.All.Entries), a.All.Missing)
	}
	for _, e := range a.All.Entries {
		if e.Region.Code == "CN" {
			t.Errorf("CN ranks among its provinces: %+v", e)
		}
	}
	if len(a.Country.Entries) != 1 || a.Country.Entries[0].Region.Code != "CN" || a.Country.Entries[0].Value != 1349084 || a.Country.Entries[0].Rank != 1 {
		t.Errorf("level country: %+v", a.Country)
	}
	if a.CN.V24 == nil || *a.CN.V24 != cn["gdp|2024"] || a.CN.S24 == nil || *a.CN.S24 != "OBSERVED" {
		t.Errorf("CN gdp 2024: %v %v, want its own %v OBSERVED", a.CN.V24, a.CN.S24, cn["gdp|2024"])
	}
	// 2023: the provinces' sum, 1283801.5 (awk -F, '$1!="CN" && $3=="gdp" && $4==2023 {s+=$5} END {print s}').
	if a.CN.V23 == nil || math.Abs(*a.CN.V23-sum["gdp|2023"]) > 1e-6 || math.Abs(*a.CN.V23-1283801.5) > 1e-6 || a.CN.S23 == nil || *a.CN.S23 != "ROLLED_UP" {
		t.Errorf("CN gdp 2023: %v %v, want the rollup %v ROLLED_UP", a.CN.V23, a.CN.S23, sum["gdp|2023"])
	}
	// Disposable income has no rollup (per capita): 2023 has no PARENT baseline, 2024 CN's own 41314.
	if len(a.Cmp.Rows) != 2 || a.Cmp.Rows[0].Baseline != nil || a.Cmp.Rows[0].BaselineSource != nil ||
		a.Cmp.Rows[1].Baseline == nil || *a.Cmp.Rows[1].Baseline != 41314 || a.Cmp.Rows[1].BaselineSource == nil || *a.Cmp.Rows[1].BaselineSource != "OBSERVED" {
		t.Errorf("PARENT baseline: %+v", a.Cmp.Rows)
	}
	if len(a.ByRegion.Rows) != 1 || a.ByRegion.Rows[0].Baseline == nil || *a.ByRegion.Rows[0].Baseline != 41314 || *a.ByRegion.Rows[0].BaselineSource != "OBSERVED" {
		t.Errorf("baseline region CN: %+v", a.ByRegion.Rows)
	}
	// The unscoped aggregate counts the provinces only: 31 values summing to 1337605.8, not CN's 1349084 too.
	if len(a.Agg.Rows) != 1 || a.Agg.Rows[0].Count != 31 || math.Abs(a.Agg.Rows[0].Sum-sum["gdp|2024"]) > 1e-6 || math.Abs(a.Agg.Rows[0].Sum-1337605.8) > 1e-6 {
		t.Errorf("aggregate gdp 2024: %+v, want 31 and %v", a.Agg.Rows, sum["gdp|2024"])
	}
}
