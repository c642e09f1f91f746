package dataset

import (
	"fmt"
	"math"
	"testing"

	"pacesetter/analytics"
)

const periodInds = "indicator_code,name,unit,direction,frequency,cumulative,rollup\n" +
	"gdp,GDP,CNY,higher_is_better,Q,false,sum\n" +
	"retail,Retail sales,CNY,higher_is_better,M,false,sum\n" +
	"retail_ytd,Retail sales YTD,CNY,higher_is_better,M,true,sum\n" +
	"pop,Population,persons,higher_is_better,,,sum\n"

// Months, quarters and years side by side: a row gives its period, its year (annual only), or both agreeing.
func TestReadPeriods(t *testing.T) {
	obs := "region_code,indicator_code,year,period,value\n" +
		"A,gdp,,2025-Q3,10\nA,gdp,2025,2025-Q2,9\nA,retail,,2025-09,3\nA,retail_ytd,,2025-09,27\n" +
		"A,pop,2025,,100\nA,pop,,2024,90\nB,retail,2025,2025-01,1\n"
	d, err := Read(folder(goodRegions, periodInds, obs))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range d.Observations {
		got = append(got, fmt.Sprintf("%s %s %d/%d %g", o.Region, o.Indicator, o.Year, o.Period, o.Value))
	}
	// Sorted by indicator, year, period, region.
	want := "[A gdp 2025/2 9 A gdp 2025/3 10 A pop 2024/0 90 A pop 2025/0 100 B retail 2025/1 1 A retail 2025/9 3 A retail_ytd 2025/9 27]"
	if fmt.Sprint(got) != want {
		t.Errorf("got %v\nwant %s", got, want)
	}
	if in := d.indicator("retail_ytd"); in.Frequency != analytics.Monthly || !in.Cumulative {
		t.Errorf("retail_ytd read as %+v", in)
	}
	if in := d.indicator("pop"); in.Frequency != "" || in.Cumulative {
		t.Errorf("pop read as %+v", in)
	}
	// Without a year column, every row gives a period.
	if _, err := Read(folder(goodRegions, periodInds, "region_code,indicator_code,period,value\nA,gdp,2025-Q1,1\nA,pop,2025,2\n")); err != nil {
		t.Error(err)
	}
}

func TestReadRefusesPeriods(t *testing.T) {
	obs := "region_code,indicator_code,year,period,value\n" +
		"A,retail,,2025-13,1\n" + // 2
		"A,gdp,,2025-Q5,1\n" + // 3
		"A,gdp,,2025Q3,1\n" + // 4
		"A,gdp,2024,2025-Q3,1\n" + // 5
		"A,retail,,2025-Q3,1\n" + // 6
		"A,pop,,2025-09,1\n" + // 7
		"A,retail,2025,,1\n" + // 8
		"A,retail,,2025-09,1\nA,retail,,2025-09,2\n" // 9, 10
	refused(t, folder(goodRegions, periodInds, obs), []string{
		`observations.csv:2: period "2025-13" has month 13`,
		`observations.csv:3: period "2025-Q5" has quarter 5`,
		`observations.csv:4: period "2025Q3" is malformed`,
		`observations.csv:5: year 2024 and period 2025-Q3 disagree`,
		`observations.csv:6: period 2025-Q3 is quarterly, but indicator "retail" is monthly: write its values as 2025-01`,
		`observations.csv:7: period 2025-09 is monthly, but indicator "pop" is annual: write its values as 2025`,
		`observations.csv:8: period 2025 is annual, but indicator "retail" is monthly`,
		`observations.csv:10: duplicate observation of A, retail, 2025-09 (first on line 9)`,
	})
	refused(t, folder(goodRegions, "indicator_code,name,unit,direction,frequency,cumulative\nx,X,u,higher_is_better,W,maybe\n", "region_code,indicator_code,year,value\n"), []string{
		`indicators.csv:2: frequency "W" is not A (annual), Q (quarterly) or M (monthly) for indicator "x"`,
		`indicators.csv:2: cumulative "maybe" of indicator "x" is not true`,
	})
	refused(t, folder(goodRegions, periodInds, "region_code,indicator_code,value\nA,gdp,1\n"), []string{
		`observations.csv:1: missing column(s) year`,
	})
}

