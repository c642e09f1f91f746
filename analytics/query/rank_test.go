package query

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/internal/fixture"
)

// The ranking path (Go over matrices loaded from DuckDB) is checked against a plain-Go statement of the
// same rules, written out below from the schema's words, on random datasets full of ties, negative values,
// gaps, memberships that change by year, levels, measures, flags and vintages.

// refRanking is the reference answer for one ranking request; err is set when the request must be refused.
type refRanking struct {
	err     bool
	year    int
	entries map[string]refEntry
	missing []string
	mean    float64
	median  float64
	flagged int
}

type refEntry struct {
	value, percentile, gap, vsMean, vsMedian float64
	rank                                     int
	prev                                     *int
	flags                                    string
}

type flagged struct {
	v float64
	f analytics.FlagSet
}

// refValues is region → year → value of one indicator: the newest vintage, or the newest released by asOf
// (an undated value counts as released before any date).
func refValues(d *dataset.Dataset, indicator string, asOf *analytics.Date) map[string]map[int]flagged {
	value := map[string]map[int]flagged{}
	best := map[string]analytics.Date{}
	for _, o := range d.Observations {
		if o.Indicator != indicator || asOf != nil && o.Vintage > *asOf {
			continue
		}
		k := fmt.Sprint(o.Region, o.Year)
		if prev, seen := best[k]; seen && prev > o.Vintage {
			continue
		}
		best[k] = o.Vintage
		if value[o.Region] == nil {
			value[o.Region] = map[int]flagged{}
		}
		value[o.Region][o.Year] = flagged{o.Value, o.Flags}
	}
	return value
}

// refMembers is the scope of q in year y.
func refMembers(d *dataset.Dataset, q analytics.ScopeQuery, indicator string, y int) []string {
	hasAny := map[string]bool{}
	for _, o := range d.Observations {
		if o.Indicator == indicator {
			hasAny[o.Region] = true
		}
	}
	var members []string
	for _, r := range d.Regions {
		in := false
		switch {
		case q.Group != "":
			for _, m := range d.Memberships {
				if m.Group == q.Group && m.Region == r.Code && (m.From == 0 || m.From <= y) && (m.To == 0 || y <= m.To) {
					in = true
				}
			}
		case q.Parent != "":
			in = r.Parent == q.Parent
		case q.Regions != nil:
			in = slices.Contains(q.Regions, r.Code)
		default:
			in = hasAny[r.Code]
		}
		if in && (q.Level == "" || r.Level == q.Level) {
			members = append(members, r.Code)
		}
	}
	return members
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
	if q.Level != "" && !slices.ContainsFunc(d.Regions, func(r dataset.Region) bool { return r.Level == q.Level }) {
		return refRanking{err: true} // an unknown level is refused
	}
	if q.AsOf != nil && !slices.ContainsFunc(d.Observations, func(o dataset.Observation) bool { return o.Vintage != "" }) {
		return refRanking{err: true} // asOf needs release dates
	}
	value := refValues(d, q.Indicator, q.AsOf)
	// The year's growth by measure: level x/p − 1 from a positive base, rate x − p, growth x/100, index x/100 − 1.
	basis := func(region string, y int) (float64, analytics.FlagSet, bool) {
		x, ok := value[region][y]
		if !ok || q.Basis != analytics.ByGrowth {
			return x.v, x.f, ok
		}
		p, hasP := value[region][y-1]
		switch in.Measure {
		case analytics.Growth:
			return x.v / 100, x.f, true
		case analytics.Index:
			return x.v/100 - 1, x.f, true
		case analytics.Rate:
			return x.v - p.v, x.f | p.f, hasP
		}
		if !hasP || p.v <= 0 {
			return 0, 0, false
		}
		return x.v/p.v - 1, x.f | p.f, true
	}
	first, last := 9999, 0
	for _, o := range d.Observations {
		if o.Indicator == q.Indicator {
			first, last = min(first, o.Year), max(last, o.Year)
		}
	}
	y := 0
	if q.Year != nil {
		y = *q.Year
		if y < first || y > last {
			return refRanking{err: true}
		}
	} else {
		for yy := last; yy >= first && y == 0; yy-- {
			for _, m := range refMembers(d, q.ScopeQuery, q.Indicator, yy) {
				if _, _, ok := basis(m, yy); ok {
					y = yy
				}
			}
		}
		if y == 0 {
			return refRanking{err: true}
		}
	}
	rankYear := func(y int) (map[string]int, map[string]int, []string, []float64, []analytics.FlagSet) {
		var ranked []string
		var vals []float64
		var flags []analytics.FlagSet
		for _, m := range refMembers(d, q.ScopeQuery, q.Indicator, y) {
			if v, f, ok := basis(m, y); ok {
				ranked = append(ranked, m)
				vals = append(vals, v)
				flags = append(flags, f)
			}
		}
		// Ranks by counting, not by sorting as the engine does: competition is 1 + how many are strictly
		// better, dense 1 + how many distinct values are strictly better.
		comp, chosen := map[string]int{}, map[string]int{}
		for i, m := range ranked {
			better, distinct := 0, map[float64]bool{}
			for _, v := range vals {
				if sign*v > sign*vals[i] {
					better++
					distinct[v] = true
				}
			}
			comp[m], chosen[m] = 1+better, 1+better
			if q.Ties == analytics.Dense {
				chosen[m] = 1 + len(distinct)
			}
		}
		return comp, chosen, ranked, vals, flags
	}
	comp, chosen, ranked, vals, flags := rankYear(y)
	_, prevChosen, _, _, _ := rankYear(y - 1)
	// Mean, median and percentile written out here rather than taken from calc, which the engine uses.
	out := refRanking{year: y, entries: map[string]refEntry{}, mean: math.NaN(), median: math.NaN()}
	if n := len(vals); n > 0 {
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		out.mean = sum / float64(n)
		sorted := slices.Sorted(slices.Values(vals))
		out.median = (sorted[(n-1)/2] + sorted[n/2]) / 2
	}
	percentile := func(n, rank int) float64 {
		if n == 1 {
			return 1
		}
		return float64(n-rank) / float64(n-1)
	}
	best := math.Inf(-1)
	for _, v := range vals {
		best = max(best, sign*v)
	}
	for i, m := range ranked {
		e := refEntry{value: vals[i], rank: chosen[m], percentile: percentile(len(ranked), comp[m]),
			gap: best - sign*vals[i], vsMean: vals[i] - out.mean, vsMedian: vals[i] - out.median, flags: fmt.Sprint(flags[i].Letters())}
		if p, ok := prevChosen[m]; ok {
			e.prev = &p
		}
		if flags[i] != 0 {
			out.flagged++
		}
		out.entries[m] = e
	}
	for _, m := range refMembers(d, q.ScopeQuery, q.Indicator, y) {
		if _, ok := out.entries[m]; !ok {
			out.missing = append(out.missing, m)
		}
	}
	sort.Strings(out.missing)
	return out
}

