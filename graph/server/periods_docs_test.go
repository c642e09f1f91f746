package server

import (
	"path/filepath"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
)

// periodsDataset is the synthetic dataset docs/periods.md's examples run against: `pacesetter synth
// --frequency M --regions 6 --indicators 3 --years 2 --seed 22` (monthly I001, its year-to-date total I002,
// I003) with the quarterly indicators of the same command at --frequency Q beside them (codes prefixed Q),
// and a growth target of 5 % and a level target of 5,000 on I001 and I002 for every region in 2002.
func periodsDataset() *dataset.Dataset {
	d := dataset.SyntheticOf(22, 6, 3, 2, analytics.Monthly)
	q := dataset.SyntheticOf(22, 6, 3, 2, analytics.Quarterly)
	for _, in := range q.Indicators {
		in.Code = "Q" + in.Code
		d.Indicators = append(d.Indicators, in)
	}
	for _, o := range q.Observations {
		o.Indicator = "Q" + o.Indicator
		d.Observations = append(d.Observations, o)
	}
	for _, rg := range d.Regions[1:] {
		for _, code := range []string{"I001", "I002"} {
			d.Targets = append(d.Targets,
				dataset.Target{Region: rg.Code, Indicator: code, Year: 2002, Comparator: analytics.AtLeast, Value: 5, Kind: analytics.TargetGrowth},
				dataset.Target{Region: rg.Code, Indicator: code, Year: 2002, Comparator: analytics.AtLeast, Value: 500000, Kind: analytics.TargetLevel})
		}
	}
	d.SortObservations()
	return d
}

// TestDocsPeriods runs docs/periods.md's examples (a year-to-date ranking, a same-quarter growth trend,
// progress toward a target) against periodsDataset, as TestDocs runs the others against the NBS dataset.
func TestDocsPeriods(t *testing.T) {
	root := moduleRoot(t)
	srv, _ := newServer(t, importDataset(t, periodsDataset()), query.DefaultOptions, DefaultOptions)
	checkDocs(t, root, []string{filepath.Join(root, "docs", "periods.md")}, srv)
}
