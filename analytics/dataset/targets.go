package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"pacesetter/analytics"
)

// Target is one row of targets.csv.
type Target struct {
	Region, Indicator string
	Year              int
	Comparator        analytics.Comparator
	Value             float64
	Kind              analytics.TargetKind
	Group             string // RANK only: the peer group the rank is taken in; "" for the regions of the region's level
}

var targetKinds = map[string]analytics.TargetKind{"level": analytics.TargetLevel, "growth": analytics.TargetGrowth, "rank": analytics.TargetRank}

// targets reads targets.csv (optional): one target per region, indicator, year and kind.
func (r *reader) targets() error {
	ps, d := &r.ps, r.d
	first := map[string]int{}
	_, err := readCSV(r.fsys, TargetsFile, false, ps, []string{"region_code", "indicator_code", "year", "comparator", "value", "kind"}, []string{"group"},
		func(line int, col []string) {
			t := Target{Region: col[0], Indicator: col[1], Group: col[6]}
			ok := true
			if rg := r.regionBy[t.Region]; rg != nil {
				t.Region = rg.Code
			} else if r.regionsOK {
				ps.add(TargetsFile, line, "unknown region_code %q (not in %s)%s", t.Region, RegionsFile, r.meant("region", t.Region))
				ok = false
			}
			if r.indicatorsOK && r.indicatorLine[t.Indicator] == 0 && r.derivedLine[t.Indicator] == 0 {
				ps.add(TargetsFile, line, "unknown indicator_code %q (not in %s or %s)%s", t.Indicator, IndicatorsFile, DerivedFile, r.meant("indicator", t.Indicator))
				ok = false
			}
			y, err := strconv.Atoi(col[2])
			if err != nil || y < 1 || y > 9999 {
				ps.add(TargetsFile, line, "year %q is not a whole number from 1 to 9999", col[2])
				ok = false
			}
			t.Year = y
			switch col[3] {
			case ">=", "≥":
				t.Comparator = analytics.AtLeast
			case "<=", "≤":
				t.Comparator = analytics.AtMost
			default:
				ps.add(TargetsFile, line, "comparator %q is not >= (at least the value) or <= (at most the value)", col[3])
				ok = false
			}
			v, err := strconv.ParseFloat(col[4], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				ps.add(TargetsFile, line, "value %q is not a finite number", col[4])
				ok = false
			}
			t.Value = v + 0
			kind, known := targetKinds[strings.ToLower(col[5])]
			if !known {
				ps.add(TargetsFile, line, "kind %q is not level (the value), growth (the year's growth in percent, by the indicator's measure) or rank (the rank in a peer group)", col[5])
				ok = false
			}
			t.Kind = kind
			if kind == analytics.TargetRank {
				if t.Comparator == analytics.AtLeast {
					ps.add(TargetsFile, line, "a rank target takes <= (rank 1 is the best: <= 3 is the top 3), not >=")
					ok = false
				}
				if err == nil && (v < 1 || v != math.Trunc(v)) {
					ps.add(TargetsFile, line, "a rank target's value must be a whole number of at least 1, got %s", col[4])
					ok = false
				}
			}
			if t.Group != "" {
				switch {
				case known && kind != analytics.TargetRank:
					ps.add(TargetsFile, line, "group %q is only for rank targets (the peer group the rank is taken in): leave it empty for a %s target", t.Group, col[5])
					ok = false
				case r.groupLine[t.Group] == 0:
					ps.add(TargetsFile, line, "unknown group %q (not in %s or the group column of %s)", t.Group, GroupsFile, RegionsFile)
					ok = false
				case ok && !r.memberIn(t.Group, t.Region, t.Year):
					ps.add(TargetsFile, line, "region %s is not a member of group %s in %d, so it has no rank there", t.Region, t.Group, t.Year)
					ok = false
				}
			}
			if !ok {
				return
			}
			key := fmt.Sprintf("%s\x00%s\x00%d\x00%s", t.Region, t.Indicator, t.Year, t.Kind)
			if l := first[key]; l != 0 {
				ps.add(TargetsFile, line, "duplicate %s target of %s, %s, %d (first on line %d)", strings.ToLower(string(t.Kind)), t.Region, t.Indicator, t.Year, l)
				return
			}
			first[key] = line
			d.Targets = append(d.Targets, t)
		})
	return err
}

// memberIn says whether region is a member of group in year.
func (r *reader) memberIn(group, region string, year int) bool {
	for _, m := range r.d.Memberships {
		if m.Group == group && m.Region == region && (m.From == 0 || m.From <= year) && (m.To == 0 || year <= m.To) {
			return true
		}
	}
	return false
}
