package duck_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
)

// A window of years (ValuesWindow) holds exactly the observations of its indicator in those years (of one
// month of each, when asked): at three sizes, annual and monthly, for windows that start before the data,
// end after it or lie inside it, every
// cell of the window's matrix is compared with the observations counted here (the value and flags of each
// region's only vintage, at the period's ordinal worked out by hand: the year, or year·12 + month − 1), and
// every observation of those years is found in it.
func TestValuesWindow(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		sz   [3]int
		freq analytics.Frequency
	}{{[3]int{5, 3, 4}, analytics.Annual}, {[3]int{120, 8, 12}, analytics.Annual}, {[3]int{2000, 5, 15}, analytics.Annual}, {[3]int{40, 3, 4}, analytics.Monthly}} {
		t.Run(fmt.Sprint(c.sz, c.freq), func(t *testing.T) {
			d := dataset.SyntheticOf(11, c.sz[0], c.sz[1], c.sz[2], c.freq)
			store, err := duck.Open("")
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			if _, err := store.Import(ctx, d, "test"); err != nil {
				t.Fatal(err)
			}
			cat, err := duck.ReadCatalog(ctx, store)
			if err != nil {
				t.Fatal(err)
			}
			type key struct {
				region, ord int
			}
			want := map[string]map[key]dataset.Observation{}
			years := map[int]bool{}
			for _, o := range d.Observations {
				if o.Vintage != "" {
					t.Fatalf("the synthetic data has a vintage (%+v): this test counts one value a key", o)
				}
				k := key{cat.RegionAt[o.Region], o.Year}
				if o.Period > 0 {
					k.ord = o.Year*12 + o.Period - 1
				}
				if want[o.Indicator] == nil {
					want[o.Indicator] = map[key]dataset.Observation{}
				}
				want[o.Indicator][k] = o
				years[o.Year] = true
			}
			first, last := *cat.Info.FirstYear, *cat.Info.LastYear
			rd := duck.NewReader(store, nil)
			rng := rand.New(rand.NewPCG(3, uint64(c.sz[0])))
			for range 12 {
				code := d.Indicators[rng.IntN(len(d.Indicators))].Code
				from := first - 2 + rng.IntN(last-first+3)
				to := from + rng.IntN(4)
				period := 0
				if c.freq == analytics.Monthly && rng.IntN(2) == 0 {
					period = 1 + rng.IntN(12) // that month of each year alone
				}
				in := func(o dataset.Observation) bool {
					return o.Year >= from && o.Year <= to && (period == 0 || o.Period == period)
				}
				other := d.Indicators[rng.IntN(len(d.Indicators))].Code // loaded beside it, in one statement
				ms, err := rd.ValuesWindow(ctx, cat, "", []string{other, code}, from, to, period)
				if err != nil {
					t.Fatal(err)
				}
				m := ms[code]
				found := 0
				if m != nil {
					for r := range len(cat.Regions) {
						for _, cell := range m.Cells[m.Off[r]:m.Off[r+1]] {
							o, ok := want[code][key{r, int(cell.Year)}]
							if !ok || !in(o) || o.Value != cell.Value || o.Flags != cell.Flags {
								t.Fatalf("%s %d–%d: region %d at %d: %v %v, the observation %+v (%v)", code, from, to, r, cell.Year, cell.Value, cell.Flags, o, ok)
							}
							found++
						}
					}
				}
				n := 0
				for k, o := range want[code] {
					if in(o) {
						n++
						if _, _, ok := m.Get(k.region, k.ord); !ok {
							t.Fatalf("%s %d–%d: %+v not in the window", code, from, to, o)
						}
					}
				}
				if found != n {
					t.Errorf("%s %d–%d: %d cells, %d observations", code, from, to, found, n)
				}
			}
		})
	}
}
