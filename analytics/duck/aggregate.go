package duck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

// The SQL of each dimension and measure: the only fragments ever joined into an aggregate statement. The
// dimension columns are those of the statement's base (see Aggregate); GROUP comes from the membership
// joined to each observation for the year it is of.
var (
	dimColumn = map[analytics.Dimension]string{
		analytics.DimRegion: "b.region", analytics.DimGroup: "m.group_code", analytics.DimParent: "b.parent_code",
		analytics.DimLevel: "b.level", analytics.DimIndicator: "b.indicator", analytics.DimCategory: "b.category",
		analytics.DimYear: "b.year", analytics.DimPeriod: "b.period_text",
	}
	dimName = map[analytics.Dimension]string{
		analytics.DimRegion: "d_region", analytics.DimGroup: "d_group", analytics.DimParent: "d_parent",
		analytics.DimLevel: "d_level", analytics.DimIndicator: "d_indicator", analytics.DimCategory: "d_category",
		analytics.DimYear: "d_year", analytics.DimPeriod: "d_period",
	}
	// A sum is only meaningful where every value in it adds up (rollup SUM); elsewhere it is null.
	measureSQL = map[analytics.AggregateMeasure]string{
		analytics.MeasureCount:  "count(*)",
		analytics.MeasureSum:    "CASE WHEN bool_and(b.rollup = 'SUM') THEN sum(b.value) END",
		analytics.MeasureMean:   "avg(b.value)",
		analytics.MeasureMedian: "median(b.value)",
		analytics.MeasureMin:    "min(b.value)",
		analytics.MeasureMax:    "max(b.value)",
		analytics.MeasureStddev: "stddev_samp(b.value)",
	}
	// measureSQLWide are the same measures for a dataset with values beyond ±2^400 or closer to 0 than
	// 2^-400 (snapshot.wide), where DuckDB 1.5.6's own give a wrong answer or fail: sum and avg overflow to
	// ±inf (two values of 1e308), stddev_samp fails ("out of range") past about 1e154 and gives 0 below about
	// 1e-154 (its squares underflow), and median and quantile_cont interpolate as lo·(1 − d) + hi·d, which
	// makes the median of two values 5e-324 zero. Each is computed so that a representable answer is found:
	//   - sum and mean: the values of magnitude below 1 and the others added apart (splitSum), so that huge
	//     values that cancel (1e308 − 1e308) do not swallow tiny ones (5e-324) on the way, whatever order
	//     DuckDB adds them in; when that overflows, over the values scaled by 2^-64 (exact: these values are
	//     far from the subnormals that scaling would round), scaled back; a sum truly beyond ±1.8e308 comes
	//     back ±inf, and the engine returns it as null with a warning;
	//   - median and quantile: over the values scaled by 2^600 (exact, and the subnormals become normal) when
	//     that is finite, else the plain one (the middle values are then huge, where plain is right);
	//   - stddev: over values scaled into a range where its squares neither overflow nor underflow, chosen
	//     by the group's largest magnitude; each scaled aggregate sees only the values it is meant for, so
	//     none fails on the others.
	// Scaling by a power of two changes no digit, so on ordinary data these give the plain answers.
	measureSQLWide = map[analytics.AggregateMeasure]string{
		analytics.MeasureCount: "count(*)",
		analytics.MeasureSum: "CASE WHEN bool_and(b.rollup = 'SUM') THEN (CASE WHEN isfinite(" + splitSum + ") THEN " + splitSum +
			" ELSE sum(b.value * pow(2.0, -64)) * pow(2.0, 64) END) END",
		analytics.MeasureMean: "CASE WHEN isfinite(" + splitSum + ") THEN " + splitSum + " / count(*) " +
			"ELSE avg(b.value * pow(2.0, -64)) * pow(2.0, 64) END",
		analytics.MeasureMedian: "coalesce(CASE WHEN isfinite(median(b.value * pow(2.0, 600))) THEN median(b.value * pow(2.0, 600)) * pow(2.0, -600) END, median(b.value))",
		analytics.MeasureMin:    "min(b.value)",
		analytics.MeasureMax:    "max(b.value)",
		analytics.MeasureStddev: "CASE WHEN max(abs(b.value)) > pow(2.0, 400) THEN stddev_samp(b.value * pow(2.0, -600)) * pow(2.0, 600) " +
			"WHEN max(abs(b.value)) < pow(2.0, -400) THEN stddev_samp(b.value * pow(2.0, 600)) FILTER (WHERE abs(b.value) < pow(2.0, -400)) * pow(2.0, -600) " +
			"ELSE stddev_samp(b.value) FILTER (WHERE abs(b.value) <= pow(2.0, 400)) END",
	}
	// splitSum adds the values below 1 in magnitude and the others apart, then the two sums.
	splitSum = "(coalesce(sum(b.value) FILTER (WHERE abs(b.value) >= 1), 0) + coalesce(sum(b.value) FILTER (WHERE abs(b.value) < 1), 0))"
	opSQL    = map[analytics.CompareOp]string{analytics.OpEq: "=", analytics.OpNe: "<>", analytics.OpLt: "<",
		analytics.OpLe: "<=", analytics.OpGt: ">", analytics.OpGe: ">="}
)

