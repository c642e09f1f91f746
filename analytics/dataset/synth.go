package dataset

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"pacesetter/analytics"
)

// Synthetic returns a made-up dataset of the given size, the same for the same arguments: a root region
// ROOT (no values of its own) parent of regions R0001… spread over ten peer groups G01…G10, indicators
// I001… (every fifth one lower_is_better), and years 2001… . A value is a per-region level times a
// per-indicator growth, with noise, rounded to one decimal so that ties happen; some indicators are
// balances that go negative, and about 3% of the (region, indicator, year) observations are left out.
// It serves benchmarks and tests at sizes no real dataset in the repository has.
func Synthetic(seed uint64, regions, indicators, years int) *Dataset {
	var obs []Observation
	d, _ := synthesize(seed, regions, indicators, years, func(o Observation) error {
		obs = append(obs, o)
		return nil
	}) // this emit never fails
	d.Observations = obs
	return d
}

// WriteSynthetic writes the dataset Synthetic returns for the same arguments as a folder (what WriteDir
// writes of it), streaming its observations: they are written as they are made and never held, so memory
// stays flat at any size (17.5 million observations were 4.7 GB held). It returns the dataset without its
// observations, and how many were written.
func WriteSynthetic(dir string, seed uint64, regions, indicators, years int) (*Dataset, int, error) {
	d, _ := synthesize(seed, regions, indicators, years, nil) // the small files only: no observation is made
	if err := d.writeSmall(dir); err != nil {
		return nil, 0, err
	}
	names := d.regionNames()
	n := 0
	err := writeCSV(filepath.Join(dir, ObservationsFile), observationsHeader, func(row func(...string) error) error {
		_, err := synthesize(seed, regions, indicators, years, func(o Observation) error {
			n++
			return writeObservation(row, names, o)
		})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return d, n, nil
}

// synthesize makes Synthetic's dataset without its observations, handing each to emit as it is made, in
// the order Read returns them (by indicator, year and region: codes are zero-padded); emit nil makes none
// (and draws no numbers for them, which changes nothing else). It stops at the first error emit returns.
func synthesize(seed uint64, regions, indicators, years int, emit func(Observation) error) (*Dataset, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_9ace_5e77e4))
	d := &Dataset{}

	d.Regions = append(d.Regions, Region{Code: "ROOT", Name: "All regions"})
	rw := max(4, len(strconv.Itoa(regions)))
	size := make([]float64, regions) // a region's size, shared by all its indicators
	for i := range regions {
		n := fmt.Sprintf("%0*d", rw, i+1)
		d.Regions = append(d.Regions, Region{Code: "R" + n, Name: "Region " + n, Parent: "ROOT",
			Group: fmt.Sprintf("G%02d", rng.IntN(10)+1)})
		size[i] = math.Exp(rng.NormFloat64())
	}

	units := []string{"persons", "current US$", "%", "per 1,000 people", "tonnes"}
	iw := max(3, len(strconv.Itoa(indicators)))
	level := make([]float64, regions)
	growth := make([]float64, regions)
	for k := range indicators {
		n := fmt.Sprintf("%0*d", iw, k+1)
		in := Indicator{Code: "I" + n, Name: "Indicator " + n, Unit: units[k%len(units)], Direction: analytics.HigherIsBetter,
			Measure: analytics.Level, Rollup: analytics.RollupNone, Decimals: 1}
		if k%5 == 2 {
			in.Direction = analytics.LowerIsBetter
		}
		d.Indicators = append(d.Indicators, in)

		scale := math.Pow(10, float64(rng.IntN(7))) // 1 … 1e6: small scales make ties after rounding
		balance := k%7 == 3                         // a balance: centred on zero, so often negative
		meanGrowth := 0.01 + 0.04*rng.Float64()
		for i := range regions {
			level[i] = scale * size[i] * (0.5 + rng.Float64())
			if balance {
				level[i] = scale * rng.NormFloat64()
			}
			growth[i] = meanGrowth + 0.02*rng.NormFloat64()
		}
		for y := range years {
			if emit == nil {
				break
			}
			for i := range regions {
				// Drawn before the skip, so that leaving a value out does not shift the values after it.
				noise := 1 + 0.05*rng.NormFloat64()
				if balance {
					noise = 1 + 0.3*rng.NormFloat64()
				}
				if rng.Float64() < 0.03 {
					continue
				}
				v := math.Round(level[i]*math.Pow(1+growth[i], float64(y))*noise*10) / 10
				if v == 0 {
					v = 0 // no negative zero
				}
				if err := emit(Observation{Region: d.Regions[i+1].Code, Indicator: in.Code, Year: 2001 + y, Value: v}); err != nil {
					return nil, err
				}
			}
		}
	}
	// The groups and memberships Read makes of regions.csv's group column.
	for _, r := range d.Regions {
		if r.Group == "" {
			continue
		}
		if !slices.ContainsFunc(d.Groups, func(g Group) bool { return g.Code == r.Group }) {
			d.Groups = append(d.Groups, Group{Code: r.Group, Name: r.Group})
		}
		d.Memberships = append(d.Memberships, Membership{Group: r.Group, Region: r.Code})
	}
	return d, nil
}

