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
		return c, analytics.Errorf(analytics.BadUserInput, "after %q is not a cursor this API returned: pass the endCursor of the previous page", cut(s))
	}
	return c, nil
}

// Observations returns one page of the observations that match q.
func (e *Engine) Observations(ctx context.Context, q analytics.ObservationQuery) (*analytics.ObservationPage, error) {
	s := e.snap.Load()
	if q.First < 0 || q.First > MaxPage { // 0 asks for totalCount alone
		return nil, analytics.Errorf(analytics.BadUserInput, "first must be from 0 to %d, got %d", MaxPage, q.First)
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if err := s.checkAsOf(q.AsOf); err != nil {
		return nil, err
	}
	// The newest vintage of each value, or the last released by asOf.
	from := `observations WHERE latest`
	if q.AsOf != nil {
		from = `(SELECT * FROM observations WHERE ` + releasedBy(arg(string(*q.AsOf))) + `) WHERE TRUE`
	}
	where := ""
	in := func(column string, codes []string, known func(string) error) error {
		if codes == nil {
			return nil
		}
		if len(codes) == 0 {
			return analytics.Errorf(analytics.BadUserInput, "%ss is an empty list, which would match nothing: list at least one code, or leave %ss out", column, column)
		}
		if len(codes) > MaxScopeRegions {
			return analytics.Errorf(analytics.BadUserInput, "%ss lists %d codes; at most %d may be given", column, len(codes), MaxScopeRegions)
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
	if q.From != nil && q.To != nil && *q.From > *q.To {
		return nil, analytics.Errorf(analytics.BadUserInput, "from (%d) is after to (%d)", *q.From, *q.To)
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
	key := fmt.Sprintf("observations|%q|%v|%q|%v|%v|%v|%s|%d|%q", q.Regions, q.Regions == nil, q.Indicators, q.Indicators == nil,
		deref(q.From), deref(q.To), s.vintage(q.AsOf), q.First, q.After)
	return cached(e, s, key, func() (*analytics.ObservationPage, error) {
		page := &analytics.ObservationPage{Items: []*analytics.Observation{}}
		err := each(ctx, e.store.db, `SELECT count(*) FROM `+from+countWhere,
			func(rows *sql.Rows) error { return rows.Scan(&page.TotalCount) }, countArgs...)
		if err != nil {
			return nil, dbError(ctx, "count observations", err)
		}
		// One row more than asked says whether there is a next page.
		query := `SELECT region, indicator, year, value, flags, CAST(vintage AS VARCHAR) FROM ` + from + where +
			` ORDER BY region, indicator, year LIMIT ` + arg(q.First+1)
		err = each(ctx, e.store.db, query, func(rows *sql.Rows) error {
			var c cursor
			var v float64
			var f uint8
			var vintage sql.NullString
			if err := rows.Scan(&c.R, &c.I, &c.Y, &v, &f, &vintage); err != nil {
				return err
			}
			if len(page.Items) == q.First {
				page.HasNextPage = true
				return nil
			}
			o := &analytics.Observation{Region: s.regionBy[c.R], Indicator: s.indicatorBy[c.I], Year: c.Y, Value: v, Flags: analytics.FlagSet(f).Letters()}
			if vintage.Valid {
				d := analytics.Date(vintage.String)
				o.Vintage = &d
			}
			page.Items = append(page.Items, o)
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
	if err := s.checkAsOf(q.AsOf); err != nil {
		return nil, err
	}
	key := fmt.Sprintf("trend|%q|%q|%v|%v|%s", q.Region, q.Indicator, deref(q.From), deref(q.To), dateKey(q.AsOf))
	return cached(e, s, key, func() (*analytics.Trend, error) {
		ms, err := e.matrices(ctx, s, q.AsOf, in.Code)
		if err != nil {
			return nil, err
		}
		m, r := ms[in.Code], s.regionAt[region.Code]
		var series []calc.YearValue
		var flags []analytics.FlagSet
		if m != nil {
			for _, c := range m.cells[m.off[r]:m.off[r+1]] {
				series = append(series, calc.YearValue{Year: int(c.year), Value: c.value})
				flags = append(flags, c.flags)
			}
		}
		t := &analytics.Trend{Region: region, Indicator: in, Points: []*analytics.TrendPoint{}, AsOf: q.AsOf}
		// Every measure is computed over the whole history; From and To only choose the years shown.
		all := calc.Trend(series, in.Sign(), in.Measure)
		var shown []calc.YearValue
		for i := range all {
			p := &all[i]
			if q.From != nil && p.Year < *q.From || q.To != nil && p.Year > *q.To {
				continue
			}
			p.Flags = flags[i].Letters()
			t.Points = append(t.Points, p)
			shown = append(shown, series[i])
		}
		if c, ok := calc.CAGR(shown, in.Measure); ok {
			t.Cagr = &c
		}
		return t, nil
	})
}
