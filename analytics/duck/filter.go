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

// observationsFrom is the values a request reads, as a table named o joined to its region r and indicator
// i: the newest vintage of each value, or the newest released by asOf.
func observationsFrom(asOf *analytics.Date, p *params) string {
	return observationsJoined(asOf, p, true)
}

// observationsJoined is observationsFrom, without the joins to r and i when joins is false: a statement
// that reads none of their columns skips two joins by code over every value it reads.
func observationsJoined(asOf *analytics.Date, p *params, joins bool) string {
	vals := `SELECT * FROM observations WHERE latest`
	if asOf != nil {
		vals = `SELECT * FROM observations WHERE ` + releasedBy(p.add(string(*asOf)))
	}
	if !joins {
		return `(` + vals + `) o`
	}
	return `(` + vals + `) o JOIN regions r ON r.code = o.region JOIN indicators i ON i.code = o.indicator`
}

// covers is the condition that membership m holds in the year of observation o.
const covers = `(m.from_year IS NULL OR m.from_year <= o.year) AND (m.to_year IS NULL OR o.year <= m.to_year)`

// filterSQL returns the conditions of a filter the query service has checked, over observationsFrom, each
// starting with " AND ". ownByDefault keeps, when the filter does not name the regions, only values of
// regions with a value of their own of the indicator (see analytics.ValueFilter.NarrowsRegions).
func filterSQL(f analytics.ValueFilter, p *params, ownByDefault bool) string {
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
		where += " AND o.indicator IN (SELECT code FROM indicators WHERE frequency = " + p.add(string(*f.Frequency)) + ")"
	}
	if ownByDefault && !f.NarrowsRegions() {
		where += " AND EXISTS (SELECT 1 FROM series se WHERE se.indicator = o.indicator AND se.region = o.region AND se.own)"
	}
	return where
}
