package dataset

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"pacesetter/analytics"
	"pacesetter/analytics/formula"
)

// MaxListed is how many problems an Invalid error spells out; it counts all of them.
const MaxListed = 20

// Problem is one thing wrong with a dataset, at a file and line (the header is line 1; 0 for the file as a
// whole).
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return p.File + ": " + p.Msg
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
}

// Invalid is the error for a refused dataset: the first MaxListed problems, and how many there were.
type Invalid struct {
	Problems []Problem
	Total    int
}

func (e *Invalid) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dataset refused: %d problem(s)", e.Total)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	if e.Total > len(e.Problems) {
		fmt.Fprintf(&b, "\n  … and %d more", e.Total-len(e.Problems))
	}
	return b.String()
}

// problems collects what is wrong. Some checks run after a file is read (parents, cycles, duplicates), so
// problems are kept (up to keptProblems) and put in file and line order before the first MaxListed are shown.
type problems struct{ Invalid }

const keptProblems = 100_000

// meant is "; did you mean "x"?" for an unknown region or indicator code, with the closest code by
// spelling as the API's NOT_FOUND suggests it ("" when none is close). Memoised: one wrong code may fill a
// million rows, and only the first problems are kept anyway.
func (r *reader) meant(kind, code string) string {
	if len(r.ps.Problems) >= keptProblems || len(code) > 64 {
		return ""
	}
	key := kind + "\x00" + code
	if m, ok := r.meantMemo[key]; ok {
		return m
	}
	var codes []string
	if kind == "region" {
		for _, rg := range r.d.Regions {
			codes = append(codes, rg.Code)
		}
	} else {
		for _, in := range r.d.Indicators {
			codes = append(codes, in.Code)
		}
	}
	m := ""
	if near := nearest(code, codes); near != "" {
		m = fmt.Sprintf("; did you mean %q?", near)
	}
	if r.meantMemo == nil {
		r.meantMemo = map[string]string{}
	}
	r.meantMemo[key] = m
	return m
}

func (ps *problems) add(file string, line int, format string, args ...any) {
	ps.Total++
	if len(ps.Problems) < keptProblems {
		ps.Problems = append(ps.Problems, Problem{file, line, fmt.Sprintf(format, args...)})
	}
}

// order is a file's place in reading order; a file not of the native folder is an observations source, read last.
func order(file string) int {
	if o, ok := fileOrder[file]; ok {
		return o
	}
	return len(fileOrder)
}

// result sorts the problems by file (in reading order) and line and keeps the first MaxListed.
func (ps *problems) result() *Invalid {
	slices.SortStableFunc(ps.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(order(a.File), order(b.File)), cmp.Compare(a.Line, b.Line))
	})
	inv := ps.Invalid
	inv.Problems = inv.Problems[:min(len(inv.Problems), MaxListed)]
	return &inv
}

// ReadDir reads and validates the dataset folder at path.
func ReadDir(path string) (*Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder: a dataset is a folder holding %s, %s and %s", path, RegionsFile, IndicatorsFile, ObservationsFile)
	}
	return Read(os.DirFS(path))
}

// reader holds what one Read has learnt so far.
type reader struct {
	fsys fs.FS
	ps   problems
	d    *Dataset

	regionLine    map[string]int
	regionBy      map[string]*Region
	meantMemo     map[string]string // meant's answers
	regionsOK     bool
	groupLine     map[string]int // groups.csv line; -1 for a group named only in regions.csv
	indicatorLine map[string]int
	indicatorsOK  bool
	derived       []derivedDef
	derivedLine   map[string]int  // line of each formula row
	freqGiven     map[string]bool // derived.csv gives the frequency of a formula's indicator
	freqOf        map[string]analytics.Frequency

	// obsFile names where observations come from in problems, and obsRows reads them: observations.csv by
	// default, or another format's rows turned into observations.csv's columns (wdi.go, parquet.go), so
	// every rule below applies to every format alike.
	obsFile string
	obsRows func(row func(line int, col []string)) error
}

// derivedDef is one row of derived.csv: a formula for a new indicator, or parent_rollup for an existing one.
type derivedDef struct {
	line    int
	code    string
	formula *formula.Expr // nil for parent_rollup
	cols    []string      // a parent_rollup row's other columns (name … source), empty or agreeing
}

