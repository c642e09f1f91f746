package main

import (
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
)

// The Dockerfile cannot be built here (no Docker engine; .ci/run builds it and asks the image a query where
// one exists), so its text is checked against what it must agree with: the builder's Go is go.mod's, the
// runtime is the builder's Debian release in its slim form (glibc and libstdc++ as linked), it builds with
// README's install command, runs as a user without privileges on 0.0.0.0:8080 with a volume at /data, and
// .dockerignore keeps out nothing the build needs.
func TestDockerfile(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../../" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	df, gomod, readme := read("Dockerfile"), read("go.mod"), read("README.md")
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(gomod)
	builder := regexp.MustCompile(`(?m)^FROM golang:(\d+\.\d+)(?:\.\d+)?-(\w+) AS build$`).FindStringSubmatch(df)
	if goLine == nil || builder == nil || builder[1] != goLine[1] {
		t.Errorf("the builder image (%q) is not go.mod's Go (%q)", builder, goLine)
	}
	if builder != nil && !regexp.MustCompile(`(?m)^FROM debian:`+builder[2]+`-slim$`).MatchString(df) {
		t.Errorf("the runtime image is not debian:%s-slim, the builder's release", builder[2])
	}
	install := regexp.MustCompile("(?m)^go install (\\./cmd/pacesetter)\\s").FindStringSubmatch(readme)
	if install == nil || !regexp.MustCompile(`(?m)^RUN CGO_ENABLED=1 GOBIN=/out go install -trimpath \./cmd/pacesetter$`).MatchString(df) {
		t.Errorf("README's install command %q and the Dockerfile's build differ", install)
	}
	for _, want := range []string{"\nUSER 10001:10001\n", "\nVOLUME /data\n", "\nEXPOSE 8080\n",
		`CMD ["serve", "--addr", "0.0.0.0:8080"]`, `ENTRYPOINT ["pacesetter"]`, `"pacesetter", "health", "http://127.0.0.1:8080/readyz"`} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	// What the build reads: every package's sources, the embedded dataset and pages, the module files.
	needed := []string{"go.mod", "go.sum", "cmd/pacesetter/main.go", "graph/server/ui.go", "graph/generated.go",
		"graph/server/assets/vendor/echarts.min.js", "data/data.go", "data/china-provinces-nbs/observations.csv",
		"analytics/duck/served.go", "schema/catalog.graphqls"}
	ignored := []string{".git/HEAD", "cmd/pacesetter/main_test.go", "graph/server/testdata/audit/package.json", "pacesetter", "stats.db"}
	patterns := strings.Split(read(".dockerignore"), "\n")
	for _, f := range needed {
		if p := dockerIgnores(patterns, f); p != "" {
			t.Errorf(".dockerignore's %q keeps %s out of the build", p, f)
		}
	}
	for _, f := range ignored {
		if dockerIgnores(patterns, f) == "" {
			t.Errorf(".dockerignore lets %s into the build context", f)
		}
	}
}

// dockerIgnores is the pattern of .dockerignore that excludes file, or "": Docker's rules for the patterns
// used here (a leading / is the context's root, **/ any folders, a pattern that matches a folder excludes
// what is in it, # a comment; no ! exceptions).
func dockerIgnores(patterns []string, file string) string {
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		pat := strings.TrimPrefix(p, "/")
		anyDepth := strings.HasPrefix(pat, "**/")
		pat = strings.TrimPrefix(pat, "**/")
		parts := strings.Split(file, "/")
		for i := range parts {
			if i > 0 && !anyDepth {
				break
			}
			for j := i + 1; j <= len(parts); j++ {
				if ok, _ := path.Match(pat, strings.Join(parts[i:j], "/")); ok {
					return p
				}
			}
		}
	}
	return ""
}
