package duck

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"

	"pacesetter/analytics"
)

// cursor is the keyset position of an observation: the columns any order of observations is made of.
type cursor struct {
	R string  `json:"r"`
	I string  `json:"i"`
	Y int     `json:"y"`
	P int     `json:"p,omitempty"` // the quarter or month; 0 (left out) for a year's value
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
		return c, analytics.Errorf(analytics.BadUserInput, "after %q is not a cursor this API returned: pass the endCursor of the previous page", analytics.Cut(s))
	}
	return c, nil
}

// obsColumn is the column of each key observations can be ordered by.
var obsColumn = map[analytics.ObservationKey]string{analytics.ObsRegion: "o.region", analytics.ObsIndicator: "o.indicator",
	analytics.ObsYear: "(o.year * 16 + o.period)", analytics.ObsValue: "o.value"}

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
		v = c.Y*16 + c.P // a year's months follow it, in order (obsColumn)
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

// Observations returns one page of the observations that match q, a request the query service has checked
// against the catalog (its first, category and filter), with the values of the formulas the filter names
// (nil: none); the cursor after is read here.
func (rd *Reader) Observations(ctx context.Context, s *Catalog, q analytics.ObservationQuery, c *Computed) (*analytics.ObservationPage, error) {
	p := &params{}
	from := observationsFrom(q.AsOf, p, c)
	// Every value the filter names, rollups included: observations list what is stored.
	where := filterSQL(q.ValueFilter, p, false, c)
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
	var walk *regionWalk
	if order[0].Key == analytics.ObsRegion {
		walk = &regionWalk{desc: order[0].Desc, from: 0}
		if walk.desc {
			walk.from = len(s.ByCode) - 1
		}
	}
	if q.After != "" {
		c, err := decodeCursor(q.After)
		if err != nil {
			return nil, err
		}
		pageWhere += " AND " + after(order, c, p)
		if walk != nil {
			walk.from, _ = slices.BinarySearch(s.ByCode, c.R) // the cursor's region: rows may follow in it
		}
	}
	// A page is cut from a chunk of the rows that follow the cursor, read ahead: a client paging through
	// millions of rows (an export) then costs one query per chunk rather than one, over the whole table,
	// per page of a thousand. The chunks are the cache of pages: pages are not kept as answers, which would
	// hold a whole export in memory.
	filter, _ := json.Marshal(q.ValueFilter) // canonical: nil and empty lists differ, and pointers are followed
	chunkKey := fmt.Sprintf("%s|%s|%v", s.Key, filter, order)
	ch, pos := rd.chunks.find(chunkKey, q.After)
	if ch == nil || pos+1+q.First > len(ch.items) && ch.more {
		total := rd.chunks.total(chunkKey) // the filter's count, when a chunk of it was read before
		var err error
		if ch, err = rd.readChunk(ctx, s, from, where, countArgs, pageWhere, orderSQL, p, max(q.First+1, chunkRows), walk, total); err != nil {
			return nil, err
		}
		ch.start = q.After
		rd.chunks.put(chunkKey, ch)
		pos = -1
	}
	page := &analytics.ObservationPage{TotalCount: ch.total, Items: []*analytics.Observation{}}
	end := min(pos+1+q.First, len(ch.items))
	page.Items = append(page.Items, ch.items[pos+1:end]...)
	page.Cursors = append(page.Cursors, ch.cursors[pos+1:end]...)
	page.HasNextPage = end < len(ch.items) || ch.more
	return page, nil
}

// chunkRows is how many observations a page reads ahead (a variable for tests that cross chunks).
var chunkRows = 20000

// obsChunk is a run of observations in one filter's order, following the cursor start.
type obsChunk struct {
	start   string
	items   []*analytics.Observation
	cursors []string
	at      map[string]int // cursor → index
	more    bool           // rows follow the chunk
	total   int            // rows the filter matches
}

// regionWalk is where a chunk in an order led by region starts: the position of its first region in code
// order, walking down the codes when desc.
type regionWalk struct {
	desc bool
	from int
}

