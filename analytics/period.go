package analytics

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Frequency is how often an indicator is published: once a year, once a quarter or once a month.
type Frequency string

const (
	Annual    Frequency = "A"
	Quarterly Frequency = "Q"
	Monthly   Frequency = "M"
)

// PerYear is how many periods of the frequency a year has: 1, 4 or 12 (1 for an unknown one).
func (f Frequency) PerYear() int {
	switch f {
	case Quarterly:
		return 4
	case Monthly:
		return 12
	}
	return 1
}

// ParseFrequency reads A, Q or M in any case; "" is A.
func ParseFrequency(s string) (Frequency, error) {
	switch strings.ToUpper(s) {
	case "", "A":
		return Annual, nil
	case "Q":
		return Quarterly, nil
	case "M":
		return Monthly, nil
	}
	return "", fmt.Errorf("frequency %q is not A (annual), Q (quarterly) or M (monthly)", s)
}

// Period is a year, a quarter of a year or a month of a year, as SDMX writes TIME_PERIOD: "2025",
// "2025-Q3", "2025-09". Sub is the quarter (1–4) or month (1–12); 0 for a year.
//
// Its ordinal (Ord) keeps the engine's time axis an integer per frequency: a year is itself, a quarter
// year·4 + q − 1, a month year·12 + m − 1. So the period before is Ord − 1, the same period a year earlier
// Ord − PerYear, and the calendar year Ord / PerYear: the growth of a month and of a year are one rule.
type Period struct {
	Year int
	Sub  int
	Freq Frequency
}

// ParsePeriod reads "2025", "2025-Q3" (or q3) or "2025-09"; the year is 1 to 9999.
func ParsePeriod(s string) (Period, error) {
	bad := func(why string) (Period, error) {
		return Period{}, fmt.Errorf("period %q %s: write a year (2025), a quarter (2025-Q3) or a month (2025-09)", s, why)
	}
	if len(s) < 4 || !digits(s[:4]) {
		return bad("does not start with a four-digit year")
	}
	y, rest, dash := strings.Cut(s, "-")
	if len(y) != 4 {
		return bad("is malformed")
	}
	year, _ := strconv.Atoi(y)
	if year < 1 {
		return bad("has year 0")
	}
	if !dash {
		return Period{Year: year, Freq: Annual}, nil
	}
	switch {
	case len(rest) == 2 && (rest[0] == 'Q' || rest[0] == 'q') && digits(rest[1:]):
		q := int(rest[1] - '0')
		if q < 1 || q > 4 {
			return bad(fmt.Sprintf("has quarter %d (quarters are 1 to 4)", q))
		}
		return Period{Year: year, Sub: q, Freq: Quarterly}, nil
	case len(rest) == 2 && digits(rest):
		m, _ := strconv.Atoi(rest)
		if m < 1 || m > 12 {
			return bad(fmt.Sprintf("has month %d (months are 01 to 12)", m))
		}
		return Period{Year: year, Sub: m, Freq: Monthly}, nil
	}
	return bad("is malformed")
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// String writes the period back as ParsePeriod reads it.
func (p Period) String() string {
	switch p.Freq {
	case Quarterly:
		return fmt.Sprintf("%04d-Q%d", p.Year, p.Sub)
	case Monthly:
		return fmt.Sprintf("%04d-%02d", p.Year, p.Sub)
	}
	return fmt.Sprintf("%04d", p.Year)
}

// Ord is the period's place on its frequency's time axis (see Period).
func (p Period) Ord() int {
	if p.Freq.PerYear() == 1 {
		return p.Year
	}
	return p.Year*p.Freq.PerYear() + p.Sub - 1
}

// PeriodAt is the period of frequency f at ordinal t (floor division: ordinals are never negative here).
func PeriodAt(f Frequency, t int) Period {
	n := f.PerYear()
	if n == 1 {
		return Period{Year: t, Freq: Annual}
	}
	return Period{Year: t / n, Sub: t%n + 1, Freq: f}
}

// YearOfOrd is the calendar year of ordinal t of frequency f.
func YearOfOrd(f Frequency, t int) int { return t / f.PerYear() }

// OrdOf is the ordinal of year and sub-period sub (0 for an annual value) of frequency f.
func OrdOf(f Frequency, year, sub int) int {
	if f.PerYear() == 1 {
		return year
	}
	return year*f.PerYear() + sub - 1
}

// The frequency marshals as its GraphQL enum name; "" (an indicator built in code) is A.
func (f Frequency) MarshalGQL(w io.Writer) {
	if f == "" {
		f = Annual
	}
	writeQuoted(w, string(f))
}
func (f *Frequency) UnmarshalGQL(v any) error { return unmarshalEnum(v, f, Annual, Quarterly, Monthly) }

// PeriodOrYear is an argument taking a year (2025, as an Int or a String) or a period ("2025-Q3",
// "2025-09"): trend's from and to.
type PeriodOrYear struct{ Period }

func (p *PeriodOrYear) UnmarshalGQL(v any) error {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case int64:
		s = strconv.FormatInt(v, 10)
	case int:
		s = strconv.Itoa(v)
	case json.Number:
		s = v.String()
	default:
		return fmt.Errorf("a period is a year (2025) or a string like \"2025-Q3\" or \"2025-09\", got %T", v)
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 9999 {
		p.Period = Period{Year: n, Freq: Annual} // a year written without leading zeros
		return nil
	}
	pp, err := ParsePeriod(s)
	if err != nil {
		return err
	}
	p.Period = pp
	return nil
}

func (p PeriodOrYear) MarshalGQL(w io.Writer) { writeQuoted(w, p.String()) }
