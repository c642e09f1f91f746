package main

import "testing"

func TestParseBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{{"2GiB", 2 << 30}, {"512MiB", 512 << 20}, {"1.5GB", 1_500_000_000}, {"1000000", 1_000_000}, {"64 mib", 64 << 20}, {"3kB", 3000}} {
		if got, err := parseBytes(c.in); err != nil || got != c.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1GiB", "two", "0", "1e30GB"} {
		if n, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", bad, n)
		}
	}
}

// TestCarve: the parts add up to no more than the budget, and Go's soft limit leaves DuckDB its share.
func TestCarve(t *testing.T) {
	for _, total := range []int64{minMemory, 2 << 30, 7_777_777_777} {
		b := carve(total)
		if sum := b.Matrices + b.Answers + b.Responses + b.DuckDB; sum > total*80/100 || sum < total*79/100 {
			t.Errorf("carve(%d): parts add up to %d, want 80 %% (the rest is for requests at work)", total, sum)
		}
		if b.GoLimit()+b.DuckDB != total {
			t.Errorf("carve(%d): Go's limit %d + DuckDB's %d ≠ the budget", total, b.GoLimit(), b.DuckDB)
		}
	}
}