// Read reads and validates a dataset from fsys. It returns *Invalid when the data breaks a rule; then
// nothing is returned to load.
func Read(fsys fs.FS) (*Dataset, error) {
	r := newReader(fsys)
	if _, err := fs.Stat(fsys, ObservationsFile); errors.Is(err, fs.ErrNotExist) {
		if _, err := fs.Stat(fsys, ParquetObservationsFile); err == nil {
			r.obsFile, r.obsRows = ParquetObservationsFile, parquetRows(fsys, &r.ps)
		}
	}
	return r.read()
}

func newReader(fsys fs.FS) *reader {
	r := &reader{fsys: fsys, d: &Dataset{}, regionLine: map[string]int{}, groupLine: map[string]int{},
		indicatorLine: map[string]int{}, derivedLine: map[string]int{}, freqGiven: map[string]bool{}, obsFile: ObservationsFile}
	r.obsRows = func(row func(line int, col []string)) error {
		_, err := readCSV(r.fsys, ObservationsFile, true, &r.ps, obsRequired, obsOptional, row)
		return err
	}
	return r
}

func (r *reader) read() (*Dataset, error) {
	if err := r.readMeta(); err != nil {
		return nil, err
	}
	if err := r.observations(); err != nil {
		return nil, err
	}
	if r.ps.Total == 0 {
		r.derive()
	}
	if r.ps.Total > 0 {
		return nil, r.ps.result()
	}
	sortObservations(r.d.Observations)
	return r.d, nil
}

// readMeta reads every file but observations.csv.
func (r *reader) readMeta() error {
	for _, step := range []func() error{r.regions, r.groups, r.memberships, r.indicators, r.derivedDefs, r.schemes, r.targets} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) regions() error {
	ps, d := &r.ps, r.d
	var err error
	r.regionsOK, err = readCSV(r.fsys, RegionsFile, true, ps, []string{"region_code", "region_name", "parent_code"}, []string{"group", "name_en", "level"},
		func(line int, col []string) {
			rg := Region{Code: col[0], Name: col[1], Parent: col[2], Group: col[3], NameEn: col[4], Level: col[5]}
			switch {
			case rg.Code == "":
				ps.add(RegionsFile, line, "region_code is empty")
				return
			case r.regionLine[rg.Code] != 0:
				ps.add(RegionsFile, line, "duplicate region_code %q (first on line %d)", rg.Code, r.regionLine[rg.Code])
				return
			}
			if rg.Name == "" {
				ps.add(RegionsFile, line, "region_name of %q is empty", rg.Code)
			}
			if rg.Parent == rg.Code {
				ps.add(RegionsFile, line, "region %q is its own parent", rg.Code)
			}
			r.regionLine[rg.Code] = line
			d.Regions = append(d.Regions, rg)
		})
	if err != nil {
		return err
	}
	r.regionBy = make(map[string]*Region, len(d.Regions))
	for i := range d.Regions {
		r.regionBy[d.Regions[i].Code] = &d.Regions[i]
	}
	for _, rg := range d.Regions {
		if rg.Parent != "" && rg.Parent != rg.Code && r.regionBy[rg.Parent] == nil {
			ps.add(RegionsFile, r.regionLine[rg.Code], "parent_code %q of region %q is not a region_code in %s", rg.Parent, rg.Code, RegionsFile)
		}
	}
	checkCycles(d.Regions, r.regionBy, r.regionLine, ps)
	return nil
}

