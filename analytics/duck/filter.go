package duck

import (
	"fmt"
	"slices"
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
	vals := `SELECT * FROM observations WHERE latest`
	if asOf != nil {
		vals = `SELECT * FROM observations WHERE ` + releasedBy(p.add(string(*asOf)))
	}
	return `(` + vals + `) o JOIN regions r ON r.code = o.region JOIN indicators i ON i.code = o.indicator`
}

// covers is the condition that membership m holds in the year of observation o.
const covers = `(m.from_year IS NULL OR m.from_year <= o.year) AND (m.to_year IS NULL OR o.year <= m.to_year)`

// filterSQL checks a filter against the catalog and returns its conditions over observationsFrom, each
// starting with " AND ". ownByDefault keeps, when the filter does not name the regions, only values of
// regions with a value of their own of the indicator (see analytics.ValueFilter.NarrowsRegions).
func (s *snapshot) filterSQL(f analytics.ValueFilter, p *params, ownByDefault bool) (string, error) {
	if err := s.checkAsOf(f.AsOf); err != nil {
		return "", err
	}
	if f.From != nil && f.To != nil && *f.From > *f.To {
		return "", analytics.Errorf(analytics.BadUserInput, "from (%d) is after to (%d)", *f.From, *f.To)
	}
	if f.Regions != nil && (f.Group != "" || f.Parent != "" || f.Level != "") {
		return "", analytics.Errorf(analytics.BadUserInput, "give regions or group, parent and level, not both: regions names the regions itself")
	}
	where := ""
	in := func(name, column string, codes []string, known func(string) error) error {
		if codes == nil {
			return nil
		}
		if len(codes) == 0 {
			return analytics.Errorf(analytics.BadUserInput, "%s is an empty list, which would match nothing: list at least one code, or leave %s out", name, name)
		}
		if len(codes) > MaxScopeRegions {
			return analytics.Errorf(analytics.BadUserInput, "%s lists %d codes; at most %d may be given", name, len(codes), MaxScopeRegions)
		}
		list := make([]string, len(codes))
		for k, c := range codes {
			if err := known(c); err != nil {
				return err
			}
			list[k] = p.add(c)
		}
		where += " AND " + column + " IN (" + strings.Join(list, ", ") + ")"
		return nil
	}
	if err := in("regions", "o.region", f.Regions, func(c string) error { _, err := s.region(c); return err }); err != nil {
		return "", err
	}
	if err := in("indicators", "o.indicator", f.Indicators, func(c string) error { _, err := s.indicator(c); return err }); err != nil {
		return "", err
	}
	if f.Group != "" {
		if _, err := s.group(f.Group); err != nil {
			return "", err
		}
		where += " AND EXISTS (SELECT 1 FROM memberships m WHERE m.group_code = " + p.add(f.Group) + " AND m.region_code = o.region AND " + covers + ")"
	}
	if f.Parent != "" {
		if _, err := s.region(f.Parent); err != nil {
			return "", err
		}
		where += " AND r.parent_code = " + p.add(f.Parent)
	}
	if f.Level != "" {
		if err := s.checkLevel(f.Level); err != nil {
			return "", err
		}
		where += " AND r.level = " + p.add(f.Level)
	}
	if f.Category != "" {
		if err := s.checkCategory(f.Category); err != nil {
			return "", err
		}
		where += " AND i.category = " + p.add(f.Category)
	}
	if f.From != nil {
		where += " AND o.year >= " + p.add(*f.From)
	}
	if f.To != nil {
		where += " AND o.year <= " + p.add(*f.To)
	}
	if ownByDefault && !f.NarrowsRegions() {
		where += " AND EXISTS (SELECT 1 FROM series se WHERE se.indicator = o.indicator AND se.region = o.region AND se.own)"
	}
	return where, nil
}

// checkCategory refuses a category no indicator has, naming the ones there are.
func (s *snapshot) checkCategory(c string) error {
	var all []string
	for _, in := range s.indicators {
		if in.Category != nil {
			if *in.Category == c {
				return nil
			}
			if !slices.Contains(all, *in.Category) {
				all = append(all, *in.Category)
			}
		}
	}
	if len(all) == 0 {
		return analytics.Errorf(analytics.BadUserInput, "unknown category %q: this dataset gives its indicators no category", analytics.Cut(c))
	}
	return analytics.Errorf(analytics.BadUserInput, "unknown category %q; the categories are %s", analytics.Cut(c), strings.Join(all, ", "))
}

// filterKey names a filter in a cache key.
func filterKey(f analytics.ValueFilter) string {
	return fmt.Sprintf("%q|%v|%q|%v|%q|%q|%q|%q|%v|%v|%s", f.Regions, f.Regions == nil, f.Indicators, f.Indicators == nil,
		f.Group, f.Parent, f.Level, f.Category, deref(f.From), deref(f.To), dateKey(f.AsOf))
}
