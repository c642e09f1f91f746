package assess

import (
	"math"

	"pacesetter/analytics"
)

// Normalise normalises one indicator's values over the regions that have a value (NaN = missing stays
// NaN), by the formulas of the package comment. A refusal is an *Error with Indicator −1.
func Normalise(n analytics.Normalisation, ind Indicator, x []float64) ([]float64, error) {
	if ind.Sign != 1 && ind.Sign != -1 {
		return nil, errf(-1, -1, "indicator %s has sign %v: use 1 (higher is better) or -1 (lower is better)", ind.Code, ind.Sign)
	}
	return normalise(n, ind, -1, x, &Options{})
}

// normalise is Normalise for indicator index i (used in errors); o names regions.
func normalise(n analytics.Normalisation, ind Indicator, i int, x []float64, o *Options) ([]float64, error) {
	out := make([]float64, len(x))
	present := make([]int, 0, len(x))
	lo, hi := math.Inf(1), math.Inf(-1)
	for r, v := range x {
		switch {
		case math.IsNaN(v):
			out[r] = math.NaN()
			continue
		case math.IsInf(v, 0):
			return nil, errf(r, i, "indicator %s has an infinite value for region %s: give a finite value, or NaN when it is missing", ind.Code, o.regionName(r))
		}
		present = append(present, r)
		lo, hi = min(lo, v), max(hi, v)
	}
	d := ind.Sign
	switch n {
	case analytics.MinMax:
		if len(present) > 0 && math.IsInf(hi-lo, 0) {
			return nil, errf(-1, i, "indicator %s's values are too far apart to normalise by MIN_MAX (max − min overflows): give them in a larger unit", ind.Code)
		}
		for _, r := range present {
			switch {
			case hi == lo:
				out[r] = 100
			case d > 0:
				out[r] = 100 * (x[r] - lo) / (hi - lo)
			default:
				out[r] = 100 * (hi - x[r]) / (hi - lo)
			}
		}
	case analytics.ZScore:
		k := len(present)
		if k < 2 || hi == lo { // equal values: the mean may be off by an ulp, s must still be 0
			for _, r := range present {
				out[r] = 0
			}
			break
		}
		var sum float64
		for _, r := range present {
			sum += x[r]
		}
		mean := sum / float64(k)
		var ss float64
		for _, r := range present {
			dv := x[r] - mean
			ss += dv * dv
		}
		s := math.Sqrt(ss / float64(k-1))
		if math.IsInf(s, 0) || math.IsInf(mean, 0) {
			return nil, errf(-1, i, "indicator %s's values are too large to take a Z_SCORE of (their squares overflow): give them in a larger unit", ind.Code)
		}
		for _, r := range present {
			if s == 0 {
				out[r] = 0
			} else {
				out[r] = d * (x[r] - mean) / s
			}
		}
	case analytics.Rank, analytics.PercentileRank:
		keys := make([]float64, len(x))
		for _, r := range present {
			keys[r] = d * x[r]
		}
		comp := competitionRanks(keys, present)
		k := float64(len(present))
		for _, r := range present {
			rk := float64(comp[r])
			switch {
			case n == analytics.Rank:
				out[r] = k - rk + 1
			case k == 1:
				out[r] = 100
			default:
				out[r] = 100 * (k - rk) / (k - 1)
			}
		}
	case analytics.DistanceToLeader:
		for _, r := range present {
			if !(x[r] > 0) {
				return nil, errf(r, i, "indicator %s has value %v for region %s, and DISTANCE_TO_LEADER divides by values: use MIN_MAX or PERCENTILE_RANK", ind.Code, x[r], o.regionName(r))
			}
		}
		for _, r := range present {
			if d > 0 {
				out[r] = 100 * x[r] / hi
			} else {
				out[r] = 100 * lo / x[r]
			}
		}
	case analytics.DistanceToTarget:
		if len(ind.Targets) != len(x) {
			return nil, errf(-1, i, "indicator %s has %d targets for %d regions, and DISTANCE_TO_TARGET needs one target (or NaN for none) per region: give targets, or use another normalisation", ind.Code, len(ind.Targets), len(x))
		}
		for _, r := range present {
			t := ind.Targets[r]
			switch {
			case math.IsNaN(t):
				out[r] = math.NaN() // no target: the component is missing
				continue
			case math.IsInf(t, 0) || t <= 0:
				return nil, errf(r, i, "indicator %s has target %v for region %s, and DISTANCE_TO_TARGET divides by targets: give a positive target, or use GOALPOSTS or MIN_MAX", ind.Code, t, o.regionName(r))
			case !(x[r] > 0):
				return nil, errf(r, i, "indicator %s has value %v for region %s, and DISTANCE_TO_TARGET divides by values: use GOALPOSTS or MIN_MAX", ind.Code, x[r], o.regionName(r))
			}
			if d > 0 {
				out[r] = 100 * min(x[r]/t, 1)
			} else {
				out[r] = 100 * min(t/x[r], 1)
			}
		}
	case analytics.Goalposts:
		if !ind.HasGoalposts {
			return nil, errf(-1, i, "indicator %s has no goalposts, and GOALPOSTS needs a low and a high one: give them, or use MIN_MAX", ind.Code)
		}
		l, h := ind.Low, ind.High
		if math.IsNaN(l) || math.IsNaN(h) || math.IsInf(l, 0) || math.IsInf(h, 0) || !(l < h) {
			return nil, errf(-1, i, "indicator %s has goalposts low %v and high %v: give finite goalposts with low < high", ind.Code, l, h)
		}
		if math.IsInf(h-l, 0) {
			return nil, errf(-1, i, "indicator %s's goalposts %v and %v are too far apart (high − low overflows): give them in a larger unit", ind.Code, l, h)
		}
		for _, r := range present {
			c := min(max(x[r], l), h)
			if d > 0 {
				out[r] = 100 * (c - l) / (h - l)
			} else {
				out[r] = 100 * (h - c) / (h - l)
			}
		}
	default:
		return nil, errf(-1, i, "unknown normalisation %q: use one of %s", n, normalisationList())
	}
	for _, r := range present {
		if v := out[r]; math.IsInf(v, 0) || (math.IsNaN(v) && !(n == analytics.DistanceToTarget && math.IsNaN(ind.Targets[r]))) {
			return nil, errf(r, i, "indicator %s's values are too far apart to normalise by %s (region %s overflows): give them in a larger unit", ind.Code, n, o.regionName(r))
		}
	}
	return out, nil
}