// groups reads groups.csv (optional), then adds the codes of regions.csv's group column it does not
// define, named by their code; each region's group there is a membership for every year.
func (r *reader) groups() error {
	ps, d := &r.ps, r.d
	_, err := readCSV(r.fsys, GroupsFile, false, ps, []string{"group_code", "name"}, []string{"name_en"},
		func(line int, col []string) {
			g := Group{Code: col[0], Name: col[1], NameEn: col[2]}
			switch {
			case g.Code == "":
				ps.add(GroupsFile, line, "group_code is empty")
				return
			case r.groupLine[g.Code] != 0:
				ps.add(GroupsFile, line, "duplicate group_code %q (first on line %d)", g.Code, r.groupLine[g.Code])
				return
			case g.Name == "":
				ps.add(GroupsFile, line, "name of group %q is empty", g.Code)
			}
			r.groupLine[g.Code] = line
			d.Groups = append(d.Groups, g)
		})
	if err != nil {
		return err
	}
	for _, rg := range d.Regions {
		if rg.Group == "" {
			continue
		}
		if r.groupLine[rg.Group] == 0 {
			r.groupLine[rg.Group] = -1
			d.Groups = append(d.Groups, Group{Code: rg.Group, Name: rg.Group})
		}
		d.Memberships = append(d.Memberships, Membership{Group: rg.Group, Region: rg.Code})
	}
	return nil
}

// memberships reads memberships.csv (optional): a region may be in any number of groups, each for a span
// of years; two spans of one region in one group must not overlap.
func (r *reader) memberships() error {
	ps, d := &r.ps, r.d
	type span struct{ from, to, line int } // line 0: regions.csv's group column
	spans := map[[2]string][]span{}
	for _, m := range d.Memberships {
		spans[[2]string{m.Group, m.Region}] = append(spans[[2]string{m.Group, m.Region}], span{0, 0, 0})
	}
	year := func(line int, name, text string) (int, bool) {
		if text == "" {
			return 0, true
		}
		y, err := strconv.Atoi(text)
		if err != nil || y < 1 || y > 9999 {
			ps.add(MembershipsFile, line, "%s %q is not a whole number from 1 to 9999 (leave it empty for no bound)", name, text)
			return 0, false
		}
		return y, true
	}
	_, err := readCSV(r.fsys, MembershipsFile, false, ps, []string{"group_code", "region_code"}, []string{"from_year", "to_year"},
		func(line int, col []string) {
			m := Membership{Group: col[0], Region: col[1]}
			ok := true
			if r.groupLine[m.Group] == 0 {
				ps.add(MembershipsFile, line, "unknown group_code %q (define it in %s or name it in the group column of %s)", m.Group, GroupsFile, RegionsFile)
				ok = false
			}
			if r.regionBy[m.Region] == nil && r.regionsOK {
				ps.add(MembershipsFile, line, "unknown region_code %q (not in %s)%s", m.Region, RegionsFile, r.meant("region", m.Region))
				ok = false
			}
			var fromOK, toOK bool
			m.From, fromOK = year(line, "from_year", col[2])
			m.To, toOK = year(line, "to_year", col[3])
			if !fromOK || !toOK || !ok {
				return
			}
			if m.From != 0 && m.To != 0 && m.From > m.To {
				ps.add(MembershipsFile, line, "from_year %d is after to_year %d", m.From, m.To)
				return
			}
			key := [2]string{m.Group, m.Region}
			for _, s := range spans[key] {
				if (s.from == 0 || m.To == 0 || s.from <= m.To) && (s.to == 0 || m.From == 0 || m.From <= s.to) {
					where := fmt.Sprintf("line %d", s.line)
					if s.line == 0 {
						where = "the group column of " + RegionsFile
					}
					ps.add(MembershipsFile, line, "membership of %s in %s overlaps the one on %s", m.Region, m.Group, where)
					return
				}
			}
			spans[key] = append(spans[key], span{m.From, m.To, line})
			d.Memberships = append(d.Memberships, m)
		})
	return err
}

// The words of indicators.csv and derived.csv, read in any case; "" is the default where there is one.
var (
	directions = map[string]analytics.Direction{"higher_is_better": analytics.HigherIsBetter, "lower_is_better": analytics.LowerIsBetter}
	measures   = map[string]analytics.Measure{"": analytics.Level, "level": analytics.Level, "rate": analytics.Rate,
		"growth": analytics.Growth, "index": analytics.Index}
	rollups = map[string]analytics.Rollup{"": analytics.RollupNone, "none": analytics.RollupNone, "sum": analytics.RollupSum,
		"mean": analytics.RollupMean}
)

