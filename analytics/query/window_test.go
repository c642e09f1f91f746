package query

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
)

// The first ranking of an indicator in a year is answered from a load of that year and the two before it
// (matricesWindow), and answers exactly as an engine holding every value: at three sizes, on values and on
// growth, of every region and of one group, in the first years (whose window starts before the data), the
// last and one between, each on an engine that never loaded the indicator. The window is kept; a ranking of
// another year then loads the whole matrix.
func TestFirstTouchByWindow(t *testing.T) {
	ctx := context.Background()
	for _, sz := range [][3]int{{30, 4, 6}, {300, 5, 20}, {3000, 3, 8}} {
		t.Run(fmt.Sprint(sz), func(t *testing.T) {
			d := dataset.Synthetic(21, sz[0], sz[1], sz[2])
			store, err := duck.Open("")
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			if _, err := store.Import(ctx, d, "t"); err != nil {
				t.Fatal(err)
			}
			warm, err := NewEngine(ctx, store, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := warm.WarmAll(ctx); err != nil {
				t.Fatal(err)
			}
			first, last := *warm.snap.Load().Info.FirstYear, *warm.snap.Load().Info.LastYear
			for k, in := range d.Indicators {
				for _, y := range []int{first, first + 1, (first + last) / 2, last} {
					for _, basis := range []analytics.RankBasis{analytics.ByValue, analytics.ByGrowth} {
						for _, group := range []string{"", d.Groups[k%len(d.Groups)].Code} {
							q := analytics.RankingQuery{Indicator: in.Code, Year: &y, Basis: basis, ScopeQuery: analytics.ScopeQuery{Group: group}}
							want, werr := warm.Ranking(ctx, q)
							fresh, err := NewEngine(ctx, store, Options{})
							if err != nil {
								t.Fatal(err)
							}
							got, gerr := fresh.Ranking(ctx, q)
							if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
								t.Fatalf("%s %d %s %q: the first touch answers otherwise (error %v) than an engine holding every value (error %v)", in.Code, y, basis, group, gerr, werr)
							}
							s := fresh.snap.Load()
							wkey := matrixKey(s, in.Code+"\x00window\x00"+fmt.Sprint(y-2)+"\x00"+fmt.Sprint(y), "")
							if _, ok := fresh.matrixCache.get(wkey); !ok {
								t.Errorf("%s %d: no window kept; the first touch did not read one", in.Code, y)
							}
							// Another year: the whole matrix, kept.
							other := first + (y-first+5)%(last-first+1)
							if _, err := fresh.Ranking(ctx, analytics.RankingQuery{Indicator: in.Code, Year: &other}); err != nil {
								t.Fatal(err)
							}
							if _, ok := fresh.matrixCache.get(matrixKey(s, in.Code, "")); !ok && other != y {
								t.Errorf("%s %d then %d: the whole matrix is not kept", in.Code, y, other)
							}
						}
					}
				}
			}
		})
	}
}
