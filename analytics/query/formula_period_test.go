package query

import (
	"context"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// A formula over a monthly or quarterly indicator, aggregated by period and by year and kept by a frequency
// filter: each period's count and mean are worked out here from the generated observations (twice I001's
// values of that period). The values a formula computes carry its period's ordinal; they were once written
// as years (24012 for January 2001), and a frequency filter dropped them.
func TestFormulaAggregatesByPeriod(t *testing.T) {
	ctx := context.Background()
	for _, f := range []analytics.Frequency{analytics.Monthly, analytics.Quarterly} {
		for _, regions := range []int{8, 150} {
			d := dataset.SyntheticOf(2, regions, 3, 2, f)
			type key struct{ year, sub int }
			count, sum := map[key]int{}, map[key]float64{}
			years := map[int]int{}
			for _, o := range d.Observations {
				if o.Indicator == "I001" {
					count[key{o.Year, o.Period}]++
					sum[key{o.Year, o.Period}] += 2 * o.Value
					years[o.Year]++
				}
			}
			e := newTestEngine(t, d, DefaultOptions)
			measures := []analytics.AggregateMeasure{analytics.MeasureCount, analytics.MeasureMean}
			agg, err := e.Aggregate(ctx, analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimPeriod},
				Filter: analytics.ValueFilter{Indicators: []string{"I001 * 2"}, Frequency: &f}, Measures: measures, First: MaxAggregatePage})
			if err != nil {
				t.Fatal(err)
			}
			if len(agg.Rows) != len(count) {
				t.Errorf("%s, %d regions: %d periods, want %d", f, regions, len(agg.Rows), len(count))
			}
			for _, row := range agg.Rows {
				p, err := analytics.ParsePeriod(*row.Period)
				if err != nil || p.Freq != f {
					t.Errorf("%s, %d regions: period %q: %v", f, regions, *row.Period, err)
					continue
				}
				k := key{p.Year, p.Sub}
				if *row.Count != count[k] || !near(*row.Mean, sum[k]/float64(count[k])) {
					t.Errorf("%s, %d regions, %s: count %d mean %v, want %d %v", f, regions, *row.Period, *row.Count, *row.Mean, count[k], sum[k]/float64(count[k]))
				}
			}
			agg, err = e.Aggregate(ctx, analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimYear},
				Filter: analytics.ValueFilter{Indicators: []string{"I001 * 2"}}, Measures: measures, First: MaxAggregatePage})
			if err != nil {
				t.Fatal(err)
			}
			if len(agg.Rows) != len(years) {
				t.Errorf("%s, %d regions: %d years, want %d", f, regions, len(agg.Rows), len(years))
			}
			for _, row := range agg.Rows {
				if *row.Count != years[*row.Year] {
					t.Errorf("%s, %d regions, year %d: count %d, want %d", f, regions, *row.Year, *row.Count, years[*row.Year])
				}
			}
		}
	}
}
