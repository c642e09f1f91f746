// Package dataset reads and validates a dataset folder in pacesetter's source format: regions.csv,
// indicators.csv and observations.csv. It is pure Go: nothing here touches a database, so a refused dataset
// never gets near the data being served.
package dataset

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"

	"pacesetter/analytics"
)

// The three files of a dataset folder.
const (
	RegionsFile      = "regions.csv"
	IndicatorsFile   = "indicators.csv"
	ObservationsFile = "observations.csv"
)

// Dataset is a validated dataset, ready to load.
type Dataset struct {
	Regions      []Region
	Indicators   []Indicator
	Observations []Observation // sorted by indicator, year, region: the order rankings read them in
}

// Region is one row of regions.csv.
type Region struct {
	Code, Name string
	NameEn     string // optional column name_en
	Parent     string // "" for a root
	Group      string // "" for none
}

// Indicator is one row of indicators.csv.
type Indicator struct {
	Code, Name, Unit string
	NameEn           string // optional column name_en
	Direction        analytics.Direction
}

// Observation is one row of observations.csv.
type Observation struct {
	Region, Indicator string
	Year              int
	Value             float64
}

// Groups lists the distinct non-empty group codes in order of first appearance.
func (d *Dataset) Groups() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range d.Regions {
		if r.Group != "" && !seen[r.Group] {
			seen[r.Group] = true
			out = append(out, r.Group)
		}
	}
	return out
}

// Version is a content hash of the dataset: equal data, equal version, whatever the row order of the files.
// Caches key on it.
func (d *Dataset) Version() string {
	h := sha256.New()
	put := func(ss ...string) {
		for _, s := range ss {
			var n [8]byte
			binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
			h.Write(n[:])
			h.Write([]byte(s))
		}
	}
	regions := slices.Clone(d.Regions)
	slices.SortFunc(regions, func(a, b Region) int { return cmp.Compare(a.Code, b.Code) })
	for _, r := range regions {
		put("r", r.Code, r.Name, r.NameEn, r.Parent, r.Group)
	}
	inds := slices.Clone(d.Indicators)
	slices.SortFunc(inds, func(a, b Indicator) int { return cmp.Compare(a.Code, b.Code) })
	for _, i := range inds {
		put("i", i.Code, i.Name, i.NameEn, i.Unit, string(i.Direction))
	}
	for _, o := range d.Observations { // already in canonical order
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], uint64(o.Year))
		binary.LittleEndian.PutUint64(b[8:], math.Float64bits(o.Value))
		put("o", o.Region, o.Indicator, string(b[:]))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func sortObservations(obs []Observation) { slices.SortFunc(obs, compareObservations) }

// compareObservations orders observations by indicator, year, region: the key, in the order rankings read.
func compareObservations(a, b Observation) int {
	return cmp.Or(cmp.Compare(a.Indicator, b.Indicator), cmp.Compare(a.Year, b.Year), cmp.Compare(a.Region, b.Region))
}
