package query

import (
	"context"

	"pacesetter/analytics"
)

// MaxPage is the most observations one page may hold.
const MaxPage = 1000

// Observations returns one page of the observations that match q: checked here, read by duck.
func (e *Engine) Observations(ctx context.Context, q analytics.ObservationQuery) (*analytics.ObservationPage, error) {
	s := e.snap.Load()
	if err := planObservations(s, &q); err != nil {
		return nil, err
	}
	cat, c, _, err := e.computedOf(ctx, s, q.ValueFilter, false) // every value, as of stored ones (rollups too)
	if err != nil {
		return nil, err
	}
	return e.reader.Observations(ctx, cat, q, c)
}

// planObservations checks a page's request against the catalog; its cursor is duck's to read.
func planObservations(s *snapshot, q *analytics.ObservationQuery) error {
	if q.First < 0 || q.First > MaxPage { // 0 asks for totalCount alone
		return analytics.Errorf(analytics.BadUserInput, "first must be from 0 to %d, got %d", MaxPage, q.First)
	}
	if q.Category != "" {
		return analytics.Errorf(analytics.BadUserInput, "observations take no category: list the indicators")
	}
	return checkFilter(s, &q.ValueFilter)
}
