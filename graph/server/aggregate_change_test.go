package server

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/fstest"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
)

// TestAggregateChange: previous, change and changeRatio on aggregate rows, against naive computations from
// the generated datasets' own observations (two sizes): for each indicator and year the count, max and
// mean of its values the year before, the difference and the ratio; null in the first year. Then a made-up
// dataset for the edges: a previous of 0 has no ratio, a group missing the year before has no previous.
func TestAggregateChange(t *testing.T) {
	for _, size := range []struct{ regions, indicators, years int }{{60, 3, 5}, {800, 4, 8}} {
		d := dataset.Synthetic(uint64(size.indicators), size.regions, size.indicators, size.years)
		srv, _ := newServer(t, importDataset(t, d), query.DefaultOptions, DefaultOptions)
		type stat struct {
			n        int
			sum, max float64
		}
		stats := map[string]*stat{} // indicator|year
		for _, o := range d.Observations {
			k := fmt.Sprintf("%s|%d", o.Indicator, o.Year)
			if stats[k] == nil {
				stats[k] = &stat{max: math.Inf(-1)}
			}
			s := stats[k]
			s.n, s.sum, s.max = s.n+1, s.sum+o.Value, max(s.max, o.Value)
		}
		var a struct {
			Aggregate struct {
				Rows []struct {
					Indicator      struct{ Code string }
					Year           int
					Count          int
					Max            float64
					PrevCount      *float64
					PrevMax        *float64
					ChangeMax      *float64
					RatioMax       *float64
					PrevMean       *float64
					ChangeRatioCnt *float64
				}
			}
		}
		mustPost(t, srv.URL, `{ aggregate(by: [INDICATOR, YEAR], first: 1000) { rows { indicator { code } year count max
			prevCount: previous(measure: COUNT) prevMax: previous(measure: MAX) changeMax: change(measure: MAX)
			ratioMax: changeRatio(measure: MAX) prevMean: previous(measure: MEAN) changeRatioCnt: changeRatio(measure: COUNT) } } }`, nil, &a)
		if len(a.Aggregate.Rows) != size.indicators*size.years {
			t.Fatalf("%d rows; want %d", len(a.Aggregate.Rows), size.indicators*size.years)
		}
		for _, r := range a.Aggregate.Rows {
			cur := stats[fmt.Sprintf("%s|%d", r.Indicator.Code, r.Year)]
			prev := stats[fmt.Sprintf("%s|%d", r.Indicator.Code, r.Year-1)]
			where := fmt.Sprintf("%d regions: %s %d", size.regions, r.Indicator.Code, r.Year)
			if r.Count != cur.n || r.Max != cur.max {
				t.Errorf("%s: count %d max %v; want %d %v", where, r.Count, r.Max, cur.n, cur.max)
			}
			if prev == nil {
				if r.PrevCount != nil || r.PrevMax != nil || r.ChangeMax != nil || r.RatioMax != nil || r.PrevMean != nil {
					t.Errorf("%s: the first year has a previous: %v %v %v", where, r.PrevCount, r.PrevMax, r.ChangeMax)
				}
				continue
			}
			if r.PrevCount == nil || *r.PrevCount != float64(prev.n) || r.PrevMax == nil || *r.PrevMax != prev.max ||
				r.ChangeMax == nil || *r.ChangeMax != cur.max-prev.max || r.RatioMax == nil || *r.RatioMax != (cur.max-prev.max)/prev.max {
				t.Errorf("%s: previous count %v max %v, change %v, ratio %v; want %d %v %v %v", where, show(r.PrevCount), show(r.PrevMax),
					show(r.ChangeMax), show(r.RatioMax), prev.n, prev.max, cur.max-prev.max, (cur.max-prev.max)/prev.max)
			}
			if want := prev.sum / float64(prev.n); r.PrevMean == nil || math.Abs(*r.PrevMean-want) > 1e-9*math.Abs(want) {
				t.Errorf("%s: previous mean %v; want %v", where, show(r.PrevMean), want)
			}
			if want := float64(cur.n-prev.n) / float64(prev.n); r.ChangeRatioCnt == nil || *r.ChangeRatioCnt != want {
				t.Errorf("%s: change ratio of the count %v; want %v", where, show(r.ChangeRatioCnt), want)
			}
		}
	}

	// A previous of 0: change but no ratio; B has no 2020 value: no previous; by REGION and YEAR, SUM.
	fsys := fstest.MapFS{
		"regions.csv":    {Data: []byte("region_code,region_name,parent_code\nA,Alpha,\nB,Beta,\n")},
		"indicators.csv": {Data: []byte("indicator_code,name,unit,direction,rollup\nx,X,u,higher_is_better,sum\n")},
		"observations.csv": {Data: []byte("region_code,region_name,indicator_code,year,value\n" +
			"A,A,x,2020,0\nA,A,x,2021,5\nB,B,x,2021,7\nB,B,x,2022,3.5\n")},
	}
	small, _ := newServer(t, loadStore(t, fsys), query.DefaultOptions, DefaultOptions)
	var a struct {
		Aggregate struct {
			Rows []struct {
				Region                       struct{ Code string }
				Year                         int
				Sum, Previous, Change, Ratio *float64
			}
		}
	}
	// Only 2021 on: the previous of 2021 comes from 2020, outside the filter.
	mustPost(t, small.URL, `{ aggregate(by: [REGION, YEAR], filter: {from: 2021}, orderBy: [{key: REGION}, {key: YEAR}]) { rows { region { code } year sum
		previous(measure: SUM) change(measure: SUM) ratio: changeRatio(measure: SUM) } } }`, nil, &a)
	var got []string
	for _, r := range a.Aggregate.Rows {
		got = append(got, fmt.Sprintf("%s %d %s %s %s %s", r.Region.Code, r.Year, show(r.Sum), show(r.Previous), show(r.Change), show(r.Ratio)))
	}
	if want := "A 2021 5 0 5 null|B 2021 7 null null null|B 2022 3.5 7 -3.5 -0.5"; strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
	var noYear struct {
		Aggregate struct {
			Rows     []struct{ Previous *float64 }
			Warnings []struct{ Message string }
		}
	}
	mustPost(t, small.URL, `{ aggregate(by: [REGION]) { rows { previous(measure: SUM) } warnings { message } } }`, nil, &noYear)
	if w := noYear.Aggregate.Warnings; len(noYear.Aggregate.Rows) != 2 || noYear.Aggregate.Rows[0].Previous != nil || len(w) != 1 || !strings.Contains(w[0].Message, "null unless YEAR is in by") {
		t.Errorf("previous without YEAR: %+v", noYear.Aggregate)
	}
}

func show(p *float64) string { return showFloat(p) }
