package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"pacesetter/analytics"
	"pacesetter/graph"
	"pacesetter/graph/server/export"
)

// Export row caps: how many rows an export writes unless the client asks for more (limit=N), and the most
// it may ask for.
const (
	DefaultExportRows = 1_000_000
	MaxExportRows     = 10_000_000
)

// exportPage is the page size an export reads a connection with: the API's largest page.
const exportPage = 1000

// Names the export adds to a paged query; a leading underscore keeps them out of the way of any field.
const (
	afterVar    = "_exportAfter"
	pageAlias   = "_exportPage"
	totalAlias  = "_exportTotal"
	headerAlias = "_exportHeader"
)

// exportHandler serves /export: it runs a GraphQL query through the same executor as /graphql (same
// validation, complexity limit, per-query timeout and error presenter) and writes the first list of objects
// in the answer (or the list at path) as a file, one column per leaf field.
//
// gqlgen materialises a whole answer before writing it, so a connection (a list with pageInfo, such as
// observations) is read page by page: the handler sets the connection's first and after, asks for
// pageInfo and totalCount under aliases of its own, and writes each page before asking for the next. Memory
// stays that of one page, and the per-query timeout applies to each page, not to the whole download. Other
// lists are bounded by their nature (a ranking has at most every region) and run once.
type exportHandler struct {
	exec   graphql.GraphExecutor
	schema *ast.Schema
	engine analytics.Engine
	opt    Options
}

func newExportHandler(srv *handler.Server, engine analytics.Engine, opt Options) *exportHandler {
	// The schema parsed once by gqlgen's generated code: every executable schema of graph holds the same.
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	return &exportHandler{exec: executorOf(srv), schema: schema, engine: engine, opt: opt}
}

// executorOf returns the executor inside srv, which gqlgen hands only to a transport: a transport that
// answers only a request marked for it keeps what it is given.
func executorOf(srv *handler.Server) graphql.GraphExecutor {
	var exec graphql.GraphExecutor
	r, _ := http.NewRequestWithContext(context.WithValue(context.Background(), grabKey{}, &exec), http.MethodPost, "/", nil)
	srv.ServeHTTP(discardWriter{}, r)
	return exec
}

type grabKey struct{}

type grabExecutor struct{}

func (grabExecutor) Supports(r *http.Request) bool { return r.Context().Value(grabKey{}) != nil }

