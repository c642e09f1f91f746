package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"pacesetter/analytics"
)

func TestSyntheticRoundTrip(t *testing.T) {
	tests := []struct {
		name                       string
		seed                       uint64
		regions, indicators, years int
		edit                       func(d *Dataset) // applied before writing, to reach what Synthetic never makes
	}{
		{name: "empty", seed: 1},
		{name: "regions only", seed: 1, regions: 3},
		{name: "small", seed: 1, regions: 5, indicators: 3, years: 4},
		{name: "medium", seed: 42, regions: 120, indicators: 11, years: 12},
		{name: "wide codes", seed: 3, regions: 10000, indicators: 1, years: 1},
		{name: "quoting and name_en", seed: 7, regions: 4, indicators: 2, years: 2, edit: func(d *Dataset) {
			d.Regions[1].Name = `North, "upper" part`
			d.Regions[1].NameEn = "North\nmultiline"
			d.Indicators[0].Name = "GDP, per capita"
			d.Indicators[1].NameEn = `"quoted"`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Synthetic(tt.seed, tt.regions, tt.indicators, tt.years)
			if tt.edit != nil {
				tt.edit(d)
			}
			dir := t.TempDir()
			if err := d.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			got, err := ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, d) {
				t.Errorf("read back differs from what was written:\n got %d regions, %d indicators, %d observations\nwant %d, %d, %d",
					len(got.Regions), len(got.Indicators), len(got.Observations), len(d.Regions), len(d.Indicators), len(d.Observations))
			}
			if want := 1 + tt.regions; len(d.Regions) != want {
				t.Errorf("%d regions, want %d (with ROOT)", len(d.Regions), want)
			}
			if len(d.Indicators) != tt.indicators {
				t.Errorf("%d indicators, want %d", len(d.Indicators), tt.indicators)
			}
		})
	}
}

func TestSyntheticDeterministic(t *testing.T) {
	a, b := Synthetic(1, 50, 6, 5), Synthetic(1, 50, 6, 5)
	if !reflect.DeepEqual(a, b) {
		t.Error("two datasets from the same seed differ")
	}
	if c := Synthetic(2, 50, 6, 5); reflect.DeepEqual(c.Observations, a.Observations) {
		t.Error("seeds 1 and 2 give the same dataset")
	}
}

// TestSyntheticShape checks the properties benchmarks rely on: ten groups, some lower_is_better
// indicators, negative values, ties, and about 3% missing.
func TestSyntheticShape(t *testing.T) {
	const regions, indicators, years = 300, 10, 10
	d := Synthetic(1, regions, indicators, years)
	if g := d.Groups; len(g) != 10 {
		t.Errorf("%d groups, want 10: %v", len(g), g)
	}
	lower := 0
	for _, in := range d.Indicators {
		if in.Direction == analytics.LowerIsBetter {
			lower++
		}
	}
	if lower != 2 {
		t.Errorf("%d lower_is_better indicators of %d, want 2", lower, indicators)
	}
	negative, ties := 0, 0
	type key struct {
		indicator string
		year      int
		value     float64
	}
	seen := map[key]bool{}
	for _, o := range d.Observations {
		if o.Value < 0 {
			negative++
		}
		k := key{o.Indicator, o.Year, o.Value}
		if seen[k] {
			ties++
		}
		seen[k] = true
	}
	if negative == 0 || ties == 0 {
		t.Errorf("%d negative values and %d ties, want some of each", negative, ties)
	}
	all := regions * indicators * years
	if missing := float64(all-len(d.Observations)) / float64(all); missing < 0.02 || missing > 0.04 {
		t.Errorf("%.1f%% of observations missing, want about 3%%", 100*missing)
	}
	sorted := append([]Observation(nil), d.Observations...)
	sortObservations(sorted)
	if !reflect.DeepEqual(sorted, d.Observations) {
		t.Error("observations are not in the reader's order")
	}
}

// WriteSynthetic, which streams, writes the same bytes as Synthetic's dataset written by WriteDir, which
// holds every observation, and counts what it wrote, at several sizes.
func TestWriteSyntheticStreamsTheSameFolder(t *testing.T) {
	for _, sz := range [][4]int{{1, 0, 0, 0}, {1, 3, 0, 5}, {2, 5, 3, 4}, {9, 300, 7, 20}, {3, 10000, 2, 2}} {
		seed, regions, indicators, years := uint64(sz[0]), sz[1], sz[2], sz[3]
		want := Synthetic(seed, regions, indicators, years)
		a, b := t.TempDir(), t.TempDir()
		if err := want.WriteDir(a); err != nil {
			t.Fatal(err)
		}
		d, n, err := WriteSynthetic(b, seed, regions, indicators, years)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(want.Observations) || len(d.Regions) != len(want.Regions) || len(d.Indicators) != len(want.Indicators) || d.Observations != nil {
			t.Errorf("%v: %d observations (%d held), %d regions, %d indicators; want %d (none held), %d, %d", sz, n, len(d.Observations),
				len(d.Regions), len(d.Indicators), len(want.Observations), len(want.Regions), len(want.Indicators))
		}
		files, _ := os.ReadDir(a)
		if len(files) == 0 {
			t.Fatal("WriteDir wrote nothing")
		}
		for _, f := range files {
			x, _ := os.ReadFile(filepath.Join(a, f.Name()))
			y, err := os.ReadFile(filepath.Join(b, f.Name()))
			if err != nil || !bytes.Equal(x, y) {
				t.Errorf("%v: %s differs (%d bytes written by WriteDir, %d streamed; %v)", sz, f.Name(), len(x), len(y), err)
			}
		}
	}
}
