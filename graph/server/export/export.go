// Package export writes a table (typed columns, then rows) as CSV, JSON lines, XLSX or Parquet, row by row,
// so that a large export never has to be held whole. It knows nothing of GraphQL: graph/server/export.go plans the
// columns from a query and feeds the rows.
package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// Type is a column's type, from the GraphQL schema: Int, Float, Boolean, or text (String, ID, enums, dates).
type Type int

const (
	String Type = iota
	Int
	Float
	Bool
)

// Column is one column: its name (the leaf field's path, aliases respected) and type. Every column may hold
// nulls.
type Column struct {
	Name string
	Type Type
}

// Meta names what the rows come from: written into XLSX's second sheet and Parquet's key-value metadata.
type Meta struct {
	Dataset    string // the dataset's source name
	Version    string
	ImportedAt time.Time
	Citation   string
	Query      string
	ExportedAt time.Time
}

// Pairs are the facts of m in a fixed order, as key and value.
func (m Meta) Pairs() [][2]string {
	return [][2]string{
		{"dataset", m.Dataset},
		{"version", m.Version},
		{"imported_at", m.ImportedAt.UTC().Format(time.RFC3339)},
		{"citation", m.Citation},
		{"query", m.Query},
		{"exported_at", m.ExportedAt.UTC().Format(time.RFC3339)},
		{"exported_by", "pacesetter"},
	}
}

// Options are the writer's options.
type Options struct {
	// BOM starts a CSV file with a UTF-8 byte-order mark, which Excel needs to read UTF-8.
	BOM bool
	// Decimals, when not negative, rounds Float cells to that many decimals for display (XLSX keeps the value
	// and shows it rounded through a number format); otherwise numbers are written as they are.
	Decimals int
}

// Writer writes one table. A cell is nil, int64, float64, string or bool, matching its column's Type.
type Writer interface {
	Row(cells []any) error
	// Flush sends what is buffered on, where the format allows it (CSV and JSON lines), so a client reads
	// a long export as it comes.
	Flush() error
	// Close finishes the file; before it, the output is not a complete file.
	Close() error
}

// Formats lists the formats New accepts, with their media types and file extensions.
var Formats = map[string]struct{ MediaType, Ext string }{
	"csv":     {"text/csv; charset=utf-8", "csv"},
	"jsonl":   {"application/jsonl; charset=utf-8", "jsonl"},
	"xlsx":    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"},
	"parquet": {"application/vnd.apache.parquet", "parquet"},
}

// XLSXMaxRows is the most data rows one XLSX sheet holds (1,048,576 rows less the header).
const XLSXMaxRows = 1<<20 - 1

// New starts a table of the format on w.
func New(format string, w io.Writer, cols []Column, meta Meta, opt Options) (Writer, error) {
	switch format {
	case "csv":
		return newCSV(w, cols, opt)
	case "jsonl":
		return newJSONL(w, cols, opt), nil
	case "xlsx":
		return newXLSX(w, cols, meta, opt)
	case "parquet":
		return newParquet(w, cols, meta, opt)
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// round rounds v to d decimals for display when d is not negative, half away from zero on the shortest
// decimal text of v (so 2.675 gives 2.68 as a reader expects, not 2.67 as its binary value would).
func round(v float64, d int) float64 {
	if d < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	if r, ok := roundText(strconv.FormatFloat(v, 'f', -1, 64), d); ok {
		return r
	}
	return v
}

// roundText rounds the decimal text s half away from zero to d decimals.
func roundText(s string, d int) (float64, bool) {
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	dot := len(s)
	for i := range s {
		if s[i] == '.' {
			dot = i
			break
		}
	}
	if dot == len(s) || len(s)-dot-1 <= d {
		v, err := strconv.ParseFloat(s, 64)
		if neg {
			v = -v
		}
		return v, err == nil
	}
	digits := []byte(s[:dot] + s[dot+1:dot+1+d])
	up := s[dot+1+d] >= '5'
	for i := len(digits) - 1; up && i >= 0; i-- {
		if digits[i] == '9' {
			digits[i] = '0'
			continue
		}
		digits[i]++
		up = false
	}
	text := string(digits)
	if up {
		text = "1" + text
	}
	intLen := len(text) - d
	v, err := strconv.ParseFloat(text[:intLen]+"."+text[intLen:], 64)
	if neg {
		v = -v
	}
	return v, err == nil
}

// text is a cell as CSV text: numbers in the shortest form that reads back as the same float64, without an
// exponent (so spreadsheets and scripts read them alike).
func text(c any, decimals int) string {
	switch v := c.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		v = round(v, decimals)
		if a := math.Abs(v); a != 0 && (a >= 1e21 || a < 1e-7) {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(c)
}

type csvWriter struct {
	bw       *bufio.Writer
	w        *csv.Writer
	rec      []string
	decimals int
}

func newCSV(w io.Writer, cols []Column, opt Options) (*csvWriter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if opt.BOM {
		bw.WriteString("\uFEFF")
	}
	c := &csvWriter{bw: bw, w: csv.NewWriter(bw), rec: make([]string, len(cols)), decimals: opt.Decimals}
	for i, col := range cols {
		c.rec[i] = col.Name
	}
	return c, c.w.Write(c.rec)
}

func (c *csvWriter) Row(cells []any) error {
	for i, v := range cells {
		c.rec[i] = text(v, c.decimals)
	}
	return c.w.Write(c.rec)
}

func (c *csvWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

func (c *csvWriter) Close() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

type jsonlWriter struct {
	bw       *bufio.Writer
	keys     [][]byte // each column's quoted name
	decimals int
	buf      []byte
}

func newJSONL(w io.Writer, cols []Column, opt Options) *jsonlWriter {
	j := &jsonlWriter{bw: bufio.NewWriterSize(w, 64<<10), decimals: opt.Decimals}
	for _, c := range cols {
		k, _ := json.Marshal(c.Name)
		j.keys = append(j.keys, k)
	}
	return j
}

// Row writes one JSON object per line, with the columns' flat names as keys in column order and null for a
// missing cell, so every line has every column.
func (j *jsonlWriter) Row(cells []any) error {
	b := append(j.buf[:0], '{')
	for i, v := range cells {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, j.keys[i]...)
		b = append(b, ':')
		switch v := v.(type) {
		case nil:
			b = append(b, "null"...)
		case string:
			s, _ := json.Marshal(v)
			b = append(b, s...)
		case float64:
			b = strconv.AppendFloat(b, round(v, j.decimals), 'g', -1, 64)
		default:
			b = append(b, text(v, -1)...)
		}
	}
	b = append(b, '}', '\n')
	j.buf = b
	_, err := j.bw.Write(b)
	return err
}

func (j *jsonlWriter) Flush() error { return j.bw.Flush() }
func (j *jsonlWriter) Close() error { return j.bw.Flush() }