func (grabExecutor) Do(_ http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	*r.Context().Value(grabKey{}).(*graphql.GraphExecutor) = exec
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

// exportRequest is what a client asked for.
type exportRequest struct {
	params   graphql.RawParams
	format   string
	path     []string // response keys down to the list; nil: the first list of objects
	bom      bool
	decimals int
	limit    int
	labels   bool // header=label: columns named by their display labels, not their paths
}

// exportError is a request refused before anything was written, with its HTTP status.
type exportError struct {
	status int
	errs   gqlerror.List
}

func (e *exportError) Error() string { return e.errs.Error() }

func refuse(code, format string, args ...any) *exportError {
	status := http.StatusBadRequest
	switch code {
	case analytics.NotFound:
		status = http.StatusNotFound
	case analytics.Internal:
		status = http.StatusInternalServerError
	}
	return &exportError{status, gqlerror.List{{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": code}}}}
}

func (h *exportHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, xerr := h.parseRequest(r)
	if xerr == nil {
		xerr = h.export(w, r, req)
	}
	if xerr != nil {
		w.Header().Set("Content-Type", "application/json")
		body, _ := json.Marshal(&graphql.Response{Errors: xerr.errs})
		w.WriteHeader(xerr.status)
		_, _ = w.Write(body)
	}
}

func (h *exportHandler) parseRequest(r *http.Request) (*exportRequest, *exportError) {
	q := r.URL.Query()
	req := &exportRequest{format: q.Get("format"), decimals: -1, limit: h.opt.ExportRows}
	if _, ok := export.Formats[req.format]; !ok {
		return nil, refuse(analytics.BadUserInput, "format %q is not one of csv, parquet, xlsx, jsonl: add format=csv (or another) to the URL", analytics.Cut(req.format))
	}
	if p := q.Get("path"); p != "" {
		req.path = strings.Split(p, ".")
	}
	switch q.Get("header") {
	case "", "path":
	case "label":
		req.labels = true
	default:
		return nil, refuse(analytics.BadUserInput, "header must be path (columns named by their paths, region.code) or label (by their display labels), got %q", analytics.Cut(q.Get("header")))
	}
	switch q.Get("bom") {
	case "", "0":
	case "1":
		req.bom = true
	default:
		return nil, refuse(analytics.BadUserInput, "bom must be 1 (start the CSV with a byte-order mark, for Excel) or 0")
	}
	if d := q.Get("decimals"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 15 {
			return nil, refuse(analytics.BadUserInput, "decimals must be a whole number from 0 to 15, got %q", analytics.Cut(d))
		}
		req.decimals = n
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > h.opt.ExportMaxRows {
			return nil, refuse(analytics.BadUserInput, "limit must be a whole number from 1 to %d (the server's most rows), got %q", h.opt.ExportMaxRows, analytics.Cut(l))
		}
		req.limit = n
	}
	switch r.Method {
	case http.MethodGet:
		req.params.Query = q.Get("query")
		req.params.OperationName = q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			dec := json.NewDecoder(strings.NewReader(v))
			dec.UseNumber() // as for POST: gqlgen reads an Int from a json.Number, not from a float64
			if err := dec.Decode(&req.params.Variables); err != nil {
				return nil, refuse(analytics.BadUserInput, "variables is not a JSON object: %v", err)
			}
		}
	case http.MethodPost:
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		if err := dec.Decode(&req.params); err != nil {
			return nil, refuse(analytics.BadUserInput, "the request body is not a JSON object with query and variables, as POSTed to /graphql: %v", err)
		}
	default:
		xerr := refuse(analytics.BadUserInput, "method %s is not supported: POST the /graphql body, or GET with query= in the URL", r.Method)
		xerr.status = http.StatusMethodNotAllowed
		return nil, xerr
	}
	if req.params.Query == "" {
		return nil, refuse(analytics.BadUserInput, "no query: POST a JSON body with query (and variables), or GET with query= in the URL")
	}
	return req, nil
}

// run executes one GraphQL request through the executor of /graphql and returns its data, or the errors
// it answered with (presented as /graphql presents them).
func (h *exportHandler) run(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, json.RawMessage, *exportError) {
	ctx, rc, xerr := h.prepare(ctx, params)
	if xerr != nil {
		return nil, nil, xerr
	}
	data, xerr := h.dispatch(ctx, rc)
	return rc, data, xerr
}

// prepare parses and validates a request (limits included) without running it.
func (h *exportHandler) prepare(ctx context.Context, params *graphql.RawParams) (context.Context, *graphql.OperationContext, *exportError) {
	ctx = graphql.StartOperationTrace(ctx)
	p := *params
	p.ReadTime = graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}
	rc, errs := h.exec.CreateOperationContext(ctx, &p)
	if errs != nil {
		resp := h.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		return ctx, nil, &exportError{http.StatusBadRequest, resp.Errors}
	}
	return ctx, rc, nil
}

// dispatch runs a prepared request and returns its data.
func (h *exportHandler) dispatch(ctx context.Context, rc *graphql.OperationContext) (json.RawMessage, *exportError) {
	responses, ctx := h.exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if len(resp.Errors) > 0 {
		// An answer with an error is not a whole table: refused, with the errors /graphql would give.
		return nil, &exportError{statusOf(resp.Errors), resp.Errors}
	}
	return resp.Data, nil
}

// statusOf is the HTTP status for the errors of an answer, by the first error's code.
func statusOf(errs gqlerror.List) int {
	code, _ := errs[0].Extensions["code"].(string)
	switch code {
	case analytics.NotFound:
		return http.StatusNotFound
	case analytics.Timeout:
		return http.StatusGatewayTimeout
	case analytics.Internal:
		return http.StatusInternalServerError
	case analytics.Overloaded:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// export runs the request and writes the file. It returns an error only while nothing has been written; once
// the first byte is out, a failure aborts the response, so that the client sees a broken transfer rather
// than a file that looks complete.
func (h *exportHandler) export(w http.ResponseWriter, r *http.Request, req *exportRequest) *exportError {
	ctx := r.Context()
	ctl := http.NewResponseController(w)
	// Planned from the validated request; the request itself runs only for a list that is not paged: a
	// connection's pages run as rewritten queries of their own.
	opCtx, rc, xerr := h.prepare(ctx, &req.params)
	if xerr != nil {
		return xerr
	}
	pl, xerr := planExport(h.schema, rc, req.path)
	if xerr != nil {
		return xerr
	}
	var data json.RawMessage
	limit := req.limit
	if req.format == "xlsx" {
		limit = min(limit, export.XLSXMaxRows)
	}
	var (
		rows  []any
		total int
		pages func(yield func([]any) bool) // the pages after the first; nil for a list that is not paged
		fail  error
	)
	if pl.conn == nil {
		if pl.aligned != nil {
			// The rows hold a list aligned with a header list (a pivot's cells with its columns): the query
			// runs with the header asked for under the export's own alias, to name the columns it spreads to.
			params := req.params
			if params.Query, xerr = pl.headedQuery(req.params.Query, req.params.OperationName); xerr != nil {
				return xerr
			}
			if _, data, xerr = h.run(ctx, &params); xerr != nil {
				return xerr
			}
			pl.spread(data)
		} else if data, xerr = h.dispatch(opCtx, rc); xerr != nil {
			return xerr
		}
		if rows, xerr = pl.rows(data, pl.list); xerr != nil {
			return xerr
		}
		total = len(rows)
	} else {
		// The first page runs before anything is written, so a query that fails, fails with an error status.
		params := req.params
		if params.Query, xerr = pl.pagedQuery(req.params.Query, req.params.OperationName); xerr != nil {
			return xerr
		}
		params.Variables = maps(req.params.Variables)
		if _, data, xerr = h.run(ctx, &params); xerr != nil {
			return xerr
		}
		var info pageInfo
		if rows, info, xerr = pl.page(data); xerr != nil {
			return xerr
		}
		total = info.total
		pages = func(yield func([]any) bool) {
			read := len(rows)
			for info.hasNext && read < limit {
				// Each page has the per-query timeout; the connection's write deadline moves on with it.
				_ = ctl.SetWriteDeadline(time.Now().Add(h.opt.Timeout + 30*time.Second))
				params.Variables = maps(req.params.Variables)
				params.Variables[afterVar] = info.endCursor
				_, data, xerr := h.run(ctx, &params)
				if xerr != nil {
					fail = xerr
					return
				}
				var page []any
				if page, info, xerr = pl.page(data); xerr != nil {
					fail = xerr
					return
				}
				read += len(page)
				if !yield(page) {
					return
				}
			}
		}
	}

	meta := h.meta(ctx, req.params.Query)
	format := export.Formats[req.format]
	hd := w.Header()
	hd.Set("Content-Type", format.MediaType)
	hd.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", pl.name+"."+format.Ext))
	hd.Set("X-Row-Cap", strconv.Itoa(limit))
	hd.Set("X-Total-Rows", strconv.Itoa(total))
	hd.Set("X-Truncated", strconv.FormatBool(total > limit))
	hd.Set("Cache-Control", "no-store")
	defer h.opt.Drain.export()()
	written := 0
	if req.labels {
		pl.label()
	}
	fw, err := export.New(req.format, w, pl.columns, meta, export.Options{BOM: req.bom, Decimals: req.decimals})
	if err != nil {
		h.abort(ctx, "start", written, err)
	}
	cells := make([]any, len(pl.columns))
	write := func(rows []any) bool {
		// A client reading slowly but steadily is not cut by the server's write timeout: the deadline moves
		// on with each batch written; one that stops reading is cut after the query timeout + 30 s.
		_ = ctl.SetWriteDeadline(time.Now().Add(h.opt.Timeout + 30*time.Second))
		for _, row := range rows {
			if written == limit {
				return false
			}
			pl.cells(row, cells)
			if err := fw.Row(cells); err != nil {
				h.abort(ctx, "write", written, err)
			}
			written++
		}
		if err := fw.Flush(); err != nil {
			h.abort(ctx, "write", written, err)
		}
		_ = ctl.Flush()
		return written < limit
	}
	if write(rows) && pages != nil {
		pages(write)
	}
	if fail != nil {
		h.abort(ctx, "page", written, fail)
	}
	if err := fw.Close(); err != nil {
		h.abort(ctx, "finish", written, err)
	}
	countRows(r.Context(), "export", written)
	return nil
}

// abort ends a response already under way so that the client sees a broken transfer: net/http closes the
// connection (or resets the stream) without ending the body cleanly. A cut export is logged and counted
// (pacesetter_exports_cut_total) by why: the shutdown's grace ran out, the client went, or an error.
func (h *exportHandler) abort(ctx context.Context, stage string, written int, err error) {
	reason := "error"
	switch {
	case h.opt.Drain.isCutting():
		reason = "shutdown"
		h.opt.Logger.Warn("export cut: the shutdown grace is over", "stage", stage, "rows_written", written, "err", err)
	case errors.Is(err, context.Canceled) || ctx.Err() != nil: // a client gone shows as a broken pipe too
		reason = "client"
	default:
		h.opt.Logger.Warn("export aborted", "stage", stage, "rows_written", written, "err", err)
	}
	if h.opt.Metrics != nil {
		h.opt.Metrics.exportsCut.WithLabelValues(reason).Inc()
	}
	panic(http.ErrAbortHandler)
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// meta names the dataset an export comes from: its source, version and citation (the publishers its
// indicators' sources name first, before any ";").
func (h *exportHandler) meta(ctx context.Context, query string) export.Meta {
	m := export.Meta{Query: query, ExportedAt: time.Now()}
	if info, err := h.engine.Dataset(ctx); err == nil {
		m.Dataset, m.Version, m.ImportedAt = info.Source, info.Version, info.ImportedAt
	}
	var sources []string
	if inds, err := h.engine.Indicators(ctx); err == nil {
		for _, in := range inds {
			if in.Source == nil {
				continue
			}
			s, _, _ := strings.Cut(*in.Source, ";")
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(sources, s) {
				sources = append(sources, s)
			}
		}
	}
	m.Citation = strings.Join(sources, "; ")
	if m.Citation == "" {
		m.Citation = m.Dataset
	}
	if m.Version != "" {
		m.Citation += fmt.Sprintf(" (pacesetter dataset %s, version %s)", m.Dataset, m.Version)
	}
	return m
}

// exportPlan is where the list is in an answer and how its rows flatten into columns.
type exportPlan struct {
	name    string   // the list's response key: the file's name
	list    []string // response keys from data down to the list
	columns []export.Column
	leaves  [][]string // each column's response keys within a row
	joined  []bool     // a list of scalars, written as one text cell
	item    []int      // a column spread from an aligned list: the item of the list it holds; -1 for the others
	labeled []bool     // a column named by its header's label already (a spread one)
	aligned *alignedList
	conn    []string // response keys down to the connection whose list this is; nil when not paged
	// A list inside the rows of another (composite.entries.breakdown) is exported one row per inner item,
	// with the outer row's columns repeated: outer is the response keys from data down to the outer list,
	// inner those from an outer row down to the inner list. Both nil for a list exported as it is.
	outer, inner []string
}

// alignedLists are the lists of scalars in a row that line up with a header list of the row's parent, by
// "RowType.field": the header field's name. Such a list is exported as one column per header, named by the
// header's label and typed as the list's items, instead of one text cell.
var alignedLists = map[string]string{"PivotRow.cells": "columns"}

// headerLists are the header lists of alignedLists, by "Type.field": not the list an export picks by
// itself.
var headerLists = map[string]bool{"Pivot.columns": true}

// alignedList is an aligned list the rows hold: its placeholder column, and the header field to read.
type alignedList struct {
	col    int
	header string
}

// outerKey holds, in a row of a list inside another, the outer row its columns are read from.
const outerKey = " outer"

// field is one response key of a selection set with the fields merged under it.
type field struct {
	key    string
	fields []*ast.Field
}

// collect lists the fields of a selection set by response key in order, fragments expanded and @skip /
// @include applied.
func collect(set ast.SelectionSet, vars map[string]any, out []field) []field {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !included(s.Directives, vars) {
				continue
			}
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			if i := slices.IndexFunc(out, func(f field) bool { return f.key == key }); i >= 0 {
				out[i].fields = append(out[i].fields, s)
			} else {
				out = append(out, field{key, []*ast.Field{s}})
			}
		case *ast.InlineFragment:
			if included(s.Directives, vars) {
				out = collect(s.SelectionSet, vars, out)
			}
		case *ast.FragmentSpread:
			if included(s.Directives, vars) && s.Definition != nil {
				out = collect(s.Definition.SelectionSet, vars, out)
			}
		}
	}
	return out
}

func included(ds ast.DirectiveList, vars map[string]any) bool {
	for _, d := range ds {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		if v, _ := d.ArgumentMap(vars)["if"].(bool); v == (d.Name == "skip") {
			return false
		}
	}
	return true
}

func (f field) selections() ast.SelectionSet {
	var set ast.SelectionSet
	for _, x := range f.fields {
		set = append(set, x.SelectionSet...)
	}
	return set
}

// planExport finds the list to export in the operation (the first list of objects, depth first, or the one
// at path) and plans its columns from the selection, so the columns exist even when the list is empty.
func planExport(schema *ast.Schema, rc *graphql.OperationContext, path []string) (*exportPlan, *exportError) {
	pl := &exportPlan{}
	var find func(set ast.SelectionSet, at []string, parent *ast.Field) *exportError
	found := false
	find = func(set ast.SelectionSet, at []string, parent *ast.Field) *exportError {
		for _, f := range collect(set, rc.Variables, nil) {
			if found {
				return nil
			}
			def := f.fields[0].Definition
			if def == nil {
				continue
			}
			here := append(slices.Clone(at), f.key)
			onPath := path == nil || len(here) <= len(path) && slices.Equal(here, path[:len(here)])
			if !onPath {
				continue
			}
			kind := schema.Types[def.Type.Name()].Kind
			if kind != ast.Object {
				continue
			}
			if path == nil && headerLists[f.fields[0].ObjectDefinition.Name+"."+def.Name] {
				continue // a pivot's columns head its rows, the table to export (path= still exports them)
			}
			if def.Type.Elem != nil {
				if path != nil && len(here) < len(path) {
					// A path through one list of plain rows to a list inside them: one row per inner item.
					if pl.outer != nil || parent != nil && isConnection(schema, parent) {
						return refuse(analytics.BadUserInput, "path %s goes through %s, a list: give the path of the list to export, or of a list inside the rows of one list that is not a connection", echoPath(path), strings.Join(here, "."))
					}
					pl.outer = here
					if err := pl.planOuter(schema, f.selections(), rc.Variables, f.key); err != nil {
						return err
					}
					if err := find(f.selections(), here, f.fields[0]); err != nil {
						return err
					}
					continue
				}
				found = true
				pl.name, pl.list = f.key, here
				if pl.outer != nil {
					pl.inner = here[len(pl.outer):]
				}
				if parent != nil && isConnection(schema, parent) {
					pl.conn = at
				}
				return pl.plan(schema, f.selections(), rc.Variables, nil, strings.Join(here, "."))
			}
			if path != nil && len(here) == len(path) {
				return refuse(analytics.BadUserInput, "path %s is an object, not a list: give the path of a list of objects", echoPath(path))
			}
			if err := find(f.selections(), here, f.fields[0]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := find(rc.Operation.SelectionSet, nil, nil); err != nil {
		return nil, err
	}
	if found && pl.aligned != nil && (pl.outer != nil || pl.conn != nil) {
		// Only a list read whole is spread (a connection's pages or an inner list would each have their own
		// header): there the aligned list stays one text cell.
		pl.columns[pl.aligned.col].Type, pl.joined[pl.aligned.col], pl.aligned = export.String, true, nil
	}
	if !found {
		if path != nil {
			return nil, refuse(analytics.BadUserInput, "the query selects no list of objects at path %s", echoPath(path))
		}
		return nil, refuse(analytics.BadUserInput, "the query selects no list of objects to export: select one (ranking { entries { … } }, observations { nodes { … } } …)")
	}
	return pl, nil
}

// isConnection says whether a field is a Relay connection the export can page: first and after arguments,
// and pageInfo and totalCount in its type.
func isConnection(schema *ast.Schema, f *ast.Field) bool {
	d := f.Definition
	t := schema.Types[d.Type.Name()]
	return d.Type.Elem == nil && d.Arguments.ForName("first") != nil && d.Arguments.ForName("after") != nil &&
		t != nil && t.Fields.ForName("pageInfo") != nil && t.Fields.ForName("totalCount") != nil
}

// plan adds a column for every leaf of a row's selection, named by its response keys joined by dots.
func (pl *exportPlan) plan(schema *ast.Schema, set ast.SelectionSet, vars map[string]any, prefix []string, list string) *exportError {
	for _, f := range collect(set, vars, nil) {
		def := f.fields[0].Definition
		if def == nil {
			continue
		}
		keys := append(slices.Clone(prefix), f.key)
		name := strings.Join(keys, ".")
		t := def.Type
		kind := schema.Types[t.Name()].Kind
		if t.Elem != nil {
			if kind == ast.Object {
				return refuse(analytics.BadUserInput, "%s.%s is a list inside a row of %s: a row holds one value per column. Leave it out, or export it with path=%s.%s (a row per item, with the columns of its %s row)", list, name, list, list, name, list)
			}
			if t.Elem.Elem != nil {
				return refuse(analytics.BadUserInput, "%s.%s is a list of lists, which has no place in a row", list, name)
			}
			if header, ok := alignedLists[f.fields[0].ObjectDefinition.Name+"."+def.Name]; ok && len(prefix) == 0 && pl.aligned == nil {
				// Spread over its header's columns once the answer is in (spread); planned as one column.
				pl.aligned = &alignedList{col: len(pl.columns), header: header}
				pl.columns = append(pl.columns, export.Column{Name: name, Type: export.Float})
				pl.leaves, pl.joined = append(pl.leaves, keys), append(pl.joined, false)
				continue
			}
			// A list of scalars (flags) is one text cell, its items joined by ";".
			pl.columns = append(pl.columns, export.Column{Name: name, Type: export.String})
			pl.leaves, pl.joined = append(pl.leaves, keys), append(pl.joined, true)
			continue
		}
		if kind == ast.Object {
			if err := pl.plan(schema, f.selections(), vars, keys, list); err != nil {
				return err
			}
			continue
		}
		typ := export.String
		switch t.Name() {
		case "Int":
			typ = export.Int
		case "Float":
			typ = export.Float
		case "Boolean":
			typ = export.Bool
		}
		pl.columns = append(pl.columns, export.Column{Name: name, Type: typ})
		pl.leaves, pl.joined = append(pl.leaves, keys), append(pl.joined, false)
	}
	return nil
}

// planOuter adds a column for every leaf of an outer row's selection, named after the outer list
// (entries.region.code); lists in it are left out (the inner list is one of them).
func (pl *exportPlan) planOuter(schema *ast.Schema, set ast.SelectionSet, vars map[string]any, list string) *exportError {
	sub := &exportPlan{}
	var keep ast.SelectionSet
	for _, f := range collect(set, vars, nil) {
		if def := f.fields[0].Definition; def != nil && def.Type.Elem == nil {
			for _, ff := range f.fields {
				keep = append(keep, ff)
			}
		}
	}
	if err := sub.plan(schema, keep, vars, nil, list); err != nil {
		return err
	}
	for i, c := range sub.columns {
		c.Name = list + "." + c.Name
		pl.columns = append(pl.columns, c)
		pl.leaves = append(pl.leaves, append([]string{outerKey}, sub.leaves[i]...))
		pl.joined = append(pl.joined, sub.joined[i])
	}
	return nil
}

// pagedQuery rewrites the query so that the connection is read in pages: first and after set by the export
// (after from a variable), pageInfo and totalCount asked for under the export's own aliases.
func (pl *exportPlan) pagedQuery(query, operation string) (string, *exportError) {
	return rewrite(query, operation, pl.conn, func(op *ast.OperationDefinition, conn []*ast.Field) {
		for _, f := range conn {
			f.Arguments = slices.DeleteFunc(f.Arguments, func(a *ast.Argument) bool { return a.Name == "first" || a.Name == "after" })
			f.Arguments = append(f.Arguments,
				&ast.Argument{Name: "first", Value: &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(exportPage)}},
				&ast.Argument{Name: "after", Value: &ast.Value{Kind: ast.Variable, Raw: afterVar}})
		}
		f := conn[0]
		f.SelectionSet = append(f.SelectionSet,
			&ast.Field{Alias: pageAlias, Name: "pageInfo", SelectionSet: ast.SelectionSet{&ast.Field{Name: "endCursor"}, &ast.Field{Name: "hasNextPage"}}},
			&ast.Field{Alias: totalAlias, Name: "totalCount"})
		op.VariableDefinitions = append(op.VariableDefinitions, &ast.VariableDefinition{Variable: afterVar, Type: ast.NamedType("String", nil)})
	})
}

// rewrite parses the query afresh (the executor's document is shared with its cache and must not change),
// finds the fields at the path of response keys (every field under a key: all are set alike), lets edit
// change them and the operation, and writes the document back.
func rewrite(query, operation string, keys []string, edit func(op *ast.OperationDefinition, fields []*ast.Field)) (string, *exportError) {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return "", refuse(analytics.BadUserInput, "%v", err)
	}
	op := doc.Operations.ForName(operation)
	if op == nil {
		return "", refuse(analytics.BadUserInput, "operation %q not found", analytics.Cut(operation))
	}
	set := op.SelectionSet
	var fields []*ast.Field
	for _, key := range keys {
		fields = collectAll(set, doc, key)
		set = nil
		for _, f := range fields {
			set = append(set, f.SelectionSet...)
		}
	}
	if len(fields) == 0 {
		return "", refuse(analytics.Internal, "internal error")
	}
	edit(op, fields)
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithCompacted()).FormatQueryDocument(doc)
	return b.String(), nil
}

// collectAll finds the fields under one response key of a selection set, through fragments, without
// looking at directives (a skipped copy gets the same arguments, which does no harm).
func collectAll(set ast.SelectionSet, doc *ast.QueryDocument, key string) []*ast.Field {
	var out []*ast.Field
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias == key || s.Alias == "" && s.Name == key {
				out = append(out, s)
			}
		case *ast.InlineFragment:
			out = append(out, collectAll(s.SelectionSet, doc, key)...)
		case *ast.FragmentSpread:
			if d := doc.Fragments.ForName(s.Name); d != nil {
				out = append(out, collectAll(d.SelectionSet, doc, key)...)
			}
		}
	}
	return out
}

type pageInfo struct {
	total     int
	hasNext   bool
	endCursor string
}

// decode reads an answer's data keeping numbers as their JSON text, so none is re-rounded on the way.
func decode(data json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func walk(v any, keys []string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// rows finds the list's rows in an answer's data.
func (pl *exportPlan) rows(data json.RawMessage, list []string) ([]any, *exportError) {
	v, err := decode(data)
	if err != nil {
		return nil, refuse(analytics.Internal, "internal error")
	}
	if pl.outer == nil {
		rows, _ := walk(v, list).([]any)
		return rows, nil // a null on the way (a nullable parent) is no rows
	}
	var rows []any
	outer, _ := walk(v, pl.outer).([]any)
	for _, o := range outer {
		inner, _ := walk(o, pl.inner).([]any)
		for _, in := range inner {
			row := map[string]any{outerKey: o}
			if m, ok := in.(map[string]any); ok {
				for k, v := range m {
					row[k] = v
				}
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// page reads one page of a connection: its rows and where it ends.
func (pl *exportPlan) page(data json.RawMessage) ([]any, pageInfo, *exportError) {
	v, err := decode(data)
	if err != nil {
		return nil, pageInfo{}, refuse(analytics.Internal, "internal error")
	}
	conn, _ := walk(v, pl.conn).(map[string]any)
	rows, _ := walk(conn, pl.list[len(pl.conn):]).([]any)
	var info pageInfo
	if n, ok := conn[totalAlias].(json.Number); ok {
		t, _ := n.Int64()
		info.total = int(t)
	}
	pi, _ := conn[pageAlias].(map[string]any)
	info.hasNext, _ = pi["hasNextPage"].(bool)
	info.endCursor, _ = pi["endCursor"].(string)
	return rows, info, nil
}

// cells flattens one row into typed cells: nil, int64, float64, string or bool.
func (pl *exportPlan) cells(row any, out []any) {
	for i, keys := range pl.leaves {
		v := walk(row, keys)
		if pl.item != nil && pl.item[i] >= 0 {
			items, _ := v.([]any)
			v = nil
			if pl.item[i] < len(items) {
				v = items[pl.item[i]]
			}
		} else if pl.joined[i] {
			if items, ok := v.([]any); ok {
				s := make([]string, len(items))
				for j, it := range items {
					s[j] = fmt.Sprint(it)
				}
				out[i] = strings.Join(s, ";")
			} else {
				out[i] = nil
			}
			continue
		}
		switch v := v.(type) {
		case json.Number:
			if pl.columns[i].Type == export.Int {
				n, _ := v.Int64()
				out[i] = n
			} else {
				f, _ := v.Float64()
				out[i] = f
			}
		case nil, string, bool:
			out[i] = v
		default:
			out[i] = fmt.Sprint(v)
		}
	}
}

// echoPath is path as a message repeats it: at most analytics.MaxEcho bytes (a path of 800 KB came back
// whole).
func echoPath(path []string) string { return analytics.Cut(strings.Join(path, ".")) }

// headedQuery rewrites the query so that the parent of the exported list also answers its aligned list's
// header (key and label) under the export's own alias.
func (pl *exportPlan) headedQuery(query, operation string) (string, *exportError) {
	return rewrite(query, operation, pl.list[:len(pl.list)-1], func(_ *ast.OperationDefinition, parent []*ast.Field) {
		parent[0].SelectionSet = append(parent[0].SelectionSet, &ast.Field{Alias: headerAlias, Name: pl.aligned.header,
			SelectionSet: ast.SelectionSet{&ast.Field{Name: "key"}, &ast.Field{Name: "label"}}})
	})
}

// spread replaces the aligned list's column by one column per header of the answer, named by the header's
// label (its label and key where two labels are the same), each holding that item of the list.
func (pl *exportPlan) spread(data json.RawMessage) {
	v, _ := decode(data)
	parent, _ := walk(v, pl.list[:len(pl.list)-1]).(map[string]any)
	headers, _ := parent[headerAlias].([]any)
	at := pl.aligned.col
	cols, leaves := slices.Clone(pl.columns[:at]), slices.Clone(pl.leaves[:at])
	joined, item, labeled := slices.Clone(pl.joined[:at]), slices.Repeat([]int{-1}, at), make([]bool, at)
	seen := map[string]bool{}
	for _, c := range pl.columns {
		seen[c.Name] = true
	}
	for j, h := range headers {
		m, _ := h.(map[string]any)
		key, _ := m["key"].(string)
		label, _ := m["label"].(string)
		if label == "" || seen[label] {
			label = strings.TrimSpace(label + " (" + key + ")")
		}
		seen[label] = true
		cols = append(cols, export.Column{Name: label, Type: pl.columns[at].Type})
		leaves, joined = append(leaves, pl.leaves[at]), append(joined, false)
		item, labeled = append(item, j), append(labeled, true)
	}
	for i := at + 1; i < len(pl.columns); i++ {
		cols, leaves, joined = append(cols, pl.columns[i]), append(leaves, pl.leaves[i]), append(joined, pl.joined[i])
		item, labeled = append(item, -1), append(labeled, false)
	}
	pl.columns, pl.leaves, pl.joined, pl.item, pl.labeled = cols, leaves, joined, item, labeled
}

// label names each column by its display label instead of its path (header=label): the words of its
// response keys (region.nameEn is "Region name en"); a spread column keeps its header's label.
func (pl *exportPlan) label() {
	for i := range pl.columns {
		if pl.labeled != nil && pl.labeled[i] {
			continue
		}
		pl.columns[i].Name = displayLabel(pl.columns[i].Name)
	}
}

// displayLabel is a column's path as words: keys split at dots and where a lower-case letter meets an
// upper-case one, lower-cased, the first capitalised.
func displayLabel(path string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range strings.TrimPrefix(path, outerKey+".") {
		orig := r
		switch {
		case r == '.' || r == '_':
			r = ' '
		case unicode.IsUpper(r) && unicode.IsLower(prev):
			b.WriteRune(' ')
		}
		if b.Len() == 0 {
			r = unicode.ToUpper(r)
		} else {
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
		prev = orig
	}
	return b.String()
}
