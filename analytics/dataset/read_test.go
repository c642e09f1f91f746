package dataset

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"pacesetter/analytics"
)

const (
	goodRegions = "region_code,region_name,parent_code,group\nCN,China,,\nA,Alpha,CN,East\nB,\"Beta, the second\",CN,East\nC,Gamma,CN,West\n"
	goodInds    = "indicator_code,name,unit,direction\ngdp,GDP,\"100 million CNY, current\",higher_is_better\nunemp,Unemployed,persons,lower_is_better\n"
	goodObs     = "region_code,region_name,indicator_code,year,value\nA,Alpha,gdp,2020,10\nB,Beta,gdp,2020,-2.5\nA,Alpha,unemp,2021,3e2\n"
)

func folder(regions, inds, obs string) fstest.MapFS {
	fs := fstest.MapFS{}
	for name, body := range map[string]string{RegionsFile: regions, IndicatorsFile: inds, ObservationsFile: obs} {
		if body != "-" {
			fs[name] = &fstest.MapFile{Data: []byte(body)}
		}
	}
	return fs
}

func TestReadValid(t *testing.T) {
	bom := "\xEF\xBB\xBF"
	d, err := Read(folder(bom+goodRegions, goodInds, bom+goodObs))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Regions) != 4 || len(d.Indicators) != 2 || len(d.Observations) != 3 {
		t.Fatalf("got %d regions, %d indicators, %d observations", len(d.Regions), len(d.Indicators), len(d.Observations))
	}
	if d.Regions[2].Name != "Beta, the second" {
		t.Errorf("quoted field with a comma: got %q", d.Regions[2].Name)
	}
	if d.Indicators[1].Direction != analytics.LowerIsBetter || d.Indicators[0].Unit != "100 million CNY, current" {
		t.Errorf("indicators: %+v", d.Indicators)
	}
	// Sorted by indicator, year, region.
	want := []Observation{{"A", "gdp", 2020, 10}, {"B", "gdp", 2020, -2.5}, {"A", "unemp", 2021, 300}}
	if fmt.Sprint(d.Observations) != fmt.Sprint(want) {
		t.Errorf("observations %v, want %v", d.Observations, want)
	}
	if g := d.Groups(); fmt.Sprint(g) != "[East West]" {
		t.Errorf("groups %v", g)
	}
}

// Spreadsheet exports often end the header with empty columns: they are extra columns, ignored.
func TestTrailingEmptyColumns(t *testing.T) {
	inds := "indicator_code,name,unit,direction,,\ngdp,GDP,u,higher_is_better,,\nunemp,U,p,lower_is_better,,\n"
	if _, err := Read(folder(goodRegions, inds, goodObs)); err != nil {
		t.Fatal(err)
	}
}

func TestVersionIgnoresRowOrder(t *testing.T) {
	a, err := Read(folder(goodRegions, goodInds, goodObs))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(goodObs), "\n")
	reversed := lines[0] + "\n" + lines[3] + "\n" + lines[2] + "\n" + lines[1] + "\n"
	b, err := Read(folder(goodRegions, goodInds, reversed))
	if err != nil {
		t.Fatal(err)
	}
	if a.Version() != b.Version() {
		t.Errorf("same data in another order: versions %s and %s", a.Version(), b.Version())
	}
	c, _ := Read(folder(goodRegions, goodInds, strings.Replace(goodObs, ",10\n", ",10.5\n", 1)))
	if c.Version() == a.Version() {
		t.Error("a changed value kept the version")
	}
}

