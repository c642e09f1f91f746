// Package data embeds the default dataset that `pacesetter serve` loads when no --db is given: the
// NBS provincial statistics of China (see china-provinces-nbs/README.md for provenance and caveats).
// worldbank-gdp-population/ is kept beside it, not embedded, for tests and benchmarks.
package data

import (
	"embed"
	"io/fs"
)

//go:embed china-provinces-nbs/*.csv china-provinces-nbs/schemes.yaml
var files embed.FS

// DefaultName names the embedded dataset, as it is reported as the dataset's source.
const DefaultName = "embedded: china-provinces-nbs (National Bureau of Statistics of China)"

// Default is the embedded default dataset folder.
func Default() fs.FS {
	sub, err := fs.Sub(files, "china-provinces-nbs")
	if err != nil {
		panic(err) // the path is fixed at compile time
	}
	return sub
}
