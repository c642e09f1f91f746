package duck

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

// MaxPage is the most observations one page may hold.
const MaxPage = 1000

// cursor is the keyset position of an observation: the columns any order of observations is made of.
type cursor struct {
	R string  `json:"r"`
	I string  `json:"i"`
	Y int     `json:"y"`
	V float64 `json:"v,omitempty"`
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

// obsColumn is the column of each key observations can be ordered by.
var obsColumn = map[analytics.ObservationKey]string{analytics.ObsRegion: "o.region", analytics.ObsIndicator: "o.indicator",
	analytics.ObsYear: "o.year", analytics.ObsValue: "o.value"}

// obsOrder is the full order of a request: the keys asked for, then region, indicator and year (unique
// together), each key once.
func obsOrder(asked []analytics.ObservationOrder) []analytics.ObservationOrder {
	var out []analytics.ObservationOrder
	seen := map[analytics.ObservationKey]bool{}
	for _, o := range append(slices.Clone(asked), analytics.ObservationOrder{Key: analytics.ObsRegion},
		analytics.ObservationOrder{Key: analytics.ObsIndicator}, analytics.ObservationOrder{Key: analytics.ObsYear}) {
		if !seen[o.Key] {
			seen[o.Key] = true
			out = append(out, o)
		}
	}
	return out
}

// after is the keyset condition "comes after c in order": (k1 > v1) OR (k1 = v1 AND (k2 > v2 OR …)).
func after(order []analytics.ObservationOrder, c cursor, p *params) string {
	if len(order) == 0 {
		return "FALSE"
	}
	o := order[0]
	var v any
	switch o.Key {
	case analytics.ObsRegion:
		v = c.R
	case analytics.ObsIndicator:
		v = c.I
	case analytics.ObsYear:
		v = c.Y
	default:
		v = c.V
	}
	op, ph := ">", p.add(v)
	if o.Desc {
		op = "<"
	}
	col := obsColumn[o.Key]
	return "(" + col + " " + op + " " + ph + " OR (" + col + " = " + ph + " AND " + after(order[1:], c, p) + "))"
}

// Observations returns one page of the observations that match q.
func (e *Engine) Observations(ctx context.Context, q analytics.ObservationQuery) (*analytics.ObservationPage, error) {
	s := e.snap.Load()
	if q.First < 0 || q.First > MaxPage { // 0 asks for totalCount alone
		return nil, analytics.Errorf(analytics.BadUserInput, "first must be from 0 to %d, got %d", MaxPage, q.First)
	}
	if q.Category != "" {
		return nil, analytics.Errorf(analytics.BadUserInput, "observations take no category: list the indicators")
	}
	p := &params{}
	from := observationsFrom(q.AsOf, p)
	// Every value the filter names, rollups included: observations list what is stored.
	where, err := s.filterSQL(q.ValueFilter, p, false)
	if err != nil {
		return nil, err
	}
	countArgs := slices.Clone(p.args)
	order := obsOrder(q.OrderBy)
	var orderSQL []string
	for _, o := range order {
		dir := ""
		if o.Desc {
			dir = " DESC"
		}
		orderSQL = append(orderSQL, obsColumn[o.Key]+dir)
	}
	pageWhere := where
	if q.After != "" {
		c, err := decodeCursor(q.After)
		if err != nil {
			return nil, err
		}
		pageWhere += " AND " + after(order, c, p)
	}
	key := fmt.Sprintf("observations|%s|%v|%d|%q", filterKey(q.ValueFilter), order, q.First, q.After)
	return cached(e, s, key, func() (*analytics.ObservationPage, error) {
		page := &analytics.ObservationPage{Items: []*analytics.Observation{}}
		err := e.store.each(ctx, `SELECT count(*) FROM `+from+` WHERE TRUE`+where,
			func(rows *sql.Rows) error { return rows.Scan(&page.TotalCount) }, countArgs...)
		if err != nil {
			return nil, dbError(ctx, "count observations", err)
		}
		// One row more than asked says whether there is a next page.
		query := `SELECT o.region, o.indicator, o.year, o.value, o.flags, CAST(o.vintage AS VARCHAR) FROM ` + from + ` WHERE TRUE` + pageWhere +
			` ORDER BY ` + strings.Join(orderSQL, ", ") + ` LIMIT ` + p.add(q.First+1)
		err = e.store.each(ctx, query, func(rows *sql.Rows) error {
			var c cursor
			var f uint8
			var vintage sql.NullString
			if err := rows.Scan(&c.R, &c.I, &c.Y, &c.V, &f, &vintage); err != nil {
				return err
			}
			if len(page.Items) == q.First {
				page.HasNextPage = true
				return nil
			}
			o := &analytics.Observation{Region: s.regionBy[c.R], Indicator: s.indicatorBy[c.I], Year: c.Y, Value: c.V, Flags: analytics.FlagSet(f).Letters()}
			if vintage.Valid {
				d := analytics.Date(vintage.String)
				o.Vintage = &d
			}
			page.Items = append(page.Items, o)
			page.Cursors = append(page.Cursors, c.encode())
			return nil
		}, p.args...)
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