// indicatorColumns reads the columns indicators.csv and derived.csv share into in, telling report what is
// wrong. col holds name, unit, direction, measure, name_en, category, rollup, decimals, source, frequency,
// cumulative.
func indicatorColumns(in *Indicator, col []string, report func(format string, args ...any)) {
	in.Name, in.Unit, in.NameEn, in.Category, in.Source = col[0], col[1], col[4], col[5], col[8]
	if in.Name == "" {
		report("name of indicator %q is empty", in.Code)
	}
	var ok bool
	if in.Direction, ok = directions[strings.ToLower(col[2])]; !ok {
		report("direction %q of indicator %q is not higher_is_better or lower_is_better", col[2], in.Code)
	}
	if in.Measure, ok = measures[strings.ToLower(col[3])]; !ok {
		report("measure %q of indicator %q is not level, rate, growth or index (empty means level)", col[3], in.Code)
	}
	if in.Rollup, ok = rollups[strings.ToLower(col[6])]; !ok {
		report("rollup %q of indicator %q is not sum, mean or none (empty means none)", col[6], in.Code)
	}
	in.Decimals = -1
	if col[7] != "" {
		n, err := strconv.Atoi(col[7])
		if err != nil || n < 0 || n > 15 {
			report("decimals %q of indicator %q is not a whole number from 0 to 15", col[7], in.Code)
		}
		in.Decimals = n
	}
	f, err := analytics.ParseFrequency(col[9])
	if err != nil {
		report("%v for indicator %q (empty means A)", err, in.Code)
	}
	if f != analytics.Annual {
		in.Frequency = f // "" is annual, as in a dataset built in code
	}
	switch strings.ToLower(col[10]) {
	case "", "false":
	case "true":
		in.Cumulative = true
	default:
		report("cumulative %q of indicator %q is not true (values are year-to-date totals) or false (empty means false)", col[10], in.Code)
	}
}

// at reports problems at one file and line.
func (ps *problems) at(file string, line int) func(format string, args ...any) {
	return func(format string, args ...any) { ps.add(file, line, format, args...) }
}

var indicatorOptional = []string{"measure", "name_en", "category", "rollup", "decimals", "source", "frequency", "cumulative"}

func (r *reader) indicators() error {
	ps, d := &r.ps, r.d
	var err error
	r.indicatorsOK, err = readCSV(r.fsys, IndicatorsFile, true, ps, []string{"indicator_code", "name", "unit", "direction"}, indicatorOptional,
		func(line int, col []string) {
			in := Indicator{Code: col[0]}
			switch {
			case in.Code == "":
				ps.add(IndicatorsFile, line, "indicator_code is empty")
				return
			case r.indicatorLine[in.Code] != 0:
				ps.add(IndicatorsFile, line, "duplicate indicator_code %q (first on line %d)", in.Code, r.indicatorLine[in.Code])
				return
			}
			indicatorColumns(&in, []string{col[1], col[2], col[3], col[4], col[5], col[6], col[7], col[8], col[9], col[10], col[11]}, ps.at(IndicatorsFile, line))
			r.indicatorLine[in.Code] = line
			d.Indicators = append(d.Indicators, in)
		})
	return err
}

// ParentRollup is the formula of a derived.csv row that fills parents' values from their children.
const ParentRollup = "parent_rollup"