func measureName(m analytics.AggregateMeasure) string { return "m_" + strings.ToLower(string(m)) }

// AggregateSpec is an aggregate request the query service has checked against the catalog: Query's by,
// measures, having and orderBy are known to be valid, and Offset is its decoded after.
type AggregateSpec struct {
	Query  analytics.AggregateQuery
	Offset int
	// The values of the formulas among the filter's indicators, computed by the query service; not part
	// of a plan's key (the filter names the formulas).
	Computed *Computed `json:"-"`
}

// Aggregate groups the filtered observations and computes the measures asked for, in one statement: the
// groups, having, order and page, the total count and the totals. A page past the last row, whose lean
// statement (see aggregateStatement) returns no row to carry the count, takes a second, classic one when
// the count is asked for.
func (rd *Reader) Aggregate(ctx context.Context, s *Catalog, spec AggregateSpec) (*analytics.Aggregate, error) {
	out, lean, err := rd.aggregate(ctx, s, spec, false)
	if err == nil && lean && len(out.Rows) == 0 && spec.Offset > 0 && !spec.Query.NoTotalCount {
		out, _, err = rd.aggregate(ctx, s, spec, true)
	}
	return out, err
}

func (rd *Reader) aggregate(ctx context.Context, s *Catalog, spec AggregateSpec, classic bool) (*analytics.Aggregate, bool, error) {
	query, args, lean, cols := aggregateStatement(s, spec, classic)
	out := &analytics.Aggregate{Rows: []*analytics.AggregateRow{}, Warnings: s.SumWarnings(spec.Query)}
	sc := aggregateScan{s: s, q: spec.Query, cols: cols, offset: spec.Offset, out: out, huge: map[string]int{},
		slab: newSlab(spec.Query.First, len(cols.measures)+len(spec.Query.Quantiles))}
	if err := rd.eachRaw(ctx, query, sc.row, args...); err != nil {
		return nil, false, dbError(ctx, "aggregate", err)
	}
	if lean { // no totals asked for, and none read: the classic statement's totals row would be all null
		out.Totals = &analytics.AggregateRow{}
	}
	for _, m := range []string{"sum", "mean", "median", "quantile", "stddev", "share"} {
		if n := sc.huge[m]; n > 0 {
			out.Warnings = append(out.Warnings, &analytics.Warning{Message: fmt.Sprintf(
				"%s is null on %d rows or totals: it is beyond ±1.8e308, the largest number a double holds", m, n)})
		}
	}
	return out, lean, nil
}

// yearEndsOnly keeps, of a cumulative (year-to-date) indicator's values, only each year's last period's
// (December, Q4): its year's value is the year-to-date total at the year's end, and adding up running totals
// would count every month again. "" when no indicator is cumulative.
func (s *Catalog) yearEndsOnly(p *params) string {
	var conds []string
	for _, f := range []analytics.Frequency{analytics.Monthly, analytics.Quarterly} {
		var codes []string
		for _, in := range s.Indicators {
			if in.Cumulative && in.Freq() == f {
				codes = append(codes, p.add(in.Code))
			}
		}
		if len(codes) > 0 {
			conds = append(conds, fmt.Sprintf("o.indicator IN (%s) AND o.period <> %d", strings.Join(codes, ", "), f.PerYear()))
		}
	}
	if len(conds) == 0 {
		return ""
	}
	return " AND NOT ((" + strings.Join(conds, ") OR (") + "))"
}

