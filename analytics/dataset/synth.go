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
	return SyntheticOf(seed, regions, indicators, years, analytics.Annual)
}

// SyntheticOf is Synthetic at frequency f. For Q and M every indicator is of that frequency, and they come
// in threes: a flow (rollup sum, so its year-to-date total is the sum of its periods), a cumulative
// indicator holding the running year-to-date sum of that flow's periods (the same numbers, the dropped ones
// included, so where all of a year's periods up to p are present, its value at p is their sum, rounded to
// one decimal), and a flow without a rollup. Values grow from period to period and carry a seasonal swing.
func SyntheticOf(seed uint64, regions, indicators, years int, f analytics.Frequency) *Dataset {
	var obs []Observation
	d, _ := synthesize(seed, regions, indicators, years, f, func(o Observation) error {
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
	return WriteSyntheticOf(dir, seed, regions, indicators, years, analytics.Annual)
}

// WriteSyntheticOf is WriteSynthetic at frequency f (see SyntheticOf).
func WriteSyntheticOf(dir string, seed uint64, regions, indicators, years int, f analytics.Frequency) (*Dataset, int, error) {
	d, _ := synthesize(seed, regions, indicators, years, f, nil) // the small files only: no observation is made
	if err := d.writeSmall(dir); err != nil {
		return nil, 0, err
	}
	names, freqs := d.regionNames(), d.frequencies()
	n := 0
	err := writeCSV(filepath.Join(dir, ObservationsFile), d.observationsHeader(), func(row func(...string) error) error {
		_, err := synthesize(seed, regions, indicators, years, f, func(o Observation) error {
			n++
			return writeObservation(row, names, freqs, o)
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
func synthesize(seed uint64, regions, indicators, years int, f analytics.Frequency, emit func(Observation) error) (*Dataset, error) {
	if f.PerYear() > 1 {
		return synthesizePeriodic(seed, regions, indicators, years, f, emit)
	}
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

// synthesizePeriodic is synthesize for a quarterly or monthly dataset (see SyntheticOf): the same regions
// and groups, its own indicators and values.
func synthesizePeriodic(seed uint64, regions, indicators, years int, f analytics.Frequency, emit func(Observation) error) (*Dataset, error) {
	d, _ := synthesize(seed, regions, 0, 0, analytics.Annual, nil) // regions and groups
	rng := rand.New(rand.NewPCG(seed, 0x9e71_0d1c))
	per := f.PerYear()
	size := make([]float64, regions)
	for i := range size {
		size[i] = math.Exp(rng.NormFloat64())
	}
	iw := max(3, len(strconv.Itoa(indicators)))
	level := make([]float64, regions)
	growth := make([]float64, regions)
	// The last flow's values (dropped ones included) and which were kept, by year, period and region: the
	// cumulative indicator after it sums them.
	flow := make([]float64, years*per*regions)
	present := make([]bool, years*per*regions)
	for k := range indicators {
		n := fmt.Sprintf("%0*d", iw, k+1)
		in := Indicator{Code: "I" + n, Name: "Indicator " + n, Unit: "CNY 100 million", Direction: analytics.HigherIsBetter,
			Measure: analytics.Level, Rollup: analytics.RollupSum, Decimals: 1, Frequency: f}
		switch k % 3 {
		case 1:
			in.Cumulative, in.Name = true, fmt.Sprintf("Indicator %0*d, year to date", iw, k)
		case 2:
			in.Rollup, in.Unit = analytics.RollupNone, "%"
		}
		if k%5 == 4 {
			in.Direction = analytics.LowerIsBetter
		}
		d.Indicators = append(d.Indicators, in)
		if emit == nil {
			continue
		}
		if k%3 != 1 { // a cumulative indicator reuses the flow's levels and growth
			scale := math.Pow(10, float64(rng.IntN(5)))
			meanGrowth := 0.02 + 0.06*rng.Float64()
			for i := range regions {
				level[i] = scale * size[i] * (0.5 + rng.Float64())
				growth[i] = meanGrowth + 0.03*rng.NormFloat64()
			}
		}
		for y := range years {
			for p := range per {
				for i := range regions {
					var v float64
					if k%3 == 1 {
						// The running sum of the flow before it, over the periods of this year so far.
						v = 0
						for q := 0; q <= p; q++ {
							v += flow[(y*per+q)*regions+i]
						}
						v = math.Round(v*10) / 10
						if !present[(y*per+p)*regions+i] {
							continue // missing where the flow's period is
						}
					} else {
						season := 1 + 0.15*math.Sin(2*math.Pi*float64(p)/float64(per))
						noise := 1 + 0.05*rng.NormFloat64()
						v = math.Round(level[i]*math.Pow(1+growth[i], float64(y)+float64(p)/float64(per))*season*noise*10) / 10
						drop := rng.Float64() < 0.03
						if k%3 == 0 {
							flow[(y*per+p)*regions+i], present[(y*per+p)*regions+i] = v, !drop
						}
						if drop {
							continue
						}
					}
					if v == 0 {
						v = 0 // no negative zero
					}
					if err := emit(Observation{Region: d.Regions[i+1].Code, Indicator: in.Code, Year: 2001 + y, Period: p + 1, Value: v}); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return d, nil
}

// WriteDir writes d as a dataset folder in the source format, creating dir if needed; ReadDir reads it
// back equal to d. Values computed at import (flagged Derived) are not written: derived.csv makes them again.
func (d *Dataset) WriteDir(dir string) error {
	if err := d.writeSmall(dir); err != nil {
		return err
	}
	names, freqs := d.regionNames(), d.frequencies()
	return writeCSV(filepath.Join(dir, ObservationsFile), d.observationsHeader(), func(row func(...string) error) error {
		for _, o := range d.Observations {
			if err := writeObservation(row, names, freqs, o); err != nil {
				return err
			}
		}
		return nil
	})
}

// observationsHeader is observations.csv's header: with a period column in place of year when an
// indicator is quarterly or monthly (an annual dataset's file stays as it was, for the fast loader).
func (d *Dataset) observationsHeader() []string {
	if d.periodic() {
		return []string{"region_code", "region_name", "indicator_code", "period", "value", "flag", "vintage"}
	}
	return []string{"region_code", "region_name", "indicator_code", "year", "value", "flag", "vintage"}
}

func (d *Dataset) periodic() bool {
	return slices.ContainsFunc(d.Indicators, func(in Indicator) bool { return in.Frequency != "" || in.Cumulative })
}

// frequencies maps the codes of sub-annual indicators to their frequency.
func (d *Dataset) frequencies() map[string]analytics.Frequency {
	fs := map[string]analytics.Frequency{}
	for _, in := range d.Indicators {
		if in.Frequency != "" {
			fs[in.Code] = in.Frequency
		}
	}
	return fs
}

// writeObservation writes one observation as a row of observations.csv (its year or, for a sub-annual
// indicator, its period); a value computed at import (flagged Derived) is not written: derived.csv makes it
// again.
func writeObservation(row func(...string) error, names map[string]string, freqs map[string]analytics.Frequency, o Observation) error {
	if o.Flags&analytics.Derived != 0 {
		return nil
	}
	return row(o.Region, names[o.Region], o.Indicator, o.PeriodText(freqs[o.Indicator]), strconv.FormatFloat(o.Value, 'g', -1, 64),
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
	periodic := d.periodic() // frequency and cumulative columns only then: an annual folder stays as it was
	meta := func(in Indicator) []string {
		dec := ""
		if in.Decimals >= 0 {
			dec = strconv.Itoa(in.Decimals)
		}
		m := []string{in.Name, in.Unit, strings.ToLower(string(in.Direction)), strings.ToLower(string(in.Measure)),
			in.NameEn, in.Category, strings.ToLower(string(in.Rollup)), dec, in.Source}
		if periodic {
			m = append(m, string(in.Frequency), strconv.FormatBool(in.Cumulative))
		}
		return m
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
	extra := []string{}
	if periodic {
		extra = []string{"frequency", "cumulative"}
	}
	for _, in := range d.Indicators {
		if in.FillParents {
			derived = append(derived, append([]string{in.Code, "", "", "", "", ParentRollup, "", "", "", "", ""}, make([]string, len(extra))...))
		}
	}
	if err := writeRows(filepath.Join(dir, IndicatorsFile), append([]string{"indicator_code", "name", "unit", "direction", "measure",
		"name_en", "category", "rollup", "decimals", "source"}, extra...), rows); err != nil {
		return err
	}
	if err := writeRows(filepath.Join(dir, DerivedFile), append([]string{"indicator_code", "name", "unit", "direction", "measure", "formula",
		"name_en", "category", "rollup", "decimals", "source"}, extra...), derived); err != nil {
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