// derivedDefs reads derived.csv (optional): derived indicators defined by a formula over other indicators
// of the same region and year, and parent_rollup rows for indicators whose parents are filled in from
// their children. Formulas must name known indicators and must not refer back to themselves.
func (r *reader) derivedDefs() error {
	ps, d := &r.ps, r.d
	fillLine := map[string]int{}
	var rollups []derivedDef
	_, err := readCSV(r.fsys, DerivedFile, false, ps, []string{"indicator_code", "name", "unit", "direction", "measure", "formula"}, indicatorOptional[1:],
		func(line int, col []string) {
			code, text := col[0], col[5]
			if code == "" {
				ps.add(DerivedFile, line, "indicator_code is empty")
				return
			}
			if strings.EqualFold(text, ParentRollup) {
				if first := fillLine[code]; first != 0 {
					ps.add(DerivedFile, line, "a second %s row for %q (first on line %d)", ParentRollup, code, first)
					return
				}
				fillLine[code] = line
				rollups = append(rollups, derivedDef{line: line, code: code,
					cols: []string{col[1], col[2], col[3], col[4], col[6], col[7], col[8], col[9], col[10], col[11], col[12]}})
				return
			}
			switch {
			case r.indicatorLine[code] != 0:
				ps.add(DerivedFile, line, "%q is already an indicator of %s (line %d): a derived indicator needs a code of its own", code, IndicatorsFile, r.indicatorLine[code])
				return
			case r.derivedLine[code] != 0:
				ps.add(DerivedFile, line, "duplicate indicator_code %q (first on line %d)", code, r.derivedLine[code])
				return
			}
			in := Indicator{Code: code}
			indicatorColumns(&in, []string{col[1], col[2], col[3], col[4], col[6], col[7], col[8], col[9], col[10], col[11], col[12]}, ps.at(DerivedFile, line))
			if col[11] != "" {
				r.freqGiven[code] = true
			}
			if text == "" {
				ps.add(DerivedFile, line, "formula of %q is empty: write one over other indicators' codes, e.g. retail_sales / population * 10000, or %s", code, ParentRollup)
				return
			}
			expr, err := formula.Parse(text)
			if err != nil {
				ps.add(DerivedFile, line, "formula of %q: %v", code, err)
				return
			}
			in.Formula = expr.String()
			r.derivedLine[code] = line
			r.derived = append(r.derived, derivedDef{line: line, code: code, formula: expr})
			d.Indicators = append(d.Indicators, in)
		})
	if err != nil {
		return err
	}
	// Every code a formula names is an indicator, and no formula depends on itself.
	deps := map[string][]string{}
	for _, def := range r.derived {
		for _, v := range def.formula.Vars() {
			if r.indicatorLine[v] == 0 && r.derivedLine[v] == 0 {
				if r.indicatorsOK {
					ps.add(DerivedFile, def.line, "formula of %q names %q, which is not an indicator of %s or %s", def.code, v, IndicatorsFile, DerivedFile)
				}
				continue
			}
			deps[def.code] = append(deps[def.code], v)
		}
	}
	state := map[string]int{} // 0 unseen, 1 on the path, 2 done
	var visit func(code string, path []string) bool
	visit = func(code string, path []string) bool {
		switch state[code] {
		case 1:
			i := slices.Index(path, code)
			ps.add(DerivedFile, r.derivedLine[code], "formula of %q refers back to itself: %s", code, strings.Join(append(path[i:], code), " → "))
			return false
		case 2:
			return true
		}
		state[code] = 1
		ok := true
		for _, v := range deps[code] {
			ok = visit(v, append(path, code)) && ok
		}
		state[code] = 2
		return ok
	}
	for _, def := range r.derived {
		visit(def.code, nil)
	}
	r.derivedFrequencies()
	for _, def := range rollups {
		in := d.indicator(def.code)
		if in != nil && !r.sameDefinition(def, in) {
			continue
		}
		switch {
		case in == nil:
			if r.indicatorsOK {
				ps.add(DerivedFile, def.line, "%s of %q: not an indicator of %s or %s", ParentRollup, def.code, IndicatorsFile, DerivedFile)
			}
		case in.Rollup == analytics.RollupNone:
			ps.add(DerivedFile, def.line, "%s of %q: its rollup is none, so a parent's value does not follow from its children's; set rollup to sum or mean, or drop this row", ParentRollup, def.code)
		default:
			in.FillParents = true
			r.derived = append(r.derived, def)
		}
	}
	return nil
}

