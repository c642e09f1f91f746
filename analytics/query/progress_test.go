package query

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
)

// A hand-worked case: retail is a monthly flow of 100 a month in 2024 and 105 a month in 2025 up to
// September; retail_ytd is its year-to-date total. So YTD(2025-09) = 945 against 900 a year earlier: +5 %.
// With a 6 % target the whole year needs 1200·1.06 = 1272, so the remaining months need 327 against the
// 300 of a year earlier: +9 %. A level target of 1300 is 945/1300 = 72.6923076923 % reached, 355 to go.
func TestTargetProgressByHand(t *testing.T) {
	d := &dataset.Dataset{Regions: []dataset.Region{{Code: "A", Name: "A"}}}
	for _, code := range []string{"retail", "retail_ytd", "share"} {
		in := dataset.Indicator{Code: code, Name: code, Unit: "u", Direction: analytics.HigherIsBetter, Measure: analytics.Level,
			Rollup: analytics.RollupSum, Decimals: -1, Frequency: analytics.Monthly, Cumulative: code == "retail_ytd"}
		if code == "share" {
			in.Rollup = analytics.RollupNone
		}
		d.Indicators = append(d.Indicators, in)
		for _, g := range []analytics.TargetKind{analytics.TargetGrowth, analytics.TargetLevel} {
			v := 6.0
			if g == analytics.TargetLevel {
				v = 1300
			}
			d.Targets = append(d.Targets, dataset.Target{Region: "A", Indicator: code, Year: 2025, Comparator: analytics.AtLeast, Value: v, Kind: g})
		}
	}
	for y, x := range map[int]float64{2024: 100, 2025: 105} {
		ytd := 0.0
		for m := 1; m <= 12 && (y == 2024 || m <= 9); m++ {
			ytd += x
			d.Observations = append(d.Observations, dataset.Observation{Region: "A", Indicator: "retail", Year: y, Period: m, Value: x},
				dataset.Observation{Region: "A", Indicator: "retail_ytd", Year: y, Period: m, Value: ytd},
				dataset.Observation{Region: "A", Indicator: "share", Year: y, Period: m, Value: 50})
		}
	}
	d.SortObservations()
	e := newTestEngine(t, d, Options{})
	sep := analytics.Period{Year: 2025, Sub: 9, Freq: analytics.Monthly}
	rs, err := e.Targets(context.Background(), analytics.TargetQuery{Year: ptr(2025), Period: &sep})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		var ws []string
		for _, w := range r.Warnings {
			ws = append(ws, w.Message)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %s %s", r.Indicator.Code, r.Kind, showF(r.Progress), showB(r.OnTrack), showF(r.RequiredRestOfYear), strings.Join(ws, "; ")))
	}
	want := []string{
		"retail LEVEL 72.6923076923 false 355 ",
		"retail GROWTH 5 false 9 ",
		"retail_ytd LEVEL 72.6923076923 false 355 ",
		"retail_ytd GROWTH 5 false 9 ",
		"share LEVEL null null null share has no meaningful year-to-date total: progress needs a cumulative indicator or a LEVEL flow whose rollup is SUM",
		"share GROWTH null null null share has no meaningful year-to-date total: progress needs a cumulative indicator or a LEVEL flow whose rollup is SUM",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The trend of the year-to-date total: yoy at 2025-09 is 945/900 − 1; pop is null.
	tr, err := e.Trend(context.Background(), analytics.TrendQuery{Region: "A", Indicator: "retail_ytd", ToPeriod: &sep})
	if err != nil {
		t.Fatal(err)
	}
	last := tr.Points[len(tr.Points)-1]
	if last.Period != "2025-09" || !nearPtr(last.Yoy, 0.05) || last.Pop != nil {
		t.Errorf("ytd point %s yoy %s pop %s", last.Period, showF(last.Yoy), showF(last.Pop))
	}
	if _, err := e.Targets(context.Background(), analytics.TargetQuery{Year: ptr(2024), Period: &sep}); err == nil || !strings.Contains(err.Error(), "period 2025-09 is not in year 2024") {
		t.Errorf("period of another year: %v", err)
	}
}

func showB(b *bool) string {
	if b == nil {
		return "null"
	}
	return fmt.Sprint(*b)
}

// Progress on synthetic monthly and quarterly data at two sizes, against a naive reference over the rows:
// the year-to-date totals are summed (flows) or read (cumulative) from the observations as generated.
func TestTargetProgressSynthetic(t *testing.T) {
	for _, c := range []struct {
		f                 analytics.Frequency
		regions, p, years int
	}{{analytics.Monthly, 6, 9, 2}, {analytics.Quarterly, 25, 3, 3}, {analytics.Monthly, 30, 5, 3}} {
		d := dataset.SyntheticOf(5, c.regions, 3, c.years, c.f)
		y := 2000 + c.years
		for _, rg := range d.Regions[1:] {
			for _, in := range d.Indicators {
				d.Targets = append(d.Targets, dataset.Target{Region: rg.Code, Indicator: in.Code, Year: y, Comparator: analytics.AtLeast, Value: 5, Kind: analytics.TargetGrowth},
					dataset.Target{Region: rg.Code, Indicator: in.Code, Year: y, Comparator: analytics.AtLeast, Value: 1000, Kind: analytics.TargetLevel})
			}
		}
		e := newTestEngine(t, d, Options{})
		vals := refPeriodValues(d)
		n := c.f.PerYear()
		ytd := func(in dataset.Indicator, reg string, year, p int) (float64, bool) {
			if in.Cumulative {
				x, ok := vals[periodKey{in.Code, reg, year, p}]
				return x, ok
			}
			s := 0.0
			for q := 1; q <= p; q++ {
				x, ok := vals[periodKey{in.Code, reg, year, q}]
				if !ok {
					return 0, false
				}
				s += x
			}
			return s, true
		}
		per := analytics.Period{Year: y, Sub: c.p, Freq: c.f}
		rs, err := e.Targets(context.Background(), analytics.TargetQuery{Period: &per})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != len(d.Targets) {
			t.Fatalf("%d results for %d targets", len(rs), len(d.Targets))
		}
		checked := 0
		for _, r := range rs {
			in := d.Indicators[slicesIndexInd(d, r.Indicator.Code)]
			var wantP, wantR *float64
			var wantOn *bool
			cur, ok := ytd(in, r.Region.Code, y, c.p)
			if ok && in.Rollup == analytics.RollupSum || ok && in.Cumulative {
				if r.Kind == analytics.TargetLevel {
					p, req, on := cur/1000*100, 1000-cur, cur/1000*100 >= 100
					wantP, wantR, wantOn = &p, &req, &on
				} else if prev, ok := ytd(in, r.Region.Code, y-1, c.p); ok && prev > 0 {
					p := (cur/prev - 1) * 100
					on := p >= 5
					wantP, wantOn = &p, &on
					if whole, ok := ytd(in, r.Region.Code, y-1, n); ok {
						req := (whole*1.05-cur)/(whole-prev) - 1
						req *= 100
						wantR = &req
					}
				}
			}
			if !sameF(r.Progress, wantP) || !sameF(r.RequiredRestOfYear, wantR) || showB(r.OnTrack) != showB(wantOn) {
				t.Fatalf("%s %s %s %s: progress %s required %s onTrack %s; want %s %s %s", c.f, r.Region.Code, r.Indicator.Code, r.Kind,
					showF(r.Progress), showF(r.RequiredRestOfYear), showB(r.OnTrack), showF(wantP), showF(wantR), showB(wantOn))
			}
			if wantP != nil {
				checked++
			}
			if (r.Progress == nil || r.RequiredRestOfYear == nil) && len(r.Warnings) == 0 {
				t.Errorf("%s %s %s: a null without a warning", r.Region.Code, r.Indicator.Code, r.Kind)
			}
		}
		if checked < len(rs)/3 {
			t.Errorf("%s: only %d of %d checked with a value", c.f, checked, len(rs))
		}
	}
}

func slicesIndexInd(d *dataset.Dataset, code string) int {
	for i, in := range d.Indicators {
		if in.Code == code {
			return i
		}
	}
	return -1
}
