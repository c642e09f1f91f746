package dataset

import (
	"bytes"
	"io"
	"os"
	"unicode/utf8"

	"pacesetter/analytics"
)

// Scan is what one quick pass over observations.csv's bytes tells a loader that reads the rows with
// DuckDB's read_csv rather than Go's encoding/csv.
type Scan struct {
	// Plain: every record is one line, and every quote stands where encoding/csv accepts it (a quoted field
	// is quoted whole, "" inside). DuckDB's reader is laxer (it takes a bare quote inside a field, and
	// spaces around a quoted one), so only then do the two readers split the file into the same fields.
	Plain bool
	// Sorted: the rows come in strictly increasing order of indicator, year, period (a year's own value
	// first, then its quarters or months), region and vintage (undated first), the order the observations
	// table is stored in; so no two share a key.
	Sorted bool
	// Vintages: some row has a vintage.
	Vintages bool
	// Superseded lists, when Sorted, the rows followed by a newer vintage of the same value (the key's
	// fields as written; Value and Flags are not read).
	Superseded []Observation
}

// Scan reads observations.csv once, byte by byte where it matters (about 1 GB/s); it looks at the key
// columns only and validates nothing else: the loader's checks do.
func (m *Meta) Scan() (Scan, error) {
	f, err := os.Open(m.ObservationsPath())
	if err != nil {
		return Scan{}, err
	}
	defer f.Close()
	s := Scan{Plain: true, Sorted: true}
	var prev struct {
		indicator, region, vintage []byte
		year, period               int
		ok                         bool
	}
	fields := make([][]byte, 0, m.Fields)
	var unq []byte // unquoted copies of a quoted line's fields
	header := true
	err = eachLine(f, func(line []byte) bool {
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if header {
			header = false
			if len(line) >= 3 && bytes.Equal(line[:3], []byte{0xEF, 0xBB, 0xBF}) {
				line = line[3:]
			}
			fields, unq, s.Plain = splitLine(line, fields, unq)
			return s.Plain
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return true // a blank line: both readers skip it (read_csv refuses one of spaces, and then Go reads)
		}
		fields, unq, s.Plain = splitLine(line, fields, unq)
		if !s.Plain || len(fields) != m.Fields {
			s.Plain = false
			return false
		}
		ind, reg := fields[m.Columns[ColIndicator]], fields[m.Columns[ColRegion]]
		var vin []byte
		if c := m.Columns[ColVintage]; c >= 0 {
			vin = fields[c]
			s.Vintages = s.Vintages || len(vin) > 0
		}
		if !s.Sorted {
			return true
		}
		year, period, yok := m.scanYear(fields)
		if !yok {
			s.Sorted = false
			return true
		}
		if prev.ok {
			c := bytes.Compare(prev.indicator, ind)
			if c == 0 {
				c = compareInt(prev.year, year)
			}
			if c == 0 {
				c = compareInt(prev.period, period)
			}
			if c == 0 {
				c = bytes.Compare(prev.region, reg)
			}
			if c == 0 {
				if c = bytes.Compare(prev.vintage, vin); c < 0 {
					s.Superseded = append(s.Superseded, Observation{Indicator: string(prev.indicator), Year: prev.year,
						Period: prev.period, Region: string(prev.region), Vintage: analytics.Date(prev.vintage)})
				}
			}
			if c >= 0 {
				s.Sorted = false
				s.Superseded = nil
				return true
			}
		}
		prev.indicator = append(prev.indicator[:0], ind...)
		prev.region = append(prev.region[:0], reg...)
		prev.vintage = append(prev.vintage[:0], vin...)
		prev.year, prev.period, prev.ok = year, period, true
		return true
	})
	if err != nil {
		return Scan{}, err
	}
	if !s.Plain {
		s.Sorted, s.Superseded = false, nil
	}
	return s, nil
}

