package duck_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
)

// Loads by rowid (Catalog.Rows) read what loads by code read. At three sizes, the catalog's ranges are
// checked against the observations counted here: each indicator's rows together, each year's count of rows
// its range's length. Then every load by rowid (one code, adjacent and scattered codes, a code twice, an
// unknown one; and windows of years) is compared with the same load by code, which a catalog without ranges
// makes (the path TestValuesMixedFrequencies checks against the observations), restricted to the window's
// years. Last, a row appended out of place leaves its indicator apart: it is loaded by code, still the same,
// and has no window.
func TestValuesByRowid(t *testing.T) {
	ctx := context.Background()
	for _, sz := range [][3]int{{5, 3, 4}, {120, 8, 12}, {2000, 5, 15}} {
		t.Run(fmt.Sprint(sz), func(t *testing.T) {
			d := dataset.Synthetic(11, sz[0], sz[1], sz[2])
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
			rows := map[string]map[int]int64{} // indicator → year → rows, every vintage
			for _, o := range d.Observations {
				if rows[o.Indicator] == nil {
					rows[o.Indicator] = map[int]int64{}
				}
				rows[o.Indicator][o.Year]++
			}
			for code, years := range rows {
				r, ok := cat.Rows[code]
				if !ok || r.Apart || len(r.Years) != len(years) {
					t.Fatalf("%s: range %+v, want its %d years together", code, r, len(years))
				}
				var n int64
				for _, y := range r.Years {
					if y.Last-y.First+1 != years[y.Year] {
						t.Errorf("%s %d: rowids %d–%d, want %d rows", code, y.Year, y.First, y.Last, years[y.Year])
					}
					n += years[y.Year]
				}
				if r.Last-r.First+1 != n {
					t.Errorf("%s: rowids %d–%d, want %d rows", code, r.First, r.Last, n)
				}
			}
			byCode := *cat
			byCode.Rows = nil // every load by code
			rd := duck.NewReader(store, nil)
			c := func(i int) string { return d.Indicators[i%len(d.Indicators)].Code }
			for _, codes := range [][]string{{c(0)}, {c(1), c(0)}, {c(0), c(2)}, {c(2), "nope", c(0), c(2)}, {c(0), c(1), c(2), c(4)}} {
				got, err := rd.Values(ctx, cat, "", codes)
				if err != nil {
					t.Fatal(err)
				}
				want, err := rd.Values(ctx, &byCode, "", codes)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%v: the load by rowid differs from the load by code", codes)
				}
			}
			first, last := *cat.Info.FirstYear, *cat.Info.LastYear
			rng := rand.New(rand.NewPCG(3, uint64(sz[0])))
			for range 12 {
				code := c(rng.IntN(len(d.Indicators)))
				from := first - 2 + rng.IntN(last-first+3)
				to := from + rng.IntN(4)
				got, ok, err := rd.ValuesWindow(ctx, cat, "", code, from, to)
				if err != nil || !ok {
					t.Fatalf("%s %d–%d: %v, %v", code, from, to, ok, err)
				}
				whole, err := rd.Values(ctx, &byCode, "", []string{code})
				if err != nil {
					t.Fatal(err)
				}
				for r := range len(cat.Regions) {
					for y := first - 2; y <= last+2; y++ {
						gv, gf, gok := got.Get(r, y)
						wv, wf, wok := whole[code].Get(r, y)
						if y < from || y > to {
							wok, wv, wf = false, 0, 0
						}
						if gv != wv || gf != wf || gok != wok {
							t.Fatalf("%s %d–%d: region %d in %d: %v %v %v, want %v %v %v", code, from, to, r, y, gv, gf, gok, wv, wf, wok)
						}
					}
				}
			}

			// A row of the first indicator after every other: its rows are apart.
			if _, err := duck.DB(store).ExecContext(ctx, `INSERT INTO observations SELECT * REPLACE (false AS latest) FROM observations WHERE indicator = $1 LIMIT 1`, c(0)); err != nil {
				t.Fatal(err)
			}
			apart, err := duck.ReadCatalog(ctx, store)
			if err != nil {
				t.Fatal(err)
			}
			if !apart.Rows[c(0)].Apart || apart.Rows[c(1)].Apart {
				t.Errorf("after a row out of place: %s apart %v, %s apart %v; want true, false", c(0), apart.Rows[c(0)].Apart, c(1), apart.Rows[c(1)].Apart)
			}
			for _, codes := range [][]string{{c(0)}, {c(1), c(0)}} {
				got, err := rd.Values(ctx, apart, "", codes)
				if err != nil {
					t.Fatal(err)
				}
				want, err := rd.Values(ctx, &byCode, "", codes)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%v: with a row apart, the load differs from the load by code", codes)
				}
			}
			if _, ok, err := rd.ValuesWindow(ctx, apart, "", c(0), first, first); ok || err != nil {
				t.Errorf("a window of an indicator apart: %v, %v; want none", ok, err)
			}
		})
	}
}
