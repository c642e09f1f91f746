package dataset

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

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
	want := []Observation{{Region: "A", Indicator: "gdp", Year: 2020, Value: 10}, {Region: "B", Indicator: "gdp", Year: 2020, Value: -2.5},
		{Region: "A", Indicator: "unemp", Year: 2021, Value: 300}}
	if fmt.Sprint(d.Observations) != fmt.Sprint(want) {
		t.Errorf("observations %v, want %v", d.Observations, want)
	}
	if fmt.Sprint(d.Groups) != "[{East East } {West West }]" || len(d.Memberships) != 3 {
		t.Errorf("groups %v, memberships %v", d.Groups, d.Memberships)
	}
	if in := d.Indicators[0]; in.Measure != analytics.Level || in.Rollup != analytics.RollupNone || in.Decimals != -1 {
		t.Errorf("defaults of the optional columns: %+v", in)
	}
}

// Spreadsheet exports often end the header with empty columns: they are extra columns, ignored.
func TestTrailingEmptyColumns(t *testing.T) {
	inds := "indicator_code,name,unit,direction,,\ngdp,GDP,u,higher_is_better,,\nunemp,U,p,lower_is_better,,\n"
	if _, err := Read(folder(goodRegions, inds, goodObs)); err != nil {
		t.Fatal(err)
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
			[]string{`observations.csv:2: unknown indicator_code "gpd" (not in indicators.csv); did you mean "gdp"?`}},
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
			refused(t, folder(c.regions, c.inds, c.ob), c.want)
		})
	}
}

// refused checks that the dataset is refused with exactly the problems want (each a prefix), in order.
func refused(t *testing.T, fsys fstest.MapFS, want []string) {
	t.Helper()
	d, err := Read(fsys)
	var inv *Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("want *Invalid, got %v (dataset %v)", err, d != nil)
	}
	if d != nil {
		t.Error("a refused dataset must return nothing to load")
	}
	if inv.Total != len(want) || len(inv.Problems) != len(want) {
		t.Fatalf("want %d problems, got %d:\n%v", len(want), inv.Total, err)
	}
	for i, w := range want {
		if got := inv.Problems[i].String(); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d:\n got %s\nwant %s…", i, got, w)
		}
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
		// NBS: 4,907 published rows (observations.csv has 4,908 lines: 4,898 of provinces and 9 of CN from
		// the 2024 communiqué), 26 published indicators and one derived (retail_sales_pc), and 143 values
		// computed at import (counted by TestShippedDerived).
		{"../../data/china-provinces-nbs", 32, 27, 4907 + 143, 2016, 2025},
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

