package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/xuri/excelize/v2"

	"pacesetter/analytics"
	"pacesetter/analytics/query"
	"pacesetter/data"
)

// exportOf POSTs a query to /export and returns the response with its body read.
func exportOf(tb testing.TB, base, params, query string, vars map[string]any) (*http.Response, []byte) {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	res, err := http.Post(base+"/export?"+params, "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s: reading the body: %v", params, err)
	}
	return res, raw
}

// table is an export read back: the header and every row, each cell as a Go value (nil, float64, int64,
// string, bool) as the file's own reader gives it.
type table struct {
	header []string
	rows   [][]any
}

// graphqlTable flattens a /graphql answer's list independently of the export code: for each expected column
// path, the value at that path in each row, numbers decoded by encoding/json.
func graphqlTable(tb testing.TB, list []any, columns []string) table {
	tb.Helper()
	t := table{header: columns}
	for _, row := range list {
		var cells []any
		for _, c := range columns {
			v := row
			for _, k := range strings.Split(c, ".") {
				v = v.(map[string]any)[k]
			}
			if items, ok := v.([]any); ok { // flags: joined by ";"
				var s []string
				for _, it := range items {
					s = append(s, it.(string))
				}
				v = strings.Join(s, ";")
			}
			cells = append(cells, v)
		}
		t.rows = append(t.rows, cells)
	}
	return t
}

func readCSVTable(tb testing.TB, raw []byte) table {
	tb.Helper()
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	t := table{header: recs[0]}
	for _, r := range recs[1:] {
		row := make([]any, len(r))
		for i, s := range r {
			row[i] = s
		}
		t.rows = append(t.rows, row)
	}
	return t
}

func readJSONLTable(tb testing.TB, raw []byte, header []string) table {
	tb.Helper()
	t := table{header: header}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatal(err)
		}
		if len(m) != len(header) {
			tb.Fatalf("line has %d keys, want %d: %s", len(m), len(header), sc.Text())
		}
		row := make([]any, len(header))
		for i, h := range header {
			row[i] = m[h]
		}
		t.rows = append(t.rows, row)
	}
	return t
}

func readXLSXTable(tb testing.TB, raw []byte) (table, map[string]string) {
	tb.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("data", excelize.Options{RawCellValue: true})
	if err != nil {
		tb.Fatal(err)
	}
	t := table{header: rows[0]}
	for r := 1; r < len(rows); r++ {
		row := make([]any, len(t.header))
		for c := range t.header {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			v, _ := f.GetCellValue("data", cell, excelize.Options{RawCellValue: true})
			typ, _ := f.GetCellType("data", cell)
			switch {
			case v == "":
				row[c] = nil
			case typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset && isNumber(v):
				n, _ := strconv.ParseFloat(v, 64)
				row[c] = n
			case typ == excelize.CellTypeBool:
				row[c] = v == "1" || v == "TRUE"
			default:
				row[c] = v
			}
		}
		t.rows = append(t.rows, row)
	}
	about, err := f.GetRows("dataset")
	if err != nil {
		tb.Fatal(err)
	}
	meta := map[string]string{}
	for _, r := range about {
		if len(r) == 2 {
			meta[r[0]] = r[1]
		}
	}
	return t, meta
}

func isNumber(s string) bool { _, err := strconv.ParseFloat(s, 64); return err == nil }

func readParquetTable(tb testing.TB, raw []byte) (table, map[string]string, []arrow.DataType) {
	tb.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	defer pf.Close()
	meta := map[string]string{}
	kv := pf.MetaData().KeyValueMetadata()
	for i, k := range kv.Keys() {
		meta[k] = kv.Values()[i]
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		tb.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	defer tbl.Release()
	t := table{}
	var types []arrow.DataType
	for i := range int(tbl.NumCols()) {
		t.header = append(t.header, tbl.Schema().Field(i).Name)
		types = append(types, tbl.Schema().Field(i).Type)
	}
	t.rows = make([][]any, tbl.NumRows())
	for r := range t.rows {
		t.rows[r] = make([]any, tbl.NumCols())
	}
	for c := range int(tbl.NumCols()) {
		r := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := range chunk.Len() {
				var v any
				if !chunk.IsNull(i) {
					switch a := chunk.(type) {
					case *array.Int64:
						v = a.Value(i)
					case *array.Float64:
						v = a.Value(i)
					case *array.String:
						v = a.Value(i)
					case *array.Boolean:
						v = a.Value(i)
					default:
						tb.Fatalf("column %s: unexpected %T", t.header[c], chunk)
					}
				}
				t.rows[r][c] = v
				r++
			}
		}
	}
	return t, meta, types
}

