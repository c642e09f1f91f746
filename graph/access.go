package graph

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"

	"github.com/99designs/gqlgen/graphql/playground"

	"pacesetter/analytics"
)

// noSniff keeps browsers from reading any answer as another type than it says (a JSON answer quoting a
// client's input as HTML, say).
func noSniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// graphiQLOrigin is where gqlgen's GraphiQL page (v0.17.98) loads React, GraphiQL and their styles from, each
// with subresource integrity. The dashboard issue may serve them from here instead.
const graphiQLOrigin = "https://cdn.jsdelivr.net"

var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
var inlineStyle = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// graphiQL serves gqlgen's GraphiQL page with headers for an HTML page: a Content-Security-Policy that lets it
// run only its own inline script (by hash, computed from the page as rendered), the CDN's scripts and styles,
// and requests to this origin; no framing; no referrer sent to the CDN.
func graphiQL() http.Handler {
	page := playground.Handler("pacesetter", "/graphql")
	rec := httptest.NewRecorder()
	page(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	body := rec.Body.Bytes()
	scripts := []string{"'self'", graphiQLOrigin}
	for _, m := range inlineScript.FindAllSubmatch(body, -1) {
		scripts = append(scripts, hashSource(m[1]))
	}
	// GraphiQL sets style attributes from script, which a style hash cannot allow: styles stay
	// 'unsafe-inline', which runs no code.
	styles := []string{"'self'", graphiQLOrigin, "'unsafe-inline'"}
	if len(inlineStyle.FindAllSubmatch(body, -1)) == 0 {
		styles = styles[:2]
	}
	csp := strings.Join([]string{
		"default-src 'none'",
		"script-src " + strings.Join(scripts, " "),
		"style-src " + strings.Join(styles, " "),
		"font-src " + graphiQLOrigin + " data:",
		"img-src 'self' data:",
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=UTF-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}

func hashSource(b []byte) string {
	sum := sha256.Sum256(b)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// cutQuoted shortens every quoted stretch of a message of gqlgen's or gqlparser's (which quote names and
// values of the document) to analytics.MaxEcho bytes, so that no error echoes a client's input at length.
func cutQuoted(msg string) string {
	if len(msg) <= 2*analytics.MaxEcho {
		return msg
	}
	var b bytes.Buffer
	for {
		i := strings.IndexByte(msg, '"')
		if i < 0 {
			b.WriteString(analytics.Cut(msg))
			break
		}
		b.WriteString(analytics.Cut(msg[:i+1]))
		msg = msg[i+1:]
		j := strings.IndexByte(msg, '"')
		if j < 0 {
			b.WriteString(analytics.Cut(msg))
			break
		}
		b.WriteString(analytics.Cut(msg[:j]))
		b.WriteByte('"')
		msg = msg[j+1:]
	}
	return b.String()
}