// derivedFrequencies gives each formula's indicator its operands' frequency (a formula combines values of
// the same region and period, so its operands must share one) and refuses a formula mixing frequencies or a
// frequency given in derived.csv that differs from its operands'. Formulas that refer back to themselves
// have been reported already and are left alone.
func (r *reader) derivedFrequencies() {
	d := r.d
	done := map[string]bool{}
	var resolve func(code string, depth int) (analytics.Frequency, bool)
	resolve = func(code string, depth int) (analytics.Frequency, bool) {
		in := d.indicator(code)
		if in == nil || depth > len(r.derived)+1 {
			return "", false
		}
		if r.derivedLine[code] == 0 || done[code] {
			return in.Frequency, true
		}
		var def *derivedDef
		for i := range r.derived {
			if r.derived[i].code == code && r.derived[i].formula != nil {
				def = &r.derived[i]
			}
		}
		if def == nil {
			return in.Frequency, true
		}
		var freq analytics.Frequency
		var first string
		for _, v := range def.formula.Vars() {
			f, ok := resolve(v, depth+1)
			if !ok {
				return "", false
			}
			if freq != "" && f != freq {
				r.ps.add(DerivedFile, def.line, "formula of %q mixes frequencies: %s is %s, %s is %s; a formula combines values of the same period", code, first, freq, v, f)
				done[code] = true
				return in.Frequency, true
			}
			if freq == "" {
				freq, first = f, v
			}
		}
		done[code] = true
		switch {
		case freq == "":
		case !r.freqGiven[code]:
			in.Frequency = freq
		case in.Frequency != freq:
			r.ps.add(DerivedFile, def.line, "frequency %s of %q differs from its operands' (%s); leave it empty or give %s", in.Frequency, code, freq, freq)
		}
		return in.Frequency, true
	}
	for _, def := range r.derived {
		resolve(def.code, 0)
	}
}

// sameDefinition checks the other columns of a parent_rollup row, which may be left empty: any given must
// agree with the indicator's definition, except rollup, which may set how to fill an indicator whose
// definition says none.
func (r *reader) sameDefinition(def derivedDef, in *Indicator) bool {
	given := Indicator{Code: in.Code}
	indicatorColumns(&given, def.cols, func(string, ...any) {}) // empty columns are fine on this row
	names := []string{"name", "unit", "direction", "measure", "name_en", "category", "rollup", "decimals", "source", "frequency", "cumulative"}
	for i, c := range def.cols {
		if c == "" {
			continue
		}
		var agrees bool
		switch names[i] {
		case "name":
			agrees = c == in.Name
		case "unit":
			agrees = c == in.Unit
		case "direction":
			agrees = given.Direction == in.Direction
		case "measure":
			agrees = given.Measure == in.Measure
		case "name_en":
			agrees = c == in.NameEn
		case "category":
			agrees = c == in.Category
		case "rollup":
			agrees = given.Rollup == in.Rollup || in.Rollup == analytics.RollupNone && given.Rollup != ""
			if agrees && given.Rollup != "" {
				in.Rollup = given.Rollup
			}
		case "decimals":
			agrees = given.Decimals == in.Decimals
		case "source":
			agrees = c == in.Source
		case "frequency":
			agrees = given.Frequency == in.Frequency
		case "cumulative":
			agrees = given.Cumulative == in.Cumulative
		}
		if !agrees {
			r.ps.add(DerivedFile, def.line, "%s of %q: %s %q differs from the indicator's definition; leave it empty or give the same", ParentRollup, def.code, names[i], c)
			return false
		}
	}
	return true
}

func (d *Dataset) indicator(code string) *Indicator {
	for i := range d.Indicators {
		if d.Indicators[i].Code == code {
			return &d.Indicators[i]
		}
	}
	return nil
}

// The columns of observations.csv; a row's col holds them in this order.
var (
	obsRequired = []string{"region_code", "indicator_code", "year", "value"}
	obsOptional = []string{"region_name", "flag", "vintage", "period"}
)