// randomScope picks a scope a user could ask for: all regions, a group (the changing T included), a
// parent, an ad-hoc list, each maybe narrowed to a level (not the list).
func randomScope(rng *rand.Rand, d *dataset.Dataset) analytics.ScopeQuery {
	var q analytics.ScopeQuery
	switch rng.IntN(4) {
	case 1:
		q.Group = d.Groups[rng.IntN(len(d.Groups))].Code
	case 2:
		q.Parent = []string{"P1", "P2", "ROOT"}[rng.IntN(3)]
	case 3:
		for _, r := range d.Regions {
			if rng.IntN(2) == 0 {
				q.Regions = append(q.Regions, r.Code)
			}
		}
		if q.Regions == nil {
			q.Regions = []string{d.Regions[len(d.Regions)-1].Code}
		}
		return q
	}
	if rng.IntN(3) == 0 {
		q.Level = []string{"leaf", "other", "mid"}[rng.IntN(3)]
	}
	return q
}

var asOfs = []*analytics.Date{nil, nil, ptr(analytics.Date("2002-06-01")), ptr(analytics.Date("2003-12-31")), ptr(analytics.Date("2005-03-01"))}

func ptr[T any](v T) *T { return &v }

func newTestEngine(t *testing.T, d *dataset.Dataset, opt Options) *Engine {
	t.Helper()
	store, err := duck.Open("")
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
		d := fixture.RandomDataset(rng)
		e := newTestEngine(t, d, Options{})
		for range 25 {
			q := analytics.RankingQuery{
				Indicator:  d.Indicators[rng.IntN(len(d.Indicators))].Code,
				ScopeQuery: randomScope(rng, d),
				AsOf:       asOfs[rng.IntN(len(asOfs))],
				Ties:       []analytics.TieRule{analytics.Competition, analytics.Dense}[rng.IntN(2)],
				Basis:      []analytics.RankBasis{analytics.ByValue, analytics.ByGrowth}[rng.IntN(2)],
			}
			if rng.IntN(4) > 0 {
				q.Year = ptr(1999 + rng.IntN(7)) // 1999 and 2005 are outside the data
			}
			got, err := e.Ranking(ctx, q)
			want := refRank(d, q)
			where := fmt.Sprintf("seed %d %+v year %s asOf %v", seed, q, show(q.Year), q.AsOf)
			if want.err {
				if analytics.ErrorCode(err) != analytics.BadUserInput {
					t.Errorf("%s: want BAD_USER_INPUT, got %v", where, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if got.Year != want.year || got.Flagged != want.flagged {
				t.Errorf("%s: year %d flagged %d, want %d %d", where, got.Year, got.Flagged, want.year, want.flagged)
			}
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
				if g.Rank != w.rank || !near(g.Value, w.value) || !near(g.Percentile, w.percentile) || !nearPtr(g.GapToLeader, w.gap) ||
					!nearPtr(g.VsMean, w.vsMean) || !nearPtr(g.VsMedian, w.vsMedian) || show(g.PreviousRank) != show(w.prev) || fmt.Sprint(g.Flags) != w.flags {
					t.Errorf("%s: %s got rank %d value %v pct %v gap %v vsMean %v vsMedian %v prev %s;\nwant rank %d value %v pct %v gap %v vsMean %v vsMedian %v prev %s",
						where, g.Region.Code, g.Rank, g.Value, g.Percentile, showF(g.GapToLeader), showF(g.VsMean), showF(g.VsMedian), show(g.PreviousRank),
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
		d := fixture.RandomDataset(rng)
		e := newTestEngine(t, d, Options{})
		region := d.Regions[3+rng.IntN(len(d.Regions)-3)]
		q := analytics.StandingsQuery{Region: region.Code, Year: 2001 + rng.IntN(4), Top: 1 + rng.IntN(3),
			AsOf:  asOfs[rng.IntN(len(asOfs))],
			Ties:  []analytics.TieRule{analytics.Competition, analytics.Dense}[rng.IntN(2)],
			Basis: []analytics.RankBasis{analytics.ByValue, analytics.ByGrowth}[rng.IntN(2)]}
		switch rng.IntN(4) {
		case 0:
			if region.Group != "" {
				q.Group = region.Group
			}
		case 1:
			q.Parent = region.Parent
			q.Level = region.Level
		case 2:
			q.Regions = []string{region.Code, "P1", d.Regions[len(d.Regions)-1].Code}
			if region.Code == q.Regions[2] {
				q.Regions = q.Regions[:2]
			}
		}
		st, err := e.Standings(ctx, q)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		ranked, inTop, first := 0, 0, 0
		var entered, left, missing []string
		for _, in := range d.Indicators {
			rq := analytics.RankingQuery{Indicator: in.Code, Year: ptr(q.Year), ScopeQuery: q.ScopeQuery, AsOf: q.AsOf, Ties: q.Ties, Basis: q.Basis}
			// A year outside an indicator's data is refused by ranking and has nobody ranked in standings.
			now, err := e.Ranking(ctx, rq)
			if err != nil {
				now = &analytics.Ranking{}
			}
			rq.Year = ptr(q.Year - 1)
			before, err := e.Ranking(ctx, rq)
			if err != nil {
				before = &analytics.Ranking{}
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

// The floor SQL (a plain rank() window in DuckDB) is a second, independent statement of the VALUE rule
// with competition ties: the Go path must agree with it on every group and year of the random datasets.
func TestRankingMatchesFloorSQL(t *testing.T) {
	ctx := context.Background()
	checked := 0
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 13))
		d := fixture.RandomDataset(rng)
		e := newTestEngine(t, d, Options{})
		for _, in := range d.Indicators {
			sign := 1.0
			if in.Direction == analytics.LowerIsBetter {
				sign = -1
			}
			for _, g := range append([]dataset.Group{{}}, d.Groups...) {
				for y := 2000; y <= 2004; y++ {
					floor, err := e.store.FloorRanking(ctx, in.Code, y, g.Code, sign)
					if err != nil {
						t.Fatal(err)
					}
					got, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: in.Code, Year: ptr(y), ScopeQuery: analytics.ScopeQuery{Group: g.Code}})
					if err != nil {
						if len(floor) > 0 {
							t.Fatalf("seed %d %s %s %d: %v", seed, in.Code, g.Code, y, err)
						}
						continue
					}
					var a, b []string
					for _, r := range floor {
						a = append(a, fmt.Sprintf("%s=%v#%d", r.Region, r.Value, r.Rank))
					}
					for _, r := range got.Entries {
						b = append(b, fmt.Sprintf("%s=%v#%d", r.Region.Code, r.Value, r.Rank))
					}
					if fmt.Sprint(a) != fmt.Sprint(b) {
						t.Errorf("seed %d %s group %q %d:\n SQL %v\n Go  %v", seed, in.Code, g.Code, y, a, b)
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d rankings checked against the floor SQL", checked)
}

// nearPtr is near for a difference that may be null (beyond range): random data never makes one.
func nearPtr(got *float64, want float64) bool { return got != nil && near(*got, want) }

func showF(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}
