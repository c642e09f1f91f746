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

// A sorted file with months, quarters and years goes straight into the table, as an annual one does
// (Scan.Sorted: no staging table holding every row), and stores what the Go reader's path stores: revised
// vintages of a month leave the newest latest, and of each value exactly one is. A row whose kind of period
// is not its indicator's frequency in a sorted file is refused with the Go reader's message.
func TestImportDirPeriodsStraight(t *testing.T) {
	inds := "indicator_code,name,unit,direction,frequency\na,A,u,higher_is_better,\nm,M,u,higher_is_better,M\nq,Q,u,higher_is_better,Q\n"
	obs := "region_code,indicator_code,year,period,value,vintage\n" +
		"A,a,2024,,1,\nA,a,2024,,2,2025-01-01\nB,a,2024,2024,5,\n" +
		"A,m,,2024-01,1,2025-01-01\nA,m,,2024-01,1.5,2025-02-01\nB,m,,2024-01,2,\nA,m,2024,2024-02,3,\n" +
		"A,q,,2024-Q1,4,\nA,q,,2024-Q1,4.5,2025-03-01\nB,q,,2024-Q2,6,\n"
	dir := t.TempDir()
	for name, body := range map[string]string{dataset.RegionsFile: goodRegions, dataset.IndicatorsFile: inds, dataset.ObservationsFile: obs} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := dataset.ReadDirMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	scan, err := m.Scan()
	if err != nil {
		t.Fatal(err)
	}
	// The superseded rows, worked out by hand from the file: a's undated 2024, m's first January vintage,
	// q's undated first quarter.
	if !scan.Sorted || len(scan.Superseded) != 3 || scan.Superseded[1].Period != 1 || scan.Superseded[2].Period != 1 {
		t.Fatalf("scan: sorted %v, superseded %+v; want sorted, 3 superseded (a 2024, m 2024-01, q 2024-Q1)", scan.Sorted, scan.Superseded)
	}
	fast, slow, st := importBoth(t, dir)
	if !st.Fast {
		t.Error("imported through the Go reader")
	}
	if a, b := tables(t, fast), tables(t, slow); a != b {
		t.Errorf("stored tables differ:\n%s", firstDiff(a, b))
	}
	var latest string
	if err := fast.db.QueryRow(`SELECT string_agg(indicator || ' ' || region || ' ' || year || '/' || period || ' ' || value, ', ' ORDER BY indicator, year, period, region)
		FROM observations WHERE latest`).Scan(&latest); err != nil {
		t.Fatal(err)
	}
	if want := "a A 2024/0 2.0, a B 2024/0 5.0, m A 2024/1 1.5, m B 2024/1 2.0, m A 2024/2 3.0, q A 2024/1 4.5, q B 2024/2 6.0"; latest != want {
		t.Errorf("latest values: %s\nwant %s", latest, want)
	}

	// A month of a quarterly indicator, in a file sorted otherwise.
	bad := "region_code,indicator_code,year,period,value\nA,m,,2024-01,1\nA,q,,2024-02,2\n"
	if err := os.WriteFile(filepath.Join(dir, dataset.ObservationsFile), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if m, err = dataset.ReadDirMeta(dir); err != nil {
		t.Fatal(err)
	}
	if scan, err = m.Scan(); err != nil || !scan.Sorted {
		t.Fatalf("scan of the bad file: sorted %v, %v; want sorted", scan.Sorted, err)
	}
	_, want := dataset.ReadDir(dir)
	if want == nil {
		t.Fatal("the Go reader accepts a month of a quarterly indicator")
	}
	store, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.ImportDir(context.Background(), dir, "bad"); err == nil || err.Error() != want.Error() {
		t.Errorf("ImportDir: %v\nwant %v", err, want)
	}
}
