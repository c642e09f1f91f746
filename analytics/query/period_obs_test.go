package query

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// Observations of a mixed dataset paged through a few at a time: every row comes once, with its period,
// in order (region, indicator, year, then month or quarter); fromPeriod, toPeriod and frequency filter as
// the reference filters the rows.
func TestObservationsPeriods(t *testing.T) {
	ctx := context.Background()
	for _, size := range []struct{ regions, indicators, years, page int }{{3, 3, 2, 7}, {8, 3, 2, 50}} {
		d := mixedDataset(13, size.regions, size.indicators, size.years)
		e := newTestEngine(t, d, Options{})
		m := analytics.Monthly
		from := analytics.Period{Year: 2001, Sub: 11, Freq: m}
		to := analytics.Period{Year: 2002, Sub: 2, Freq: m}
		for _, f := range []analytics.ValueFilter{{}, {FromPeriod: &from, ToPeriod: &to, Frequency: &m}} {
			var want []string
			for _, o := range d.Observations {
				in := d.Indicators[slicesIndexInd(d, o.Indicator)]
				if f.Frequency != nil && in.Frequency != *f.Frequency ||
					f.FromPeriod != nil && o.Year*16+o.Period < from.Year*16+from.Sub || f.ToPeriod != nil && o.Year*16+o.Period > to.Year*16+to.Sub {
					continue
				}
				want = append(want, fmt.Sprintf("%s %s %s %g", o.Region, o.Indicator, o.PeriodText(in.Frequency), o.Value))
			}
			// The reference order: region, indicator, year, period (Read sorts by indicator first).
			slices.Sort(want)
			var got []string
			after := ""
			for {
				pg, err := e.Observations(ctx, analytics.ObservationQuery{ValueFilter: f, First: size.page, After: after})
				if err != nil {
					t.Fatal(err)
				}
				for i, o := range pg.Items {
					got = append(got, fmt.Sprintf("%s %s %s %g", o.Region.Code, o.Indicator.Code, o.Period, o.Value))
					after = pg.Cursors[i]
				}
				if !pg.HasNextPage {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%v %+v: %d observations, want %d\n got %.300v\nwant %.300v", size, f, len(got), len(want), got, want)
			}
		}
	}
}

// aggregate(by: [INDICATOR, YEAR]) over monthly values: a flow's SUM is the sum of its months over the
// regions, a cumulative indicator's is the sum of the regions' December values; the reference adds the rows.
func TestAggregateYearFromMonths(t *testing.T) {
	ctx := context.Background()
	for _, size := range []struct{ regions, years int }{{4, 2}, {20, 3}} {
		d := dataset.SyntheticOf(17, size.regions, 3, size.years, analytics.Quarterly)
		m := dataset.SyntheticOf(17, size.regions, 3, size.years, analytics.Monthly)
		for _, in := range m.Indicators {
			in.Code = "M" + in.Code
			d.Indicators = append(d.Indicators, in)
		}
		for _, o := range m.Observations {
			o.Indicator = "M" + o.Indicator
			d.Observations = append(d.Observations, o)
		}
		d.SortObservations()
		e := newTestEngine(t, d, Options{})
		want := map[string]float64{}
		count := map[string]int{}
		for _, o := range d.Observations {
			in := d.Indicators[slicesIndexInd(d, o.Indicator)]
			if in.Cumulative && o.Period != in.Frequency.PerYear() {
				continue
			}
			k := fmt.Sprintf("%s %d", o.Indicator, o.Year)
			want[k] += o.Value
			count[k]++
		}
		ag, err := e.Aggregate(ctx, analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimIndicator, analytics.DimYear},
			Measures: []analytics.AggregateMeasure{analytics.MeasureCount, analytics.MeasureSum, analytics.MeasureMean}, First: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(ag.Rows) != len(want) {
			t.Fatalf("%d rows, want %d", len(ag.Rows), len(want))
		}
		for _, r := range ag.Rows {
			k := fmt.Sprintf("%s %d", r.Indicator.Code, *r.Year)
			if *r.Count != count[k] || !near(*r.Mean, want[k]/float64(count[k])) {
				t.Errorf("%s: count %d mean %g; want %d %g", k, *r.Count, *r.Mean, count[k], want[k]/float64(count[k]))
			}
			if r.Indicator.Rollup == analytics.RollupSum && !nearPtr(r.Sum, want[k]) {
				t.Errorf("%s: sum %s, want %g", k, showF(r.Sum), want[k])
			}
		}
	}
}

// By PERIOD: aggregate rows per indicator and period (a cumulative indicator's every period), and a pivot
// of one monthly indicator with regions down and periods across, each cell the region's value that month;
// the reference is the rows themselves.
func TestAggregateAndPivotByPeriod(t *testing.T) {
	ctx := context.Background()
	for _, size := range []struct{ regions, indicators, years int }{{4, 3, 2}, {15, 3, 2}} {
		d := mixedDataset(23, size.regions, size.indicators, size.years)
		e := newTestEngine(t, d, Options{})
		type key struct{ ind, period string }
		count := map[key]int{}
		for _, o := range d.Observations {
			in := d.Indicators[slicesIndexInd(d, o.Indicator)]
			count[key{o.Indicator, o.PeriodText(in.Frequency)}]++
		}
		ag, err := e.Aggregate(ctx, analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimIndicator, analytics.DimPeriod},
			Measures: []analytics.AggregateMeasure{analytics.MeasureCount}, First: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if len(ag.Rows) != len(count) {
			t.Fatalf("%d rows, want %d", len(ag.Rows), len(count))
		}
		for _, r := range ag.Rows {
			if k := (key{r.Indicator.Code, *r.Period}); *r.Count != count[k] {
				t.Errorf("%v: count %d, want %d", k, *r.Count, count[k])
			}
		}
		pv, err := e.Pivot(ctx, analytics.PivotQuery{Indicator: "I001", Rows: analytics.DimRegion, Columns: analytics.DimPeriod})
		if err != nil {
			t.Fatal(err)
		}
		if len(pv.Columns) != 12*size.years || pv.Columns[0].Key != "2001-01" || pv.Columns[len(pv.Columns)-1].Key != fmt.Sprintf("%d-12", 2000+size.years) {
			t.Fatalf("%d columns, from %s to %s", len(pv.Columns), pv.Columns[0].Key, pv.Columns[len(pv.Columns)-1].Key)
		}
		vals := refPeriodValues(d)
		for _, row := range pv.Rows {
			for i, c := range pv.Columns {
				p, _ := analytics.ParsePeriod(c.Key)
				x, ok := vals[periodKey{"I001", row.Code, p.Year, p.Sub}]
				if got := row.Cells[i]; ok != (got != nil) || ok && !near(*got, x) {
					t.Errorf("%s %s: %s, want %g (%v)", row.Code, c.Key, showF(got), x, ok)
				}
			}
		}
	}
}
