package duck

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
	"pacesetter/analytics/dataset"
)

// The SQL ranking path is checked against a plain-Go statement of the same rules (calc.Ranks plus the scope
// and growth rules written out below) on random datasets full of ties, negative values and gaps.

// randomDataset makes a small dataset: a root, two parents with children, three peer groups (some regions
// in none), indicators of both directions, and values drawn from a few small integers (so ties are common,
// negatives and zeros included) with about a third of them missing.
func randomDataset(rng *rand.Rand) *dataset.Dataset {
	d := &dataset.Dataset{}
	d.Regions = append(d.Regions, dataset.Region{Code: "ROOT", Name: "root"},
		dataset.Region{Code: "P1", Name: "p1", Parent: "ROOT"}, dataset.Region{Code: "P2", Name: "p2", Parent: "ROOT"})
	n := 1 + rng.IntN(14)
	for i := range n {
		r := dataset.Region{Code: fmt.Sprintf("R%02d", i), Name: fmt.Sprintf("r%d", i), Parent: []string{"P1", "P2"}[rng.IntN(2)]}
		if g := rng.IntN(4); g > 0 {
			r.Group = fmt.Sprintf("G%d", g)
		}
		d.Regions = append(d.Regions, r)
	}
	for i := range 1 + rng.IntN(3) {
		dir := analytics.HigherIsBetter
		if rng.IntN(2) == 0 {
			dir = analytics.LowerIsBetter
		}
		d.Indicators = append(d.Indicators, dataset.Indicator{Code: fmt.Sprintf("I%d", i), Name: "i", Unit: "u", Direction: dir})
	}
	for _, in := range d.Indicators {
		for _, r := range d.Regions[3:] {
			for y := 2000; y <= 2004; y++ {
				if rng.IntN(3) == 0 {
					continue
				}
				d.Observations = append(d.Observations, dataset.Observation{Region: r.Code, Indicator: in.Code, Year: y,
					Value: float64(rng.IntN(7) - 2)})
			}
		}
	}
	return d
}

// refRanking is the reference answer for one ranking request.
type refRanking struct {
	entries map[string]refEntry
	missing []string
	mean    float64
	median  float64
}

type refEntry struct {
	value, percentile, gap, vsMean, vsMedian float64
	rank                                     int
	prev                                     *int
}

func refRank(d *dataset.Dataset, q analytics.RankingQuery) refRanking {
	var in dataset.Indicator
	for _, x := range d.Indicators {
		if x.Code == q.Indicator {
			in = x
		}
	}
	sign := 1.0
	if in.Direction == analytics.LowerIsBetter {
		sign = -1
	}
	value := map[string]map[int]float64{} // region → year → value
	for _, o := range d.Observations {
		if o.Indicator == q.Indicator {
			if value[o.Region] == nil {
				value[o.Region] = map[int]float64{}
			}
			value[o.Region][o.Year] = o.Value
		}
	}
	var members []string
	for _, r := range d.Regions {
		switch {
		case q.Group != "" && r.Group == q.Group,
			q.Parent != "" && r.Parent == q.Parent,
			q.Group == "" && q.Parent == "" && value[r.Code] != nil:
			members = append(members, r.Code)
		}
	}
	basis := func(region string, y int) (float64, bool) {
		x, ok := value[region][y]
		if !ok || q.Basis != analytics.ByGrowth {
			return x, ok
		}
		p, ok := value[region][y-1]
		if !ok || p <= 0 { // no growth from a zero or negative base
			return 0, false
		}
		return x/p - 1, true
	}
	rankYear := func(y int) (map[string]int, map[string]int, []string, []float64) {
		var ranked []string
		var vals []float64
		for _, m := range members {
			if v, ok := basis(m, y); ok {
				ranked = append(ranked, m)
				vals = append(vals, v)
			}
		}
		comp, chosen := map[string]int{}, map[string]int{}
		c := calc.Ranks(vals, sign, analytics.Competition)
		t := calc.Ranks(vals, sign, q.Ties)
		for i, m := range ranked {
			comp[m], chosen[m] = c[i], t[i]
		}
		return comp, chosen, ranked, vals
	}
	comp, chosen, ranked, vals := rankYear(q.Year)
	_, prevChosen, _, _ := rankYear(q.Year - 1)
	out := refRanking{entries: map[string]refEntry{}, mean: calc.Mean(vals), median: calc.Median(vals)}
	best := math.Inf(-1)
	for _, v := range vals {
		best = max(best, sign*v)
	}
	for i, m := range ranked {
		e := refEntry{value: vals[i], rank: chosen[m], percentile: calc.Percentile(len(ranked), comp[m]),
			gap: best - sign*vals[i], vsMean: vals[i] - out.mean, vsMedian: vals[i] - out.median}
		if p, ok := prevChosen[m]; ok {
			e.prev = &p
		}
		out.entries[m] = e
	}
	for _, m := range members {
		if _, ok := out.entries[m]; !ok {
			out.missing = append(out.missing, m)
		}
	}
	sort.Strings(out.missing)
	return out
}