// same says whether a cell read back from a file equals the /graphql value: numbers as float64 bit for bit
// (an int64 cell against a JSON integer), text as text.
func same(got, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil || got == ""
	case float64:
		switch g := got.(type) {
		case float64:
			return g == w
		case int64:
			return float64(g) == w
		case string:
			f, err := strconv.ParseFloat(g, 64)
			return err == nil && f == w
		}
		return false
	case bool:
		switch g := got.(type) {
		case bool:
			return g == w
		case string:
			return g == strconv.FormatBool(w)
		}
		return false
	case string:
		return got == w || w == "" && got == nil // XLSX has no empty text cell
	}
	return false
}

// sig15 is v to 15 significant digits: what an XLSX cell holds (Excel's precision; excelize writes numbers so).
func sig15(v any) any {
	if f, ok := v.(float64); ok {
		r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
		return r
	}
	return v
}

func compareTables(tb testing.TB, name string, got, want table) {
	tb.Helper()
	if strings.Join(got.header, ",") != strings.Join(want.header, ",") {
		tb.Fatalf("%s: columns %q, want %q", name, got.header, want.header)
	}
	if len(got.rows) != len(want.rows) {
		tb.Fatalf("%s: %d rows, want %d", name, len(got.rows), len(want.rows))
	}
	bad := 0
	for r := range want.rows {
		for c := range want.header {
			w := want.rows[r][c]
			if strings.HasSuffix(name, "xlsx") {
				w = sig15(w)
			}
			if !same(got.rows[r][c], w) {
				if bad++; bad <= 5 {
					tb.Errorf("%s: row %d column %s: %#v, want %#v", name, r+1, want.header[c], got.rows[r][c], want.rows[r][c])
				}
			}
		}
	}
}

