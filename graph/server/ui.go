package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

// The browser pages (GraphiQL at /, the dashboard at /dashboard) and everything they load are embedded, so
// they work on a machine without internet; assets/vendor/README.md says where each vendored file came from.
//
//go:embed assets
var assetFS embed.FS

// assets is assetFS under assets/, as served at /assets/.
var assets = must(fs.Sub(assetFS, "assets"))

// pageCSP lets a page run scripts and load styles, fonts and images from this origin only, and talk to this
// origin only. Styles keep 'unsafe-inline' because GraphiQL's editors set style attributes, which no hash
// can allow; styles run no code.
var pageCSP = strings.Join([]string{
	"default-src 'none'",
	"script-src 'self'",
	"style-src 'self' 'unsafe-inline'",
	"font-src 'self' data:",
	"img-src 'self' data: blob:",
	"connect-src 'self'",
	"base-uri 'none'",
	"form-action 'none'",
	"frame-ancestors 'none'",
}, "; ")

// assetURL names an asset with a hash of its content, so /assets/ can be cached for a year and a page still
// gets a new file when the binary brings one.
func assetURL(name string) (string, error) {
	b, err := fs.ReadFile(assets, name)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "/assets/" + name + "?v=" + hex.EncodeToString(sum[:6]), nil
}

// page renders an embedded HTML template once (its {{asset "…"}} become hashed URLs) and serves it with the
// headers of an HTML page: the CSP above, no framing, no referrer.
func page(name string) http.Handler {
	t := template.Must(template.New(name).Funcs(template.FuncMap{"asset": assetURL}).ParseFS(assets, name))
	var buf bytes.Buffer
	if err := t.Execute(&buf, nil); err != nil {
		panic(err)
	}
	body := buf.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=UTF-8")
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}

// assetHandler serves /assets/. Pages name assets by content hash (assetURL), so they are cached for a year.
// The HTML templates are pages, not assets.
func assetHandler() http.Handler {
	files := http.StripPrefix("/assets/", http.FileServerFS(assets))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || strings.HasSuffix(r.URL.Path, ".html") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		files.ServeHTTP(w, r)
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
