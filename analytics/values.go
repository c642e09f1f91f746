package analytics

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// FlagSet is the set of flags an official value carries, as bits. The letters are Eurostat's observation
// flags; Derived marks a value pacesetter computed at import (a derived indicator or a parent's rollup).
type FlagSet uint8

const (
	Provisional    FlagSet = 1 << iota // p
	Estimated                          // e
	Break                              // b: break in series
	Revised                            // r
	LowReliability                     // u
	Derived                            // derived: computed at import from other values
	// RolledUp marks, inside pacesetter only, a value that rests on a parent's rollup of its children: such
	// a region is not one of "every region with a value" (the scope of a ranking without one), or the
	// national total would rank among its own provinces. Letters never shows it.
	RolledUp
	// Computed marks a value computed at query time from a formula given in the request (not stored).
	Computed
)

// AllFlags lists every flag in the order answers list them.
var AllFlags = []FlagSet{Provisional, Estimated, Break, Revised, LowReliability, Derived, Computed}

var flagNames = map[FlagSet]string{Provisional: "p", Estimated: "e", Break: "b", Revised: "r", LowReliability: "u", Derived: "derived", Computed: "computed"}

// flagLetters holds the answer of Letters for every set, so answers share them instead of allocating.
var flagLetters = func() [256][]string {
	var t [256][]string
	for s := range t {
		t[s] = []string{}
		for _, f := range AllFlags {
			if FlagSet(s)&f != 0 {
				t[s] = append(t[s], flagNames[f])
			}
		}
	}
	return t
}()

// Letters names the flags of the set in the order of AllFlags: "p", "e", "b", "r", "u", "derived",
// "computed" (never RolledUp). The slice is shared: never modify it.
func (s FlagSet) Letters() []string { return flagLetters[s&^RolledUp] }

// ParseFlags reads the flag column of observations.csv: any of the letters p, e, b, r, u, in any order
// and case, optionally separated by spaces or commas ("" is no flag).
func ParseFlags(text string) (FlagSet, error) {
	var s FlagSet
	for _, c := range strings.ToLower(text) {
		switch c {
		case 'p':
			s |= Provisional
		case 'e':
			s |= Estimated
		case 'b':
			s |= Break
		case 'r':
			s |= Revised
		case 'u':
			s |= LowReliability
		case ' ', ',':
		default:
			return 0, fmt.Errorf("flag %q is not made of p (provisional), e (estimated), b (break in series), r (revised) and u (low reliability)", Cut(text))
		}
	}
	return s, nil
}

// Date is a calendar date, YYYY-MM-DD: a vintage (when a value was released) or an asOf. Dates in this
// form compare as strings.
type Date string

// ParseDate reads an ISO date (YYYY-MM-DD).
func ParseDate(s string) (Date, error) {
	if len(s) > 32 {
		return "", fmt.Errorf("a text of %d bytes is not a date of the form YYYY-MM-DD", len(s))
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return "", fmt.Errorf("%q is not a date of the form YYYY-MM-DD", Cut(s))
	}
	return Date(t.Format(time.DateOnly)), nil
}

func (d Date) MarshalGQL(w io.Writer) { writeQuoted(w, string(d)) }

func (d *Date) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return Errorf(BadUserInput, "a Date is a string of the form YYYY-MM-DD, got %T", v)
	}
	p, err := ParseDate(s)
	if err != nil {
		return &Error{Code: BadUserInput, Message: err.Error()}
	}
	*d = p
	return nil
}