// aggregateStatement is the one statement of an aggregate and its arguments. Its pieces are built in the
// order their arguments are numbered: the filter, the group join, the quantiles, having, then the vintage
// and the page.
//
// It has one of two shapes after the groups kept (kept). The lean one (lean true), when no totals are asked
// for and every dimension is ordered without a look-up (see orderColumn), is the page itself: kept ordered,
// limited and offset, each row carrying the number of groups kept (count(*) OVER ()) unless the client did
// not ask for it (NoTotalCount: the window is a tenth of the statement's time). Its cost is the floor's
// GROUP BY and little more; a page past the last row holds no row to carry the count. The classic one
// (always when classic is true) numbers kept's rows, takes the page and adds a totals row over base, which
// holds the count; reading kept and base twice makes DuckDB materialise them, and the look-ups of dataset
// order are joins, together up to twice the lean one's time.
func aggregateStatement(s *Catalog, spec AggregateSpec, classic bool) (query string, args []any, lean bool, cols aggregateColumns) {
	q := spec.Query
	need, keys := measuresNeeded(q)
	p := &params{}
	// Only values of the scope ALL: on a dataset without rollups or regions above others with values of
	// their own (Flat) every value is, and the joins over every value read are left out.
	where := filterSQL(q.Filter, p, !s.Flat, spec.Computed)
	if !slices.Contains(q.By, analytics.DimPeriod) { // by PERIOD, every year-to-date total is its period's
		where += s.yearEndsOnly(p)
	}
	g := groupingOf(q, p)
	msql := measureSQL
	if s.Wide {
		msql = measureSQLWide
	}
	ms := measureColumns(q, p, need, msql, s.Wide)
	share := shareColumn(need, g.shareParts, s.Wide)
	havingSQL := havingOf(q, p)
	var tots []string
	for _, m := range analytics.AllMeasures {
		if slices.Contains(q.Totals, m) {
			tots = append(tots, msql[m]+" AS "+measureName(m))
		}
	}
	order, lookup := s.orderOf(keys, p, !spec.Computed.empty())
	lean = !classic && len(tots) == 0 && !lookup
	pageCols, totCols, cols := outputColumns(q, need)
	// The joins to regions and indicators only when their columns are read: by PARENT, LEVEL or CATEGORY, a
	// filter on one, or a sum (which reads rollup; a share needs the sum).
	joins := q.Filter.Parent != "" || q.Filter.Level != "" || q.Filter.Category != "" || need[analytics.MeasureSum] ||
		need[analytics.MeasureShare] || slices.Contains(q.Totals, analytics.MeasureSum) || slices.Contains(q.Totals, analytics.MeasureShare)
	for _, d := range q.By {
		joins = joins || d == analytics.DimParent || d == analytics.DimLevel || d == analytics.DimCategory || d == analytics.DimPeriod
	}
	// A period as observations.csv writes it: its text needs the indicator's frequency (a quarter and a
	// month can have the same number).
	quarterly := "i.frequency = 'Q'"
	if qs := spec.Computed.ofFrequency(analytics.Quarterly); len(qs) > 0 && joins { // formulas are in no table
		quarterly = "(" + quarterly + " OR o.indicator IN (SELECT unnest(" + p.add(qs) + "::VARCHAR[])))"
	}
	base := `o.region, o.indicator, o.year, o.value, r.parent_code, r.level, i.category, coalesce(i.rollup, 'NONE') AS rollup,
		CASE WHEN o.period = 0 THEN lpad(o.year::VARCHAR, 4, '0') WHEN ` + quarterly + ` THEN lpad(o.year::VARCHAR, 4, '0') || '-Q' || o.period::VARCHAR
			ELSE lpad(o.year::VARCHAR, 4, '0') || '-' || lpad(o.period::VARCHAR, 2, '0') END AS period_text`
	if !joins { // none of the others is read
		base = `o.region, o.indicator, o.year, o.value`
	}
	from, cond := observationsJoined(q.Filter.AsOf, p, joins, spec.Computed), "TRUE"
	if q.Filter.AsOf == nil && spec.Computed.empty() {
		from, cond = newestJoined(joins)
	}
	// grouped, shared and kept are a step each; one with nothing to do is left out (grouped is then kept),
	// for the same reason as newestJoined.
	grouped := `SELECT ` + strings.Join(append(g.dims, ms...), ", ") + ` FROM base b` + g.join + ` GROUP BY ` + strings.Join(g.cols, ", ")
	query = `WITH base AS (SELECT ` + base + ` FROM ` + from + ` WHERE ` + cond + where + `),`
	switch {
	case share == "" && havingSQL == "":
		query += `
	kept AS (` + grouped + `)`
	case share == "":
		query += `
	grouped AS (` + grouped + `),
	kept AS (SELECT * FROM grouped` + havingSQL + `)`
	default:
		query += `
	grouped AS (` + grouped + `),
	shared AS (SELECT *` + share + ` FROM grouped),
	kept AS (SELECT * FROM shared` + havingSQL + `)`
	}
	if lean {
		count := ", count(*) OVER ()"
		if q.NoTotalCount {
			count, cols.count = "", false
		}
		query += `
	SELECT FALSE, 0, ` + strings.Join(pageCols, ", ") + count + ` FROM kept
	ORDER BY ` + strings.Join(order, ", ") + ` LIMIT ` + p.add(q.First+1) + ` OFFSET ` + p.add(spec.Offset)
		return query, p.args, true, cols
	}
	// tot is one row (an aggregate) of the totals asked for and the number of groups kept. Without totals it
	// reads kept alone: a second reader of base would make DuckDB materialise every value read.
	tot := "SELECT count(*) AS n FROM kept"
	if len(tots) > 0 {
		tot = "SELECT " + strings.Join(append(tots, "(SELECT count(*) FROM kept) AS n"), ", ") + " FROM base b"
	}
	query += `,
	page AS (SELECT *, row_number() OVER (ORDER BY ` + strings.Join(order, ", ") + `) AS ord FROM kept
		ORDER BY ord LIMIT ` + p.add(q.First+1) + ` OFFSET ` + p.add(spec.Offset) + `),
	tot AS (` + tot + `)
	SELECT FALSE, ord, ` + strings.Join(pageCols, ", ") + `, NULL FROM page
	UNION ALL SELECT TRUE, 0, ` + strings.Join(totCols, ", ") + `, n FROM tot
	ORDER BY 1, 2`
	return query, p.args, false, cols
}

