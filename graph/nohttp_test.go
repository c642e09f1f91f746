package graph

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Package graph is the GraphQL layer only; graph/server serves it over HTTP. No file of graph may serve
// HTTP itself, so that the split does not erode one handler at a time.
func TestGraphServesNoHTTP(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, banned := range []string{"ServeHTTP", "http.Server", "net.Listen", "http.Handler"} {
			if strings.Contains(string(src), banned) {
				t.Errorf("%s holds %s: serving HTTP belongs in graph/server", name, banned)
			}
		}
		checked++
	}
	if checked < 10 { // resolver.go, the resolvers, generated.go…: the glob found the package
		t.Fatalf("only %d files of package graph checked", checked)
	}
}
