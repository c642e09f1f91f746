package query

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// The scope ALL (no group, parent, regions or level) leaves out a region one of whose children has a value
// of its own of the indicator: a total or an average of regions does not rank among them. On generated data
// of two sizes: ROOT (above every region) has its own I001 and I002 in 2002, MID (a region made parent of a
// third of the others, child of ROOT) its own I001 in 2003, and AGG (no parent, no children, like a World
// Bank aggregate) its own I001 and I002 every year. I001 fills parents (parent_rollup) where they have none.
// The expected scope is worked out here from the observations as written, before import: a region with a
// value and no child with one.
func TestScopeAllLeavesOutParentsWithOwnValues(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{12, 600} {
		d := dataset.Synthetic(uint64(n)+7, n, 3, 4) // I001–I003, 2001–2004
		d.Indicators[0].Rollup, d.Indicators[0].FillParents = analytics.RollupSum, true
		d.Regions[0].Level = "top"
		for i := range d.Regions[1:] {
			d.Regions[i+1].Level = "unit"
			if i%3 == 0 {
				d.Regions[i+1].Parent = "MID"
			}
		}
		d.Regions = append(d.Regions, dataset.Region{Code: "MID", Name: "Middle", Parent: "ROOT", Level: "mid"},
			dataset.Region{Code: "AGG", Name: "Aggregate", Level: "aggregate"})
		d.Observations = append(d.Observations,
			dataset.Observation{Region: "ROOT", Indicator: "I001", Year: 2002, Value: 1e9},
			dataset.Observation{Region: "ROOT", Indicator: "I002", Year: 2002, Value: 1},
			dataset.Observation{Region: "MID", Indicator: "I001", Year: 2003, Value: 5e8})
		for y := 2001; y <= 2004; y++ {
			d.Observations = append(d.Observations, dataset.Observation{Region: "AGG", Indicator: "I001", Year: y, Value: 12345.5},
				dataset.Observation{Region: "AGG", Indicator: "I002", Year: y, Value: 10})
		}
		d.SortObservations()
		dir := t.TempDir()
		if err := d.WriteDir(dir); err != nil {
			t.Fatal(err)
		}
		read, err := dataset.ReadDir(dir) // fills ROOT's and MID's I001 from their children where they have none
		if err != nil {
			t.Fatal(err)
		}
		e := newTestEngine(t, read, Options{})

		// The reference: values as written (no rollups), the regions with one, and those with a child with one.
		parent := map[string]string{}
		for _, r := range d.Regions {
			parent[r.Code] = r.Parent
		}
		value := map[string]map[string]float64{} // indicator|year → region → value
		has, above := map[string]bool{}, map[string]bool{}
		for _, o := range d.Observations {
			k := fmt.Sprintf("%s|%d", o.Indicator, o.Year)
			if value[k] == nil {
				value[k] = map[string]float64{}
			}
			value[k][o.Region] = o.Value
			has[o.Region+"|"+o.Indicator] = true
			above[parent[o.Region]+"|"+o.Indicator] = true
		}
		scope := func(indicators ...string) []string {
			var out []string
			for _, r := range d.Regions {
				in := true
				for _, c := range indicators {
					in = in && has[r.Code+"|"+c] && !above[r.Code+"|"+c]
				}
				if in {
					out = append(out, r.Code)
				}
			}
			slices.Sort(out)
			return out
		}
		s1 := scope("I001")
		if slices.Contains(s1, "ROOT") || slices.Contains(s1, "MID") || !slices.Contains(s1, "AGG") || len(s1) < n/2 {
			t.Fatalf("%d: the reference scope is wrong: %v", n, s1)
		}
		codes := func(rs []*analytics.Region) []string {
			out := make([]string, len(rs))
			for i, r := range rs {
				out[i] = r.Code
			}
			slices.Sort(out)
			return out
		}

		// ranking: entries are the scope's regions with a value that year, missing the others; competition
		// ranks by hand (I001 is higher-is-better).
		for y := 2001; y <= 2004; y++ {
			rk, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: "I001", Year: &y})
			if err != nil {
				t.Fatal(err)
			}
			vals := value[fmt.Sprintf("I001|%d", y)]
			var ranked, missing []string
			for _, c := range s1 {
				if _, ok := vals[c]; ok {
					ranked = append(ranked, c)
				} else {
					missing = append(missing, c)
				}
			}
			var got []string
			for _, en := range rk.Entries {
				got = append(got, en.Region.Code)
				want := 1
				for _, c := range ranked {
					if vals[c] > vals[en.Region.Code] {
						want++
					}
				}
				if en.Rank != want || en.Value != vals[en.Region.Code] {
					t.Fatalf("%d: %d %s: rank %d value %v, by hand %d %v", n, y, en.Region.Code, en.Rank, en.Value, want, vals[en.Region.Code])
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, ranked) || !slices.Equal(codes(rk.Missing), missing) {
				t.Fatalf("%d: %d ranked %v missing %v, want %v and %v", n, y, got, codes(rk.Missing), ranked, missing)
			}
			// level: "top" gives ROOT alone (its own value in 2002, its rollup or nothing otherwise); parent:
			// "ROOT" its children, MID among them.
			top, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: "I001", Year: &y, ScopeQuery: analytics.ScopeQuery{Level: "top"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(top.Entries)+len(top.Missing) != 1 || y == 2002 && (len(top.Entries) != 1 || top.Entries[0].Value != 1e9) {
				t.Fatalf("%d: %d level top: %d entries %v missing", n, y, len(top.Entries), codes(top.Missing))
			}
			ch, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: "I001", Year: &y, ScopeQuery: analytics.ScopeQuery{Parent: "ROOT"}})
			if err != nil {
				t.Fatal(err)
			}
			var children []string
			for _, r := range d.Regions {
				if r.Parent == "ROOT" {
					children = append(children, r.Code)
				}
			}
			slices.Sort(children)
			all := codes(ch.Missing)
			for _, en := range ch.Entries {
				all = append(all, en.Region.Code)
			}
			slices.Sort(all)
			if !slices.Equal(all, children) {
				t.Fatalf("%d: %d parent ROOT: %v, want its children %v", n, y, all, children)
			}
		}

		// A formula: ROOT has both operands of its own in 2002, above regions with both: left out; AGG in.
		y := 2002
		f, err := e.Ranking(ctx, analytics.RankingQuery{Formula: &analytics.Formula{Text: "I001 / I002"}, Year: &y})
		if err != nil {
			t.Fatal(err)
		}
		got := codes(f.Missing)
		for _, en := range f.Entries {
			got = append(got, en.Region.Code)
		}
		slices.Sort(got)
		if want := scope("I001", "I002"); !slices.Equal(got, want) || slices.Contains(got, "ROOT") || !slices.Contains(got, "AGG") {
			t.Fatalf("%d: formula scope %v, want %v", n, got, want)
		}

		// compare with the scope ALL ranks AGG as the ranking does; ROOT, compared, has no rank there.
		rk, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: "I001", Year: &y})
		if err != nil {
			t.Fatal(err)
		}
		var aggRank int
		for _, en := range rk.Entries {
			if en.Region.Code == "AGG" {
				aggRank = en.Rank
			}
		}
		cmp, err := e.Compare(ctx, analytics.CompareQuery{Regions: []string{"AGG", "ROOT"}, Indicators: []string{"I001"}, From: y, To: y, Scope: &analytics.ScopeQuery{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range cmp.Rows {
			switch row.Region.Code {
			case "AGG":
				if row.Rank == nil || *row.Rank != aggRank || aggRank == 0 {
					t.Fatalf("%d: compare ranks AGG %v, the ranking %d", n, row.Rank, aggRank)
				}
			case "ROOT":
				if row.Rank != nil {
					t.Fatalf("%d: compare ranks ROOT %d in the scope ALL", n, *row.Rank)
				}
			}
		}

		// standings of AGG: ranked on I001 and I002 (I003 it has not) at the ranking's place.
		st, err := e.Standings(ctx, analytics.StandingsQuery{Region: "AGG", Year: y, Top: 1})
		if err != nil {
			t.Fatal(err)
		}
		if st.Ranked != 2 || st.Entries[0].Indicator.Code != "I001" || st.Entries[0].Rank != aggRank || st.Entries[0].Count != len(rk.Entries) {
			t.Fatalf("%d: standings of AGG: ranked %d, first %+v; the ranking: rank %d of %d", n, st.Ranked, st.Entries[0], aggRank, len(rk.Entries))
		}

		// composite over I001 and I002: the union of their scopes, never ROOT or MID.
		c, err := e.Composite(ctx, analytics.CompositeQuery{Year: y, Indicators: []analytics.WeightedIndicator{{Indicator: "I001", Weight: 1}, {Indicator: "I002", Weight: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		scored := map[string]bool{}
		for _, en := range c.Entries {
			scored[en.Region.Code] = true
		}
		for _, ex := range c.Excluded {
			scored[ex.Region.Code] = true
		}
		union := map[string]bool{}
		for _, r := range append(scope("I001"), scope("I002")...) {
			union[r] = true
		}
		if !maps.Equal(scored, union) {
			t.Fatalf("%d: composite scores and excludes %d regions (ROOT %v, MID %v), the scopes' union has %d", n, len(scored), scored["ROOT"], scored["MID"], len(union))
		}

		// aggregate by year without a filter on regions: the scope's values only (not ROOT's own 1e9, MID's
		// own 5e8, nor their rollups), AGG's included.
		agg, err := e.Aggregate(ctx, analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimYear},
			Filter: analytics.ValueFilter{Indicators: []string{"I001"}}, Measures: []analytics.AggregateMeasure{analytics.MeasureCount, analytics.MeasureSum}, First: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(agg.Rows) != 4 {
			t.Fatalf("%d: aggregate by year: %d rows", n, len(agg.Rows))
		}
		for _, row := range agg.Rows {
			count, sum := 0, 0.0
			for _, c := range s1 {
				if v, ok := value[fmt.Sprintf("I001|%d", *row.Year)][c]; ok {
					count++
					sum += v
				}
			}
			if *row.Count != count || !near(*row.Sum, sum) {
				t.Fatalf("%d: aggregate %d: count %d sum %v, by hand %d %v", n, *row.Year, *row.Count, *row.Sum, count, sum)
			}
		}
		// … and of the formula, as its ranking: ROOT's 2002 ratio is not among them.
		fa, err := e.Aggregate(ctx, analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimYear},
			Filter: analytics.ValueFilter{Indicators: []string{"I001 / I002"}, From: &y, To: &y}, Measures: []analytics.AggregateMeasure{analytics.MeasureCount, analytics.MeasureMax}, First: 100})
		if err != nil {
			t.Fatal(err)
		}
		most := f.Entries[0].Value
		for _, en := range f.Entries {
			most = max(most, en.Value)
		}
		if len(fa.Rows) != 1 || *fa.Rows[0].Count != len(f.Entries) || *fa.Rows[0].Max != most || most >= 1e9 {
			t.Fatalf("%d: formula aggregate %+v, the ranking %d entries, largest %v", n, fa.Rows, len(f.Entries), most)
		}
	}
}