// measuresNeeded is what the statement computes (the measures asked for and the ones having and orderBy
// read) and the keys of its order: orderBy's, then every dimension, so that pages never overlap.
func measuresNeeded(q analytics.AggregateQuery) (map[analytics.AggregateMeasure]bool, []analytics.AggregateOrder) {
	need := map[analytics.AggregateMeasure]bool{}
	for _, m := range q.Measures {
		need[m] = true
	}
	for _, h := range q.Having {
		need[h.Measure] = true
	}
	var keys []analytics.AggregateOrder
	for _, o := range q.OrderBy {
		if d := analytics.Dimension(o.Key); dimName[d] == "" {
			need[analytics.AggregateMeasure(o.Key)] = true
		}
		keys = append(keys, o)
	}
	for _, d := range q.By {
		keys = append(keys, analytics.AggregateOrder{Key: analytics.AggregateKey(d)})
	}
	return need, keys
}

// orderOf is the ORDER BY of the keys, and whether one of them looks a code up in a table (see orderColumn).
func (s *Catalog) orderOf(keys []analytics.AggregateOrder, p *params, computed bool) (order []string, lookup bool) {
	for _, o := range keys {
		dir := " ASC NULLS LAST"
		if o.Desc {
			dir = " DESC NULLS LAST"
		}
		if d := analytics.Dimension(o.Key); dimName[d] != "" {
			col, l := s.orderColumn(d, p, computed)
			order, lookup = append(order, col+dir), lookup || l
			continue
		}
		order = append(order, measureName(analytics.AggregateMeasure(o.Key))+dir)
	}
	return order, lookup
}

// grouping is the GROUP BY of an aggregate: the dimension columns selected, those grouped by, the join a
// GROUP dimension needs, and the dimensions other than REGION (a share's partition).
type grouping struct {
	dims, cols, shareParts []string
	join                   string
}

func groupingOf(q analytics.AggregateQuery, p *params) grouping {
	var g grouping
	for _, d := range q.By {
		g.dims = append(g.dims, dimColumn[d]+" AS "+dimName[d])
		g.cols = append(g.cols, dimColumn[d])
		if d == analytics.DimGroup {
			// An observation counts in every group its region is a member of in the observation's year.
			g.join = " JOIN memberships m ON m.region_code = b.region AND " + strings.ReplaceAll(covers, "o.year", "b.year")
			if q.Filter.Group != "" { // filtered to a group, the rows are of that group, not of its members' others
				g.join += " AND m.group_code = " + p.add(q.Filter.Group)
			}
		}
		if d != analytics.DimRegion {
			g.shareParts = append(g.shareParts, dimName[d])
		}
	}
	return g
}

