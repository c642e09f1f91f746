package query

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"pacesetter/analytics"
)

// refLine is one line of the reference composite: an indicator, its weight and whether it scores growth.
type refLine struct {
	code   string
	weight float64
	growth bool
	lower  bool // lower is better
}

// refScore is a region's score and competition rank in the reference.
type refScore struct {
	score float64
	rank  int
}

// refPeriodComposite scores regions on lines at (y, p) by hand, as CompositeInput's defaults say: each
// line's value (its level, or its growth x/x′ − 1 against the same period a year earlier, none from a base
// ≤ 0) normalised MIN_MAX over the regions with one (100·(x − min)/(max − min), mirrored for lower is
// better, 100 when all are equal), the score Σ w·I / Σ w over the lines a region has (RESCALE), the
// competition rank on the score. A region with no line is not scored. Written apart from analytics/assess.
func refPeriodComposite(vals map[periodKey]float64, lines []refLine, regions []string, y, p int) map[string]refScore {
	norm := make([]map[string]float64, len(lines))
	for i, l := range lines {
		raw := map[string]float64{}
		for _, r := range regions {
			x, ok := vals[periodKey{l.code, r, y, p}]
			if !ok {
				continue
			}
			if l.growth {
				prev, ok := vals[periodKey{l.code, r, y - 1, p}]
				if !ok || prev <= 0 {
					continue
				}
				x = x/prev - 1
			}
			raw[r] = x
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range raw {
			lo, hi = min(lo, x), max(hi, x)
		}
		norm[i] = map[string]float64{}
		for r, x := range raw {
			switch {
			case hi == lo:
				norm[i][r] = 100
			case l.lower:
				norm[i][r] = 100 * (hi - x) / (hi - lo)
			default:
				norm[i][r] = 100 * (x - lo) / (hi - lo)
			}
		}
	}
	out := map[string]refScore{}
	for _, r := range regions {
		sum, ws := 0.0, 0.0
		for i, l := range lines {
			if v, ok := norm[i][r]; ok {
				sum, ws = sum+l.weight*v, ws+l.weight
			}
		}
		if ws > 0 {
			out[r] = refScore{score: sum / ws}
		}
	}
	for r, a := range out {
		rank := 1
		for _, b := range out {
			if b.score > a.score+1e-9 {
				rank++
			}
		}
		a.rank = rank
		out[r] = a
	}
	return out
}

// Composites of a month and of a quarter, on synthetic monthly and quarterly data at two sizes (two and
// three years): every entry's score, rank and previousRank (the rank at the same period a year earlier)
// against refPeriodComposite, with a cumulative indicator scored on its year-to-date growth; the latest
// period without year or period; a history over periods, line by line against the reference (rankChange
// against the same period a year earlier); robustness's nominal ranks; and the refusals: a line of another
// frequency (named by its place), DISTANCE_TO_TARGET without the line's own target, from with a period.
func TestCompositePeriods(t *testing.T) {
	ctx := context.Background()
	for _, size := range []struct{ regions, indicators, years int }{{5, 3, 2}, {30, 6, 3}} {
		d := mixedDataset(22, size.regions, size.indicators, size.years)
		e := newTestEngine(t, d, Options{})
		vals := refPeriodValues(d)
		var regions []string
		for _, r := range d.Regions[1:] {
			regions = append(regions, r.Code)
		}
		last := 2001 + size.years - 1
		for _, f := range []analytics.Frequency{analytics.Monthly, analytics.Quarterly} {
			name := fmt.Sprintf("%s/%d regions/%d years", freqName(f), size.regions, size.years)
			prefix, sub := "", 9
			if f == analytics.Quarterly {
				prefix, sub = "Q", 3
			}
			var lines []refLine
			var input []analytics.WeightedIndicator
			for i, in := range d.Indicators {
				if !strings.HasPrefix(in.Code, prefix+"I") {
					continue
				}
				l := refLine{code: in.Code, weight: float64(len(lines) + 1), growth: in.Cumulative, lower: in.Direction == analytics.LowerIsBetter}
				if l.growth && in.Measure != analytics.Level && in.Measure != "" {
					t.Fatalf("indicator %d (%s) is cumulative but not a LEVEL: the reference's growth is x/x′ − 1", i, in.Code)
				}
				lines = append(lines, l)
				w := analytics.WeightedIndicator{Indicator: l.code, Weight: l.weight}
				if l.growth {
					w.Basis = analytics.BasisGrowth
				}
				input = append(input, w)
			}
			at := analytics.Period{Year: last, Sub: sub, Freq: f}
			q := analytics.CompositeQuery{Period: &at, Indicators: input, ScopeQuery: analytics.ScopeQuery{Regions: regions}}
			c, err := e.Composite(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want := refPeriodComposite(vals, lines, regions, last, sub)
			// The year before scores its growth line against two years back: without those values it is not
			// scored, and nobody has a previousRank.
			var prev map[string]refScore
			if last-2 >= 2001 {
				prev = refPeriodComposite(vals, lines, regions, last-1, sub)
			}
			if c.Period != at.String() || c.Year != last || len(c.Entries) != len(want) {
				t.Fatalf("%s: period %s, year %d, %d entries; want %s, %d, %d", name, c.Period, c.Year, len(c.Entries), at, last, len(want))
			}
			for _, en := range c.Entries {
				w, ok := want[en.Region.Code]
				if !ok || !near(en.Score, w.score) || en.Rank != float64(w.rank) {
					t.Errorf("%s: %s scores %v rank %v; reference %+v", name, en.Region.Code, en.Score, en.Rank, w)
				}
				pw, had := prev[en.Region.Code]
				switch {
				case !had && en.PreviousRank != nil:
					t.Errorf("%s: %s has previousRank %v; the reference has none", name, en.Region.Code, *en.PreviousRank)
				case had && (en.PreviousRank == nil || *en.PreviousRank != float64(pw.rank)):
					t.Errorf("%s: %s previousRank %s; reference %d", name, en.Region.Code, showF(en.PreviousRank), pw.rank)
				}
			}
			if prev != nil && !hasPrevious(c) {
				t.Errorf("%s: no entry has a previousRank", name)
			}

			// Classes: each class scored on its own (the reference over its members), in tiers by quota; an
			// entry's gapToTier and versus read the period's answer.
			groupOf, classes := map[string]string{}, []string{}
			for _, r := range d.Regions[1:] {
				groupOf[r.Code] = r.Group
				if len(classes) < 2 && !slices.Contains(classes, r.Group) {
					classes = append(classes, r.Group)
				}
			}
			cq := q
			cq.ScopeQuery, cq.Classes, cq.Tiers = analytics.ScopeQuery{}, classes, &analytics.TierRule{Quotas: []int{1}}
			cc, err := e.Composite(ctx, cq)
			if err != nil {
				t.Fatalf("%s classes: %v", name, err)
			}
			byClass := map[string]map[string]refScore{}
			for _, g := range classes {
				var members []string
				for _, r := range regions {
					if groupOf[r] == g {
						members = append(members, r)
					}
				}
				byClass[g] = refPeriodComposite(vals, lines, members, last, sub)
			}
			if cc.Period != at.String() || len(cc.Entries) != len(byClass[classes[0]])+len(byClass[classes[1]]) {
				t.Errorf("%s classes: period %s, %d entries", name, cc.Period, len(cc.Entries))
			}
			for _, en := range cc.Entries {
				ref := byClass[en.Class.Code]
				w := ref[en.Region.Code]
				if !near(en.Score, w.score) || en.Rank != float64(w.rank) {
					t.Errorf("%s classes: %s in %s scores %v rank %v; reference %+v", name, en.Region.Code, en.Class.Code, en.Score, en.Rank, w)
				}
				// gapToTier(1): the class leader's score minus its own (one region in tier 1 by the quota).
				gap, err := en.GapToTier(1)
				best := 0.0
				for _, o := range ref {
					best = max(best, o.score)
				}
				switch {
				case err != nil:
					t.Fatalf("%s classes gapToTier: %v", name, err)
				case w.rank == 1 && gap != nil, w.rank > 1 && (gap == nil || !near(*gap, best-w.score)):
					t.Errorf("%s classes: %s gapToTier(1) %s, want %v", name, en.Region.Code, showF(gap), best-w.score)
				}
				// versus itself: every difference 0.
				vs, err := en.Versus(en.Region.Code)
				if err != nil || len(vs) != len(lines) || slices.ContainsFunc(vs, func(v *analytics.Versus) bool { return v.Difference != 0 }) {
					t.Errorf("%s classes: %s versus itself: %v, %v", name, en.Region.Code, vs, err)
				}
			}

			// Without year or period: the latest period with values, said in the answer.
			latest, err := e.Composite(ctx, analytics.CompositeQuery{Indicators: input, ScopeQuery: q.ScopeQuery})
			if err != nil {
				t.Fatalf("%s latest: %v", name, err)
			}
			if wantP := (analytics.Period{Year: last, Sub: f.PerYear(), Freq: f}).String(); latest.Period != wantP {
				t.Errorf("%s latest: period %s, want %s", name, latest.Period, wantP)
			}

			// Robustness's nominal ranks are the composite's.
			rb, err := e.Robustness(ctx, analytics.RobustnessQuery{CompositeQuery: q, Runs: 20, WeightNoise: 0.1, Seed: 1})
			if err != nil {
				t.Fatalf("%s robustness: %v", name, err)
			}
			if rb.Period != at.String() || len(rb.Entries) != len(want) {
				t.Errorf("%s robustness: period %s, %d entries", name, rb.Period, len(rb.Entries))
			}
			for _, en := range rb.Entries {
				if en.NominalRank != float64(want[en.Region.Code].rank) {
					t.Errorf("%s robustness: %s nominal rank %v, reference %d", name, en.Region.Code, en.NominalRank, want[en.Region.Code].rank)
				}
			}

			// A history from the first period of the second year: one line per period, each the reference's
			// score and rank, rankChange against the same period a year earlier when the history has it.
			from := analytics.Period{Year: 2002, Sub: 1, Freq: f}
			h, err := e.CompositeHistory(ctx, analytics.CompositeHistoryQuery{CompositeQuery: q, FromPeriod: &from})
			if err != nil {
				t.Fatalf("%s history: %v", name, err)
			}
			if n := (last-2002)*f.PerYear() + sub; len(h.Periods) != n || len(h.Years) != n || h.Periods[0] != from.String() || h.Periods[n-1] != at.String() {
				t.Fatalf("%s history: periods %v, want %d from %s to %s", name, h.Periods, n, from, at)
			}
			lines24 := 0
			for _, rh := range h.Regions {
				for _, cy := range rh.Years {
					pp, err := analytics.ParsePeriod(cy.Period)
					if err != nil || pp.Year != cy.Year {
						t.Fatalf("%s history: line %+v", name, cy)
					}
					ref := refPeriodComposite(vals, lines, regions, pp.Year, pp.Sub)
					w := ref[rh.Region.Code]
					if !near(cy.Score, w.score) || cy.Rank != float64(w.rank) {
						t.Errorf("%s history %s: %s scores %v rank %v; reference %+v", name, cy.Period, rh.Region.Code, cy.Score, cy.Rank, w)
					}
					var wantChange *float64
					if pp.Year-1 >= 2002 {
						if pw, ok := refPeriodComposite(vals, lines, regions, pp.Year-1, pp.Sub)[rh.Region.Code]; ok {
							d := float64(pw.rank - w.rank)
							wantChange = &d
						}
					}
					if !sameF(cy.RankChange, wantChange) {
						t.Errorf("%s history %s: %s rankChange %s, want %s", name, cy.Period, rh.Region.Code, showF(cy.RankChange), showF(wantChange))
					}
					lines24++
				}
			}
			if lines24 == 0 {
				t.Errorf("%s history: no lines", name)
			}

			// Refusals, each saying what and where.
			mixed := append(append([]analytics.WeightedIndicator{}, input[0]), analytics.WeightedIndicator{Indicator: "AI001", Weight: 1})
			_, err = e.Composite(ctx, analytics.CompositeQuery{Period: &at, Indicators: mixed})
			if wantErr := fmt.Sprintf(`indicators[1]: "AI001" is annual; period %q is %s`, at.String(), freqName(f)); err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%s: an annual line in a period composite: %v, want %q", name, err, wantErr)
			}
			_, err = e.Composite(ctx, analytics.CompositeQuery{Year: last, Indicators: input})
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf(`indicators[0]: %q is %s; year %d is annual: give period`, input[0].Indicator, freqName(f), last)) {
				t.Errorf("%s: a %s line in a year's composite: %v", name, freqName(f), err)
			}
			dtt := analytics.DistanceToTarget
			_, err = e.Composite(ctx, analytics.CompositeQuery{Period: &at, Indicators: input, Normalisation: &dtt})
			if err == nil || !strings.Contains(err.Error(), "targets.csv's targets are annual") {
				t.Errorf("%s: DISTANCE_TO_TARGET without the lines' own targets: %v", name, err)
			}
			_, err = e.CompositeHistory(ctx, analytics.CompositeHistoryQuery{CompositeQuery: q, From: 2002})
			if err == nil || !strings.Contains(err.Error(), "give fromPeriod") {
				t.Errorf("%s: from (a year) with a period: %v", name, err)
			}
		}
	}
}

func hasPrevious(c *analytics.Composite) bool {
	for _, en := range c.Entries {
		if en.PreviousRank != nil {
			return true
		}
	}
	return false
}