func newTestEngine(t *testing.T, d *dataset.Dataset, opt Options) *Engine {
	t.Helper()
	store, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Import(context.Background(), d, "test"); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(context.Background(), store, opt)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b)) }

func TestRankingMatchesReference(t *testing.T) {
	ctx := context.Background()
	checked := 0
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		d := randomDataset(rng)
		e := newTestEngine(t, d, Options{})
		for range 25 {
			q := analytics.RankingQuery{
				Indicator: d.Indicators[rng.IntN(len(d.Indicators))].Code,
				Year:      2000 + rng.IntN(6), // 2005 has no data at all
				Ties:      []analytics.TieRule{analytics.Competition, analytics.Dense}[rng.IntN(2)],
				Basis:     []analytics.RankBasis{analytics.ByValue, analytics.ByGrowth}[rng.IntN(2)],
			}
			switch rng.IntN(3) {
			case 1:
				q.Group = fmt.Sprintf("G%d", 1+rng.IntN(3))
				if !slices.Contains(d.Groups(), q.Group) {
					q.Group = ""
				}
			case 2:
				q.Parent = []string{"P1", "P2", "ROOT"}[rng.IntN(3)]
			}
			got, err := e.Ranking(ctx, q)
			if err != nil {
				t.Fatalf("seed %d %+v: %v", seed, q, err)
			}
			want := refRank(d, q)
			where := fmt.Sprintf("seed %d %+v", seed, q)
			if got.Count != len(want.entries) || len(got.Entries) != len(want.entries) {
				t.Fatalf("%s: %d ranked, want %d", where, len(got.Entries), len(want.entries))
			}
			var missing []string
			for _, m := range got.Missing {
				missing = append(missing, m.Code)
			}
			sort.Strings(missing)
			if fmt.Sprint(missing) != fmt.Sprint(want.missing) {
				t.Errorf("%s: missing %v, want %v", where, missing, want.missing)
			}
			for i, g := range got.Entries {
				w, ok := want.entries[g.Region.Code]
				if !ok {
					t.Fatalf("%s: %s ranked but should not be", where, g.Region.Code)
				}
				if i > 0 && (g.Rank < got.Entries[i-1].Rank || g.Rank == got.Entries[i-1].Rank && g.Region.Code < got.Entries[i-1].Region.Code) {
					t.Errorf("%s: entries not ordered by rank, then code", where)
				}
				if g.Rank != w.rank || !near(g.Value, w.value) || !near(g.Percentile, w.percentile) || !near(g.GapToLeader, w.gap) ||
					!near(g.VsMean, w.vsMean) || !near(g.VsMedian, w.vsMedian) || show(g.PreviousRank) != show(w.prev) {
					t.Errorf("%s: %s got rank %d value %v pct %v gap %v vsMean %v vsMedian %v prev %s;\nwant rank %d value %v pct %v gap %v vsMean %v vsMedian %v prev %s",
						where, g.Region.Code, g.Rank, g.Value, g.Percentile, g.GapToLeader, g.VsMean, g.VsMedian, show(g.PreviousRank),
						w.rank, w.value, w.percentile, w.gap, w.vsMean, w.vsMedian, show(w.prev))
				}
				if g.PreviousRank != nil && (g.RankChange == nil || *g.RankChange != *g.PreviousRank-g.Rank) {
					t.Errorf("%s: rankChange inconsistent", where)
				}
			}
			if len(got.Entries) > 0 && (!near(*got.Mean, want.mean) || !near(*got.Median, want.median) || got.Leader != got.Entries[0].Region) {
				t.Errorf("%s: mean %v median %v, want %v %v", where, *got.Mean, *got.Median, want.mean, want.median)
			}
			checked++
		}
	}
	t.Logf("%d rankings checked against the reference", checked)
}

