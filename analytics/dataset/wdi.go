package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing/fstest"
)

// wdiHeader is how a World Bank WDI bulk CSV starts; the years follow as columns (1960, 1961, …).
var wdiHeader = []string{"Country Name", "Country Code", "Indicator Name", "Indicator Code"}

// IsWDI says whether the file at path is a WDI bulk CSV (by its header; the World Bank's own files start
// with four lines of notes before it, which are skipped).
func IsWDI(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	_, _, err = wdiStart(bufio.NewReader(f))
	return err == nil
}

// wdiStart reads up to the header and returns it with its line number.
func wdiStart(br *bufio.Reader) ([]string, int, error) {
	for line := 1; line <= 5; line++ {
		text, err := br.ReadString('\n')
		text = strings.TrimPrefix(text, "\uFEFF")
		rec, cerr := csv.NewReader(strings.NewReader(text)).Read()
		if cerr == nil && len(rec) > 4 && strings.EqualFold(strings.Join(rec[:4], ","), strings.Join(wdiHeader, ",")) {
			return rec, line, nil
		}
		if err != nil {
			break
		}
	}
	return nil, 0, fmt.Errorf("not a WDI bulk CSV: no header %s,1960,… in its first lines", strings.Join(wdiHeader, ","))
}

// ReadWDI reads a World Bank WDI bulk CSV (one row per country and indicator, one column per year) into a
// dataset. Regions and indicators come from the file's own columns (regions without level or parent,
// indicators higher_is_better with the unit the name gives in its last parentheses), or from a
// regions.csv and an indicators.csv in the native format when their paths are given. Every rule of the
// native reader applies; a problem names the WDI file and its line.
func ReadWDI(path, regionsCSV, indicatorsCSV string) (*Dataset, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	fsys := fstest.MapFS{}
	r := newReader(fsys)
	r.obsFile = name
	// First pass: the header, and the regions and indicators the rows name.
	br := bufio.NewReader(bytes.NewReader(raw))
	header, headerLine, err := wdiStart(br)
	if err != nil {
		return nil, err
	}
	years := map[int]string{} // column → year
	for i, h := range header[4:] {
		if y, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
			years[i+4] = strconv.Itoa(y)
		}
	}
	type named struct {
		name string
		line int
	}
	regions, indicators := map[string]named{}, map[string]named{}
	var regionOrder, indicatorOrder []string
	each := func(row func(line int, rec []string)) error {
		br := bufio.NewReader(bytes.NewReader(raw))
		if _, _, err := wdiStart(br); err != nil {
			return err
		}
		cr := csv.NewReader(br)
		cr.FieldsPerRecord = -1
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				r.ps.add(name, headerLine, "%s", csvMessage(err))
				return nil
			}
			l, _ := cr.FieldPos(0)
			line := l + headerLine
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
				continue
			}
			if len(rec) < 4 {
				r.ps.add(name, line, "%d fields, but a WDI row has at least 4", len(rec))
				continue
			}
			row(line, rec)
		}
	}
	err = each(func(line int, rec []string) {
		for _, x := range []struct {
			seen  map[string]named
			order *[]string
			code  string
			name  string
			what  string
		}{{regions, &regionOrder, strings.TrimSpace(rec[1]), strings.TrimSpace(rec[0]), "Country"},
			{indicators, &indicatorOrder, strings.TrimSpace(rec[3]), strings.TrimSpace(rec[2]), "Indicator"}} {
			if x.code == "" {
				r.ps.add(name, line, "%s Code is empty", x.what)
				continue
			}
			if prev, ok := x.seen[x.code]; !ok {
				x.seen[x.code] = named{x.name, line}
				*x.order = append(*x.order, x.code)
			} else if prev.name != x.name {
				r.ps.add(name, line, "%s Code %q is named %q here but %q on line %d", x.what, x.code, x.name, prev.name, prev.line)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	var rb, ib bytes.Buffer
	if regionsCSV != "" {
		b, err := os.ReadFile(regionsCSV)
		if err != nil {
			return nil, err
		}
		rb.Write(b)
	} else {
		w := csv.NewWriter(&rb)
		w.Write([]string{"region_code", "region_name", "parent_code"})
		for _, c := range regionOrder {
			w.Write([]string{c, regions[c].name, ""})
		}
		w.Flush()
	}
	if indicatorsCSV != "" {
		b, err := os.ReadFile(indicatorsCSV)
		if err != nil {
			return nil, err
		}
		ib.Write(b)
	} else {
		w := csv.NewWriter(&ib)
		w.Write([]string{"indicator_code", "name", "unit", "direction"})
		for _, c := range indicatorOrder {
			n := indicators[c].name
			unit := ""
			if i := strings.LastIndex(n, "("); i >= 0 && strings.HasSuffix(n, ")") {
				unit = n[i+1 : len(n)-1]
			}
			w.Write([]string{c, n, unit, "higher_is_better"})
		}
		w.Flush()
	}
	fsys[RegionsFile] = &fstest.MapFile{Data: rb.Bytes()}
	fsys[IndicatorsFile] = &fstest.MapFile{Data: ib.Bytes()}
	// Second pass, through the native rules: one observation per non-empty year cell, at the row's line.
	r.obsRows = func(row func(line int, col []string)) error {
		return each(func(line int, rec []string) {
			for i := 4; i < len(rec); i++ {
				y, ok := years[i]
				v := strings.TrimSpace(rec[i])
				if !ok || v == "" { // an empty cell is a missing value in WDI's layout
					continue
				}
				row(line, []string{strings.TrimSpace(rec[1]), strings.TrimSpace(rec[3]), y, v, "", "", "", ""})
			}
		})
	}
	return r.read()
}
