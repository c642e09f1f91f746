// Package dataset reads and validates a dataset folder in pacesetter's source format: regions.csv,
// indicators.csv and observations.csv. It is pure Go: nothing here touches a database, so a refused dataset
// never gets near the data being served.
package dataset

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"

	"pacesetter/analytics"
)

// The files of a dataset folder: the first three are required, the others optional.
const (
	RegionsFile      = "regions.csv"
	IndicatorsFile   = "indicators.csv"
	ObservationsFile = "observations.csv"
	GroupsFile       = "groups.csv"
	MembershipsFile  = "memberships.csv"
	DerivedFile      = "derived.csv"
	SchemesFile      = "schemes.yaml"
	TargetsFile      = "targets.csv"
)

// fileOrder is the order files are read in, and problems listed in.
var fileOrder = map[string]int{RegionsFile: 0, GroupsFile: 1, MembershipsFile: 2, IndicatorsFile: 3, DerivedFile: 4, SchemesFile: 5,
	TargetsFile: 6, ObservationsFile: 7}

// Dataset is a validated dataset, ready to load.
type Dataset struct {
	Regions     []Region
	Groups      []Group      // groups.csv first, then the codes regions.csv's group column adds
	Memberships []Membership // regions.csv's group column (every year), then memberships.csv
	Indicators  []Indicator  // indicators.csv, then the derived indicators of derived.csv
	// Published values and, computed at import, derived and rolled-up ones; sorted by indicator, year,
	// region and vintage (undated first): the order rankings read them in.
	Observations []Observation
	Schemes      []Scheme // schemes.yaml, in file order
	Targets      []Target // targets.csv, in file order
	// The names schemes.yaml gives categories (of indicators and scheme lines) and departments (of scheme
	// lines), in file order; a category or department it does not name is called by its code.
	Categories, Departments []Label
}

// Label is the names of a category or department: its code as the files write it, its Chinese name and
// its English one (either may be ""; the code stands in).
type Label struct {
	Code, Name, NameEn string
}

// Region is one row of regions.csv.
type Region struct {
	Code, Name string
	NameEn     string // optional column name_en
	Parent     string // "" for a root
	Group      string // "" for none
	Level      string // optional column level: country, province, city, county, aggregate…
}

// Group is one row of groups.csv, or a code of regions.csv's group column (named by its code).
type Group struct {
	Code, Name, NameEn string
}

// Membership places a region in a group for an inclusive span of years; 0 leaves an end open.
type Membership struct {
	Group, Region string
	From, To      int
}

// Indicator is one row of indicators.csv or of derived.csv.
type Indicator struct {
	Code, Name, Unit string
	NameEn           string // optional column name_en
	Direction        analytics.Direction
	Measure          analytics.Measure
	Category         string
	Rollup           analytics.Rollup
	Decimals         int // -1: not given
	Source           string
	Formula          string              // canonical formula of a derived indicator; "" for a published one
	FillParents      bool                // derived.csv asks for parent_rollup: parents without a value get their children's rollup
	Frequency        analytics.Frequency // optional column frequency: "" (annual), Q or M
	Cumulative       bool                // optional column cumulative: values are year-to-date totals
}

// Observation is one row of observations.csv, or a value computed at import (Flags has Derived).
type Observation struct {
	Region, Indicator string
	Year              int
	Period            int // the quarter (1–4) or month (1–12) of a sub-annual indicator's value; 0 for a year's
	Value             float64
	Flags             analytics.FlagSet
	Vintage           analytics.Date // "" when undated
}

// PeriodText is the observation's period as observations.csv writes it, for an indicator of frequency f.
func (o Observation) PeriodText(f analytics.Frequency) string {
	if o.Period == 0 {
		return strconv.Itoa(o.Year)
	}
	return analytics.Period{Year: o.Year, Sub: o.Period, Freq: f}.String()
}

// ObservationsDigest sums up the stored observations for a version: their count, and the sum (mod 2^64)
// and the xor of a 64-bit hash of each row (every column). The store computes it in SQL over the table it
// has loaded, whichever way it loaded it, so that 17 million rows need not pass through Go to be hashed.
type ObservationsDigest struct {
	Count    int64
	Sum, Xor uint64
}

// VersionWith is the content hash of the dataset, its observations summed up by obs: equal data, equal
// version, whatever the row order of the files. Caches key on it.
func (d *Dataset) VersionWith(obs ObservationsDigest) string {
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
		put("r", r.Code, r.Name, r.NameEn, r.Parent, r.Group, r.Level)
	}
	for _, g := range d.Groups {
		put("g", g.Code, g.Name, g.NameEn)
	}
	for _, m := range d.Memberships {
		put("m", m.Group, m.Region, strconv.Itoa(m.From), strconv.Itoa(m.To))
	}
	inds := slices.Clone(d.Indicators)
	slices.SortFunc(inds, func(a, b Indicator) int { return cmp.Compare(a.Code, b.Code) })
	for _, i := range inds {
		put("i", i.Code, i.Name, i.NameEn, i.Unit, string(i.Direction), string(i.Measure), i.Category, string(i.Rollup),
			strconv.Itoa(i.Decimals), i.Source, i.Formula, strconv.FormatBool(i.FillParents))
		if i.Frequency != "" || i.Cumulative { // an annual dataset keeps the version it had
			put("f", string(i.Frequency), strconv.FormatBool(i.Cumulative))
		}
	}
	// Schemes and targets count only when there are some, so a dataset without them keeps the version it had.
	for _, sc := range d.Schemes {
		j, _ := json.Marshal(sc) // plain data: fields in declaration order, so the same scheme, the same text
		put("s", string(j))
	}
	for _, l := range d.Categories {
		put("lc", l.Code, l.Name, l.NameEn)
	}
	for _, l := range d.Departments {
		put("ld", l.Code, l.Name, l.NameEn)
	}
	targets := slices.Clone(d.Targets)
	slices.SortFunc(targets, func(a, b Target) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Indicator, b.Indicator), cmp.Compare(a.Year, b.Year), cmp.Compare(a.Kind, b.Kind))
	})
	for _, t := range targets {
		put("t", t.Region, t.Indicator, strconv.Itoa(t.Year), string(t.Comparator), strconv.FormatFloat(t.Value, 'g', -1, 64), string(t.Kind), t.Group)
	}
	var b [24]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(obs.Count))
	binary.LittleEndian.PutUint64(b[8:16], obs.Sum)
	binary.LittleEndian.PutUint64(b[16:], obs.Xor)
	put("o", string(b[:]))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func sortObservations(obs []Observation) { slices.SortFunc(obs, compareObservations) }

// compareObservations orders observations by indicator, year, region and vintage: the key, in the order
// rankings read.
func compareObservations(a, b Observation) int {
	return cmp.Or(cmp.Compare(a.Indicator, b.Indicator), cmp.Compare(a.Year, b.Year), cmp.Compare(a.Period, b.Period),
		cmp.Compare(a.Region, b.Region), cmp.Compare(a.Vintage, b.Vintage))
}

// SameKey says whether two observations are vintages of one value (same indicator, region and year).
func SameKey(a, b Observation) bool {
	return a.Indicator == b.Indicator && a.Year == b.Year && a.Period == b.Period && a.Region == b.Region
}

// SortObservations puts the observations in the order Read returns them (indicator, year, region,
// vintage): for datasets built in code.
func (d *Dataset) SortObservations() { sortObservations(d.Observations) }
