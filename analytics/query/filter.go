package query

import (
	"pacesetter/analytics"
	"slices"
	"strings"
)

// checkFilter checks a filter against the catalog, in the order a client reads its arguments; duck builds
// its SQL only after this has passed. A formula among its indicators is replaced by its normalised text
// (computedOf computes its values).
func checkFilter(s *snapshot, f *analytics.ValueFilter) error {
	if err := s.checkAsOf(f.AsOf); err != nil {
		return err
	}
	if f.From != nil && f.To != nil && *f.From > *f.To {
		return analytics.Errorf(analytics.BadUserInput, "from (%d) is after to (%d)", *f.From, *f.To)
	}
	if f.Regions != nil && (f.Group != "" || f.Parent != "" || f.Level != "") {
		return analytics.Errorf(analytics.BadUserInput, "give regions or group, parent and level, not both: regions names the regions itself")
	}
	in := func(name string, codes []string, known func(string) error) error {
		if codes == nil {
			return nil
		}
		if len(codes) == 0 {
			return analytics.Errorf(analytics.BadUserInput, "%s is an empty list, which would match nothing: list at least one code, or leave %s out", name, name)
		}
		if len(codes) > MaxScopeRegions {
			return analytics.Errorf(analytics.BadUserInput, "%s lists %d codes; at most %d may be given", name, len(codes), MaxScopeRegions)
		}
		for _, c := range codes {
			if err := known(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := in("regions", f.Regions, func(c string) error { _, err := s.region(c); return err }); err != nil {
		return err
	}
	if err := in("indicators", f.Indicators, func(c string) error { _, err := s.indicatorOrFormula(c); return err }); err != nil {
		return err
	}
	if f.Indicators != nil {
		codes := make([]string, len(f.Indicators))
		for i, c := range f.Indicators {
			in, _ := s.indicatorOrFormula(c)
			codes[i] = in.Code
		}
		f.Indicators = codes
	}
	if f.Group != "" {
		if _, err := s.group(f.Group); err != nil {
			return err
		}
	}
	if f.Parent != "" {
		if _, err := s.region(f.Parent); err != nil {
			return err
		}
	}
	if f.Level != "" {
		if err := s.checkLevel(f.Level); err != nil {
			return err
		}
	}
	if f.Category != "" {
		if err := s.checkCategory(f.Category); err != nil {
			return err
		}
	}
	return nil
}

// checkCategory refuses a category no indicator has, naming the ones there are.
func (s *snapshot) checkCategory(c string) error {
	var all []string
	for _, in := range s.Indicators {
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
