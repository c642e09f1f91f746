package assess

import (
	"reflect"
	"testing"

	"pacesetter/analytics"
)

func TestTargetGrowth(t *testing.T) {
	cases := []struct {
		m       analytics.Measure
		x, prev float64
		hasPrev bool
		want    float64
		ok      bool
		worked  string
	}{
		{analytics.Level, 105, 100, true, 5, true, "100·(105/100 − 1)"},
		{analytics.Level, 90, 120, true, -25, true, "100·(90/120 − 1) = 100·(−0.25)"},
		{analytics.Level, 105, 0, true, 0, false, "no growth from a zero base"},
		{analytics.Level, 105, -5, true, 0, false, "nor from a negative one"},
		{analytics.Level, 105, 0, false, 0, false, "nor without a year before"},
		{analytics.Rate, 4.2, 5, true, -0.8, true, "4.2 − 5 points"},
		{analytics.Rate, 4.2, 0, false, 0, false, "a rate needs the year before"},
		{analytics.Growth, 6.5, 0, false, 6.5, true, "already a growth in percent"},
		{analytics.Index, 105.7, 0, false, 5.7, true, "105.7 − 100, rounded: not 5.700000000000003"},
		{analytics.Index, 99.2, 0, false, -0.8, true, "99.2 − 100"},
	}
	for _, c := range cases {
		got, ok := TargetGrowth(c.m, c.x, c.prev, c.hasPrev)
		if ok != c.ok || got != c.want {
			t.Errorf("%s %v/%v: got %v %v, want %v %v (%s)", c.m, c.x, c.prev, got, ok, c.want, c.ok, c.worked)
		}
	}
}

func TestTargetStatusAttainmentGap(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	cases := []struct {
		c          analytics.Comparator
		actual     *float64
		target     float64
		status     analytics.TargetStatus
		attainment float64 // 0 with attOK false: none
		attOK      bool
		gap        float64
		margin     float64
	}{
		// growth 5.4 against ≥ 5: met, 5.4/5 = 1.08, gap 0.4 points
		{analytics.AtLeast, f(5.4), 5, analytics.Met, 1.08, true, 0.4, 0.4},
		// exactly on the target counts as met
		{analytics.AtLeast, f(5), 5, analytics.Met, 1, true, 0, 0},
		// 4.6 against ≥ 5: missed, 4.6/5 = 0.92, gap −0.4
		{analytics.AtLeast, f(4.6), 5, analytics.Missed, 0.92, true, -0.4, -0.4},
		// unemployment 3.6 against ≤ 4: met, 4/3.6 = 1.1111…, gap −0.4, margin 0.4 (better)
		{analytics.AtMost, f(3.6), 4, analytics.Met, 1.11111111111, true, -0.4, 0.4},
		// rank 5 against ≤ 3: missed, 3/5 = 0.6, gap 2 places, margin −2
		{analytics.AtMost, f(5), 3, analytics.Missed, 0.6, true, 2, -2},
		// a negative actual under ≤: no ratio (divisor ≤ 0)
		{analytics.AtMost, f(-1), 3, analytics.Met, 0, false, -4, 4},
		// a target of 0 under ≥: no ratio
		{analytics.AtLeast, f(2), 0, analytics.Met, 0, false, 2, 2},
	}
	for _, c := range cases {
		if got := TargetStatus(c.c, c.actual, c.target); got != c.status {
			t.Errorf("%s %v vs %v: status %s, want %s", c.c, *c.actual, c.target, got, c.status)
		}
		a, ok := TargetAttainment(c.c, *c.actual, c.target)
		if ok != c.attOK || a != c.attainment {
			t.Errorf("%s %v vs %v: attainment %v %v, want %v %v", c.c, *c.actual, c.target, a, ok, c.attainment, c.attOK)
		}
		if g, ok := TargetGap(*c.actual, c.target); !ok || g != c.gap {
			t.Errorf("%s %v vs %v: gap %v, want %v", c.c, *c.actual, c.target, g, c.gap)
		}
		if m := TargetMargin(c.c, *c.actual, c.target); m != c.margin {
			t.Errorf("%s %v vs %v: margin %v, want %v", c.c, *c.actual, c.target, m, c.margin)
		}
	}
	if got := TargetStatus(analytics.AtLeast, nil, 5); got != analytics.Pending {
		t.Errorf("no actual: %s, want PENDING", got)
	}
}

func TestTargetStreaks(t *testing.T) {
	M, X, P := analytics.Met, analytics.Missed, analytics.Pending
	years := []int{2016, 2017, 2018, 2019, 2021, 2022, 2023, 2024}
	status := []analytics.TargetStatus{M, M, X, M, M, M, M, P}
	// 2016 met: 1; 2017 met after a met year: 2; 2018 missed: 0; 2019 met: 1; 2020 has no target, so
	// 2021 starts again at 1; 2022: 2; 2023: 3; 2024 pending: 0.
	want := []int{1, 2, 0, 1, 1, 2, 3, 0}
	if got := TargetStreaks(years, status); !reflect.DeepEqual(got, want) {
		t.Errorf("streaks %v, want %v", got, want)
	}
}