// measureColumns are the grouped measures: those needed (a share needs the sum, and on a wide dataset the
// sum scaled too), then the quantiles.
func measureColumns(q analytics.AggregateQuery, p *params, need map[analytics.AggregateMeasure]bool, msql map[analytics.AggregateMeasure]string, wide bool) []string {
	var ms []string
	for _, m := range analytics.AllMeasures {
		if need[m] && m != analytics.MeasureShare {
			ms = append(ms, msql[m]+" AS "+measureName(m))
		}
	}
	if need[analytics.MeasureShare] && !need[analytics.MeasureSum] {
		ms = append(ms, msql[analytics.MeasureSum]+" AS "+measureName(analytics.MeasureSum))
	}
	if need[analytics.MeasureShare] && wide { // the sum scaled by 2^-64: its total never overflows
		ms = append(ms, "CASE WHEN bool_and(b.rollup = 'SUM') THEN sum(b.value * pow(2.0, -64)) END AS m_ssum")
	}
	for k, qp := range q.Quantiles {
		ph := p.add(qp)
		if wide { // as the median of measureSQLWide
			ms = append(ms, fmt.Sprintf("coalesce(CASE WHEN isfinite(quantile_cont(b.value * pow(2.0, 600), %s)) THEN quantile_cont(b.value * pow(2.0, 600), %s) * pow(2.0, -600) END, quantile_cont(b.value, %s)) AS q_%d", ph, ph, ph, k))
		} else {
			ms = append(ms, fmt.Sprintf("quantile_cont(b.value, %s) AS q_%d", ph, k))
		}
	}
	return ms
}

// shareColumn is the share of a row, if asked for: its sum over the sum of the rows that share its
// dimensions other than REGION.
func shareColumn(need map[analytics.AggregateMeasure]bool, shareParts []string, wide bool) string {
	if !need[analytics.MeasureShare] {
		return ""
	}
	over := ""
	if len(shareParts) > 0 {
		over = "PARTITION BY " + strings.Join(shareParts, ", ")
	}
	if wide { // a total beyond ±1.8e308 is taken over the scaled sums, whose ratios are the same
		return ", CASE WHEN isfinite(sum(m_sum) OVER (" + over + ")) THEN m_sum / nullif(sum(m_sum) OVER (" + over + "), 0) " +
			"ELSE m_ssum / nullif(sum(m_ssum) OVER (" + over + "), 0) END AS m_share"
	}
	return ", m_sum / nullif(sum(m_sum) OVER (" + over + "), 0) AS m_share"
}

// havingOf compares each measure as the answer shows it, rounded to 12 significant digits (calc.Round12),
// so that a row whose sum shows 17039.1 passes "<= 17039.1" even when the sum taken is 17039.100000000002.
// Beyond ±1e280 and nearer 0 than 1e-280 (where 10^digits leaves the doubles) the value is compared as is.
func havingOf(q analytics.AggregateQuery, p *params) string {
	var having []string
	for _, h := range q.Having {
		m := measureName(h.Measure)
		shown := "(CASE WHEN " + m + " = 0 OR NOT isfinite(" + m + ") OR abs(" + m + ") > 1e280 OR abs(" + m + ") < 1e-280 THEN " + m +
			" ELSE round(" + m + ", CAST(11 - floor(log10(abs(" + m + "))) AS INTEGER)) END)"
		having = append(having, shown+" "+opSQL[h.Op]+" "+p.add(h.Value))
	}
	if len(having) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(having, " AND ")
}

