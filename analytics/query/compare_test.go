package query

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
	"pacesetter/analytics/internal/fixture"
)

// Compare, the standings' benchmarks and the trend's ranks, checked on random datasets (ties, negatives,
// both directions, memberships that change by year, vintages) against the engine's ranking, itself checked
// against the reference of rank_test.go: each number is worked out here from the ranking's entries by the
// schema's words, not by the code under test.

func TestBenchmarksMatchRankings(t *testing.T) {
	ctx := context.Background()
	checked := 0
	for seed := range uint64(120) {
		rng := rand.New(rand.NewPCG(seed, 23))
		d := fixture.RandomDataset(rng)
		e := newTestEngine(t, d, Options{})
		region := d.Regions[3+rng.IntN(len(d.Regions)-3)].Code
		q := analytics.StandingsQuery{Region: region, Year: 2000 + rng.IntN(5), Top: 2, ScopeQuery: randomScope(rng, d),
			AsOf:  asOfs[rng.IntN(len(asOfs))],
			Ties:  []analytics.TieRule{analytics.Competition, analytics.Dense}[rng.IntN(2)],
			Basis: []analytics.RankBasis{analytics.ByValue, analytics.ByGrowth}[rng.IntN(2)]}
		st, err := e.Standings(ctx, q)
		if err != nil {
			continue // the region is not in the scope that year
		}
		for _, ent := range st.Entries {
			rk, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: ent.Indicator.Code, Year: &q.Year, ScopeQuery: q.ScopeQuery,
				AsOf: q.AsOf, Ties: q.Ties, Basis: q.Basis})
			if err != nil {
				t.Fatal(err)
			}
			sign, v := ent.Indicator.Sign(), ent.Value
			what := fmt.Sprintf("seed %d %s %s", seed, region, ent.Indicator.Code)
			es := rk.Entries
			if ent.Leader.Region != es[0].Region || ent.Leader.Value != es[0].Value || !nearPtr(ent.GapToLeader, sign*(es[0].Value-v)) {
				t.Errorf("%s: leader %v %v gap %s", what, ent.Leader.Region.Code, ent.Leader.Value, showF(ent.GapToLeader))
			}
			// above: of the values strictly better, the worst; of its regions, the first by code.
			var above *analytics.RankingEntry
			var others []*analytics.RankingEntry
			for _, x := range es {
				if x.Region.Code == region {
					continue
				}
				others = append(others, x)
				if sign*x.Value > sign*v && (above == nil || sign*x.Value < sign*above.Value ||
					x.Value == above.Value && x.Region.Code < above.Region.Code) {
					above = x
				}
			}
			if above == nil {
				if ent.Above != nil || ent.GapToAbove != nil || ent.MoveToGainRank != nil || ent.Rank != 1 {
					t.Errorf("%s: nobody better, yet rank %d above %+v", what, ent.Rank, ent.Above)
				}
				if len(others) == 0 && ent.LeadOverNext != nil || len(others) > 0 && !nearPtr(ent.LeadOverNext, sign*(v-others[0].Value)) {
					t.Errorf("%s: leadOverNext %s", what, showF(ent.LeadOverNext))
				}
			} else {
				if ent.Above == nil || ent.Above.Region != above.Region || ent.Above.Value != above.Value || ent.LeadOverNext != nil ||
					!nearPtr(ent.GapToAbove, sign*(above.Value-v)) || !nearPtr(ent.MoveToGainRank, above.Value-v) {
					t.Errorf("%s: above %+v gap %s move %s; want %s %v", what, ent.Above, showF(ent.GapToAbove), showF(ent.MoveToGainRank),
						above.Region.Code, above.Value)
				}
			}
			// moveToTop(n): to the n-th best of the others, 0 when already as good or n > others.
			for n := 1; n <= len(others)+1; n++ {
				want := 0.0
				if n <= len(others) && sign*others[n-1].Value > sign*v {
					want = others[n-1].Value - v
				}
				if got, ok := calc.MoveToTop(ent.Ranked, ent.Position, sign, n); !ok || !near(got, want) {
					t.Errorf("%s: moveToTop(%d) = %v, want %v", what, n, got, want)
				}
			}
			checked++
		}
	}
	if checked < 40 {
		t.Errorf("only %d entries checked", checked)
	}
}

