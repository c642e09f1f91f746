package analytics

import (
	"strings"
	"testing"
)

func TestParsePeriod(t *testing.T) {
	// Ordinals worked by hand: 2025·4 + 3 − 1 = 8102; 2025·12 + 9 − 1 = 24308.
	for _, c := range []struct {
		in   string
		want Period
		ord  int
		out  string
	}{
		{"2025", Period{2025, 0, Annual}, 2025, "2025"},
		{"2025-Q3", Period{2025, 3, Quarterly}, 8102, "2025-Q3"},
		{"2025-q1", Period{2025, 1, Quarterly}, 8100, "2025-Q1"},
		{"2025-09", Period{2025, 9, Monthly}, 24308, "2025-09"},
		{"2025-01", Period{2025, 1, Monthly}, 24300, "2025-01"},
		{"0001-12", Period{1, 12, Monthly}, 23, "0001-12"},
	} {
		p, err := ParsePeriod(c.in)
		if err != nil || p != c.want {
			t.Fatalf("ParsePeriod(%q) = %v, %v; want %v", c.in, p, err, c.want)
		}
		if p.Ord() != c.ord || p.String() != c.out {
			t.Errorf("%q: ord %d string %q; want %d %q", c.in, p.Ord(), p.String(), c.ord, c.out)
		}
		if back := PeriodAt(p.Freq, p.Ord()); back != p {
			t.Errorf("PeriodAt(%s, %d) = %v, want %v", p.Freq, p.Ord(), back, p)
		}
		if YearOfOrd(p.Freq, p.Ord()) != p.Year || OrdOf(p.Freq, p.Year, p.Sub) != p.Ord() {
			t.Errorf("%q: year or ordinal does not round-trip", c.in)
		}
	}
	for _, c := range []struct{ in, says string }{
		{"2025-13", "month 13"}, {"2025-00", "month 0"}, {"2025-Q5", "quarter 5"}, {"2025-Q0", "quarter 0"},
		{"25", "four-digit year"}, {"2025-9", "malformed"}, {"2025-Q", "malformed"}, {"2025-M09", "malformed"},
		{"", "four-digit year"}, {"0000", "year 0"}, {"2025-09-01", "malformed"}, {"２０２５", "four-digit"},
	} {
		_, err := ParsePeriod(c.in)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("ParsePeriod(%q) = %v; want an error saying %q", c.in, err, c.says)
		}
	}
}

func TestPeriodArithmetic(t *testing.T) {
	// The month before January 2025 is December 2024; the same month a year earlier is 12 ordinals back.
	jan := Period{2025, 1, Monthly}.Ord()
	if p := PeriodAt(Monthly, jan-1); p != (Period{2024, 12, Monthly}) {
		t.Errorf("month before 2025-01 = %v", p)
	}
	if p := PeriodAt(Monthly, jan-Monthly.PerYear()); p != (Period{2024, 1, Monthly}) {
		t.Errorf("same month a year earlier = %v", p)
	}
	q1 := Period{2025, 1, Quarterly}.Ord()
	if p := PeriodAt(Quarterly, q1-1); p != (Period{2024, 4, Quarterly}) {
		t.Errorf("quarter before 2025-Q1 = %v", p)
	}
	for _, c := range []struct {
		in   string
		want Frequency
	}{{"", Annual}, {"a", Annual}, {"Q", Quarterly}, {"m", Monthly}} {
		if f, err := ParseFrequency(c.in); err != nil || f != c.want {
			t.Errorf("ParseFrequency(%q) = %v, %v", c.in, f, err)
		}
	}
	if _, err := ParseFrequency("W"); err == nil {
		t.Error("frequency W accepted")
	}
}