// outputColumns are the columns of a page row and of the totals row, which line up: dimensions, then the
// measures the rows or the totals ask for (null in the other), then the quantiles; cols says which they are.
// A measure neither asks for is no column: each one is a value more to read from every row.
func outputColumns(q analytics.AggregateQuery, need map[analytics.AggregateMeasure]bool) (pageCols, totCols []string, cols aggregateColumns) {
	for _, d := range q.By {
		pageCols = append(pageCols, dimName[d])
		totCols = append(totCols, "NULL")
	}
	for _, m := range analytics.AllMeasures {
		total := slices.Contains(q.Totals, m)
		if !need[m] && !total {
			continue
		}
		cols.measures = append(cols.measures, m)
		if need[m] {
			pageCols = append(pageCols, measureName(m))
		} else {
			pageCols = append(pageCols, "NULL")
		}
		if total {
			totCols = append(totCols, measureName(m))
		} else {
			totCols = append(totCols, "NULL")
		}
	}
	for k := range q.Quantiles {
		pageCols = append(pageCols, fmt.Sprintf("q_%d", k))
		totCols = append(totCols, "NULL")
	}
	cols.count = true
	return pageCols, totCols, cols
}

// aggregateColumns describes a row of the statement after its two leading columns (whether it is the
// totals row, and its order) and its dimensions (one for each of by): the measures it holds, in that order,
// then the quantiles, then, if count, the number of groups kept.
type aggregateColumns struct {
	measures []analytics.AggregateMeasure
	count    bool
}

// aggregateScan reads the statement's rows into an answer: the page's rows (one more than the page says
// there is a next), then the totals row; huge counts the measures beyond range, by name.
type aggregateScan struct {
	s      *Catalog
	q      analytics.AggregateQuery
	cols   aggregateColumns
	offset int
	out    *analytics.Aggregate
	huge   map[string]int
	slab   slab
}

// slab hands out an answer's rows and the numbers they point to from chunks: one by one, a page of 1,000
// rows took 5,000 allocations, more time than reading its values.
type slab struct {
	rows        []analytics.AggregateRow
	ints        []int
	nums        []float64
	chunk, each int
}

// newSlab is a slab for a page of first rows (and the one past it, and the totals) of up to each numbers.
func newSlab(first, each int) slab { return slab{chunk: min(first+2, 256), each: max(each, 1)} }

// slot is the next element of a chunk, a new chunk of n when it is full.
func slot[T any](s *[]T, n int) *T {
	if len(*s) == cap(*s) {
		*s = make([]T, 0, max(n, 1))
	}
	*s = (*s)[:len(*s)+1]
	return &(*s)[len(*s)-1]
}

func (sl *slab) row() *analytics.AggregateRow { return slot(&sl.rows, sl.chunk) }

func (sl *slab) int(n int) *int {
	p := slot(&sl.ints, 2*sl.chunk) // a count and a year
	*p = n
	return p
}

func (sl *slab) num(x float64) *float64 {
	p := slot(&sl.nums, sl.each*sl.chunk)
	*p = x
	return p
}

// round is a measure rounded to 12 significant digits (calc.Round12); nil for null.
func (sl *slab) round(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return sl.num(calc.Round12(v.Float64))
}

// set sets the row's measure m.
func (sl *slab) set(row *analytics.AggregateRow, m analytics.AggregateMeasure, v sql.NullFloat64) {
	switch m {
	case analytics.MeasureCount:
		if v.Valid {
			row.Count = sl.int(int(v.Float64))
		}
	case analytics.MeasureSum:
		row.Sum = sl.round(v)
	case analytics.MeasureMean:
		row.Mean = sl.round(v)
	case analytics.MeasureMedian:
		row.Median = sl.round(v)
	case analytics.MeasureMin: // min and max are stored values: never rounded
		if v.Valid {
			row.Min = sl.num(v.Float64)
		}
	case analytics.MeasureMax:
		if v.Valid {
			row.Max = sl.num(v.Float64)
		}
	case analytics.MeasureStddev:
		row.Stddev = sl.round(v)
	case analytics.MeasureShare:
		row.Share = sl.round(v)
	}
}

