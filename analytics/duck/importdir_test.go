package duck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// tables dumps every table of the dataset in stored order (rowid), imported_at left out: two imports of
// the same data must store the same rows in the same order.
func tables(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, table := range datasetTables {
		cols := "*"
		if table == "dataset_info" {
			cols = "version, source"
		}
		rows, err := s.db.Query(`SELECT ` + cols + ` FROM ` + table + ` ORDER BY rowid`)
		if err != nil {
			t.Fatal(err)
		}
		names, _ := rows.Columns()
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		rows.Close()
	}
	return b.String()
}

// importBoth loads dir through ImportDir and through the Go reader with Import, into two new stores, and
// returns the stores and ImportDir's stats.
func importBoth(t *testing.T, dir string) (fast, slow *Store, st ImportStats) {
	t.Helper()
	ctx := context.Background()
	var err error
	if fast, err = Open(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fast.Close() })
	if slow, err = Open(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slow.Close() })
	if st, err = fast.ImportDir(ctx, dir, "x"); err != nil {
		t.Fatal(err)
	}
	d, err := dataset.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Import(ctx, d, "x"); err != nil {
		t.Fatal(err)
	}
	return fast, slow, st
}

// vintaged is a small synthetic dataset with everything the fast path handles apart: flags, revised
// vintages (dated after undated and after dated), a derived formula and parent rollups over them, and
// values that read the same in Go and DuckDB only if both round alike (0.1 steps, large and tiny numbers).
func vintaged() *dataset.Dataset {
	d := dataset.Synthetic(7, 40, 4, 6)
	d.Indicators[0].Rollup, d.Indicators[0].FillParents = analytics.RollupSum, true
	d.Indicators = append(d.Indicators, dataset.Indicator{Code: "ratio", Name: "Ratio", Unit: "u", Direction: analytics.HigherIsBetter,
		Measure: analytics.Level, Rollup: analytics.RollupNone, Decimals: -1, Formula: "I001 / I002"})
	n := len(d.Observations)
	for i := range n {
		o := &d.Observations[i]
		switch {
		case i%7 == 0:
			o.Flags = analytics.Provisional | analytics.Estimated
		case i%13 == 0:
			o.Value = 1.2345678901234567e-300 * float64(i)
		case i%17 == 0:
			o.Value = 9.87654321e250 / float64(i)
		}
		if i%11 == 0 {
			o.Vintage = "2023-06-30"
			d.Observations = append(d.Observations, dataset.Observation{Region: o.Region, Indicator: o.Indicator, Year: o.Year,
				Value: o.Value + 0.1, Flags: analytics.Revised, Vintage: "2024-03-01"})
		}
		if i%19 == 0 {
			d.Observations = append(d.Observations, dataset.Observation{Region: o.Region, Indicator: o.Indicator, Year: o.Year,
				Value: o.Value * 3, Flags: analytics.Break, Vintage: "2025-01-31"})
		}
	}
	d.SortObservations()
	return d
}

