package duck

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// Monthly, quarterly and mixed folders load through read_csv as the Go reader loads them: the same
// stored tables, periods, frequencies and version; with a year column beside the period too.
func TestImportDirPeriods(t *testing.T) {
	monthly, quarterly := t.TempDir(), t.TempDir()
	if _, _, err := dataset.WriteSyntheticOf(monthly, 2, 9, 4, 2, analytics.Monthly); err != nil {
		t.Fatal(err)
	}
	if _, _, err := dataset.WriteSyntheticOf(quarterly, 2, 30, 3, 3, analytics.Quarterly); err != nil {
		t.Fatal(err)
	}
	mixed := t.TempDir()
	d := dataset.SyntheticOf(4, 12, 3, 2, analytics.Monthly)
	a := dataset.Synthetic(4, 12, 2, 2)
	for _, in := range a.Indicators {
		in.Code = "A" + in.Code
		d.Indicators = append(d.Indicators, in)
	}
	for _, o := range a.Observations {
		o.Indicator = "A" + o.Indicator
		d.Observations = append(d.Observations, o)
	}
	d.Indicators[0].FillParents = true // ROOT's months are its regions' sums, per month
	d.SortObservations()
	if err := d.WriteDir(mixed); err != nil {
		t.Fatal(err)
	}
	both := copyDir(t, monthly)
	rewrite(t, both, func(i int, l string) string {
		f := strings.Split(l, ",")
		if i == 0 {
			return l + ",year\n"
		}
		return l + "," + f[3][:4] + "\n"
	})
	for _, c := range []struct{ name, dir string }{{"monthly", monthly}, {"quarterly", quarterly}, {"mixed, with parent rollups", mixed}, {"year and period", both}} {
		t.Run(c.name, func(t *testing.T) {
			fast, slow, st := importBoth(t, c.dir)
			if !st.Fast {
				t.Error("imported through the Go reader, not read_csv")
			}
			if a, b := tables(t, fast), tables(t, slow); a != b {
				t.Errorf("stored tables differ:\n%s", firstDiff(a, b))
			}
		})
	}
}

// A period the Go reader refuses is refused by ImportDir with its messages.
func TestImportDirRefusesPeriodsAsGoReader(t *testing.T) {
	inds := "indicator_code,name,unit,direction,frequency,cumulative\nm,M,u,higher_is_better,M,false\nq,Q,u,higher_is_better,Q,false\na,A,u,higher_is_better,,\n"
	h := "region_code,indicator_code,year,period,value\n"
	for _, c := range []struct{ name, obs string }{
		{"month 13", h + "A,m,,2025-13,1\n"},
		{"quarter 5", h + "A,q,,2025-Q5,1\n"},
		{"lower-case q", h + "A,q,,2025-q3,1\nA,q,,2025-Q3,2\n"},
		{"a quarter of a monthly indicator", h + "A,m,,2025-Q3,1\n"},
		{"a month of an annual one", h + "A,a,,2025-09,1\n"},
		{"a year of a monthly one", h + "A,m,2025,,1\n"},
		{"year and period disagree", h + "A,m,2024,2025-09,1\n"},
		{"duplicate month", h + "A,m,,2025-09,1\nB,m,,2025-09,1\nA,m,2025,2025-09,2\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range map[string]string{dataset.RegionsFile: goodRegions, dataset.IndicatorsFile: inds, dataset.ObservationsFile: c.obs} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, want := dataset.ReadDir(dir)
			var inv *dataset.Invalid
			if !errors.As(want, &inv) {
				t.Fatalf("the Go reader accepts it: %v", want)
			}
			store, err := Open("")
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			if _, err := store.ImportDir(context.Background(), dir, "bad"); err == nil || err.Error() != want.Error() {
				t.Errorf("ImportDir: %v\nwant %v", err, want)
			}
		})
	}
}