// row reads one row as the driver hands it over (see Reader.eachRaw): database/sql's Scan into a dozen
// Null types cost as much as a tenth of the floor's whole GROUP BY on a page of 1,000 rows.
func (sc *aggregateScan) row(v []driver.Value) error {
	q := sc.q
	isTotal, _ := v[0].(bool)
	mv, qv := v[2+len(q.By):2+len(q.By)+len(sc.cols.measures)], v[2+len(q.By)+len(sc.cols.measures):]
	row := sc.slab.row()
	for k, m := range sc.cols.measures {
		x, err := rawFloat(mv[k])
		if err != nil {
			return fmt.Errorf("aggregate %s: %w", m, err)
		}
		if !finite(&x) {
			sc.huge[strings.ToLower(string(m))]++
		}
		sc.slab.set(row, m, x)
	}
	out := sc.out
	n := int64(-1)
	if sc.cols.count {
		switch c := v[len(v)-1].(type) {
		case int64:
			n = c
		case nil:
		default:
			return fmt.Errorf("aggregate: the count is a %T", c)
		}
	}
	if isTotal {
		out.Totals, out.TotalCount = row, max(int(n), 0)
		return nil
	}
	if n >= 0 { // the lean statement's rows carry the count
		out.TotalCount = int(n)
	}
	if len(out.Rows) == q.First {
		out.HasNextPage = true
		return nil
	}
	for k, d := range q.By {
		if err := sc.setDimension(row, d, v[2+k]); err != nil {
			return err
		}
	}
	if len(q.Quantiles) > 0 {
		row.Quantiles = map[float64]*float64{}
		for k, qp := range q.Quantiles {
			x, err := rawFloat(qv[k])
			if err != nil {
				return fmt.Errorf("aggregate quantile: %w", err)
			}
			if !finite(&x) {
				sc.huge["quantile"]++
			}
			row.Quantiles[qp] = sc.slab.round(x)
		}
	}
	out.Rows = append(out.Rows, row)
	out.Cursors = append(out.Cursors, EncodeOffset(sc.offset+len(out.Rows)))
	return nil
}

// rawFloat reads a measure as the driver hands it over: a DOUBLE, or a count (BIGINT); nil is null.
func rawFloat(v driver.Value) (sql.NullFloat64, error) {
	switch x := v.(type) {
	case nil:
		return sql.NullFloat64{}, nil
	case float64:
		return sql.NullFloat64{Float64: x, Valid: true}, nil
	case int64:
		return sql.NullFloat64{Float64: float64(x), Valid: true}, nil
	case int32:
		return sql.NullFloat64{Float64: float64(x), Valid: true}, nil
	case float32:
		return sql.NullFloat64{Float64: float64(x), Valid: true}, nil
	}
	return sql.NullFloat64{}, fmt.Errorf("a %T is not a number", v)
}

// listOrderMost is the most codes a dimension is ordered by their position in a list (list_position, which
// compares a row's code with the list's one by one): at most 64 comparisons for each group.
const listOrderMost = 64

// codeOrder is the dataset order of one kind of code (the ord column, which is each one's position): the
// codes in that order, and whether it is the codes' own byte order, DuckDB's order of VARCHAR.
type codeOrder struct {
	codes         []string
	known, sorted bool
}

func newCodeOrder(codes []string) codeOrder {
	o := codeOrder{codes: codes, known: true, sorted: true}
	for i := 1; i < len(codes); i++ {
		if codes[i-1] >= codes[i] {
			o.sorted = false
			break
		}
	}
	return o
}

// orders records the dataset order of the regions, parents, groups and indicators.
func (s *Catalog) orders() {
	codes := func(n int, code func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = code(i)
		}
		return out
	}
	s.regionOrder = newCodeOrder(codes(len(s.Regions), func(i int) string { return s.Regions[i].Code }))
	s.parentOrder = s.regionOrder
	s.parentOrder.sorted = s.parentOrder.sorted && s.parentsKnown // a parent_code that is no region's has no ord
	s.groupOrder = newCodeOrder(codes(len(s.Groups), func(i int) string { return s.Groups[i].Code }))
	s.indicatorOrder = newCodeOrder(codes(len(s.Indicators), func(i int) string { return s.Indicators[i].Code }))
}

// orderColumn orders a dimension: regions, groups and indicators in dataset order (their table's ord; a
// code not in it, such as a formula's, last), the others by value. Dataset order is found without a join
// where it can be: the code itself where that order is the codes' own and every code is in the table (a
// formula's is not: computed), else the code's position in the list of codes as an argument when the list
// is short (listOrderMost). Otherwise the code is looked up in its table (lookup true).
func (s *Catalog) orderColumn(d analytics.Dimension, p *params, computed bool) (col string, lookup bool) {
	var o codeOrder
	table := ""
	switch d {
	case analytics.DimRegion:
		o, table = s.regionOrder, "regions"
	case analytics.DimParent:
		o, table = s.parentOrder, "regions"
	case analytics.DimGroup:
		o, table = s.groupOrder, "groups"
	case analytics.DimIndicator:
		o, table = s.indicatorOrder, "indicators"
		o.sorted = o.sorted && !computed
	default:
		return dimName[d], false
	}
	switch {
	case o.known && o.sorted:
		return dimName[d], false
	case o.known && len(o.codes) <= listOrderMost:
		return "list_position(" + p.add(o.codes) + "::VARCHAR[], " + dimName[d] + ")", false
	}
	return "(SELECT ord FROM " + table + " WHERE code = " + dimName[d] + ")", true
}

