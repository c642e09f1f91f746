package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"pacesetter/analytics"
)

// MaxRequestBytes is the largest request body accepted.
const MaxRequestBytes = 1 << 20

// limitBody refuses request bodies over MaxRequestBytes, whether they announce their length or not
// (chunked), and hands the rest on already read.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tooLarge := func() {
			writeError(w, http.StatusRequestEntityTooLarge, analytics.BadUserInput,
				fmt.Sprintf("the request body is larger than %d bytes, the most accepted", MaxRequestBytes))
		}
		// A compressed body read as JSON fails with a confusing parse error (or, worse, a gzip bomb would be
		// decompressed past the limit): only an uncompressed body is accepted, as RFC 7694 says to answer.
		if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
			w.Header().Set("Accept-Encoding", "identity")
			writeError(w, http.StatusUnsupportedMediaType, analytics.BadUserInput,
				fmt.Sprintf("Content-Encoding %q is not supported: send the request body uncompressed", analytics.Cut(enc)))
			return
		}
		if r.ContentLength > MaxRequestBytes {
			tooLarge()
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
		switch {
		case err != nil:
			writeError(w, http.StatusBadRequest, analytics.BadUserInput, "the request body could not be read")
			return
		case len(body) > MaxRequestBytes:
			tooLarge()
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// maxCachedQuery is the longest query text whose parsed document is kept: the token limit bounds a
// document's size but not its text's (a comment or string is one token), and the cache keeps the text.
const maxCachedQuery = 16 << 10

// shortQueries is gqlgen's parsed-document cache, keeping only queries up to maxCachedQuery bytes.
type shortQueries struct {
	graphql.Cache[*ast.QueryDocument]
}

func (c shortQueries) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	if len(query) <= maxCachedQuery {
		c.Cache.Add(ctx, query, doc)
	}
}

// unsupported is the last transport: it answers what no other transport takes (another method or media
// type) with an error that says what is accepted, instead of gqlgen's bare "transport not supported".
type unsupported struct{}

func (unsupported) Supports(*http.Request) bool { return true }

func (unsupported) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, analytics.BadUserInput,
			fmt.Sprintf("method %s is not supported: send a query with GET or POST", r.Method))
		return
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	writeError(w, http.StatusUnsupportedMediaType, analytics.BadUserInput,
		fmt.Sprintf("content type %q is not supported: POST a JSON body with Content-Type: application/json", analytics.Cut(mediaType)))
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	body, _ := json.Marshal(&graphql.Response{Errors: gqlerror.List{{Message: message, Extensions: map[string]any{"code": code}}}})
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// hsts tells browsers to use HTTPS only for this host for a year: a server with a certificate answers
// nothing over plain HTTP, so a downgrade could only reach an impostor.
func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		next.ServeHTTP(w, r)
	})
}