// Every format of an export holds exactly the /graphql answer: same columns in selection order (aliases
// respected), same rows in the same order, every number equal as a float64. The observations export runs
// over six pages of the connection; the /graphql side pages through it separately.
func TestExportMatchesGraphQL(t *testing.T) {
	srv := nbsServer(t)
	cases := []struct {
		name    string
		query   string
		vars    map[string]any
		list    func(data map[string]any) []any
		columns []string
	}{
		{"ranking", `query($i: ID!) { ranking(indicator: $i, year: 2024, group: "East") { mean entries { region { code name } value rank percentile previousRank gapToLeader flags } missing { code } } }`,
			map[string]any{"i": "retail_sales"},
			func(d map[string]any) []any { return d["ranking"].(map[string]any)["entries"].([]any) },
			[]string{"region.code", "region.name", "value", "rank", "percentile", "previousRank", "gapToLeader", "flags"}},
		{"growth ranking with aliases and a fragment", `{ r: ranking(indicator: "gdp_per_capita", level: "province", basis: GROWTH) { entries { ...E place: rank } } } fragment E on RankingEntry { who: region { code nameEn } growth: value }`,
			nil,
			func(d map[string]any) []any { return d["r"].(map[string]any)["entries"].([]any) },
			[]string{"who.code", "who.nameEn", "growth", "place"}},
		{"trend", `{ trend(region: "320000", indicator: "retail_sales") { cagr points { year value yoy bestEver streak } } }`, nil,
			func(d map[string]any) []any { return d["trend"].(map[string]any)["points"].([]any) },
			[]string{"year", "value", "yoy", "bestEver", "streak"}},
		{"standings", `{ standings(region: "320000", year: 2024, group: "East", top: 2) { entries { indicator { code unit } value rank count inTop rankChange } } }`, nil,
			func(d map[string]any) []any { return d["standings"].(map[string]any)["entries"].([]any) },
			[]string{"indicator.code", "indicator.unit", "value", "rank", "count", "inTop", "rankChange"}},
	}
	for _, c := range cases {
		var d map[string]any
		mustPost(t, srv.URL, c.query, c.vars, &d)
		want := graphqlTable(t, c.list(d), c.columns)
		if len(want.rows) == 0 {
			t.Fatalf("%s: the /graphql answer has no rows", c.name)
		}
		checkFormats(t, srv.URL, c.name, c.query, c.vars, want)
	}

	// Observations: every one, over 6 pages; the /graphql side follows endCursor itself.
	var all []any
	after := any(nil)
	for {
		var d struct {
			Observations struct {
				Nodes    []any
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		mustPost(t, srv.URL, `query($a: String) { observations(first: 1000, after: $a) { nodes { region { code } indicator { code } year value flags vintage } pageInfo { hasNextPage endCursor } } }`,
			map[string]any{"a": after}, &d)
		all = append(all, d.Observations.Nodes...)
		if !d.Observations.PageInfo.HasNextPage {
			break
		}
		after = d.Observations.PageInfo.EndCursor
	}
	if len(all) != 5050 {
		t.Fatalf("%d observations by /graphql, want 5050", len(all))
	}
	want := graphqlTable(t, all, []string{"region.code", "indicator.code", "year", "value", "flags", "vintage"})
	checkFormats(t, srv.URL, "observations", `{ observations(first: 10) { totalCount nodes { region { code } indicator { code } year value flags vintage } } }`, nil, want)
}

// checkFormats exports query in every format and compares each file, read back by its own reader, with want.
func checkFormats(t *testing.T, base, name, query string, vars map[string]any, want table) {
	t.Helper()
	for _, format := range []string{"csv", "jsonl", "xlsx", "parquet"} {
		res, raw := exportOf(t, base, "format="+format, query, vars)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: status %d: %s", name, format, res.StatusCode, raw)
		}
		if res.Header.Get("X-Truncated") != "false" || res.Header.Get("X-Total-Rows") != strconv.Itoa(len(want.rows)) {
			t.Errorf("%s %s: X-Truncated %q, X-Total-Rows %q", name, format, res.Header.Get("X-Truncated"), res.Header.Get("X-Total-Rows"))
		}
		var got table
		switch format {
		case "csv":
			got = readCSVTable(t, raw)
		case "jsonl":
			got = readJSONLTable(t, raw, want.header)
		case "xlsx":
			var meta map[string]string
			got, meta = readXLSXTable(t, raw)
			if meta["dataset"] != "test" || len(meta["version"]) != 16 || !strings.HasPrefix(meta["citation"], "NBS, annual data by province (分省年度数据) (pacesetter dataset test, version ") {
				t.Errorf("%s xlsx: dataset sheet %v", name, meta)
			}
		case "parquet":
			var meta map[string]string
			var types []arrow.DataType
			got, meta, types = readParquetTable(t, raw)
			if meta["pacesetter.dataset"] != "test" || len(meta["pacesetter.version"]) != 16 || !strings.HasPrefix(meta["pacesetter.citation"], "NBS, annual data by province (分省年度数据) (pacesetter dataset test, version ") {
				t.Errorf("%s parquet: metadata %v", name, meta)
			}
			// Column types from the schema: Int as int64, Float as double, Boolean as bool, the rest text.
			for i, h := range got.header {
				if strings.Contains(h, ".") {
					t.Errorf("%s parquet: column %q has a dot", name, h)
				}
				wantType := arrow.BinaryTypes.String.ID()
				switch h {
				case "value", "percentile", "gapToLeader", "growth", "yoy":
					wantType = arrow.FLOAT64
				case "rank", "previousRank", "place", "year", "streak", "count", "rankChange":
					wantType = arrow.INT64
				case "bestEver", "inTop":
					wantType = arrow.BOOL
				}
				if types[i].ID() != wantType {
					t.Errorf("%s parquet: column %s is %s", name, h, types[i])
				}
			}
		}
		w := want
		if format == "parquet" { // Parquet names have no dots: region.code is region_code
			w.header = make([]string, len(want.header))
			for i, h := range want.header {
				w.header[i] = strings.ReplaceAll(h, ".", "_")
			}
		}
		compareTables(t, name+" "+format, got, w)
	}
}

// The options and the limits: a row cap the client sees and may raise up to the server's; columns even
// with no rows; decimals round for display only; a BOM on request; a GET link.
func TestExportOptions(t *testing.T) {
	store := loadStore(t, data.Default())
	opt := DefaultOptions
	opt.ExportRows, opt.ExportMaxRows = 1500, 6000
	srv, _ := newServer(t, store, query.DefaultOptions, opt)
	obs := `{ observations { nodes { region { code } year value } } }`

	res, raw := exportOf(t, srv.URL, "format=csv", obs, nil)
	lines := strings.Count(string(raw), "\n")
	if res.StatusCode != 200 || lines != 1501 || res.Header.Get("X-Row-Cap") != "1500" || res.Header.Get("X-Truncated") != "true" {
		t.Errorf("capped: status %d, %d lines, X-Row-Cap %q, X-Truncated %q", res.StatusCode, lines, res.Header.Get("X-Row-Cap"), res.Header.Get("X-Truncated"))
	}
	total, _ := strconv.Atoi(res.Header.Get("X-Total-Rows"))
	res, raw = exportOf(t, srv.URL, "format=csv&limit=6000", obs, nil)
	if lines := strings.Count(string(raw), "\n"); res.Header.Get("X-Truncated") != "false" || lines != total+1 || total != 5050 {
		t.Errorf("raised cap: X-Truncated %q, %d lines, total %d", res.Header.Get("X-Truncated"), lines, total)
	}
	res, raw = exportOf(t, srv.URL, "format=csv&limit=6001", obs, nil)
	if res.StatusCode != 400 || !strings.Contains(string(raw), "limit must be a whole number from 1 to 6000") {
		t.Errorf("over the server's limit: %d %s", res.StatusCode, raw)
	}

	// No rows: the header alone, from the selection.
	_, raw = exportOf(t, srv.URL, "format=csv", `{ ranking(indicator: "retail_sales", year: 2024, regions: ["320000"], level: "city") { entries { region { code } value } } }`, nil)
	if !strings.HasPrefix(string(raw), "{") && string(raw) != "region.code,value\n" {
		t.Errorf("empty: %q", raw)
	}
	_, raw = exportOf(t, srv.URL, "format=csv", `{ observations(regions: ["320000"], from: 1990, to: 1991) { nodes { region { code } value } } }`, nil)
	if string(raw) != "region.code,value\n" {
		t.Errorf("empty observations: %q", raw)
	}

	// decimals: CSV rounds the text (2 decimals: 44922.1 → 44922.1, 0.8888888888888888 → 0.89); XLSX keeps
	// the number and shows it rounded.
	q := `{ ranking(indicator: "retail_sales", year: 2024, group: "East") { entries { region { code } percentile } } }`
	_, raw = exportOf(t, srv.URL, "format=csv&decimals=2&bom=1", q, nil)
	if !strings.HasPrefix(string(raw), "\uFEFFregion.code,percentile\n440000,1\n320000,0.89\n370000,0.78\n") {
		t.Errorf("decimals and bom: %q", raw)
	}
	_, raw = exportOf(t, srv.URL, "format=xlsx&decimals=2", q, nil)
	x, _ := readXLSXTable(t, raw)
	if x.rows[1][1] != 0.888888888888889 { // 15 significant digits, not 2 decimals
		t.Errorf("xlsx with decimals holds %v, want the value as stored", x.rows[1][1])
	}

	// A link: GET with the query and variables in the URL.
	link := srv.URL + "/export?format=jsonl&query=" + url.QueryEscape(`query($r: ID!) { trend(region: $r, indicator: "gdp") { points { year value } } }`) +
		"&variables=" + url.QueryEscape(`{"r": "320000"}`)
	gres, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	graw, _ := io.ReadAll(gres.Body)
	gres.Body.Close()
	if gres.StatusCode != 200 || !strings.Contains(string(graw), `{"year":2019,"value":99836.9}`) ||
		gres.Header.Get("Content-Disposition") != `attachment; filename="points.jsonl"` {
		t.Errorf("GET: %d %q %s", gres.StatusCode, gres.Header.Get("Content-Disposition"), graw)
	}
}

// A broken request gets an error status and the /graphql error shape, never a file.
func TestExportErrors(t *testing.T) {
	srv := nbsServer(t)
	for _, c := range []struct {
		params, query string
		status        int
		code, message string
	}{
		{"format=pdf", `{ indicators { code } }`, 400, "BAD_USER_INPUT", `format "pdf" is not one of csv, parquet, xlsx, jsonl`},
		{"format=csv", `{ ranking(indicator: "gpd", year: 2024) { entries { value } } }`, 404, "NOT_FOUND", `unknown indicator "gpd" (did you mean "gdp"?)`},
		{"format=csv", `{ ranking(indicator: "gdp", year: 2018) { entries { value } } }`, 400, "BAD_USER_INPUT", `2018 is outside them`},
		{"format=csv", `{ ranking(indicator: "gdp") { entries { valu } } }`, 400, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "valu"`},
		{"format=csv", `{ dataset { version } }`, 400, "BAD_USER_INPUT", "the query selects no list of objects to export"},
		{"format=csv", `{ regions { code groups { code } } }`, 400, "BAD_USER_INPUT", "regions.groups is a list inside a row of regions"},
		{"format=csv&path=ranking", `{ ranking(indicator: "gdp") { entries { value } } }`, 400, "BAD_USER_INPUT", "path ranking is an object, not a list"},
		{"format=csv&decimals=x", `{ indicators { code } }`, 400, "BAD_USER_INPUT", "decimals must be a whole number from 0 to 15"},
		{"format=csv", `{ observations(first: 1000, indicators: []) { nodes { value } } }`, 400, "BAD_USER_INPUT", "indicators is an empty list"},
	} {
		res, raw := exportOf(t, srv.URL, c.params, c.query, nil)
		var body struct {
			Errors []gqlError `json:"errors"`
		}
		if err := json.Unmarshal(raw, &body); err != nil || res.StatusCode != c.status || len(body.Errors) == 0 ||
			body.Errors[0].Extensions["code"] != c.code || !strings.Contains(body.Errors[0].Message, c.message) ||
			res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: status %d, %s", c.params, c.query, res.StatusCode, raw)
		}
	}
	// path picks a list other than the first.
	_, raw := exportOf(t, srv.URL, "format=csv&path=ranking.missing", `{ ranking(indicator: "retail_sales", year: 2024, group: "East") { entries { value } missing { code } } }`, nil)
	if string(raw) != "code\n" {
		t.Errorf("path=ranking.missing: %q", raw)
	}
}

// failingEngine fails observations after the first page: a failure mid-stream.
type failingEngine struct{ analytics.Engine }

func (e failingEngine) Observations(ctx context.Context, q analytics.ObservationQuery) (*analytics.ObservationPage, error) {
	if q.After != "" {
		return nil, errors.New("disk on fire")
	}
	return e.Engine.Observations(ctx, q)
}

// A failure after the first page has been written breaks the transfer: the client never gets a clean end.
func TestExportAbortsMidStream(t *testing.T) {
	engine, err := query.NewEngine(context.Background(), loadStore(t, data.Default()), query.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptions
	opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(NewHandler(failingEngine{engine}, opt))
	defer srv.Close()
	body := `{"query":"{ observations { nodes { region { code } year value } } }"}`
	res, err := http.Post(srv.URL+"/export?format=csv", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if res.StatusCode != 200 || err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("status %d, read %d bytes, error %v: want a broken transfer", res.StatusCode, len(raw), err)
	}
}