// Each refused dataset must name the file and line (the header is line 1) of every problem.
func TestReadRefuses(t *testing.T) {
	obs := func(rows ...string) string {
		return "region_code,region_name,indicator_code,year,value\n" + strings.Join(rows, "\n") + "\n"
	}
	cases := []struct {
		name              string
		regions, inds, ob string
		want              []string
	}{
		{"unknown region", goodRegions, goodInds, obs("A,Alpha,gdp,2020,1", "ZZ,Zed,gdp,2020,1"),
			[]string{`observations.csv:3: unknown region_code "ZZ"`}},
		{"unknown indicator", goodRegions, goodInds, obs("A,Alpha,gpd,2020,1"),
			[]string{`observations.csv:2: unknown indicator_code "gpd"`}},
		{"duplicate observation", goodRegions, goodInds, obs("A,Alpha,gdp,2020,1", "B,Beta,gdp,2020,1", "A,Alpha,gdp,2020,2"),
			[]string{`observations.csv:4: duplicate observation of A, gdp, 2020 (first on line 2)`}},
		{"non-numeric value", goodRegions, goodInds, obs("A,Alpha,gdp,2020,1", "A,Alpha,gdp,2021,12a"),
			[]string{`observations.csv:3: value "12a" is not a finite number`}},
		{"NaN value", goodRegions, goodInds, obs("A,Alpha,gdp,2020,NaN"),
			[]string{`observations.csv:2: value "NaN" is not a finite number`}},
		{"empty value", goodRegions, goodInds, obs("A,Alpha,gdp,2020,"),
			[]string{`observations.csv:2: value is empty`}},
		{"bad year", goodRegions, goodInds, obs("A,Alpha,gdp,2020.5,1", "A,Alpha,gdp,0,1"),
			[]string{`observations.csv:2: year "2020.5" is not a whole number`, `observations.csv:3: year "0" is not a whole number`}},
		{"unknown direction", goodRegions, goodInds + "x,X,u,up\n", goodObs,
			[]string{`indicators.csv:4: direction "up" of indicator "x" is not higher_is_better or lower_is_better`}},
		{"duplicate indicator", goodRegions, goodInds + "gdp,GDP again,u,higher_is_better\n", goodObs,
			[]string{`indicators.csv:4: duplicate indicator_code "gdp" (first on line 2)`}},
		{"parent does not exist", goodRegions + "D,Delta,XX,East\n", goodInds, goodObs,
			[]string{`regions.csv:6: parent_code "XX" of region "D" is not a region_code in regions.csv`}},
		{"duplicate region", goodRegions + "A,Alpha again,CN,\n", goodInds, goodObs,
			[]string{`regions.csv:6: duplicate region_code "A" (first on line 3)`}},
		{"parent cycle", "region_code,region_name,parent_code,group\nP,P,Q,\nQ,Q,P,\n", goodInds, "region_code,region_name,indicator_code,year,value\n",
			[]string{`regions.csv:2: parent_code chain of region "P" loops back to it`}},
		{"missing column", goodRegions, "indicator_code,name,unit\ngdp,GDP,u\n", goodObs,
			[]string{`indicators.csv:1: missing column(s) direction`}},
		{"missing file", goodRegions, "-", goodObs,
			[]string{`indicators.csv: file is missing`}},
		{"wrong field count", goodRegions, goodInds, obs("A,Alpha,gdp,2020,1,extra"),
			[]string{`observations.csv:2: 6 fields, but the header has 5`}},
		{"not UTF-8", goodRegions, goodInds, obs("A,Alpha,gdp,2020,1", "A,\xB1\xB1\xBE\xA9,gdp,2021,1"),
			[]string{`observations.csv:3: not valid UTF-8`}},
		{"quote error in the first field", goodRegions, goodInds, obs(`A"x,Alpha,gdp,2020,1`, `"B"x,Beta,gdp,2020,1`),
			[]string{`observations.csv:2: bare " in non-quoted-field`, `observations.csv:3: extraneous or missing " in quoted-field`}},
		{"column twice", goodRegions, "indicator_code,name,unit,direction,name\ngdp,GDP,u,higher_is_better,G\n", goodObs,
			[]string{`indicators.csv:1: column "name" appears twice in the header`}},
		{"problems in line order", goodRegions + "D,Delta,XX,East\n", goodInds, obs("A,Alpha,gdp,2020,1", "A,Alpha,gdp,2020,1", "Q,Q,gdp,2020,1"),
			[]string{`regions.csv:6: parent_code "XX"`, `observations.csv:3: duplicate observation of A, gdp, 2020 (first on line 2)`, `observations.csv:4: unknown region_code "Q"`}},
		{"bare quote", goodRegions, goodInds, obs(`A,Al"pha,gdp,2020,1`, "B,Beta,gdp,2021,1", "ZZ,Zed,gdp,2020,1"),
			[]string{`observations.csv:2: bare " in non-quoted-field`, `observations.csv:4: unknown region_code "ZZ"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Read(folder(c.regions, c.inds, c.ob))
			var inv *Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("want *Invalid, got %v (dataset %v)", err, d != nil)
			}
			if d != nil {
				t.Error("a refused dataset must return nothing to load")
			}
			if inv.Total != len(c.want) || len(inv.Problems) != len(c.want) {
				t.Fatalf("want %d problems, got %d:\n%v", len(c.want), inv.Total, err)
			}
			for i, w := range c.want {
				if got := inv.Problems[i].String(); !strings.HasPrefix(got, w) {
					t.Errorf("problem %d:\n got %s\nwant %s…", i, got, w)
				}
			}
		})
	}
}

func TestReadListsTwentyAndCountsAll(t *testing.T) {
	var rows []string
	for i := range 45 {
		rows = append(rows, fmt.Sprintf("Q%d,Q,gdp,2020,1", i))
	}
	_, err := Read(folder(goodRegions, goodInds, "region_code,region_name,indicator_code,year,value\n"+strings.Join(rows, "\n")))
	var inv *Invalid
	if !errors.As(err, &inv) {
		t.Fatal(err)
	}
	if inv.Total != 45 || len(inv.Problems) != MaxListed {
		t.Fatalf("total %d, listed %d", inv.Total, len(inv.Problems))
	}
	if last := inv.Problems[MaxListed-1].String(); !strings.HasPrefix(last, "observations.csv:21:") {
		t.Errorf("20th problem %s", last)
	}
	if !strings.Contains(err.Error(), "… and 25 more") {
		t.Errorf("message does not count the rest:\n%v", err)
	}
}

// The shared datasets in the repository read without a problem and hold the counts their READMEs state.
func TestReadShippedDatasets(t *testing.T) {
	for _, c := range []struct {
		dir                 string
		regions, inds, obs  int
		firstYear, lastYear int
	}{
		{"../../data/china-provinces-nbs", 32, 26, 4898, 2016, 2025},
		{"../../data/worldbank-gdp-population", 295, 2, 31174, 1960, 2024},
	} {
		d, err := ReadDir(c.dir)
		if err != nil {
			t.Fatalf("%s: %v", c.dir, err)
		}
		first, last := d.Observations[0].Year, d.Observations[0].Year
		for _, o := range d.Observations {
			first, last = min(first, o.Year), max(last, o.Year)
		}
		if len(d.Regions) != c.regions || len(d.Indicators) != c.inds || len(d.Observations) != c.obs || first != c.firstYear || last != c.lastYear {
			t.Errorf("%s: %d regions, %d indicators, %d observations, %d–%d", c.dir, len(d.Regions), len(d.Indicators), len(d.Observations), first, last)
		}
	}
	if _, err := ReadDir("../../data/no-such-folder"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing folder: %v", err)
	}
}

func TestNegativeZeroIsZero(t *testing.T) {
	d, err := Read(folder(goodRegions, goodInds, "region_code,region_name,indicator_code,year,value\nA,Alpha,gdp,2020,-0\nB,Beta,gdp,2020,-0.0e5\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range d.Observations {
		if o.Value != 0 || math.Signbit(o.Value) {
			t.Errorf("%s: %v", o.Region, o.Value)
		}
	}
}
