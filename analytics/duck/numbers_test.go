package duck

import (
	"context"
	"database/sql"
	"math"
	"strings"
	"testing"
)

// What DuckDB (1.5.6, through duckdb-go v2.10506.0) does with doubles at their edges: the facts that
// measureSQLWide works around, and the ones it relies on. A failure here after an upgrade means
// measureSQLWide's comment and forms need a new look.
func TestDuckDBDoubleFacts(t *testing.T) {
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	one := func(query string, args ...any) (sql.NullFloat64, error) {
		var v sql.NullFloat64
		err := s.db.QueryRowContext(context.Background(), query, args...).Scan(&v)
		return v, err
	}
	two := func(agg string, a, b float64) (sql.NullFloat64, error) {
		return one(`SELECT `+agg+` FROM (VALUES ($1::DOUBLE), ($2::DOUBLE)) t(v)`, a, b)
	}
	for _, c := range []struct {
		what    string
		agg     string
		a, b    float64
		want    float64 // NaN: an error is expected
		errPart string
	}{
		// Worked around:
		{"sum of two 1e308 overflows to inf", "sum(v)", 1e308, 1e308, math.Inf(1), ""},
		{"avg of two 1e308 overflows to inf", "avg(v)", 1e308, 1e308, math.Inf(1), ""},
		{"stddev_samp of ±1e308 fails", "stddev_samp(v)", 1e308, -1e308, math.NaN(), "out of range"},
		{"stddev_samp of tiny values is 0 (its squares underflow)", "stddev_samp(v)", 1e-200, 2e-200, 0, ""},
		{"median of two 5e-324 is 0 (lo·(1−d) + hi·d)", "median(v)", 5e-324, 5e-324, 0, ""},
		// Relied on:
		{"a product that overflows is inf, not an error", "max(v * 2)", 1e308, 1, math.Inf(1), ""},
		{"median of ±1e308 does not overflow", "median(v)", 1e308, -1e308, 0, ""},
		{"pow(2, ±600) are exact powers of two", "max(v * pow(2.0, 600) * pow(2.0, -600))", 5e-324, 0, 5e-324, ""},
		{"isfinite", "bool_and(isfinite(v))::INT::DOUBLE", math.MaxFloat64, 5e-324, 1, ""},
	} {
		got, err := two(c.agg, c.a, c.b)
		switch {
		case math.IsNaN(c.want):
			if err == nil || !strings.Contains(err.Error(), c.errPart) {
				t.Errorf("%s: got %v, %v; want an error saying %q", c.what, got, err, c.errPart)
			}
		case err != nil || !got.Valid || got.Float64 != c.want:
			t.Errorf("%s: got %v, %v; want %v", c.what, got, err, c.want)
		}
	}
}
