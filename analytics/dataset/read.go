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

func (ps *problems) add(file string, line int, format string, args ...any) {
	ps.Total++
	if len(ps.Problems) < keptProblems {
		ps.Problems = append(ps.Problems, Problem{file, line, fmt.Sprintf(format, args...)})
	}
}

// result sorts the problems by file (in reading order) and line and keeps the first MaxListed.
func (ps *problems) result() *Invalid {
	order := map[string]int{RegionsFile: 0, IndicatorsFile: 1, ObservationsFile: 2}
	slices.SortStableFunc(ps.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(order[a.File], order[b.File]), cmp.Compare(a.Line, b.Line))
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

// Read reads and validates a dataset from fsys. It returns *Invalid when the data breaks a rule; then
// nothing is returned to load.
func Read(fsys fs.FS) (*Dataset, error) {
	var ps problems
	d := &Dataset{}

	regionLine := map[string]int{}
	regionsOK, err := readCSV(fsys, RegionsFile, &ps, []string{"region_code", "region_name", "parent_code", "group"}, []string{"name_en"},
		func(line int, col []string) {
			r := Region{Code: col[0], Name: col[1], Parent: col[2], Group: col[3], NameEn: col[4]}
			switch {
			case r.Code == "":
				ps.add(RegionsFile, line, "region_code is empty")
				return
			case regionLine[r.Code] != 0:
				ps.add(RegionsFile, line, "duplicate region_code %q (first on line %d)", r.Code, regionLine[r.Code])
				return
			}
			if r.Name == "" {
				ps.add(RegionsFile, line, "region_name of %q is empty", r.Code)
			}
			if r.Parent == r.Code {
				ps.add(RegionsFile, line, "region %q is its own parent", r.Code)
			}
			regionLine[r.Code] = line
			d.Regions = append(d.Regions, r)
		})
	if err != nil {
		return nil, err
	}
	byCode := make(map[string]*Region, len(d.Regions))
	for i := range d.Regions {
		byCode[d.Regions[i].Code] = &d.Regions[i]
	}
	for _, r := range d.Regions {
		if r.Parent != "" && r.Parent != r.Code && byCode[r.Parent] == nil {
			ps.add(RegionsFile, regionLine[r.Code], "parent_code %q of region %q is not a region_code in %s", r.Parent, r.Code, RegionsFile)
		}
	}
	checkCycles(d.Regions, byCode, regionLine, &ps)

	indicatorLine := map[string]int{}
	indicatorsOK, err := readCSV(fsys, IndicatorsFile, &ps, []string{"indicator_code", "name", "unit", "direction"}, []string{"name_en"},
		func(line int, col []string) {
			in := Indicator{Code: col[0], Name: col[1], Unit: col[2], NameEn: col[4]}
			switch {
			case in.Code == "":
				ps.add(IndicatorsFile, line, "indicator_code is empty")
				return
			case indicatorLine[in.Code] != 0:
				ps.add(IndicatorsFile, line, "duplicate indicator_code %q (first on line %d)", in.Code, indicatorLine[in.Code])
				return
			}
			if in.Name == "" {
				ps.add(IndicatorsFile, line, "name of indicator %q is empty", in.Code)
			}
			switch dir := col[3]; strings.ToLower(dir) {
			case "higher_is_better":
				in.Direction = analytics.HigherIsBetter
			case "lower_is_better":
				in.Direction = analytics.LowerIsBetter
			default:
				ps.add(IndicatorsFile, line, "direction %q of indicator %q is not higher_is_better or lower_is_better", dir, in.Code)
			}
			indicatorLine[in.Code] = line
			d.Indicators = append(d.Indicators, in)
		})
	if err != nil {
		return nil, err
	}

	// Duplicates are found after sorting, not with a map of every key: a few million rows stay cheap.
	type numbered struct {
		Observation
		line int
	}
	var rows []numbered
	_, err = readCSV(fsys, ObservationsFile, &ps, []string{"region_code", "indicator_code", "year", "value", "region_name"}, nil,
		func(line int, col []string) {
			o := Observation{Region: col[0], Indicator: col[1]}
			ok := true
			if r := byCode[o.Region]; r != nil {
				o.Region = r.Code // one copy of each code, not one per row
			} else if regionsOK {
				ps.add(ObservationsFile, line, "unknown region_code %q (not in %s)", o.Region, RegionsFile)
				ok = false
			}
			if indicatorsOK && indicatorLine[o.Indicator] == 0 {
				ps.add(ObservationsFile, line, "unknown indicator_code %q (not in %s)", o.Indicator, IndicatorsFile)
				ok = false
			}
			y, err := strconv.Atoi(col[2])
			if err != nil || y < 1 || y > 9999 {
				ps.add(ObservationsFile, line, "year %q is not a whole number from 1 to 9999", col[2])
				ok = false
			}
			o.Year = y
			v, err := strconv.ParseFloat(col[3], 64)
			switch {
			case col[3] == "":
				ps.add(ObservationsFile, line, "value is empty: leave a missing value out instead of writing an empty one")
				ok = false
			case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
				ps.add(ObservationsFile, line, "value %q is not a finite number", col[3])
				ok = false
			}
			o.Value = v + 0 // −0 becomes 0: a rank, a gap or a JSON answer should never show −0
			if ok {
				rows = append(rows, numbered{o, line})
			}
		})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rows, func(a, b numbered) int {
		return cmp.Or(compareObservations(a.Observation, b.Observation), cmp.Compare(a.line, b.line))
	})
	if len(rows) > 0 {
		d.Observations = make([]Observation, 0, len(rows))
	}
	first := 0
	for i, r := range rows {
		if i > 0 && compareObservations(r.Observation, rows[i-1].Observation) == 0 {
			ps.add(ObservationsFile, r.line, "duplicate observation of %s, %s, %d (first on line %d)", r.Region, r.Indicator, r.Year, rows[first].line)
			continue
		}
		first = i
		d.Observations = append(d.Observations, r.Observation)
	}
	if ps.Total > 0 {
		return nil, ps.result()
	}
	return d, nil
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

// readCSV reads one file of the dataset: a header row naming every required column (in any order; extra
// columns, such as the optional name_en, are read by name or ignored) and one record per row. UTF-8 with or without a byte-order mark; fields may be quoted.
//
// ok is false when the file could not be read at all (missing, empty, a bad header): then the checks that
// refer to it are skipped, so that one missing file is one problem and not one per row that refers to it.
func readCSV(fsys fs.FS, name string, ps *problems, required, optional []string, row func(line int, col []string)) (ok bool, err error) {
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		ps.add(name, 0, "file is missing: a dataset folder holds %s, %s and %s", RegionsFile, IndicatorsFile, ObservationsFile)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	r := csv.NewReader(br)
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		ps.add(name, 1, "file is empty: the first line must be the header %s", strings.Join(required, ","))
		return false, nil
	}
	if err != nil {
		ps.add(name, 1, "header cannot be read: %v", csvMessage(err))
		return false, nil
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
			return false, nil
		}
		index[h] = i
	}
	var absent []string
	for _, c := range required {
		if _, ok := index[c]; !ok {
			absent = append(absent, c)
		}
	}
	if len(absent) > 0 {
		ps.add(name, 1, "missing column(s) %s; the header must name %s", strings.Join(absent, ", "), strings.Join(required, ","))
		return false, nil
	}
	at := make([]int, 0, len(required)+len(optional)) // where each asked-for column is; -1: absent
	for _, c := range required {
		at = append(at, index[c])
	}
	for _, c := range optional {
		if i, ok := index[c]; ok {
			at = append(at, i)
		} else {
			at = append(at, -1)
		}
	}
	col := make([]string, len(at))
	want := len(header)
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
