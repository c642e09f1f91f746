package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Meta is a dataset folder read without its observations: the small files (regions, groups, memberships,
// indicators, derived) read and validated here, and observations.csv's header checked, so that another
// reader (DuckDB's read_csv, in analytics/duck) can load the rows and check them against these rules, and
// have the derived values computed here from their inputs alone. When anything is wrong, ReadDir is the
// one that says what: Meta only ever answers for clean data.
type Meta struct {
	Dataset *Dataset // every table but Observations
	Dir     string
	// Columns is where region_code, indicator_code, year, value, region_name, flag and vintage are in a
	// record of observations.csv (-1: an optional column that is absent); Fields is how many fields every
	// record has (the header's).
	Columns []int
	Fields  int

	r *reader
}

// The positions in Meta.Columns.
const (
	ColRegion = iota
	ColIndicator
	ColYear
	ColValue
	ColRegionName
	ColFlag
	ColVintage
	ColPeriod
)

// Periodic says whether observations.csv has a period column or an indicator is quarterly or monthly: the
// loader's SQL checks know years only, so such a folder is read by the Go reader.
func (m *Meta) Periodic() bool {
	if m.Columns[ColPeriod] >= 0 {
		return true
	}
	for _, in := range m.Dataset.Indicators {
		if in.Frequency != "" {
			return true
		}
	}
	return false
}

// ReadDirMeta reads the dataset folder at path but for observations.csv's rows. It returns an error
// (*Invalid for a problem in the data) when the folder cannot be loaded as it is; ReadDir then lists every
// problem, those of observations.csv included.
func ReadDirMeta(path string) (*Meta, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", path)
	}
	r := newReader(os.DirFS(path))
	if err := r.readMeta(); err != nil {
		return nil, err
	}
	m := &Meta{Dataset: r.d, Dir: path, r: r}
	f, err := r.fsys.Open(ObservationsFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ok bool
	m.Columns, m.Fields, ok = readHeader(newCSVReader(f), ObservationsFile, &r.ps, obsRequired, obsOptional)
	if !ok || r.ps.Total > 0 {
		return nil, r.ps.result()
	}
	return m, nil
}

// ObservationsPath is the path of observations.csv.
func (m *Meta) ObservationsPath() string { return filepath.Join(m.Dir, ObservationsFile) }

// Derives says whether derived.csv defines anything to compute.
func (m *Meta) Derives() bool { return len(m.r.derived) > 0 }

// DerivedInputs lists, sorted, the indicators derived values are computed from or filled in for: Derive
// needs their observations and no others.
func (m *Meta) DerivedInputs() []string {
	var codes []string
	for _, def := range m.r.derived {
		codes = append(codes, def.code)
		if def.formula != nil {
			codes = append(codes, def.formula.Vars()...)
		}
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// Derive computes the derived values, as Read does, from obs: the published observations of
// DerivedInputs, valid and in Read's order (indicator, year, region, vintage). It returns only the values
// it computed, or *Invalid (derived.csv's problems, e.g. a division by zero) with Read's messages.
func (m *Meta) Derive(obs []Observation) ([]Observation, error) {
	r := m.r
	n := len(obs)
	r.d.Observations = slices.Clip(obs)
	defer func() { r.d.Observations = nil }()
	r.derive()
	if r.ps.Total > 0 {
		return nil, r.ps.result()
	}
	return slices.Clone(r.d.Observations[n:]), nil
}