func (r *reader) observations() error {
	ps, d := &r.ps, r.d
	// Duplicates are found after sorting, not with a map of every key: a few million rows stay cheap.
	type numbered struct {
		Observation
		line int
	}
	var rows []numbered
	file := r.obsFile
	err := r.obsRows(
		func(line int, col []string) {
			o := Observation{Region: col[0], Indicator: col[1]}
			ok := true
			if rg := r.regionBy[o.Region]; rg != nil {
				o.Region = rg.Code // one copy of each code, not one per row
			} else if r.regionsOK {
				ps.add(file, line, "unknown region_code %q (not in %s)%s", o.Region, RegionsFile, r.meant("region", o.Region))
				ok = false
			}
			switch {
			case r.derivedLine[o.Indicator] != 0:
				ps.add(file, line, "indicator %q is derived (%s line %d): its values are computed at import, not read", o.Indicator, DerivedFile, r.derivedLine[o.Indicator])
				ok = false
			case r.indicatorsOK && r.indicatorLine[o.Indicator] == 0:
				ps.add(file, line, "unknown indicator_code %q (not in %s)%s", o.Indicator, IndicatorsFile, r.meant("indicator", o.Indicator))
				ok = false
			}
			if !r.period(file, line, col[2], col[7], &o) {
				ok = false
			}
			v, err := strconv.ParseFloat(col[3], 64)
			switch {
			case col[3] == "":
				ps.add(file, line, "value is empty: leave a missing value out instead of writing an empty one")
				ok = false
			case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
				ps.add(file, line, "value %q is not a finite number", col[3])
				ok = false
			}
			o.Value = v + 0 // −0 becomes 0: a rank, a gap or a JSON answer should never show −0
			if col[5] != "" {
				if o.Flags, err = analytics.ParseFlags(col[5]); err != nil {
					ps.add(file, line, "%v", err)
					ok = false
				}
			}
			if col[6] != "" {
				if o.Vintage, err = analytics.ParseDate(col[6]); err != nil {
					ps.add(file, line, "vintage %v (the release date; leave it empty when unknown)", err)
					ok = false
				}
			}
			if ok {
				rows = append(rows, numbered{o, line})
			}
		})
	if err != nil {
		return err
	}
	slices.SortFunc(rows, func(a, b numbered) int {
		return cmp.Or(compareObservations(a.Observation, b.Observation), cmp.Compare(a.line, b.line))
	})
	if len(rows) > 0 {
		d.Observations = make([]Observation, 0, len(rows))
	}
	first := 0
	for i, row := range rows {
		if i > 0 && compareObservations(row.Observation, rows[i-1].Observation) == 0 {
			of := ""
			if row.Vintage != "" {
				of = ", vintage " + string(row.Vintage)
			}
			ps.add(file, row.line, "duplicate observation of %s, %s, %s%s (first on line %d)", row.Region, row.Indicator, row.PeriodText(r.frequency(row.Indicator)), of, rows[first].line)
			continue
		}
		first = i
		d.Observations = append(d.Observations, row.Observation)
	}
	return nil
}

// period reads a row's year and period (either may be empty, not both; both given must agree) into o,
// and checks the period against its indicator's frequency.
func (r *reader) period(file string, line int, yearText, periodText string, o *Observation) bool {
	ps := &r.ps
	y := 0
	if yearText != "" || periodText == "" {
		var err error
		y, err = strconv.Atoi(yearText)
		if err != nil || y < 1 || y > 9999 {
			ps.add(file, line, "year %q is not a whole number from 1 to 9999", yearText)
			return false
		}
	}
	p := analytics.Period{Year: y, Freq: analytics.Annual}
	if periodText != "" {
		var err error
		if p, err = analytics.ParsePeriod(periodText); err != nil {
			ps.add(file, line, "%v", err)
			return false
		}
		if y != 0 && y != p.Year {
			ps.add(file, line, "year %d and period %s disagree: give the period's year, or leave year empty", y, periodText)
			return false
		}
	}
	o.Year, o.Period = p.Year, p.Sub
	if r.indicatorLine[o.Indicator] == 0 {
		return true // an unknown indicator has been reported
	}
	if f := r.frequency(o.Indicator); f.PerYear() != p.Freq.PerYear() {
		ps.add(file, line, "period %s is %s, but indicator %q is %s: write its values as %s", p, frequencyName(p.Freq), o.Indicator,
			frequencyName(f), analytics.PeriodAt(f, analytics.OrdOf(f, p.Year, 1)))
		return false
	}
	return true
}

func frequencyName(f analytics.Frequency) string {
	switch f {
	case analytics.Quarterly:
		return "quarterly"
	case analytics.Monthly:
		return "monthly"
	}
	return "annual"
}

// frequency is the frequency of a known indicator, memoised ("" annual).
func (r *reader) frequency(code string) analytics.Frequency {
	if r.freqOf == nil {
		r.freqOf = map[string]analytics.Frequency{}
		for _, in := range r.d.Indicators {
			r.freqOf[in.Code] = in.Frequency
		}
	}
	return r.freqOf[code]
}