// The NBS dataset's derived values, counted by hand from its README's coverage table: retail_sales_pc
// needs population, which only 2024 has, so 31 provinces + CN (from its own 2024 figures) = 32; and CN is
// filled by parent_rollup for the 18 sum indicators in every year all 31 provinces have a value and CN has
// none of its own (it has 2024 gdp, retail_sales and population, from the communiqué): gdp 2019–2023 (5),
// the 12 va_* 2019–2024 (12 × 6 = 72), retail_sales 2016–2023 (8), fiscal_revenue and urban_unit_employment
// 2016–2024 (2 × 9 = 18), registered_unemployed 2016–2023 (8), population none: 111.
func TestShippedDerived(t *testing.T) {
	d, err := ReadDir("../../data/china-provinces-nbs")
	if err != nil {
		t.Fatal(err)
	}
	derived, provisional := map[string]int{}, 0
	var cnRetail2023, cnRetail2024, cnPop2024, bjRetailPC, cnRetailPC float64
	var cnOwn2024 analytics.FlagSet
	for _, o := range d.Observations {
		if o.Flags&analytics.Derived != 0 {
			derived[o.Indicator]++
		}
		if o.Flags&analytics.Provisional != 0 {
			provisional++
		}
		switch {
		case o.Region == "CN" && o.Indicator == "retail_sales" && o.Year == 2023:
			cnRetail2023 = o.Value
		case o.Region == "CN" && o.Indicator == "retail_sales" && o.Year == 2024:
			cnRetail2024, cnOwn2024 = o.Value, cnOwn2024|o.Flags
		case o.Region == "CN" && o.Indicator == "population" && o.Year == 2024:
			cnPop2024, cnOwn2024 = o.Value, cnOwn2024|o.Flags
		case o.Region == "110000" && o.Indicator == "retail_sales_pc" && o.Year == 2024:
			bjRetailPC = o.Value
		case o.Region == "CN" && o.Indicator == "retail_sales_pc" && o.Year == 2024:
			cnRetailPC = o.Value
		}
	}
	total := 0
	for _, n := range derived {
		total += n
	}
	if total != 32+111 || derived["retail_sales_pc"] != 32 || derived["gdp"] != 5 || derived["retail_sales"] != 8 || derived["population"] != 0 {
		t.Errorf("derived values: %d in all, %v", total, derived)
	}
	// The 31 rows of 2025 (gdp_per_capita) are provisional.
	if provisional != 31 {
		t.Errorf("%d provisional values, want 31", provisional)
	}
	// Beijing 2024: retail sales 14092.4 (亿元) and population 2183 (万人), from observations.csv:
	// 14092.4 / 2183 × 10000 = 64555.2… yuan per person.
	//   grep -E '^110000,[^,]*,(retail_sales|population),2024,' data/china-provinces-nbs/observations.csv
	if want := 14092.4 / 2183 * 10000; math.Abs(bjRetailPC-want) > 1e-9*want {
		t.Errorf("Beijing retail_sales_pc 2024 = %v, want %v", bjRetailPC, want)
	}
	// CN's 2024 retail sales and population are the communiqué's own (not rolled up: the provinces' sums are
	// 483344.9 and 140628), and its retail_sales_pc is computed from them: 487895 / 140828 × 10000.
	if cnRetail2024 != 487895 || cnPop2024 != 140828 || cnOwn2024 != 0 {
		t.Errorf("CN 2024: retail %v, population %v, flags %v; want the communiqué's 487895 and 140828, unflagged", cnRetail2024, cnPop2024, cnOwn2024)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Abs(b) } // computed values keep 12 digits
	if want := 487895.0 / 140828 * 10000; !near(cnRetailPC, want) {
		t.Errorf("CN retail_sales_pc 2024 = %v, want %v", cnRetailPC, want)
	}
	// Where CN has none of its own, its rollup is the sum of the 31 provinces
	// (awk -F, '$1!="CN" && $3=="retail_sales" && $4==2023 {s+=$5} END {print s}': 467098.2).
	var sumRetail float64
	for _, o := range d.Observations {
		if o.Region != "CN" && o.Year == 2023 && o.Indicator == "retail_sales" && o.Flags == 0 {
			sumRetail += o.Value
		}
	}
	if !near(cnRetail2023, sumRetail) || !near(sumRetail, 467098.2) {
		t.Errorf("CN 2023: retail %v (sum %v, by awk 467098.2)", cnRetail2023, sumRetail)
	}
}

// with adds optional files to a dataset folder.
func with(fs fstest.MapFS, files ...string) fstest.MapFS {
	for i := 0; i+1 < len(files); i += 2 {
		fs[files[i]] = &fstest.MapFile{Data: []byte(files[i+1])}
	}
	return fs
}