// finite says whether a measure read from DuckDB is null or a number; one that is not (a sum beyond ±1.8e308
// comes back ±inf) is made null, so that no answer holds a number JSON cannot.
func finite(v *sql.NullFloat64) bool {
	if v.Valid && (math.IsInf(v.Float64, 0) || math.IsNaN(v.Float64)) {
		v.Valid = false
		return false
	}
	return true
}

func nullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}

// setDimension sets a row's dimension d from its column as the driver hands it over: a VARCHAR, or the
// year (INTEGER); nil leaves it null.
func (sc *aggregateScan) setDimension(row *analytics.AggregateRow, d analytics.Dimension, v driver.Value) error {
	if v == nil {
		return nil
	}
	if d == analytics.DimYear {
		switch y := v.(type) {
		case int32:
			row.Year = sc.slab.int(int(y))
		case int64:
			row.Year = sc.slab.int(int(y))
		default:
			return fmt.Errorf("aggregate: the year is a %T", v)
		}
		return nil
	}
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("aggregate: %s is a %T", d, v)
	}
	s := sc.s
	switch d {
	case analytics.DimRegion:
		row.Region = s.RegionBy[str]
	case analytics.DimGroup:
		row.Group = s.GroupBy[str]
	case analytics.DimParent:
		row.Parent = s.RegionBy[str]
	case analytics.DimLevel:
		row.Level = stringPtr(str)
	case analytics.DimIndicator:
		row.Indicator = s.IndicatorBy[str]
	case analytics.DimCategory:
		row.Category = stringPtr(str)
	case analytics.DimPeriod:
		row.Period = stringPtr(str)
	}
	return nil
}

// stringPtr is a pointer to a copy of str: &str would move str to the heap on every row, codes included.
func stringPtr(str string) *string { return &str }

// SumWarnings names the indicators the filter lets in whose values do not add up (rollup other than SUM),
// when a sum or share is asked for: their rows have none.
func (s *Catalog) SumWarnings(q analytics.AggregateQuery) []*analytics.Warning {
	out := []*analytics.Warning{}
	asked := slices.Contains(q.Measures, analytics.MeasureSum) || slices.Contains(q.Measures, analytics.MeasureShare) ||
		slices.Contains(q.Totals, analytics.MeasureSum)
	if !asked {
		return out
	}
	for _, in := range s.Indicators {
		if in.Rollup == analytics.RollupSum || in.FirstYear == nil ||
			q.Filter.Indicators != nil && !slices.Contains(q.Filter.Indicators, in.Code) ||
			q.Filter.Category != "" && (in.Category == nil || *in.Category != q.Filter.Category) {
			continue
		}
		out = append(out, &analytics.Warning{Indicator: in, Message: fmt.Sprintf(
			"sum and share are null where %s is counted: its rollup is %s (a %s), so its values do not add up", in.Code, in.Rollup, strings.ToLower(string(in.Measure)))})
	}
	return out
}

// Aggregate pages are numbered by offset: an aggregate is recomputed from an immutable snapshot, so an
// offset names the same row on every request of one dataset version. EncodeOffset is the cursor after the
// row at offset n−1 (the query service's pages computed in memory take it too).
func EncodeOffset(n int) string {
	var raw [24]byte // built on the stack: one allocation, the string, for each row of a page
	b := strconv.AppendInt(append(raw[:0], "o:"...), int64(n), 10)
	var enc [32]byte
	base64.RawURLEncoding.Encode(enc[:], b)
	return string(enc[:base64.RawURLEncoding.EncodedLen(len(b))])
}

// DecodeOffset reads an aggregate page's after: the query service checks it before it plans the page.
func DecodeOffset(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
	if err != nil || err2 != nil || !strings.HasPrefix(string(b), "o:") || n < 0 {
		return 0, analytics.Errorf(analytics.BadUserInput, "after %q is not a cursor this API returned: pass the endCursor of the previous page", analytics.Cut(s))
	}
	return n, nil
}
