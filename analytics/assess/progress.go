package assess

import (
	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

// Progress toward an annual target from year-to-date values (聚焦全年目标: is the year on track?).
//
// For a GROWTH target of g %, with ytd the year-to-date total at the period asked, ytdPrev the same
// year-to-date total a year earlier and annualPrev the whole previous year:
//
//	progress = (ytd / ytdPrev − 1) · 100                       (year-to-date growth, %)
//	onTrack  = progress ≥ g  (≤ g for a "<=" target)
//	required = ((annualPrev · (1 + g/100) − ytd) / (annualPrev − ytdPrev) − 1) · 100
//
// required is the growth the rest of the year needs against the same periods a year earlier for the
// whole year to grow by g: none when nothing of the year remains (restPrev = annualPrev − ytdPrev is 0).
//
// For a LEVEL target L: progress = ytd / L · 100 (the share of the target reached, %), onTrack = progress
// ≥ 100 (≤ 100 for "<="), required = L − ytd (the amount still needed). All rounded to 12 significant
// digits; ok false where a divisor is 0 or a result is not finite.
type Progress struct {
	Progress, Required       float64
	OnTrack                  bool
	HasProgress, HasRequired bool
}

// GrowthProgress is Progress for a GROWTH target of g %.
func GrowthProgress(cmp analytics.Comparator, g, ytd, ytdPrev, annualPrev float64, last bool) Progress {
	var p Progress
	if ytdPrev > 0 {
		p.Progress, p.HasProgress = calc.Round12((ytd/ytdPrev-1)*100), true
		p.OnTrack = p.Progress >= g
		if cmp == analytics.AtMost {
			p.OnTrack = p.Progress <= g
		}
	}
	if rest := annualPrev - ytdPrev; !last && rest != 0 {
		r := ((annualPrev*(1+g/100)-ytd)/rest - 1) * 100
		p.Required, p.HasRequired = calc.Round12(r), finite(r)
	}
	return p
}

// LevelProgress is Progress for a LEVEL target L.
func LevelProgress(cmp analytics.Comparator, level, ytd float64) Progress {
	p := Progress{Required: calc.Round12(level - ytd), HasRequired: finite(level - ytd)}
	if level != 0 {
		x := ytd / level * 100
		p.Progress, p.HasProgress = calc.Round12(x), finite(x)
		p.OnTrack = p.Progress >= 100
		if cmp == analytics.AtMost {
			p.OnTrack = p.Progress <= 100
		}
	}
	return p
}

func finite(x float64) bool { return x-x == 0 }