const (
	modelRegions = "region_code,region_name,parent_code,group,level,name_en\n" +
		"CN,中国,,,country,China\nP,Parent,CN,,province,\nA,Alpha,P,East,city,\nB,Beta,P,East,city,\nC,Gamma,CN,West,province,\n"
	modelInds = "indicator_code,name,unit,direction,measure,category,rollup,decimals,source\n" +
		"gdp,GDP,yuan,higher_is_better,level,output,sum,1,NBS\n" +
		"pop,Population,persons,higher_is_better,,population,SUM,0,\n" +
		"idx,GDP index,prev=100,higher_is_better,INDEX,output,none,,\n"
	modelGroups      = "group_code,name,name_en\nZone,区,Zone\n"
	modelMemberships = "group_code,region_code,from_year,to_year\nZone,A,,2020\nZone,A,2023,\nZone,C,2021,2022\nEast,C,2022,\n"
	modelDerived     = "indicator_code,name,unit,direction,measure,formula\n" +
		"gdp_pc,GDP per person,yuan,higher_is_better,level,gdp / pop\n" +
		"gdp,,,,,parent_rollup\npop,,,,,PARENT_ROLLUP\n"
	// A's GDP was published in March 2021 (provisional), revised in June 2021; B's once, undated. Their parent
	// P has no values: it gets sums, and CN too (from P and C) where C has a value.
	modelObs = "region_code,indicator_code,year,value,flag,vintage\n" +
		"A,gdp,2020,10,p,2021-03-01\nA,gdp,2020,12,r,2021-06-30\nB,gdp,2020,30,,\nC,gdp,2020,5,e,\n" +
		"A,pop,2020,4,,\nB,pop,2020,6,,\nC,pop,2020,1,,\nA,gdp,2021,20,,\nA,idx,2021,105.5,,\n"
)

