package assess

import (
	"testing"

	"pacesetter/analytics"
)

// Worked by hand: a year-to-date total of 840 against 800 a year earlier is +5 %; the previous year was
// 1,100, so a 6 % target needs 1,166 for the year, 326 more from a rest that was 300 last year: +8.6667 %.
func TestGrowthProgress(t *testing.T) {
	p := GrowthProgress(analytics.AtLeast, 6, 840, 800, 1100, false)
	if !p.HasProgress || p.Progress != 5 || p.OnTrack || !p.HasRequired || p.Required != 8.66666666667 {
		t.Errorf("%+v", p)
	}
	p = GrowthProgress(analytics.AtLeast, 5, 840, 800, 1100, false)
	if !p.OnTrack || p.Required != 5 { // on track exactly: the rest needs the same 5 % (1155 − 840 = 315 = 300 · 1.05)
		t.Errorf("%+v", p)
	}
	if p := GrowthProgress(analytics.AtLeast, 5, 1160, 1100, 1100, true); p.HasRequired || p.Progress != 5.45454545455 {
		t.Errorf("last period: %+v", p)
	}
	if p := GrowthProgress(analytics.AtLeast, 5, 10, 0, 100, false); p.HasProgress {
		t.Errorf("from 0: %+v", p)
	}
	// An at-most target of +3 %: +4 % so far is off track.
	if p := GrowthProgress(analytics.AtMost, 3, 104, 100, 400, false); p.OnTrack || p.Progress != 4 {
		t.Errorf("at most: %+v", p)
	}
}

func TestLevelProgress(t *testing.T) {
	// 750 of a 1,000 target: 75 % reached, 250 to go.
	p := LevelProgress(analytics.AtLeast, 1000, 750)
	if p.Progress != 75 || p.OnTrack || p.Required != 250 {
		t.Errorf("%+v", p)
	}
	if p := LevelProgress(analytics.AtLeast, 1000, 1200); !p.OnTrack || p.Required != -200 {
		t.Errorf("%+v", p)
	}
	if p := LevelProgress(analytics.AtLeast, 0, 5); p.HasProgress {
		t.Errorf("target 0: %+v", p)
	}
}
