package graph

import "pacesetter/analytics"

// periodArg parses a period argument ("2025", "2025-Q3", "2025-09"); nil when absent.
func periodArg(name string, text *string) (*analytics.Period, error) {
	if text == nil {
		return nil, nil
	}
	p, err := analytics.ParsePeriod(*text)
	if err != nil {
		return nil, analytics.Errorf(analytics.BadUserInput, "%s: %v", name, err)
	}
	return &p, nil
}

// boundArg splits a PeriodOrYear bound into a year (for a year) or a period (for a quarter or month).
func boundArg(b *analytics.PeriodOrYear) (*int, *analytics.Period) {
	switch {
	case b == nil:
		return nil, nil
	case b.Freq == analytics.Annual:
		y := b.Year
		return &y, nil
	}
	p := b.Period
	return nil, &p
}
