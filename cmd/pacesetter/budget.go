package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// budget is serve --memory carved into the parts that hold memory. The caches are bounded in bytes, each
// answer charged what it really keeps (analytics/query/size.go); what is left over is for the requests at
// work (their answers being built and written) and the Go runtime's own overhead, which the Go soft limit
// (debug.SetMemoryLimit of Go's share: everything but DuckDB's) holds the collector to.
type budget struct {
	Total     int64
	Matrices  int64 // query.Options.MatrixBytes: 40 %
	Answers   int64 // query.Options.CacheBytes: 10 %
	Responses int64 // server.Options.ResponseCacheBytes: 5 %
	DuckDB    int64 // DuckDB's memory_limit: 25 %
}

// minMemory is the least --memory serves with: below it the caches would keep nearly nothing.
const minMemory = 64 << 20

func carve(total int64) budget {
	return budget{Total: total, Matrices: total * 40 / 100, Answers: total / 10, Responses: total / 20, DuckDB: total / 4}
}

// GoLimit is the Go runtime's soft memory limit: the budget but DuckDB's share, which is C memory.
func (b budget) GoLimit() int64 { return b.Total - b.DuckDB }

func (b budget) String() string {
	return fmt.Sprintf("%s: matrices %s, answer cache %s, response cache %s, DuckDB %s, requests at work the rest",
		formatBytes(b.Total), formatBytes(b.Matrices), formatBytes(b.Answers), formatBytes(b.Responses), formatBytes(b.DuckDB))
}

// defaultMemory is half the memory the process may use: the cgroup's limit (a container's) when it has one,
// else the machine's; 2 GiB when neither can be read.
func defaultMemory() int64 {
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			return max(n/2, minMemory)
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kb int64
			if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); err == nil && kb > 0 {
				return max(kb<<10/2, minMemory)
			}
		}
	}
	return 2 << 30
}

var byteUnits = []struct {
	suffix string
	n      int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}

// parseBytes reads a size: 2GiB, 512MiB, 1.5GB, 1000000 (bytes).
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.n
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 || f*float64(mult) >= 1<<62 {
		return 0, fmt.Errorf("%q is not a size (say 2GiB, 512MiB or 1.5GB)", s)
	}
	return int64(f * float64(mult)), nil
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