// Standings must agree with the rankings of each indicator, which the test above checks against the
// reference: counts, the top, and the movements into and out of it.
func TestStandingsMatchRankings(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 11))
		d := randomDataset(rng)
		e := newTestEngine(t, d, Options{})
		region := d.Regions[3+rng.IntN(len(d.Regions)-3)]
		q := analytics.StandingsQuery{Region: region.Code, Year: 2001 + rng.IntN(4), Top: 1 + rng.IntN(3),
			Ties:  []analytics.TieRule{analytics.Competition, analytics.Dense}[rng.IntN(2)],
			Basis: []analytics.RankBasis{analytics.ByValue, analytics.ByGrowth}[rng.IntN(2)]}
		if region.Group != "" && rng.IntN(2) == 0 {
			q.Group = region.Group
		} else {
			q.Parent = region.Parent
		}
		st, err := e.Standings(ctx, q)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		ranked, inTop, first := 0, 0, 0
		var entered, left, missing []string
		for _, in := range d.Indicators {
			rq := analytics.RankingQuery{Indicator: in.Code, Year: q.Year, Group: q.Group, Parent: q.Parent, Ties: q.Ties, Basis: q.Basis}
			now, err := e.Ranking(ctx, rq)
			if err != nil {
				t.Fatal(err)
			}
			rq.Year--
			before, err := e.Ranking(ctx, rq)
			if err != nil {
				t.Fatal(err)
			}
			rankOf := func(rk *analytics.Ranking) int { // 0: not ranked
				for _, ent := range rk.Entries {
					if ent.Region.Code == region.Code {
						return ent.Rank
					}
				}
				return 0
			}
			r, p := rankOf(now), rankOf(before)
			isTop, wasTop := r > 0 && r <= q.Top, p > 0 && p <= q.Top
			if r > 0 {
				ranked++
				if isTop {
					inTop++
				}
				if r == 1 {
					first++
				}
			} else if len(now.Entries) > 0 {
				missing = append(missing, in.Code)
			}
			if len(now.Entries) > 0 && len(before.Entries) > 0 {
				if isTop && !wasTop {
					entered = append(entered, in.Code)
				}
				if wasTop && !isTop {
					left = append(left, in.Code)
				}
			}
		}
		codes := func(ins []*analytics.Indicator) string {
			var s []string
			for _, i := range ins {
				s = append(s, i.Code)
			}
			return fmt.Sprint(s)
		}
		if st.Ranked != ranked || st.InTop != inTop || st.First != first || codes(st.Entered) != fmt.Sprint(entered) ||
			codes(st.Left) != fmt.Sprint(left) || codes(st.Missing) != fmt.Sprint(missing) {
			t.Errorf("seed %d %+v: got ranked %d top %d first %d entered %s left %s missing %s; want %d %d %d %v %v %v", seed, q,
				st.Ranked, st.InTop, st.First, codes(st.Entered), codes(st.Left), codes(st.Missing), ranked, inTop, first, entered, left, missing)
		}
	}
}

func show(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}
