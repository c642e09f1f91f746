package duck

import (
	"fmt"
	"strings"

	"pacesetter/analytics"
)

// params collects the arguments of one statement and names each by its position: values always travel as
// arguments, never inside the SQL text.
type params struct{ args []any }

func (p *params) add(v any) string {
	p.args = append(p.args, v)
	return fmt.Sprintf("$%d", len(p.args))
}

// Computed holds the values of formulas given at query time, computed in Go from their operands' values as
// of the request's asOf (as rankings compute them), one row per region and year, flagged Computed. A
// statement reads them as rows of o beside the stored values; they travel as five list arguments, never as
// text. Its indicator codes are the formulas' normalised texts, which are not in the indicators table: the
// join to it keeps them with no category and rollup NONE.
type Computed struct {
	Indicators []string
	Regions    []string
	Years      []int32
	Periods    []int32 // the quarter or month of a sub-annual formula's value, as observations.period; 0 for a year's
	Values     []float64
	Flags      []int32
	// Quarterly and Monthly are the formulas of those frequencies (their codes are in no table of the store):
	// a frequency filter and a period's text need them.
	Quarterly, Monthly []string
}

// Add appends one value, of the period p of its formula's frequency.
func (c *Computed) Add(indicator, region string, p analytics.Period, value float64, flags analytics.FlagSet) {
	c.Indicators = append(c.Indicators, indicator)
	c.Regions = append(c.Regions, region)
	c.Years = append(c.Years, int32(p.Year))
	c.Periods = append(c.Periods, int32(p.Sub))
	c.Values = append(c.Values, value)
	c.Flags = append(c.Flags, int32(flags|analytics.Computed))
}

// ofFrequency is the computed formulas of frequency f.
func (c *Computed) ofFrequency(f analytics.Frequency) []string {
	if c == nil {
		return nil
	}
	switch f {
	case analytics.Quarterly:
		return c.Quarterly
	case analytics.Monthly:
		return c.Monthly
	}
	return nil
}

func (c *Computed) empty() bool { return c == nil || len(c.Indicators) == 0 }

// observationsFrom is the values a request reads, as a table named o joined to its region r and indicator
// i: the newest vintage of each value, or the newest released by asOf, and the computed values c.
func observationsFrom(asOf *analytics.Date, p *params, c *Computed) string {
	return observationsJoined(asOf, p, true, c)
}

// observationsJoined is observationsFrom, without the joins to r and i when joins is false: a statement
// that reads none of their columns skips two joins by code over every value it reads.
func observationsJoined(asOf *analytics.Date, p *params, joins bool, c *Computed) string {
	cols := `indicator, year, region, value, flags, vintage, latest, period`
	vals := `SELECT ` + cols + ` FROM observations WHERE latest`
	if asOf != nil {
		vals = `SELECT ` + cols + ` FROM observations WHERE ` + releasedBy(p.add(string(*asOf)))
	}
	join := `JOIN indicators i`
	if !c.empty() {
		vals += ` UNION ALL SELECT unnest(` + p.add(c.Indicators) + `::VARCHAR[]), unnest(` + p.add(c.Years) + `::INTEGER[]), unnest(` +
			p.add(c.Regions) + `::VARCHAR[]), unnest(` + p.add(c.Values) + `::DOUBLE[]), CAST(unnest(` + p.add(c.Flags) + `::INTEGER[]) AS UTINYINT), NULL::DATE, TRUE,
			CAST(unnest(` + p.add(c.Periods) + `::INTEGER[]) AS UTINYINT)`
		join = `LEFT JOIN indicators i`
	}
	if !joins {
		return `(` + vals + `) o`
	}
	return `(` + vals + `) o ` + regionJoin + ` ` + join + ` ON i.code = o.indicator`
}

const regionJoin = `JOIN regions r ON r.code = o.region`

// newestJoined is observationsJoined for a statement of the newest stored values alone (no asOf, no
// formulas): the table itself, and the condition its rows must meet. DuckDB parses and plans a statement on
// every request, and the subquery was about a tenth of the time it took to prepare an aggregate.
func newestJoined(joins bool) (from, cond string) {
	if !joins {
		return `observations o`, `o.latest`
	}
	return `observations o ` + regionJoin + ` JOIN indicators i ON i.code = o.indicator`, `o.latest`
}

// covers is the condition that membership m holds in the year of observation o.
const covers = `(m.from_year IS NULL OR m.from_year <= o.year) AND (m.to_year IS NULL OR o.year <= m.to_year)`

// filterSQL returns the conditions of a filter the query service has checked, over observationsFrom, each
// starting with " AND ". ownByDefault keeps, when the filter does not name the regions, only values of
// the indicator's scope ALL: regions with a value of their own of it none of whose children has one (see
// analytics.ValueFilter.NarrowsRegions and Catalog.ScopeAll); computed values pass that test as they come
// (their rows are only those of the scope: see Computed).
func filterSQL(f analytics.ValueFilter, p *params, ownByDefault bool, c *Computed) string {
	where := ""
	in := func(column string, codes []string) {
		if codes == nil {
			return
		}
		list := make([]string, len(codes))
		for k, c := range codes {
			list[k] = p.add(c)
		}
		where += " AND " + column + " IN (" + strings.Join(list, ", ") + ")"
	}
	in("o.region", f.Regions)
	in("o.indicator", f.Indicators)
	if f.Group != "" {
		where += " AND EXISTS (SELECT 1 FROM memberships m WHERE m.group_code = " + p.add(f.Group) + " AND m.region_code = o.region AND " + covers + ")"
	}
	if f.Parent != "" {
		where += " AND r.parent_code = " + p.add(f.Parent)
	}
	if f.Level != "" {
		where += " AND r.level = " + p.add(f.Level)
	}
	if f.Category != "" {
		where += " AND i.category = " + p.add(f.Category)
	}
	if f.From != nil {
		where += " AND o.year >= " + p.add(*f.From)
	}
	if f.To != nil {
		where += " AND o.year <= " + p.add(*f.To)
	}
	if f.FromPeriod != nil {
		where += " AND o.year * 16 + o.period >= " + p.add(f.FromPeriod.Year*16+f.FromPeriod.Sub)
	}
	if f.ToPeriod != nil {
		where += " AND o.year * 16 + o.period <= " + p.add(f.ToPeriod.Year*16+f.ToPeriod.Sub)
	}
	if f.Frequency != nil {
		in := "o.indicator IN (SELECT code FROM indicators WHERE frequency = " + p.add(string(*f.Frequency)) + ")"
		if codes := c.ofFrequency(*f.Frequency); len(codes) > 0 {
			in = "(" + in + " OR o.indicator IN (SELECT unnest(" + p.add(codes) + "::VARCHAR[])))"
		}
		where += " AND " + in
	}
	if ownByDefault && !f.NarrowsRegions() {
		own := "(EXISTS (SELECT 1 FROM series se WHERE se.indicator = o.indicator AND se.region = o.region AND se.own)" +
			" AND NOT EXISTS (SELECT 1 FROM series se JOIN regions rc ON rc.code = se.region WHERE se.indicator = o.indicator AND rc.parent_code = o.region AND se.own))"
		if !c.empty() {
			own = "(o.flags & " + p.add(int32(analytics.Computed)) + " <> 0 OR " + own + ")"
		}
		where += " AND " + own
	}
	return where
}
