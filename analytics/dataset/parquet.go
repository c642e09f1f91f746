package dataset

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ParquetObservationsFile may stand in a dataset folder in place of observations.csv: the same columns in
// long format (region_code, indicator_code, year, value, optional region_name, flag, vintage), of any
// type that reads as their text (year as an integer or text, value as a float, an integer or text).
const ParquetObservationsFile = "observations.parquet"

// parquetRows reads observations.parquet as observations.csv's columns, as text, so that every rule of the
// CSV reader applies; a problem's line is the row's number in the file (the first row is 1).
func parquetRows(fsys fs.FS, ps *problems) func(row func(line int, col []string)) error {
	return func(row func(line int, col []string)) error {
		f, err := fsys.Open(ParquetObservationsFile)
		if err != nil {
			return err
		}
		defer f.Close()
		b, err := io.ReadAll(f) // an fs.File need not seek; Parquet is read from its end
		if err != nil {
			return err
		}
		pf, err := file.NewParquetReader(bytes.NewReader(b))
		if err != nil {
			ps.add(ParquetObservationsFile, 0, "not a Parquet file: %v", err)
			return nil
		}
		defer pf.Close()
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
		if err != nil {
			ps.add(ParquetObservationsFile, 0, "cannot be read: %v", err)
			return nil
		}
		schema, err := fr.Schema()
		if err != nil {
			ps.add(ParquetObservationsFile, 0, "cannot be read: %v", err)
			return nil
		}
		names := []string{"region_code", "indicator_code", "year", "value", "region_name", "flag", "vintage", "period"}
		at := make([]int, len(names))
		var absent []string
		for i, n := range names {
			idx := schema.FieldIndices(n)
			at[i] = -1
			if len(idx) > 0 {
				at[i] = idx[0]
			} else if i < 4 && !(n == "year" && len(schema.FieldIndices("period")) > 0) {
				absent = append(absent, n)
			}
		}
		if len(absent) > 0 {
			ps.add(ParquetObservationsFile, 0, "missing column(s) %v; a long-format file has region_code, indicator_code, year (or period), value (and optionally region_name, flag, vintage, period)", absent)
			return nil
		}
		rr, err := fr.GetRecordReader(context.Background(), nil, nil)
		if err != nil {
			return err
		}
		defer rr.Release()
		col := make([]string, len(names))
		line := 0
		for rr.Next() {
			rec := rr.RecordBatch()
			for i := range int(rec.NumRows()) {
				line++
				for j, c := range at {
					col[j] = ""
					if c >= 0 {
						col[j] = cellText(rec.Column(c), i)
					}
				}
				row(line, col)
			}
		}
		if err := rr.Err(); err != nil && err != io.EOF {
			ps.add(ParquetObservationsFile, line+1, "cannot be read: %v", err)
		}
		return nil
	}
}

// cellText is one Parquet cell as the text the CSV reader would see: "" for a null, numbers in full.
func cellText(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02")
	}
	return fmt.Sprint(a.GetOneForMarshal(i))
}
