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
// region's only vintage, at the period's ordinal worked out by hand: cellsOf), and every observation of
// those years is found in it.
func TestValuesWindow(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		sz   [3]int
		freq analytics.Frequency
	}{{[3]int{5, 3, 4}, analytics.Annual}, {[3]int{120, 8, 12}, analytics.Annual}, {[3]int{2000, 5, 15}, analytics.Annual}, {[3]int{40, 3, 4}, analytics.Monthly}} {
		t.Run(fmt.Sprint(c.sz, c.freq), func(t *testing.T) {
			d := dataset.SyntheticOf(11, c.sz[0], c.sz[1], c.sz[2], c.freq)
			store, cat := storeOf(t, d)
			want := cellsOf(t, cat, d)
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
							o, ok := want[code][cellKey{r, int(cell.Year)}]
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

// cellKey is where a matrix holds an observation: its region's place and its period's ordinal.
type cellKey struct{ region, ord int }

// storeOf imports d into a store in memory, closed with the test, and reads its catalog.
func storeOf(t *testing.T, d *dataset.Dataset) (*duck.Store, *duck.Catalog) {
	t.Helper()
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Import(context.Background(), d, "test"); err != nil {
		t.Fatal(err)
	}
	cat, err := duck.ReadCatalog(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	return store, cat
}

// cellsOf is each indicator's observations by where its matrix holds them, the ordinal of each one's period
// worked out here by hand from its indicator's frequency (A: the year; Q: year·4 + quarter − 1; M: year·12
// + month − 1). It counts one value a key: d must have no vintages.
func cellsOf(t *testing.T, cat *duck.Catalog, d *dataset.Dataset) map[string]map[cellKey]dataset.Observation {
	t.Helper()
	perYear := map[string]int{}
	for _, in := range d.Indicators {
		switch in.Frequency {
		case analytics.Quarterly:
			perYear[in.Code] = 4
		case analytics.Monthly:
			perYear[in.Code] = 12
		}
	}
	out := map[string]map[cellKey]dataset.Observation{}
	for _, o := range d.Observations {
		if o.Vintage != "" {
			t.Fatalf("the data has a vintage (%+v): cellsOf counts one value a key", o)
		}
		k := cellKey{cat.RegionAt[o.Region], o.Year}
		if n := perYear[o.Indicator]; n > 0 {
			k.ord = o.Year*n + o.Period - 1
		}
		if out[o.Indicator] == nil {
			out[o.Indicator] = map[cellKey]dataset.Observation{}
		}
		out[o.Indicator][k] = o
	}
	return out
}