// readChunk reads up to n observations after the page's cursor, and the filter's count unless total (−1:
// not known) already is it. In an order led by
// region (the default), it reads the next few regions' rows by a range of region codes, about n rows' worth,
// so that DuckDB filters while it scans and sorts only those: ordering the whole table to keep its top n
// costs half a second and 400 MB at five million rows. Other orders take the top n of the whole filter.
func (rd *Reader) readChunk(ctx context.Context, s *Catalog, from, where string, countArgs []any, pageWhere string, orderSQL []string, p *params, n int, walk *regionWalk, total int) (*obsChunk, error) {
	ch := &obsChunk{at: map[string]int{}, total: total}
	if total < 0 {
		err := rd.each(ctx, `SELECT count(*) FROM `+from+` WHERE TRUE`+where,
			func(rows *sql.Rows) error { return rows.Scan(&ch.total) }, countArgs...)
		if err != nil {
			return nil, dbError(ctx, "count observations", err)
		}
	}
	codes := s.ByCode
	k := len(codes) // regions a chunk spans
	if walk != nil && ch.total > 0 {
		k = max(1, n/max(1, ch.total/max(1, len(codes))))
	}
	for {
		pp := &params{args: slices.Clone(p.args)}
		cond, last := pageWhere, true
		if walk != nil && len(codes) > 0 {
			lo, hi := walk.from, walk.from+k-1
			if walk.desc {
				lo, hi = walk.from-k+1, walk.from
			}
			lo, hi = max(lo, 0), min(hi, len(codes)-1)
			if lo > hi {
				break
			}
			cond += " AND o.region BETWEEN " + pp.add(codes[lo]) + " AND " + pp.add(codes[hi])
			last = walk.desc && lo == 0 || !walk.desc && hi == len(codes)-1
			if walk.desc {
				walk.from = lo - 1
			} else {
				walk.from = hi + 1
			}
		}
		// One row more than read says whether more follow. The limit is written into the statement, an
		// int of ours: with a parameter DuckDB's planner cannot see it, and sorts every row.
		query := `SELECT o.region, o.indicator, o.year, o.value, o.flags, CAST(o.vintage AS VARCHAR), o.period FROM ` + from + ` WHERE TRUE` + cond +
			` ORDER BY ` + strings.Join(orderSQL, ", ") + ` LIMIT ` + strconv.Itoa(n+1)
		err := rd.each(ctx, query, func(rows *sql.Rows) error {
			var c cursor
			var f uint8
			var vintage sql.NullString
			if err := rows.Scan(&c.R, &c.I, &c.Y, &c.V, &f, &vintage, &c.P); err != nil {
				return err
			}
			if len(ch.items) == n {
				ch.more = true
				return nil
			}
			in := s.IndicatorBy[c.I]
			o := &analytics.Observation{Region: s.RegionBy[c.R], Indicator: in, Year: c.Y, Value: c.V, Flags: analytics.FlagSet(f).Letters(),
				Period: in.Period(analytics.OrdOf(in.Freq(), c.Y, c.P)).String()}
			if vintage.Valid {
				d := analytics.Date(vintage.String)
				o.Vintage = &d
			}
			cur := c.encode()
			ch.at[cur] = len(ch.items)
			ch.items = append(ch.items, o)
			ch.cursors = append(ch.cursors, cur)
			return nil
		}, pp.args...)
		if err != nil {
			return nil, dbError(ctx, "observations", err)
		}
		if ch.more || len(ch.items) > 0 || last {
			ch.more = ch.more || !last
			break
		}
		k *= 2 // regions without rows: take wider steps
	}
	return ch, nil
}

// chunkCache keeps the last chunk read for each of a few filters: paging goes forward, so the next page's
// cursor is in it.
type chunkCache struct {
	chunks *lru.Cache[string, *obsChunk]
}

func newChunkCache() *chunkCache {
	c, _ := lru.New[string, *obsChunk](4) // at most 4 × chunkRows observations held
	return &chunkCache{chunks: c}
}

// find returns the chunk of key holding the page after cursor, and the cursor's index in it (−1 when the
// chunk starts right after it); nil when no chunk holds it.
func (c *chunkCache) find(key, after string) (*obsChunk, int) {
	ch, ok := c.chunks.Get(key)
	if !ok {
		return nil, 0
	}
	if ch.start == after {
		return ch, -1
	}
	if i, ok := ch.at[after]; ok {
		return ch, i
	}
	return nil, 0
}

func (c *chunkCache) put(key string, ch *obsChunk) { c.chunks.Add(key, ch) }

// total is the filter's count kept with key's chunk, wherever that chunk stands; −1 when there is none.
func (c *chunkCache) total(key string) int {
	if ch, ok := c.chunks.Peek(key); ok {
		return ch.total
	}
	return -1
}
