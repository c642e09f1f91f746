package assess

import (
	"math"
	"testing"

	"pacesetter/analytics"
)

func TestPointsEarned(t *testing.T) {
	scaled := analytics.PointsRule{Kind: analytics.PointsScaled}
	rule := analytics.PointsRule{Kind: analytics.PointsTarget, Met: 1, Missed: 0.5, Step: 2, Cap: 1.2}
	noStep := analytics.PointsRule{Kind: analytics.PointsTarget, Met: 1, Missed: 0, Step: 0, Cap: 1}
	cases := []struct {
		name       string
		rule       analytics.PointsRule
		points     float64
		normalised float64
		status     analytics.TargetStatus
		margin     float64
		want       float64
		ok         bool
	}{
		{"scaled", scaled, 10, 73.5, "", 0, 7.35, true},                          // 10 × 73.5/100
		{"scaled, the best", scaled, 6, 100, "", 0, 6, true},                     // 6 × 100/100
		{"scaled, the worst", scaled, 6, 0, "", 0, 0, true},                      // 6 × 0/100
		{"scaled, not a number", scaled, 6, math.NaN(), "", 0, 0, false},         // no normalised value
		{"met by 0.7", rule, 15, 0, analytics.Met, 0.7, 16.4, true},              // 15·1 + 2·0.7 = 16.4 ≤ 18
		{"met by 3: capped", rule, 15, 0, analytics.Met, 3, 18, true},            // 15 + 6 = 21 > 15·1.2 = 18
		{"missed by 0.5", rule, 15, 0, analytics.Missed, -0.5, 6.5, true},        // 15·0.5 − 2·0.5 = 6.5
		{"missed by 5: floored", rule, 15, 0, analytics.Missed, -5, 0, true},     // 7.5 − 10 < 0 → 0
		{"pending", rule, 15, 0, analytics.Pending, 0, 0, false},                 // nothing yet
		{"no target", rule, 15, 0, "", 0, 0, false},                              // nothing to judge
		{"all or nothing, met", noStep, 4, 0, analytics.Met, 12, 4, true},        // 4·1 + 0, cap 4
		{"all or nothing, missed", noStep, 4, 0, analytics.Missed, -12, 0, true}, // 4·0 + 0
		{"margin not finite", rule, 15, 0, analytics.Met, math.Inf(1), 0, false}, // refused
	}
	for _, c := range cases {
		got, ok := PointsEarned(c.rule, c.points, c.normalised, c.status, c.margin)
		if ok != c.ok || got != c.want {
			t.Errorf("%s: got %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