// A formula's indicator takes its operands' frequency and is computed per period; mixing frequencies is
// refused. Parents roll up per period. Expected values by hand: per_cap = retail / pop … refused
// (monthly and annual); ratio = retail_ytd / retail per month: 27/3 = 9.
func TestDerivedPerPeriod(t *testing.T) {
	obs := "region_code,indicator_code,period,value\nA,retail,2025-09,3\nA,retail_ytd,2025-09,27\nB,retail,2025-09,4\nC,retail,2025-09,5\nA,pop,2025,2\n"
	derived := "indicator_code,name,unit,direction,measure,formula\nratio,Ratio,x,higher_is_better,level,retail_ytd / retail\nretail,,,,,parent_rollup\n"
	d, err := Read(with(folder(goodRegions, periodInds, obs), DerivedFile, derived))
	if err != nil {
		t.Fatal(err)
	}
	if in := d.indicator("ratio"); in.Frequency != analytics.Monthly {
		t.Errorf("ratio frequency %q", in.Frequency)
	}
	var got []string
	for _, o := range d.Observations {
		if o.Flags&(analytics.Derived|analytics.RolledUp) != 0 {
			got = append(got, fmt.Sprintf("%s %s %s %g", o.Region, o.Indicator, o.PeriodText(analytics.Monthly), o.Value))
		}
	}
	// CN = A + B + C = 3 + 4 + 5 = 12 in 2025-09.
	if want := "[A ratio 2025-09 9 CN retail 2025-09 12]"; fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
	refused(t, with(folder(goodRegions, periodInds, obs), DerivedFile, "indicator_code,name,unit,direction,measure,formula\npc,PC,x,higher_is_better,level,retail / pop\n"), []string{
		`derived.csv:2: formula of "pc" mixes frequencies: retail is M, pop is`,
	})
}

// SyntheticOf at two sizes and both frequencies: each cumulative indicator's value at period p is the sum
// of the flow before it over periods 1…p of the year, where all of them are present (the reference sums the
// rows themselves); every value sits in its frequency's periods; the folder reads back the same.
func TestSyntheticPeriodic(t *testing.T) {
	for _, c := range []struct {
		f                          analytics.Frequency
		regions, indicators, years int
	}{{analytics.Monthly, 7, 6, 2}, {analytics.Quarterly, 25, 4, 3}, {analytics.Monthly, 40, 3, 3}} {
		d := SyntheticOf(3, c.regions, c.indicators, c.years, c.f)
		per := c.f.PerYear()
		type key struct {
			ind, reg string
			y, p     int
		}
		val := map[key]float64{}
		for _, o := range d.Observations {
			if o.Period < 1 || o.Period > per {
				t.Fatalf("%s: period %d", c.f, o.Period)
			}
			val[key{o.Indicator, o.Region, o.Year, o.Period}] = o.Value
		}
		checked := 0
		for k, v := range val {
			in := d.indicator(k.ind)
			if !in.Cumulative {
				continue
			}
			flow := d.Indicators[slicesIndex(d, k.ind)-1].Code
			sum, all := 0.0, true
			for p := 1; p <= k.p; p++ {
				x, ok := val[key{flow, k.reg, k.y, p}]
				all = all && ok
				sum += x
			}
			if !all {
				continue
			}
			if math.Abs(sum-v) > 0.051*float64(k.p) {
				t.Errorf("%s %s %d/%d: cumulative %g, sum of flow %g", k.ind, k.reg, k.y, k.p, v, sum)
			}
			checked++
		}
		if checked == 0 {
			t.Errorf("%s: no cumulative value checked", c.f)
		}
		dir := t.TempDir()
		if _, n, err := WriteSyntheticOf(dir, 3, c.regions, c.indicators, c.years, c.f); err != nil || n != len(d.Observations) {
			t.Fatalf("write: %d, %v", n, err)
		}
		back, err := ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%+v", back) != fmt.Sprintf("%+v", d) {
			t.Errorf("%s: read back differs", c.f)
		}
	}
}

func slicesIndex(d *Dataset, code string) int {
	for i, in := range d.Indicators {
		if in.Code == code {
			return i
		}
	}
	return -1
}