func TestCompareMatchesRankings(t *testing.T) {
	ctx := context.Background()
	checked := 0
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 29))
		d := fixture.RandomDataset(rng)
		e := newTestEngine(t, d, Options{})
		// Some regions by code, maybe a group (T changes its members by year).
		var named, groups []string
		for _, r := range d.Regions[3:] {
			if rng.IntN(3) == 0 {
				named = append(named, r.Code)
			}
		}
		if rng.IntN(2) == 0 || named == nil {
			groups = append(groups, d.Groups[rng.IntN(len(d.Groups))].Code)
		}
		q := analytics.CompareQuery{Regions: append(slices.Clone(named), groups...), Indicators: []string{d.Indicators[0].Code},
			From: 2000, To: 2004, AsOf: asOfs[rng.IntN(len(asOfs))], Ties: []analytics.TieRule{analytics.Competition, analytics.Dense}[rng.IntN(2)]}
		if len(d.Indicators) > 1 {
			q.Indicators = append(q.Indicators, d.Indicators[1].Code)
		}
		if rng.IntN(2) == 0 {
			sc := randomScope(rng, d)
			q.Scope = &sc
		}
		q.Baseline = &analytics.BaselineQuery{Stat: analytics.BaselineMean}
		c, err := e.Compare(ctx, q)
		if err != nil {
			t.Fatalf("seed %d %+v: %v", seed, q, err)
		}
		rows := map[string]*analytics.CompareRow{}
		for _, r := range c.Rows {
			rows[fmt.Sprint(r.Indicator.Code, r.Year, r.Region.Code)] = r
		}
		var leaders []string
		for _, l := range c.Leaders {
			leaders = append(leaders, fmt.Sprint(l.Indicator.Code, l.Year, l.Region.Code, l.Value))
		}
		var wantLeaders []string
		nrows := 0
		for _, code := range q.Indicators {
			values := refValues(d, code, q.AsOf)
			for y := 2000; y <= 2004; y++ {
				compared := slices.Clone(named)
				for _, g := range groups {
					for _, m := range refMembers(d, analytics.ScopeQuery{Group: g}, code, y) {
						if !slices.Contains(compared, m) {
							compared = append(compared, m)
						}
					}
				}
				// Leaders: the ranking among the compared; ranks and the mean: in the scope, or among them.
				var among *analytics.Ranking
				if len(compared) > 0 {
					if among, err = e.Ranking(ctx, analytics.RankingQuery{Indicator: code, Year: &y, ScopeQuery: analytics.ScopeQuery{Regions: compared},
						AsOf: q.AsOf, Ties: q.Ties}); err != nil {
						among = &analytics.Ranking{} // the year is outside the indicator's
					}
					for _, x := range among.Entries {
						if x.Value == among.Entries[0].Value {
							wantLeaders = append(wantLeaders, fmt.Sprint(code, y, x.Region.Code, x.Value))
						}
					}
				}
				ranked := among
				if q.Scope != nil {
					if ranked, err = e.Ranking(ctx, analytics.RankingQuery{Indicator: code, Year: &y, ScopeQuery: *q.Scope, AsOf: q.AsOf, Ties: q.Ties}); err != nil {
						ranked = &analytics.Ranking{}
					}
				}
				for _, r := range compared {
					v, ok := values[r][y]
					if !ok {
						continue
					}
					nrows++
					row := rows[fmt.Sprint(code, y, r)]
					what := fmt.Sprintf("seed %d %s %d %s", seed, code, y, r)
					if row == nil || row.Value != v.v {
						t.Errorf("%s: row %+v, want value %v", what, row, v.v)
						continue
					}
					wantRank := "null"
					for _, x := range ranked.Entries {
						if x.Region.Code == r {
							wantRank = fmt.Sprint(x.Rank)
						}
					}
					if show(row.Rank) != wantRank {
						t.Errorf("%s: rank %s, want %s", what, show(row.Rank), wantRank)
					}
					if ranked.Mean == nil {
						if row.Baseline != nil {
							t.Errorf("%s: baseline %s with nobody ranked", what, showF(row.Baseline))
						}
					} else if row.Baseline == nil || *row.Baseline != *ranked.Mean || !nearPtr(row.Difference, v.v-*ranked.Mean) {
						t.Errorf("%s: baseline %s difference %s, mean %v", what, showF(row.Baseline), showF(row.Difference), *ranked.Mean)
					}
					checked++
				}
			}
		}
		if nrows != len(c.Rows) {
			t.Errorf("seed %d: %d rows, want %d", seed, len(c.Rows), nrows)
		}
		if strings.Join(leaders, "|") != strings.Join(wantLeaders, "|") {
			t.Errorf("seed %d: leaders\n%v\nwant\n%v", seed, leaders, wantLeaders)
		}
	}
	if checked < 100 {
		t.Errorf("only %d rows checked", checked)
	}
}

func TestTrendRanksMatchRankings(t *testing.T) {
	ctx := context.Background()
	checked := 0
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 31))
		d := fixture.RandomDataset(rng)
		e := newTestEngine(t, d, Options{})
		sc := randomScope(rng, d)
		q := analytics.TrendQuery{Region: d.Regions[3+rng.IntN(len(d.Regions)-3)].Code, Indicator: d.Indicators[0].Code, Scope: &sc,
			AsOf: asOfs[rng.IntN(len(asOfs))], Ties: []analytics.TieRule{analytics.Competition, analytics.Dense}[rng.IntN(2)]}
		tr, err := e.Trend(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range tr.Points {
			rk, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: q.Indicator, Year: &p.Year, ScopeQuery: sc, AsOf: q.AsOf, Ties: q.Ties})
			if err != nil {
				t.Fatal(err)
			}
			want := "null"
			for _, x := range rk.Entries {
				if x.Region.Code == q.Region {
					want = fmt.Sprint(x.Rank)
				}
			}
			if show(p.Rank) != want || p.RankCount == nil || *p.RankCount != rk.Count {
				t.Errorf("seed %d %d: rank %s of %s, ranking %s of %d", seed, p.Year, show(p.Rank), show(p.RankCount), want, rk.Count)
			}
			checked++
		}
	}
	if checked < 30 {
		t.Errorf("only %d points checked", checked)
	}
}
