package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/xuri/excelize/v2"
)

// DataSheet and AboutSheet are the XLSX sheets: the rows, and what they come from.
const (
	DataSheet  = "data"
	AboutSheet = "dataset"
)

// xlsxWriter streams rows into the data sheet through excelize's StreamWriter, which spills to a temporary
// file past a few MiB; the workbook is zipped onto w at Close (XLSX is a zip: nothing of it is usable
// before its end).
type xlsxWriter struct {
	w     io.Writer
	f     *excelize.File
	sw    *excelize.StreamWriter
	meta  Meta
	cols  []Column
	row   int
	cells []any
	style int // number format with the asked decimals; 0 for none
}

func newXLSX(w io.Writer, cols []Column, meta Meta, opt Options) (*xlsxWriter, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", DataSheet); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(DataSheet)
	if err != nil {
		return nil, err
	}
	x := &xlsxWriter{w: w, f: f, sw: sw, meta: meta, cols: cols, row: 1, cells: make([]any, len(cols))}
	if opt.Decimals >= 0 {
		// Rounded for display only: the cell keeps the number as stored.
		format := "0"
		if opt.Decimals > 0 {
			format += "." + strings.Repeat("0", opt.Decimals)
		}
		if x.style, err = f.NewStyle(&excelize.Style{CustomNumFmt: &format}); err != nil {
			return nil, err
		}
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = c.Name
	}
	return x, x.sw.SetRow("A1", header)
}

func (x *xlsxWriter) Row(cells []any) error {
	x.row++
	for i, v := range cells {
		f, ok := v.(float64)
		if !ok {
			x.cells[i] = v // numbers stay numbers: excelize writes int64 as a numeric cell
			continue
		}
		// An XLSX number holds Excel's 15 significant digits, and excelize cuts off the rest of a longer
		// one (0.8888888888888888 becomes 0.888888888888888); rounded here, it becomes 0.888888888888889, as
		// Excel would show it. Values as published (44922.1) have fewer digits and pass unchanged.
		f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
		if x.style != 0 {
			x.cells[i] = excelize.Cell{StyleID: x.style, Value: f}
		} else {
			x.cells[i] = f
		}
	}
	cell, _ := excelize.CoordinatesToCellName(1, x.row)
	return x.sw.SetRow(cell, x.cells)
}

// Flush does nothing: a workbook is zipped whole at Close.
func (x *xlsxWriter) Flush() error { return nil }

func (x *xlsxWriter) Close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	if _, err := x.f.NewSheet(AboutSheet); err != nil {
		return err
	}
	for i, kv := range x.meta.Pairs() {
		if err := x.f.SetSheetRow(AboutSheet, fmt.Sprintf("A%d", i+1), &[]any{kv[0], kv[1]}); err != nil {
			return err
		}
	}
	return x.f.Write(x.w)
}

// parquetWriter buffers rows into Arrow builders and writes a row group every parquetGroupRows rows.
type parquetWriter struct {
	fw       *pqarrow.FileWriter
	schema   *arrow.Schema
	b        *array.RecordBuilder
	n        int
	decimals int
}

// parquetGroupRows is the rows of one row group: large enough for good compression and column statistics,
// small enough to hold in memory (a few MiB).
const parquetGroupRows = 64 << 10

func newParquet(w io.Writer, cols []Column, meta Meta, opt Options) (*parquetWriter, error) {
	fields := make([]arrow.Field, len(cols))
	names := parquetNames(cols)
	for i, c := range cols {
		var t arrow.DataType
		switch c.Type {
		case Int:
			t = arrow.PrimitiveTypes.Int64
		case Float:
			t = arrow.PrimitiveTypes.Float64
		case Bool:
			t = arrow.FixedWidthTypes.Boolean
		default:
			t = arrow.BinaryTypes.String
		}
		fields[i] = arrow.Field{Name: names[i], Type: t, Nullable: true}
	}
	var keys, vals []string
	for _, kv := range meta.Pairs() {
		keys, vals = append(keys, "pacesetter."+kv[0]), append(vals, kv[1])
	}
	md := arrow.NewMetadata(keys, vals)
	schema := arrow.NewSchema(fields, &md)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(true))
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, err
	}
	return &parquetWriter{fw: fw, schema: schema, b: array.NewRecordBuilder(memory.DefaultAllocator, schema), decimals: opt.Decimals}, nil
}

func (p *parquetWriter) Row(cells []any) error {
	for i, v := range cells {
		fb := p.b.Field(i)
		if v == nil {
			fb.AppendNull()
			continue
		}
		switch v := v.(type) {
		case int64:
			fb.(*array.Int64Builder).Append(v)
		case float64:
			fb.(*array.Float64Builder).Append(round(v, p.decimals))
		case bool:
			fb.(*array.BooleanBuilder).Append(v)
		case string:
			fb.(*array.StringBuilder).Append(v)
		default:
			return fmt.Errorf("column %s: unexpected %T", p.schema.Field(i).Name, v)
		}
	}
	p.n++
	if p.n == parquetGroupRows {
		return p.flush()
	}
	return nil
}

func (p *parquetWriter) flush() error {
	rec := p.b.NewRecordBatch()
	defer rec.Release()
	p.n = 0
	if rec.NumRows() == 0 {
		return nil
	}
	return p.fw.Write(rec)
}

// Flush does nothing: rows go out a row group at a time.
func (p *parquetWriter) Flush() error { return nil }

func (p *parquetWriter) Close() error {
	defer p.b.Release()
	// A table without rows has no row group; the footer still names its columns and types.
	if err := p.flush(); err != nil {
		return err
	}
	return p.fw.Close()
}

// parquetNames are the columns' names as Parquet columns: a dot becomes "_" (region.code is region_code),
// since SQL engines read a dotted name as a nested field unless it is quoted; a name taken already gets
// _2, _3….
func parquetNames(cols []Column) []string {
	out := make([]string, len(cols))
	taken := map[string]bool{}
	for i, c := range cols {
		name := strings.ReplaceAll(c.Name, ".", "_")
		for n := 2; taken[name]; n++ {
			name = fmt.Sprintf("%s_%d", strings.ReplaceAll(c.Name, ".", "_"), n)
		}
		taken[name], out[i] = true, name
	}
	return out
}
