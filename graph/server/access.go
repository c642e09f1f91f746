package server

import (
	"bytes"
	"net/http"
	"strings"

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
