package query

import (
	"context"
	"fmt"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// A matrix holds the values there are, not the span of years: 2,000 regions with a value in year 1 and
// one in 9999 cost two cells each, not 9,999.
func TestMatrixFollowsTheValues(t *testing.T) {
	d := &dataset.Dataset{Indicators: []dataset.Indicator{{Code: "x", Name: "x", Unit: "u", Direction: analytics.HigherIsBetter,
		Measure: analytics.Level, Rollup: analytics.RollupNone, Decimals: -1}}}
	for i := range 2000 {
		code := fmt.Sprintf("R%04d", i)
		d.Regions = append(d.Regions, dataset.Region{Code: code, Name: code})
		d.Observations = append(d.Observations, dataset.Observation{Region: code, Indicator: "x", Year: 1, Value: float64(i)},
			dataset.Observation{Region: code, Indicator: "x", Year: 9999, Value: float64(-i)})
	}
	d.SortObservations()
	e := newTestEngine(t, d, Options{})
	rk, err := e.Ranking(context.Background(), analytics.RankingQuery{Indicator: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if rk.Year != 9999 || rk.Count != 2000 || rk.Leader.Code != "R0000" {
		t.Errorf("year %d, %d ranked, leader %s", rk.Year, rk.Count, rk.Leader.Code)
	}
	if b := e.matrixCache.bytes; b > 4000*16+2001*4+96 {
		t.Errorf("the matrix of 4,000 values takes %d bytes", b)
	}
}
