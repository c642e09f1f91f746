package server

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"pacesetter/analytics"
)

// specTransport corrects the three points where gqlgen's transport.GET and transport.POST (v0.17.98) depart
// from the GraphQL-over-HTTP spec (https://graphql.github.io/graphql-over-http/draft/), which gqlgen has no
// option for. gqlgen sends every request error (no operation, parse, validation, variable coercion) as 422
// under application/json, or 400 under application/graphql-response+json, with "data": null. Here:
//
//  1. A request without a query is not a well-formed GraphQL-over-HTTP request: 400 under either media type
//     ("Request Parameters": the server SHOULD respond with 4xx, and MAY use 400).
//  2. Under application/json, the other request errors are 200: "The server SHOULD use the 200 status code
//     for every response to a well-formed GraphQL-over-HTTP request, independent of any GraphQL request
//     error or GraphQL field error raised."
//  3. An answer to a request error has no data entry: GraphQL spec, Response: "If an error was raised before
//     execution begins, the data entry should not be present in the result"; the GraphQL-over-HTTP spec
//     tests the same under application/graphql-response+json.
//
// Answers below 400, which is every executed operation, pass through untouched.
type specTransport struct{ graphql.Transport }

func (t specTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	x := &specExchange{ResponseWriter: w, GraphExecutor: exec}
	t.Transport.Do(x, r, x)
	x.finish()
}

// specExchange stands between gqlgen's transport and both the response and the executor of one request:
// the executor side notes whether a query came, the response side holds back an error answer to correct it.
type specExchange struct {
	http.ResponseWriter
	graphql.GraphExecutor
	noQuery bool         // the request carried no query
	status  int          // the error status held back, 0 while the answer passes through
	body    bytes.Buffer // the held-back error answer
	data    []byte       // an answer's data written here instead of by encoding/json (see DispatchOperation)
}

// DispatchOperation passes the operation on. gqlgen's transports write the answer with json.Marshal,
// which scans the whole of data again to validate and HTML-escape it: for an answer of thousands of entries
// a fifth of its cost. When data holds nothing encoding/json would escape (<, >, &, U+2028, U+2029) and the
// answer nothing besides data, the transport is handed {"data":null} and Write puts data in its place:
// the same bytes, written once.
func (x *specExchange) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	next, ctx := x.GraphExecutor.DispatchOperation(ctx, rc)
	return func(ctx context.Context) *graphql.Response {
		res := next(ctx)
		if res == nil || len(res.Errors) > 0 || len(res.Extensions) > 0 || res.Label != "" || res.Path != nil || res.HasNext != nil ||
			len(res.Data) < minRawData || htmlEscapes(res.Data) {
			return res
		}
		x.data = res.Data
		return &graphql.Response{Data: json.RawMessage(rawDataMark)}
	}, ctx
}

// htmlEscapes says whether encoding/json would escape anything in b: <, >, &, U+2028 or U+2029.
func htmlEscapes(b []byte) bool {
	if bytes.IndexByte(b, '<') >= 0 || bytes.IndexByte(b, '>') >= 0 || bytes.IndexByte(b, '&') >= 0 {
		return true
	}
	for i := bytes.IndexByte(b, 0xE2); i >= 0; {
		if i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9) {
			return true
		}
		j := bytes.IndexByte(b[i+1:], 0xE2)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

const (
	minRawData  = 4 << 10 // smaller answers cost little to scan
	rawDataMark = "null"
)

func (x *specExchange) CreateOperationContext(ctx context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	x.noQuery = p.Query == ""
	return x.GraphExecutor.CreateOperationContext(ctx, p)
}

func (x *specExchange) WriteHeader(code int) {
	if code < http.StatusBadRequest {
		x.ResponseWriter.WriteHeader(code)
		return
	}
	x.status = code
}

func (x *specExchange) Write(b []byte) (int, error) {
	if x.data != nil && x.status == 0 && string(b) == `{"data":`+rawDataMark+`}` {
		data := x.data
		x.data = nil
		n := len(b)
		for _, part := range [][]byte{[]byte(`{"data":`), data, []byte(`}`)} {
			if _, err := x.ResponseWriter.Write(part); err != nil {
				return 0, err
			}
		}
		return n, nil
	}
	if x.status == 0 {
		return x.ResponseWriter.Write(b)
	}
	return x.body.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (x *specExchange) Unwrap() http.ResponseWriter { return x.ResponseWriter }

// finish sends the held-back error answer, corrected.
func (x *specExchange) finish() {
	if x.status == 0 {
		return
	}
	status := x.status
	mediaType, _, _ := mime.ParseMediaType(x.Header().Get("Content-Type"))
	switch {
	case x.noQuery:
		status = http.StatusBadRequest // rule 1
	case status == http.StatusUnprocessableEntity && mediaType == "application/json":
		status = http.StatusOK // rule 2
	}
	body := x.body.Bytes()
	var answer struct {
		Data   json.RawMessage  `json:"data,omitempty"`
		Errors []map[string]any `json:"errors"`
		Ext    json.RawMessage  `json:"extensions,omitempty"`
	}
	if json.Unmarshal(body, &answer) == nil {
		if string(answer.Data) == "null" {
			answer.Data = nil // rule 3
		}
		// Errors gqlgen's transports write themselves (undecodable variables or extensions on a GET) skip the
		// error presenter; they get the code every error carries here.
		for _, e := range answer.Errors {
			ext, _ := e["extensions"].(map[string]any)
			if ext == nil {
				ext = map[string]any{}
				e["extensions"] = ext
			}
			if ext["code"] == nil {
				ext["code"] = analytics.BadUserInput
			}
		}
		if b, err := json.Marshal(answer); err == nil {
			body = b
		}
	}
	x.ResponseWriter.WriteHeader(status)
	x.ResponseWriter.Write(body)
}