// checkCycles reports regions whose parent chain loops back on itself.
func checkCycles(regions []Region, byCode map[string]*Region, line map[string]int, ps *problems) {
	state := map[string]int{} // 0 unseen, 1 on the current path, 2 done
	for _, r := range regions {
		var path []string
		c := r.Code
		for c != "" && state[c] == 0 && byCode[c] != nil {
			state[c] = 1
			path = append(path, c)
			c = byCode[c].Parent
		}
		if c != "" && state[c] == 1 && byCode[c].Parent != c {
			ps.add(RegionsFile, line[c], "parent_code chain of region %q loops back to it", c)
		}
		for _, p := range path {
			state[p] = 2
		}
	}
}

// readCSV reads one file of the dataset (an optional one may be missing): a header row naming every required column (in any order; extra
// columns, such as the optional name_en, are read by name or ignored) and one record per row. UTF-8 with or without a byte-order mark; fields may be quoted.
//
// ok is false when the file could not be read at all (missing, empty, a bad header): then the checks that
// refer to it are skipped, so that one missing file is one problem and not one per row that refers to it.
func readCSV(fsys fs.FS, name string, mandatory bool, ps *problems, required, optional []string, row func(line int, col []string)) (ok bool, err error) {
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		if mandatory {
			ps.add(name, 0, "file is missing: a dataset folder holds %s, %s and %s", RegionsFile, IndicatorsFile, ObservationsFile)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := newCSVReader(f)
	at, want, ok := readHeader(r, name, ps, required, optional)
	if !ok {
		return false, nil
	}
	col := make([]string, len(at))
	r.FieldsPerRecord = -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				ps.add(name, pe.StartLine, "%s", csvMessage(err))
				if pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
					continue
				}
			}
			return false, err
		}
		line, _ := r.FieldPos(0) // only after a successful Read: it panics otherwise
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != want {
			ps.add(name, line, "%d fields, but the header has %d", len(rec), want)
			continue
		}
		if !validUTF8(rec) {
			ps.add(name, line, "not valid UTF-8: save the file as UTF-8")
			continue
		}
		for j, i := range at {
			col[j] = ""
			if i >= 0 {
				col[j] = strings.TrimSpace(rec[i])
			}
		}
		row(line, col)
	}
}

func newCSVReader(f io.Reader) *csv.Reader {
	br := bufio.NewReaderSize(f, 1<<16)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	r := csv.NewReader(br)
	r.ReuseRecord = true
	return r
}

// readHeader reads and checks the header row: at holds where each asked-for column is (required, then
// optional; -1 for an absent optional one), want how many fields every record must have.
func readHeader(r *csv.Reader, name string, ps *problems, required, optional []string) (at []int, want int, ok bool) {
	header, err := r.Read()
	if err == io.EOF {
		ps.add(name, 1, "file is empty: the first line must be the header %s", strings.Join(required, ","))
		return nil, 0, false
	}
	if err != nil {
		ps.add(name, 1, "header cannot be read: %v", csvMessage(err))
		return nil, 0, false
	}
	asked := map[string]bool{}
	for _, c := range append(slices.Clone(required), optional...) {
		asked[c] = true
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, twice := index[h]; twice && asked[h] {
			ps.add(name, 1, "column %q appears twice in the header", h)
			return nil, 0, false
		}
		index[h] = i
	}
	var absent []string
	for _, c := range required {
		if _, ok := index[c]; !ok {
			if _, period := index["period"]; c == "year" && period && asked["period"] {
				continue // observations give a period instead of a year
			}
			absent = append(absent, c)
		}
	}
	if len(absent) > 0 {
		ps.add(name, 1, "missing column(s) %s; the header must name %s", strings.Join(absent, ", "), strings.Join(required, ","))
		return nil, 0, false
	}
	at = make([]int, 0, len(required)+len(optional))
	for _, c := range required {
		if i, ok := index[c]; ok {
			at = append(at, i)
		} else {
			at = append(at, -1) // year, with period given
		}
	}
	for _, c := range optional {
		if i, ok := index[c]; ok {
			at = append(at, i)
		} else {
			at = append(at, -1)
		}
	}
	return at, len(header), true
}

func validUTF8(rec []string) bool {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return false
		}
	}
	return true
}

func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