func TestReadModel(t *testing.T) {
	d, err := Read(with(folder(modelRegions, modelInds, modelObs), GroupsFile, modelGroups, MembershipsFile, modelMemberships, DerivedFile, modelDerived))
	if err != nil {
		t.Fatal(err)
	}
	if r := d.Regions[0]; r.Level != "country" || r.NameEn != "China" {
		t.Errorf("region CN: %+v", r)
	}
	if fmt.Sprint(d.Groups) != "[{Zone 区 Zone} {East East } {West West }]" {
		t.Errorf("groups %v", d.Groups)
	}
	// regions.csv's group column first (every year), then memberships.csv in file order.
	want := "[{East A 0 0} {East B 0 0} {West C 0 0} {Zone A 0 2020} {Zone A 2023 0} {Zone C 2021 2022} {East C 2022 0}]"
	if fmt.Sprint(d.Memberships) != want {
		t.Errorf("memberships\n got %v\nwant %s", d.Memberships, want)
	}
	gdp, pop, idx, pc := d.Indicators[0], d.Indicators[1], d.Indicators[2], d.Indicators[3]
	if gdp.Measure != analytics.Level || gdp.Rollup != analytics.RollupSum || gdp.Decimals != 1 || gdp.Category != "output" || gdp.Source != "NBS" || !gdp.FillParents {
		t.Errorf("gdp: %+v", gdp)
	}
	if pop.Measure != analytics.Level || pop.Rollup != analytics.RollupSum || pop.Decimals != 0 || !pop.FillParents {
		t.Errorf("pop: %+v", pop)
	}
	if idx.Measure != analytics.Index || idx.Rollup != analytics.RollupNone || idx.Decimals != -1 || idx.FillParents {
		t.Errorf("idx: %+v", idx)
	}
	if pc.Code != "gdp_pc" || pc.Formula != "gdp / pop" || pc.Name != "GDP per person" {
		t.Errorf("gdp_pc: %+v", pc)
	}
	got := map[string]string{}
	for _, o := range d.Observations {
		k := fmt.Sprintf("%s %s %d %s", o.Indicator, o.Region, o.Year, o.Vintage)
		got[k] = fmt.Sprintf("%v %v", o.Value, o.Flags.Letters())
	}
	// By hand: P = A + B as known at each of A's vintages (B is undated, so known throughout):
	// 2021-03-01: 10 + 30 = 40 (p), 2021-06-30: 12 + 30 = 42 (r). CN = P + C (5, e): 45 (p e), 47 (r e).
	// pop: P = 4 + 6 = 10, CN = 10 + 1 = 11. gdp_pc = gdp / pop: A 10/4 = 2.5 then 12/4 = 3, B 30/6 = 5,
	// C 5/1 = 5, P 40/10 = 4 then 42/10 = 4.2, CN 45/11 then 47/11. A 2021 has no pop: no gdp_pc. Nobody's
	// gdp is filled for 2021: B has no 2021 value.
	for k, w := range map[string]string{
		"gdp A 2020 2021-03-01":    "10 [p]",
		"gdp A 2020 2021-06-30":    "12 [r]",
		"gdp P 2020 2021-03-01":    "40 [p derived]",
		"gdp P 2020 2021-06-30":    "42 [r derived]",
		"gdp CN 2020 2021-03-01":   "45 [p e derived]",
		"gdp CN 2020 2021-06-30":   "47 [e r derived]",
		"pop P 2020 ":              "10 [derived]",
		"pop CN 2020 ":             "11 [derived]",
		"gdp_pc A 2020 2021-03-01": "2.5 [p derived]",
		"gdp_pc A 2020 2021-06-30": "3 [r derived]",
		"gdp_pc B 2020 ":           "5 [derived]",
		"gdp_pc C 2020 ":           "5 [e derived]",
		"gdp_pc P 2020 2021-03-01": "4 [p derived]",
		"gdp_pc P 2020 2021-06-30": "4.2 [r derived]",
		// Computed values are rounded to 12 significant digits: 45/11 = 4.090909…, 47/11 = 4.272727….
		"gdp_pc CN 2020 2021-03-01": "4.09090909091 [p e derived]",
		"gdp_pc CN 2020 2021-06-30": "4.27272727273 [e r derived]",
	} {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	// 9 published + 4 gdp rollups + 2 pop rollups + 8 gdp_pc values.
	if len(d.Observations) != 9+4+2+8 {
		t.Errorf("%d observations: %v", len(d.Observations), got)
	}
}

func TestReadRefusesModel(t *testing.T) {
	obs := func(rows ...string) string {
		return "region_code,indicator_code,year,value,flag,vintage\n" + strings.Join(rows, "\n") + "\n"
	}
	inds := "indicator_code,name,unit,direction,measure,rollup\ngdp,GDP,u,higher_is_better,level,sum\npop,P,u,higher_is_better,level,none\n"
	cases := []struct {
		name  string
		files []string
		ob    string
		want  []string
	}{
		{"unknown group", []string{MembershipsFile, "group_code,region_code\nNope,A\n"}, goodObs,
			[]string{`memberships.csv:2: unknown group_code "Nope"`}},
		{"unknown region", []string{MembershipsFile, "group_code,region_code\nEast,ZZ\n"}, goodObs,
			[]string{`memberships.csv:2: unknown region_code "ZZ"`}},
		{"overlap with the group column", []string{MembershipsFile, "group_code,region_code,from_year\nEast,A,2020\n"}, goodObs,
			[]string{`memberships.csv:2: membership of A in East overlaps the one on the group column of regions.csv`}},
		{"overlapping years", []string{MembershipsFile, "group_code,region_code,from_year,to_year\nWest,A,2010,2015\nWest,A,2015,\nWest,A,,2009\n"}, goodObs,
			[]string{`memberships.csv:3: membership of A in West overlaps the one on line 2`}},
		{"years backwards", []string{MembershipsFile, "group_code,region_code,from_year,to_year\nWest,A,2015,2010\n"}, goodObs,
			[]string{`memberships.csv:2: from_year 2015 is after to_year 2010`}},
		{"bad year", []string{MembershipsFile, "group_code,region_code,from_year,to_year\nWest,A,soon,\n"}, goodObs,
			[]string{`memberships.csv:2: from_year "soon" is not a whole number`}},
		{"duplicate group", []string{GroupsFile, "group_code,name\nZ,z\nZ,zz\n"}, goodObs,
			[]string{`groups.csv:3: duplicate group_code "Z" (first on line 2)`}},
		{"bad measure, rollup and decimals", []string{IndicatorsFile, "indicator_code,name,unit,direction,measure,rollup,decimals\ngdp,G,u,higher_is_better,ratio,avg,-1\n"}, obs(),
			[]string{`indicators.csv:2: measure "ratio" of indicator "gdp" is not level, rate, growth or index`,
				`indicators.csv:2: rollup "avg" of indicator "gdp" is not sum, mean or none`,
				`indicators.csv:2: decimals "-1" of indicator "gdp" is not a whole number from 0 to 15`}},
		{"bad flag and vintage", nil, obs("A,gdp,2020,1,px,", "A,gdp,2021,1,,2021-02-30", "A,gdp,2022,1,,March"),
			[]string{`observations.csv:2: flag "px" is not made of p (provisional)`, `observations.csv:3: vintage "2021-02-30" is not a date`,
				`observations.csv:4: vintage "March" is not a date`}},
		{"duplicate vintage", nil, obs("A,gdp,2020,1,,2021-01-01", "A,gdp,2020,2,,", "A,gdp,2020,3,r,2021-01-01"),
			[]string{`observations.csv:4: duplicate observation of A, gdp, 2020, vintage 2021-01-01 (first on line 2)`}},
		{"formula naming an unknown indicator", []string{IndicatorsFile, inds, DerivedFile, "indicator_code,name,unit,direction,measure,formula\nx,X,u,higher_is_better,level,gdp / popp\n"}, obs(),
			[]string{`derived.csv:2: formula of "x" names "popp", which is not an indicator`}},
		{"formula that does not parse", []string{IndicatorsFile, inds, DerivedFile, "indicator_code,name,unit,direction,measure,formula\nx,X,u,higher_is_better,level,gdp / (pop\n"}, obs(),
			[]string{`derived.csv:2: formula of "x": at column 7: unclosed "("`}},
		{"a cycle", []string{IndicatorsFile, inds, DerivedFile, "indicator_code,name,unit,direction,measure,formula\nx,X,u,higher_is_better,level,y + gdp\ny,Y,u,higher_is_better,level,x * 2\n"}, obs(),
			[]string{`derived.csv:2: formula of "x" refers back to itself: x → y → x`}},
		{"division by zero", []string{IndicatorsFile, inds, DerivedFile, "indicator_code,name,unit,direction,measure,formula\nx,X,u,higher_is_better,level,gdp / pop\n"},
			obs("A,gdp,2020,1,,", "A,pop,2020,2,,", "B,gdp,2020,1,,", "B,pop,2020,0,,"),
			[]string{`derived.csv:2: formula of "x" for region B in 2020: division by zero`}},
		{"a derived code that is published", []string{IndicatorsFile, inds, DerivedFile, "indicator_code,name,unit,direction,measure,formula\ngdp,X,u,higher_is_better,level,pop * 2\n"}, obs(),
			[]string{`derived.csv:2: "gdp" is already an indicator of indicators.csv (line 2)`}},
		{"values of a derived indicator", []string{IndicatorsFile, inds, DerivedFile, "indicator_code,name,unit,direction,measure,formula\nx,X,u,higher_is_better,level,pop * 2\n"}, obs("A,x,2020,1,,"),
			[]string{`observations.csv:2: indicator "x" is derived (derived.csv line 2)`}},
		{"rollup of a none indicator", []string{IndicatorsFile, inds, DerivedFile, "indicator_code,name,unit,direction,measure,formula\npop,,,,,parent_rollup\n"}, obs(),
			[]string{`derived.csv:2: parent_rollup of "pop": its rollup is none`}},
		{"rollup row that redefines the indicator", []string{IndicatorsFile, inds, DerivedFile, "indicator_code,name,unit,direction,measure,formula\ngdp,Gross,u,lower_is_better,,parent_rollup\n"}, obs(),
			[]string{`derived.csv:2: parent_rollup of "gdp": name "Gross" differs from the indicator's definition`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { refused(t, with(folder(goodRegions, goodInds, c.ob), c.files...), c.want) })
	}
}

// A parent_rollup row may repeat the indicator's definition, and may say how to fill one defined without a
// rollup.
func TestRollupRowAgreeing(t *testing.T) {
	inds := "indicator_code,name,unit,direction,rollup\ngdp,GDP,u,higher_is_better,sum\npop,P,u,higher_is_better,\n"
	derived := "indicator_code,name,unit,direction,measure,formula,rollup\ngdp,GDP,u,higher_is_better,level,parent_rollup,\npop,,,,,parent_rollup,mean\n"
	obs := "region_code,indicator_code,year,value\nA,gdp,2020,1\nB,gdp,2020,2\nA,pop,2020,4\nB,pop,2020,6\n"
	regions := "region_code,region_name,parent_code\nCN,China,\nA,Alpha,CN\nB,Beta,CN\n"
	d, err := Read(with(folder(regions, inds, obs), DerivedFile, derived))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, o := range d.Observations {
		if o.Region == "CN" {
			got[o.Indicator] = o.Value
		}
	}
	// CN's gdp is 1 + 2 = 3; its pop the mean of 4 and 6, 5.
	if got["gdp"] != 3 || got["pop"] != 5 || d.Indicators[1].Rollup != analytics.RollupMean {
		t.Errorf("CN: %v, pop rollup %s", got, d.Indicators[1].Rollup)
	}
}

// Parents' rollups at the edges of a double: the mean of two 5e-324 is 5e-324 (dividing each by 2 first would
// give 0), the mean of two 1e308 is 1e308 (adding first would overflow), and a sum of two 1e308 is refused.
func TestRollupAtTheEdges(t *testing.T) {
	inds := "indicator_code,name,unit,direction,rollup\nm,M,u,higher_is_better,mean\nh,H,u,higher_is_better,mean\ns,S,u,higher_is_better,sum\n"
	derived := "indicator_code,name,unit,direction,measure,formula\nm,,,,,parent_rollup\nh,,,,,parent_rollup\n"
	obs := "region_code,indicator_code,year,value\nA,m,2020,5e-324\nB,m,2020,5e-324\nA,h,2020,1e308\nB,h,2020,1e308\nA,s,2020,1e308\nB,s,2020,1e308\n"
	regions := "region_code,region_name,parent_code\nCN,China,\nA,Alpha,CN\nB,Beta,CN\n"
	d, err := Read(with(folder(regions, inds, obs), DerivedFile, derived))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, o := range d.Observations {
		if o.Region == "CN" {
			got[o.Indicator] = o.Value
		}
	}
	if got["m"] != 5e-324 || got["h"] != 1e308 {
		t.Errorf("CN: %v", got)
	}
	_, err = Read(with(folder(regions, inds, obs), DerivedFile, derived+"s,,,,,parent_rollup\n"))
	if err == nil || !strings.Contains(err.Error(), "not a finite number") {
		t.Errorf("a sum of 1e308 and 1e308: %v", err)
	}
}

// A dataset with every optional part writes and reads back the same, derived values included.
func TestModelRoundTrip(t *testing.T) {
	d, err := Read(with(folder(modelRegions, modelInds, modelObs), GroupsFile, modelGroups, MembershipsFile, modelMemberships, DerivedFile, modelDerived))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := d.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	back, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", back) != fmt.Sprintf("%+v", d) {
		t.Errorf("read back differs:\n got %+v\nwant %+v", back, d)
	}
}

// A WDI bulk CSV in the World Bank's layout (four lines of notes, then years as columns, a trailing comma):
// regions and indicators from its own columns, one observation per non-empty year cell, values as in
// data/worldbank-gdp-population/observations.csv (CHN 2022 1412175000, 2023 1410710000; USA 2022
// 334017321, 2023 336806231; 2021 empty, so missing). A bad cell is refused at its file and line.
func TestReadWDI(t *testing.T) {
	d, err := ReadWDI("testdata/wdi/WDI_pop.csv", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Regions) != 2 || d.Regions[0].Code != "CHN" || d.Regions[0].Name != "China" || d.Regions[1].Level != "" {
		t.Errorf("regions %+v", d.Regions)
	}
	if len(d.Indicators) != 1 || d.Indicators[0].Code != "SP.POP.TOTL" || d.Indicators[0].Name != "Population, total" ||
		d.Indicators[0].Direction != analytics.HigherIsBetter {
		t.Errorf("indicators %+v", d.Indicators)
	}
	want := []Observation{{Region: "CHN", Indicator: "SP.POP.TOTL", Year: 2022, Value: 1412175000}, {Region: "USA", Indicator: "SP.POP.TOTL", Year: 2022, Value: 334017321},
		{Region: "CHN", Indicator: "SP.POP.TOTL", Year: 2023, Value: 1410710000}, {Region: "USA", Indicator: "SP.POP.TOTL", Year: 2023, Value: 336806231}}
	if !reflect.DeepEqual(d.Observations, want) {
		t.Errorf("observations %+v", d.Observations)
	}

	bad := filepath.Join(t.TempDir(), "WDI_bad.csv")
	b, _ := os.ReadFile("testdata/wdi/WDI_pop.csv")
	b = append(b, `"Nowhere","","Population, total","SP.POP.TOTL","","lots","1",`+"\n"...)
	b = append(b, `"China","CHN","Population, total","SP.POP.TOTL","","1","",`+"\n"...)
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadWDI(bad, "", "")
	for _, w := range []string{"WDI_bad.csv:8: Country Code is empty", `WDI_bad.csv:8: value "lots" is not a finite number`,
		"WDI_bad.csv:9: duplicate observation of CHN, SP.POP.TOTL, 2022 (first on line 6)"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("want %q in %v", w, err)
		}
	}
}

