package dataset

import (
	"errors"
	"math"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzRead feeds random bytes to the reader as regions.csv and observations.csv (beside a valid
// indicators.csv): Read must never panic, and must either return a dataset whose values are finite (and
// never −0) or an *Invalid whose every problem names a file of the folder, a line (0 for the file as a
// whole) and what is wrong. The seed corpus is in testdata/fuzz/FuzzRead; .ci/run fuzzes it briefly.
func FuzzRead(f *testing.F) {
	f.Add([]byte(goodRegions), []byte(goodObs))
	f.Add([]byte(goodRegions), []byte("region_code,indicator_code,year,value\nA,gdp,2020,1e308\nB,gdp,2020,-1e308\nC,gdp,2020,5e-324\nA,gdp,2021,-0\n"))
	f.Add([]byte(goodRegions), []byte("region_code,indicator_code,year,value\nA,gdp,2020,1e309\nB,gdp,2020,NaN\nC,gdp,2020,\"1,5\"\n"))
	f.Add([]byte("region_code,region_name,parent_code,group\nA,A,A,\n\"B,B\n"), []byte("value,year\n\xff,\"\n"))
	f.Fuzz(func(t *testing.T, regions, obs []byte) {
		d, err := Read(fstest.MapFS{RegionsFile: {Data: regions}, IndicatorsFile: {Data: []byte(goodInds)}, ObservationsFile: {Data: obs}})
		if err == nil {
			for _, o := range d.Observations {
				if math.IsNaN(o.Value) || math.IsInf(o.Value, 0) || o.Value == 0 && math.Signbit(o.Value) {
					t.Fatalf("value %v of %+v read", o.Value, o)
				}
			}
			return
		}
		var inv *Invalid
		if !errors.As(err, &inv) {
			t.Fatalf("error %T is not *Invalid: %v", err, err)
		}
		if inv.Total < 1 || len(inv.Problems) < 1 || len(inv.Problems) > MaxListed {
			t.Fatalf("%d problems listed of %d", len(inv.Problems), inv.Total)
		}
		for _, p := range inv.Problems {
			if _, ok := fileOrder[p.File]; !ok || p.Line < 0 || strings.TrimSpace(p.Msg) == "" {
				t.Fatalf("problem without a file, line or message: %+v", p)
			}
			if want := p.File + ":"; !strings.HasPrefix(p.String(), want) {
				t.Fatalf("problem %q does not start with %q", p, want)
			}
		}
	})
}