// eachLine calls fn with each line of r (without its '\n') until fn returns false.
func eachLine(r io.Reader, fn func(line []byte) bool) error {
	buf := make([]byte, 4<<20)
	rest := 0
	for {
		n, err := io.ReadFull(r, buf[rest:])
		data := buf[:rest+n]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return err
		}
		pos := 0
		for {
			i := bytes.IndexByte(data[pos:], '\n')
			if i < 0 {
				break
			}
			if !fn(data[pos : pos+i]) {
				return nil
			}
			pos += i + 1
		}
		if eof {
			if pos < len(data) {
				fn(data[pos:])
			}
			return nil
		}
		if pos == 0 { // a line longer than the buffer: grow it
			buf = append(buf, make([]byte, len(buf))...)
		}
		rest = copy(buf, data[pos:])
	}
}

// splitLine splits one line into its fields as encoding/csv would, or says it cannot tell (plain false):
// a quote anywhere but around a whole field, a quoted field left open (it goes on to the next line), or a
// carriage return inside the line, or text that is not UTF-8. Quoted fields are unquoted into unq.
func splitLine(line []byte, fields [][]byte, unq []byte) ([][]byte, []byte, bool) {
	fields = fields[:0]
	// read_csv checks UTF-8 only in the columns a query reads; the Go reader, in every field.
	if bytes.IndexByte(line, '\r') >= 0 || !utf8.Valid(line) {
		return fields, unq, false
	}
	if bytes.IndexByte(line, '"') < 0 {
		for {
			i := bytes.IndexByte(line, ',')
			if i < 0 {
				return append(fields, line), unq, true
			}
			fields = append(fields, line[:i])
			line = line[i+1:]
		}
	}
	unq = unq[:0]
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, ',')
			f := line
			if i >= 0 {
				f = line[:i]
			}
			if bytes.IndexByte(f, '"') >= 0 {
				return fields, unq, false // a bare quote
			}
			fields = append(fields, f)
			if i < 0 {
				return fields, unq, true
			}
			line = line[i+1:]
			continue
		}
		start := len(unq)
		j := 1
		for {
			k := bytes.IndexByte(line[j:], '"')
			if k < 0 {
				return fields, unq, false // open at the end of the line
			}
			unq = append(unq, line[j:j+k]...)
			j += k + 1
			if j < len(line) && line[j] == '"' {
				unq = append(unq, '"')
				j++
				continue
			}
			break
		}
		fields = append(fields, unq[start:len(unq):len(unq)])
		switch {
		case j == len(line):
			return fields, unq, true
		case line[j] != ',':
			return fields, unq, false // text after the closing quote
		}
		line = line[j+1:]
	}
}

// scanYear is a row's year and period (0 for a year's own value, else the quarter or month) as the loader
// reads them from the year column, the period column or both; false for anything but the plain forms
// (YYYY, YYYY-Qn, YYYY-MM, a year and a period that agree): the loader's checks and the Go reader judge
// those, on a file not taken as sorted.
func (m *Meta) scanYear(fields [][]byte) (year, period int, ok bool) {
	var yf, pf []byte
	if c := m.Columns[ColYear]; c >= 0 {
		yf = fields[c]
	}
	if c := m.Columns[ColPeriod]; c >= 0 {
		pf = fields[c]
	}
	if len(pf) == 0 {
		year, ok = smallYear(yf)
		return year, 0, ok
	}
	if len(pf) < 4 {
		return 0, 0, false
	}
	if year, ok = smallYear(pf[:4]); !ok {
		return 0, 0, false
	}
	switch {
	case len(pf) == 4:
	case len(pf) == 7 && pf[4] == '-' && pf[5] == 'Q' && pf[6] >= '1' && pf[6] <= '4':
		period = int(pf[6] - '0')
	case len(pf) == 7 && pf[4] == '-' && pf[5] >= '0' && pf[5] <= '1' && pf[6] >= '0' && pf[6] <= '9':
		period = int(pf[5]-'0')*10 + int(pf[6]-'0')
		if period < 1 || period > 12 {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	if len(yf) > 0 {
		if y, yok := smallYear(yf); !yok || y != year {
			return 0, 0, false
		}
	}
	return year, period, true
}

// smallYear reads a year written as 1 to 4 digits, the only form the loader's checks let through.
func smallYear(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 4 {
		return 0, false
	}
	y := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		y = y*10 + int(c-'0')
	}
	return y, true
}

func compareInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