// WriteDir writes d as a dataset folder in the source format, creating dir if needed; ReadDir reads it
// back equal to d. Values computed at import (flagged Derived) are not written: derived.csv makes them again.
func (d *Dataset) WriteDir(dir string) error {
	if err := d.writeSmall(dir); err != nil {
		return err
	}
	names := d.regionNames()
	return writeCSV(filepath.Join(dir, ObservationsFile), observationsHeader, func(row func(...string) error) error {
		for _, o := range d.Observations {
			if err := writeObservation(row, names, o); err != nil {
				return err
			}
		}
		return nil
	})
}

var observationsHeader = []string{"region_code", "region_name", "indicator_code", "year", "value", "flag", "vintage"}

// writeObservation writes one observation as a row of observations.csv; a value computed at import
// (flagged Derived) is not written: derived.csv makes it again.
func writeObservation(row func(...string) error, names map[string]string, o Observation) error {
	if o.Flags&analytics.Derived != 0 {
		return nil
	}
	return row(o.Region, names[o.Region], o.Indicator, strconv.Itoa(o.Year), strconv.FormatFloat(o.Value, 'g', -1, 64),
		strings.Join(o.Flags.Letters(), ""), string(o.Vintage))
}

// regionNames maps each region's code to its name, for observations.csv's region_name column.
func (d *Dataset) regionNames() map[string]string {
	names := make(map[string]string, len(d.Regions))
	for _, r := range d.Regions {
		names[r.Code] = r.Name
	}
	return names
}

// writeSmall writes every file of the folder but observations.csv, creating dir if needed.
func (d *Dataset) writeSmall(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Optional columns are always written: the reader takes an empty one as none.
	groupOf := map[[2]string]bool{}
	rows := [][]string{}
	for _, r := range d.Regions {
		groupOf[[2]string{r.Group, r.Code}] = r.Group != ""
		rows = append(rows, []string{r.Code, r.Name, r.Parent, r.Group, r.NameEn, r.Level})
	}
	if err := writeRows(filepath.Join(dir, RegionsFile), []string{"region_code", "region_name", "parent_code", "group", "name_en", "level"}, rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, g := range d.Groups {
		rows = append(rows, []string{g.Code, g.Name, g.NameEn})
	}
	if err := writeRows(filepath.Join(dir, GroupsFile), []string{"group_code", "name", "name_en"}, rows); err != nil {
		return err
	}
	rows = rows[:0]
	year := func(y int) string {
		if y == 0 {
			return ""
		}
		return strconv.Itoa(y)
	}
	for _, m := range d.Memberships {
		if m.From == 0 && m.To == 0 && groupOf[[2]string{m.Group, m.Region}] {
			continue // regions.csv's group column says it
		}
		rows = append(rows, []string{m.Group, m.Region, year(m.From), year(m.To)})
	}
	if err := writeRows(filepath.Join(dir, MembershipsFile), []string{"group_code", "region_code", "from_year", "to_year"}, rows); err != nil {
		return err
	}
	meta := func(in Indicator) []string {
		dec := ""
		if in.Decimals >= 0 {
			dec = strconv.Itoa(in.Decimals)
		}
		return []string{in.Name, in.Unit, strings.ToLower(string(in.Direction)), strings.ToLower(string(in.Measure)),
			in.NameEn, in.Category, strings.ToLower(string(in.Rollup)), dec, in.Source}
	}
	rows = rows[:0]
	derived := [][]string{}
	for _, in := range d.Indicators {
		if in.Formula != "" {
			m := meta(in)
			derived = append(derived, append([]string{in.Code, m[0], m[1], m[2], m[3], in.Formula}, m[4:]...))
		} else {
			rows = append(rows, append([]string{in.Code}, meta(in)...))
		}
	}
	for _, in := range d.Indicators {
		if in.FillParents {
			derived = append(derived, []string{in.Code, "", "", "", "", ParentRollup, "", "", "", "", ""})
		}
	}
	if err := writeRows(filepath.Join(dir, IndicatorsFile), []string{"indicator_code", "name", "unit", "direction", "measure",
		"name_en", "category", "rollup", "decimals", "source"}, rows); err != nil {
		return err
	}
	if err := writeRows(filepath.Join(dir, DerivedFile), []string{"indicator_code", "name", "unit", "direction", "measure", "formula",
		"name_en", "category", "rollup", "decimals", "source"}, derived); err != nil {
		return err
	}
	return nil
}

// writeRows writes a small file whose rows are all at hand.
func writeRows(path string, header []string, rows [][]string) error {
	return writeCSV(path, header, func(row func(...string) error) error {
		for _, r := range rows {
			if err := row(r...); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeCSV writes one file of a dataset folder: the header, then the records rows gives.
func writeCSV(path string, header []string, rows func(row func(...string) error) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	w := csv.NewWriter(bw)
	err = w.Write(header)
	if err == nil {
		err = rows(func(rec ...string) error { return w.Write(rec) })
	}
	if err == nil {
		w.Flush()
		err = w.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