// observations.parquet in place of observations.csv: the same rows load, and the same rules refuse a bad
// row at its row number. The file is written here with arrow-go's pqarrow writer.
func TestReadParquetObservations(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{RegionsFile, IndicatorsFile} {
		b, err := os.ReadFile(filepath.Join("../../data/worldbank-gdp-population", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	write := func(regions []string, years []int64, values []float64) {
		schema := arrow.NewSchema([]arrow.Field{{Name: "region_code", Type: arrow.BinaryTypes.String}, {Name: "indicator_code", Type: arrow.BinaryTypes.String},
			{Name: "year", Type: arrow.PrimitiveTypes.Int64}, {Name: "value", Type: arrow.PrimitiveTypes.Float64}}, nil)
		rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer rb.Release()
		for i := range regions {
			rb.Field(0).(*array.StringBuilder).Append(regions[i])
			rb.Field(1).(*array.StringBuilder).Append("SP.POP.TOTL")
			rb.Field(2).(*array.Int64Builder).Append(years[i])
			rb.Field(3).(*array.Float64Builder).Append(values[i])
		}
		rec := rb.NewRecordBatch()
		defer rec.Release()
		f, _ := os.Create(filepath.Join(dir, ParquetObservationsFile))
		fw, err := pqarrow.NewFileWriter(schema, f, nil, pqarrow.DefaultWriterProps())
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(rec)
		fw.Close()
	}
	write([]string{"CHN", "USA"}, []int64{2023, 2023}, []float64{1410710000, 336806231})
	d, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Observation{{Region: "CHN", Indicator: "SP.POP.TOTL", Year: 2023, Value: 1410710000}, {Region: "USA", Indicator: "SP.POP.TOTL", Year: 2023, Value: 336806231}}
	if !reflect.DeepEqual(d.Observations, want) {
		t.Errorf("observations %+v", d.Observations)
	}
	write([]string{"CHN", "XXX", "CHN"}, []int64{2023, 2023, 0}, []float64{1, 2, 3})
	_, err = ReadDir(dir)
	for _, w := range []string{`observations.parquet:2: unknown region_code "XXX"`, `observations.parquet:3: year "0" is not a whole number from 1 to 9999`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("want %q in %v", w, err)
		}
	}
}
