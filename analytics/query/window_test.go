package query

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// The first ranking of an indicator in a period is answered from a load of that period and the same a year
// and two years earlier (matricesWindow: the years around it, and of a monthly or quarterly indicator only
// that month or quarter of each), and answers exactly as an engine holding every value: at three annual
// sizes and on monthly and quarterly data, on values and on growth, of every region and of one group, in the
// first years (whose window starts before the data), the last and one between, each on an engine that never
// loaded the indicator. The window is kept; a ranking of another period then loads the whole matrix.
func TestFirstTouchByWindow(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		sz   [3]int
		freq analytics.Frequency
	}{{[3]int{30, 4, 6}, analytics.Annual}, {[3]int{300, 5, 20}, analytics.Annual}, {[3]int{3000, 3, 8}, analytics.Annual},
		{[3]int{40, 3, 5}, analytics.Monthly}, {[3]int{60, 3, 5}, analytics.Quarterly}} {
		t.Run(fmt.Sprint(c.sz, c.freq), func(t *testing.T) {
			d := dataset.SyntheticOf(21, c.sz[0], c.sz[1], c.sz[2], c.freq)
			warm := newTestEngine(t, d, Options{})
			store := warm.store
			if _, err := warm.WarmAll(ctx); err != nil {
				t.Fatal(err)
			}
			first, last := *warm.snap.Load().Info.FirstYear, *warm.snap.Load().Info.LastYear
			for k, in := range d.Indicators {
				per, sub := 1, 0
				if c.freq != analytics.Annual {
					per, sub = 12, 1+k*5%12
					if c.freq == analytics.Quarterly {
						per, sub = 4, 1+k%4
					}
				}
				for _, y := range []int{first, first + 1, (first + last) / 2, last} {
					for _, basis := range []analytics.RankBasis{analytics.ByValue, analytics.ByGrowth} {
						for _, group := range []string{"", d.Groups[k%len(d.Groups)].Code} {
							q := analytics.RankingQuery{Indicator: in.Code, Basis: basis, ScopeQuery: analytics.ScopeQuery{Group: group}}
							if per == 1 {
								q.Year = &y
							} else {
								q.Period = &analytics.Period{Year: y, Sub: sub, Freq: c.freq}
							}
							want, werr := warm.Ranking(ctx, q)
							fresh, err := NewEngine(ctx, store, Options{})
							if err != nil {
								t.Fatal(err)
							}
							got, gerr := fresh.Ranking(ctx, q)
							if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
								t.Fatalf("%s %d/%d %s %q: the first touch answers otherwise (error %v) than an engine holding every value (error %v)", in.Code, y, sub, basis, group, gerr, werr)
							}
							if werr != nil {
								continue
							}
							s := fresh.snap.Load()
							if _, ok := fresh.matrixCache.get(windowKey(s, in.Code, y-2, y, sub, "")); !ok {
								t.Errorf("%s %d/%d: no window kept; the first touch did not read one", in.Code, y, sub)
							}
							// Another year: the whole matrix, kept.
							q.Year, q.Period = nil, nil
							other := first + (y-first+5)%(last-first+1)
							if per == 1 {
								q.Year = &other
							} else {
								q.Period = &analytics.Period{Year: other, Sub: sub%per + 1, Freq: c.freq}
							}
							if _, err := fresh.Ranking(ctx, q); err != nil {
								t.Fatal(err)
							}
							if _, ok := fresh.matrixCache.get(matrixKey(s, in.Code, "")); !ok {
								t.Errorf("%s %d then %d: the whole matrix is not kept", in.Code, y, other)
							}
						}
					}
				}
			}
		})
	}
}

// The first composite of a year over indicators not in memory is scored from a window of its year and the
// one before (and the one before that with the previous ranks) and answers exactly as an engine holding
// every value: at two sizes,
// annual and monthly, lines on values, growth and rank change, with the ranks of the year before and
// without, of every region and of one group; then a composite of another year on the same engine loads
// the whole matrices and still answers as the warm engine.
func TestFirstCompositeByWindow(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		sz   [3]int
		freq analytics.Frequency
	}{{[3]int{40, 6, 8}, analytics.Annual}, {[3]int{600, 5, 12}, analytics.Annual}, {[3]int{30, 6, 4}, analytics.Monthly}} {
		t.Run(fmt.Sprint(c.sz, c.freq), func(t *testing.T) {
			d := dataset.SyntheticOf(41, c.sz[0], c.sz[1], c.sz[2], c.freq)
			warm := newTestEngine(t, d, Options{CacheEntries: 0})
			store := warm.store
			if _, err := warm.WarmAll(ctx); err != nil {
				t.Fatal(err)
			}
			first, last := *warm.snap.Load().Info.FirstYear, *warm.snap.Load().Info.LastYear
			bases := []analytics.Basis{"", analytics.BasisGrowth, analytics.BasisRankChange}
			for k, y := range []int{first + 2, last, (first + last) / 2} {
				q := analytics.CompositeQuery{Year: y}
				if c.freq != analytics.Annual {
					q.Year, q.Period = 0, &analytics.Period{Year: y, Sub: 1 + k*5%12, Freq: c.freq}
				}
				for i, in := range d.Indicators {
					q.Indicators = append(q.Indicators, analytics.WeightedIndicator{Indicator: in.Code, Weight: float64(i%3 + 1), Basis: bases[(i+k)%3]})
				}
				if k == 1 {
					q.Group = d.Groups[0].Code
				}
				q.Without.Previous = k == 2
				want, werr := warm.Composite(ctx, q)
				fresh, err := NewEngine(ctx, store, Options{CacheEntries: 0})
				if err != nil {
					t.Fatal(err)
				}
				got, gerr := fresh.Composite(ctx, q)
				if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
					t.Fatalf("%d: the first composite answers otherwise (error %v) than an engine holding every value (error %v)", y, gerr, werr)
				}
				if werr != nil {
					continue
				}
				s := fresh.snap.Load()
				sub := 0
				if q.Period != nil {
					sub = q.Period.Sub
				}
				from := y - 2 // the year before's ranks read its growth
				if q.Without.Previous {
					from = y - 1
				}
				if _, ok := fresh.matrixCache.get(windowKey(s, d.Indicators[0].Code, from, y, sub, "")); !ok {
					t.Errorf("%d: no window kept; the composite did not read one", y)
				}
				// Another year on the same engine: whole matrices, the same answer as the warm engine's.
				q2 := q
				if q.Period != nil {
					p := *q.Period
					p.Year = first + 1 + (y-first)%(last-first)
					q2.Period = &p
				} else {
					q2.Year = first + 1 + (y-first)%(last-first)
				}
				want, werr = warm.Composite(ctx, q2)
				got, gerr = fresh.Composite(ctx, q2)
				if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
					t.Fatalf("%d then %+v: answers otherwise (error %v) than the warm engine (error %v)", y, q2.Year, gerr, werr)
				}
			}
		})
	}
}
