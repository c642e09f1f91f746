package duck

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

// MaxPage is the most observations one page may hold.
const MaxPage = 1000

// cursor is the keyset position of an observation: pages are ordered by region, indicator, year.
type cursor struct {
	R string `json:"r"`
	I string `json:"i"`
	Y int    `json:"y"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, analytics.Errorf(analytics.BadUserInput, "after %q is not a cursor this API returned: pass the endCursor of the previous page", s)
	}
	return c, nil
}

// Observations returns one page of the observations that match q.
func (e *Engine) Observations(ctx context.Context, q analytics.ObservationQuery) (*analytics.ObservationPage, error) {
	s := e.snap.Load()
	if q.First < 0 || q.First > MaxPage { // 0 asks for totalCount alone
		return nil, analytics.Errorf(analytics.BadUserInput, "first must be from 0 to %d, got %d", MaxPage, q.First)
	}
	where := "TRUE"
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	in := func(column string, codes []string, known func(string) error) error {
		if len(codes) == 0 {
			return nil
		}
		var list []string
		for _, c := range codes {
			if err := known(c); err != nil {
				return err
			}
			list = append(list, arg(c))
		}
		where += " AND " + column + " IN (" + strings.Join(list, ", ") + ")"
		return nil
	}
	if err := in("region", q.Regions, func(c string) error { _, err := s.region(c); return err }); err != nil {
		return nil, err
	}
	if err := in("indicator", q.Indicators, func(c string) error { _, err := s.indicator(c); return err }); err != nil {
		return nil, err
	}
	if q.From != nil {
		where += " AND year >= " + arg(*q.From)
	}
	if q.To != nil {
		where += " AND year <= " + arg(*q.To)
	}
	countWhere, countArgs := where, append([]any(nil), args...)
	if q.After != "" {
		c, err := decodeCursor(q.After)
		if err != nil {
			return nil, err
		}
		r, i, y := arg(c.R), arg(c.I), arg(c.Y)
		where += fmt.Sprintf(" AND (region > %s OR (region = %s AND (indicator > %s OR (indicator = %s AND year > %s))))", r, r, i, i, y)
	}
	key := fmt.Sprintf("observations|%q|%q|%v|%v|%d|%q", q.Regions, q.Indicators, deref(q.From), deref(q.To), q.First, q.After)
	return cached(e, s, key, func() (*analytics.ObservationPage, error) {
		page := &analytics.ObservationPage{Items: []*analytics.Observation{}}
		err := each(ctx, e.store.db, `SELECT count(*) FROM observations WHERE `+countWhere,
			func(rows *sql.Rows) error { return rows.Scan(&page.TotalCount) }, countArgs...)
		if err != nil {
			return nil, dbError(ctx, "count observations", err)
		}
		// One row more than asked says whether there is a next page.
		query := `SELECT region, indicator, year, value FROM observations WHERE ` + where +
			` ORDER BY region, indicator, year LIMIT ` + arg(q.First+1)
		err = each(ctx, e.store.db, query, func(rows *sql.Rows) error {
			var c cursor
			var v float64
			if err := rows.Scan(&c.R, &c.I, &c.Y, &v); err != nil {
				return err
			}
			if len(page.Items) == q.First {
				page.HasNextPage = true
				return nil
			}
			page.Items = append(page.Items, &analytics.Observation{Region: s.regionBy[c.R], Indicator: s.indicatorBy[c.I], Year: c.Y, Value: v})
			page.Cursors = append(page.Cursors, c.encode())
			return nil
		}, args...)
		if err != nil {
			return nil, dbError(ctx, "observations", err)
		}
		return page, nil
	})
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// Trend returns a region's history on one indicator with growth, records and streaks.
func (e *Engine) Trend(ctx context.Context, q analytics.TrendQuery) (*analytics.Trend, error) {
	s := e.snap.Load()
	region, err := s.region(q.Region)
	if err != nil {
		return nil, err
	}
	in, err := s.indicator(q.Indicator)
	if err != nil {
		return nil, err
	}
	if q.From != nil && q.To != nil && *q.From > *q.To {
		return nil, analytics.Errorf(analytics.BadUserInput, "from (%d) is after to (%d)", *q.From, *q.To)
	}
	key := fmt.Sprintf("trend|%q|%q|%v|%v", q.Region, q.Indicator, deref(q.From), deref(q.To))
	return cached(e, s, key, func() (*analytics.Trend, error) {
		var series []calc.YearValue
		err := each(ctx, e.store.db, `SELECT year, value FROM observations WHERE indicator = $1 AND region = $2 ORDER BY year`,
			func(rows *sql.Rows) error {
				var p calc.YearValue
				if err := rows.Scan(&p.Year, &p.Value); err != nil {
					return err
				}
				series = append(series, p)
				return nil
			}, in.Code, region.Code)
		if err != nil {
			return nil, dbError(ctx, "trend", err)
		}
		t := &analytics.Trend{Region: region, Indicator: in, Points: []*analytics.TrendPoint{}}
		// Every measure is computed over the whole history; From and To only choose the years shown.
		all := calc.Trend(series, in.Sign())
		var shown []calc.YearValue
		for i := range all {
			p := &all[i]
			if q.From != nil && p.Year < *q.From || q.To != nil && p.Year > *q.To {
				continue
			}
			t.Points = append(t.Points, p)
			shown = append(shown, series[i])
		}
		if len(shown) > 0 {
			if c, ok := calc.CAGR(shown[0], shown[len(shown)-1]); ok {
				t.Cagr = &c
			}
		}
		return t, nil
	})
}