// rewrite rewrites the observations.csv of dir line by line (the header is line 0).
func rewrite(t *testing.T, dir string, fn func(i int, line string) string) {
	t.Helper()
	p := filepath.Join(dir, dataset.ObservationsFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var out strings.Builder
	for i, l := range lines {
		out.WriteString(fn(i, l))
	}
	if err := os.WriteFile(p, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".csv") {
			b, err := os.ReadFile(filepath.Join(from, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return to
}

// The fast path stores exactly what the Go path stores, every row of every table in the same order, with
// the same version: on the two shipped datasets (NBS: flags, a derived formula, parent rollups; World
// Bank: quoted names) and on a synthetic one with vintages, in file order, shuffled, and with a BOM, CRLF
// line ends, quoted fields and an extra column.
func TestImportDirMatchesGoPath(t *testing.T) {
	synth := t.TempDir()
	if err := vintaged().WriteDir(synth); err != nil {
		t.Fatal(err)
	}
	shuffled := copyDir(t, synth)
	rewrite(t, shuffled, func(i int, l string) string {
		if i == 0 {
			return l + "\n"
		}
		return "" // kept below, reversed
	})
	b, _ := os.ReadFile(filepath.Join(synth, dataset.ObservationsFile))
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	f, _ := os.OpenFile(filepath.Join(shuffled, dataset.ObservationsFile), os.O_APPEND|os.O_WRONLY, 0)
	for i := len(lines) - 1; i > 0; i-- {
		fmt.Fprintln(f, lines[i])
	}
	f.Close()
	windows := copyDir(t, synth)
	rewrite(t, windows, func(i int, l string) string {
		f := strings.SplitN(l, ",", 3)
		if i == 0 {
			return "\xEF\xBB\xBF" + l + ",note\r\n"
		}
		if i%5 == 0 {
			l = f[0] + `,"` + strings.ReplaceAll(f[1], "Region", `Region, ""so called""`) + `",` + f[2]
		}
		return l + `,"a ""note"", quoted"` + "\r\n\r\n"
	})
	for _, c := range []struct {
		name, dir string
		sorted    bool
	}{
		{"nbs", "../../data/china-provinces-nbs", false},
		{"worldbank", "../../data/worldbank-gdp-population", false},
		{"synthetic", synth, true},
		{"synthetic shuffled", shuffled, false},
		{"synthetic with BOM, CRLF, quotes and an extra column", windows, true},
	} {
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

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n fast %s\n go   %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines against %d", len(al), len(bl))
}

// The version depends on the data only: the same rows in another order give the same version, and a
// changed value, flag or vintage another one.
func TestVersionFollowsTheData(t *testing.T) {
	ctx := context.Background()
	version := func(d *dataset.Dataset) string {
		s, err := Open("")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		st, err := s.Import(ctx, d, "x")
		if err != nil {
			t.Fatal(err)
		}
		return st.Version
	}
	dir := t.TempDir()
	if err := vintaged().WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	read, err := dataset.ReadDir(dir) // with the derived values
	if err != nil {
		t.Fatal(err)
	}
	base := version(read)
	_, _, st := importBoth(t, dir)
	if st.Version != base {
		t.Errorf("ImportDir of the same data: version %s, Import %s", st.Version, base)
	}
	for name, change := range map[string]func(o *dataset.Observation){
		"value":   func(o *dataset.Observation) { o.Value = 1.0000000000000002 },
		"flag":    func(o *dataset.Observation) { o.Flags ^= analytics.Revised },
		"vintage": func(o *dataset.Observation) { o.Vintage = "2022-02-02" },
		"year":    func(o *dataset.Observation) { o.Year = 1999 },
	} {
		d := vintaged()
		o := &d.Observations[3]
		o.Value = 1
		before := version(d)
		change(o)
		d.SortObservations()
		if v := version(d); v == before {
			t.Errorf("a changed %s kept the version %s", name, v)
		}
	}
}

const (
	goodRegions = "region_code,region_name,parent_code,group\nCN,China,,\nA,Alpha,CN,East\nB,\"Beta, the second\",CN,East\nC,Gamma,CN,West\n"
	goodInds    = "indicator_code,name,unit,direction,rollup\ngdp,GDP,\"100 million CNY, current\",higher_is_better,sum\nunemp,Unemployed,persons,lower_is_better,\n"
	goodDerived = "indicator_code,name,unit,direction,measure,formula\nratio,R,u,higher_is_better,level,gdp / unemp\n"
)

func writeFolder(t *testing.T, obs string, derived bool) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{dataset.RegionsFile: goodRegions, dataset.IndicatorsFile: goodInds, dataset.ObservationsFile: obs}
	if derived {
		files[dataset.DerivedFile] = goodDerived
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A folder with a problem in observations.csv is refused by ImportDir with exactly the Go reader's
// message, and the dataset already loaded stays as it was; a folder the fast path's strict checks leave
// to the Go reader, which accepts it, is imported as the Go reader reads it.
func TestImportDirRefusesAsGoReader(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	store, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	good := writeFolder(t, "region_code,indicator_code,year,value,flag,vintage\nA,gdp,2020,10,p,\nB,gdp,2020,20,,2021-01-01\nA,unemp,2020,5,,\n", true)
	if _, err := store.ImportDir(ctx, good, "good"); err != nil {
		t.Fatal(err)
	}
	before := tables(t, store)
	h5 := "region_code,region_name,indicator_code,year,value\n"
	h7 := "region_code,indicator_code,year,value,flag,vintage\n"
	for _, c := range []struct{ name, obs string }{
		{"unknown region", h5 + "A,Alpha,gdp,2020,1\nZZ,Zed,gdp,2020,1\n"},
		{"unknown indicator", h5 + "A,Alpha,gpd,2020,1\n"},
		{"values of a derived indicator", h5 + "A,Alpha,ratio,2020,1\n"},
		{"duplicate", h5 + "A,Alpha,gdp,2020,1\nB,Beta,gdp,2020,1\nA,Alpha,gdp,2020,2\n"},
		{"duplicate in order", h5 + "A,Alpha,gdp,2020,1\nA,Alpha,gdp,2020,2\n"},
		{"duplicate vintage", h7 + "A,gdp,2020,1,,2021-01-01\nA,gdp,2020,2,,\nA,gdp,2020,3,r,2021-01-01\n"},
		{"non-numeric value", h5 + "A,Alpha,gdp,2020,1\nA,Alpha,gdp,2021,12a\n"},
		{"NaN, Inf and too large", h5 + "A,Alpha,gdp,2020,NaN\nA,Alpha,gdp,2021,-Inf\nA,Alpha,gdp,2022,1e400\n"},
		{"empty value", h5 + "A,Alpha,gdp,2020,\n"},
		{"bad year", h5 + "A,Alpha,gdp,2020.5,1\nA,Alpha,gdp,0,1\nA,Alpha,gdp,10000,1\n"},
		{"bad flag and vintage", h7 + "A,gdp,2020,1,px,\nA,gdp,2021,1,,2021-02-30\nA,gdp,2022,1,,March\nA,gdp,2023,1,,2021-2-3\n"},
		{"wrong field count", h5 + "A,Alpha,gdp,2020,1,extra\nB,Beta,gdp,2020\n"},
		{"not UTF-8", h5 + "A,Alpha,gdp,2020,1\nA,\xB1\xB1\xBE\xA9,gdp,2021,1\n"},
		{"bare quotes", h5 + "A\"x,Alpha,gdp,2020,1\n\"B\"x,Beta,gdp,2020,1\nA,Al\"pha,gdp,2021,1\n"},
		{"spaces around a quoted field", h5 + "A, \"Alpha\",gdp,2020,1\nB,\"Beta\" ,gdp,2020,1\n"},
		{"quote left open", h5 + "A,\"Alpha,gdp,2020,1\nB,Beta,gdp,2020,1\n"},
		{"a carriage return alone", h5 + "A,Alpha,gdp,2020,1\rB,Beta,gdp,2020,2\n"},
		{"missing column", "region_code,indicator_code,value\nA,gdp,1\n"},
		{"column twice", "region_code,indicator_code,year,value,year\nA,gdp,2020,1,2020\n"},
		{"empty file", ""},
		{"CRLF and BOM with problems", "\xEF\xBB\xBF" + strings.ReplaceAll(h5+"A,Alpha,gdp,2020,1\nQ,Q,gdp,2020,1\n", "\n", "\r\n")},
		{"division by zero", h5 + "A,Alpha,gdp,2020,1\nA,Alpha,unemp,2020,0\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeFolder(t, c.obs, true)
			_, want := dataset.ReadDir(dir)
			var inv *dataset.Invalid
			if !errors.As(want, &inv) {
				t.Fatalf("the Go reader accepts it: %v", want)
			}
			_, err := store.ImportDir(ctx, dir, "bad")
			if err == nil || err.Error() != want.Error() {
				t.Errorf("ImportDir said\n%v\nthe Go reader\n%v", err, want)
			}
			if after := tables(t, store); after != before {
				t.Errorf("a refused import changed the data:\n%s", firstDiff(after, before))
			}
		})
	}
	// Text the checks in SQL do not take but the Go reader reads (it trims spaces, takes a sign, a hex
	// float, underscores): loaded, by the Go reader, as the Go reader reads it. (A vintage in year 0000 is
	// read alike by both.)
	for _, c := range []struct {
		name, obs string
		fast      bool
	}{
		{"spaces", h7 + " A ,gdp, 2020 , 1.5 , p ,\n", false},
		{"signs and hex", h7 + "A,gdp,+2020,0x1p-2,,\nB,gdp,02020,1_000,,\n", false},
		{"a blank line of spaces", h7 + "A,gdp,2020,1,,\n   \nB,gdp,2020,2,,\n", false},
		{"year 0000 vintage", h7 + "A,gdp,2020,1,,0000-01-01\nA,gdp,2020,2,,\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeFolder(t, c.obs, false)
			fast, slow, st := importBoth(t, dir)
			if st.Fast != c.fast {
				t.Errorf("fast path %v", st.Fast)
			}
			if a, b := tables(t, fast), tables(t, slow); a != b {
				t.Errorf("stored tables differ:\n%s", firstDiff(a, b))
			}
		})
	}
}

// BenchmarkImportDir measures the floor (DuckDB's own read_csv into a table of a new file) and ImportDir
// on the same folder, set by PACESETTER_BENCH_DIR (e.g. /tmp/big, written by pacesetter synth): the
// import's time over the floor's is the ratio the speed issue tracks.
//
//	PACESETTER_BENCH_DIR=/tmp/big go test -run '^$' -bench BenchmarkImportDir -benchtime 1x ./analytics/duck/
func BenchmarkImportDir(b *testing.B) {
	dir := os.Getenv("PACESETTER_BENCH_DIR")
	if dir == "" {
		b.Skip("set PACESETTER_BENCH_DIR to a dataset folder")
	}
	ctx := context.Background()
	b.Run("floor", func(b *testing.B) {
		for b.Loop() {
			if _, err := FloorLoadCSV(ctx, filepath.Join(dir, dataset.ObservationsFile)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("import", func(b *testing.B) {
		for b.Loop() {
			tmp := b.TempDir()
			s, err := Open(filepath.Join(tmp, "i.db"))
			if err != nil {
				b.Fatal(err)
			}
			st, err := s.ImportDir(ctx, dir, "bench")
			s.Close()
			if err != nil || !st.Fast {
				b.Fatalf("fast %v: %v", st.Fast, err)
			}
		}
	})
}
