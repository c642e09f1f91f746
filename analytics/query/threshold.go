package query

import (
	"context"
	"errors"
	"math"

	"pacesetter/analytics"
	"pacesetter/analytics/assess"
	"pacesetter/analytics/calc"
)

// thresholdPlan is a threshold request checked against the catalog; no I/O.
type thresholdPlan struct {
	q      analytics.ThresholdQuery
	region *analytics.Region
	in     *analytics.Indicator
}

func planThreshold(s *snapshot, q analytics.ThresholdQuery) (*thresholdPlan, error) {
	region, err := s.region(q.Region)
	if err != nil {
		return nil, err
	}
	in, err := s.indicator(q.Indicator)
	if err != nil {
		return nil, err
	}
	switch {
	case math.IsNaN(q.Value) || math.IsInf(q.Value, 0):
		return nil, analytics.Errorf(analytics.BadUserInput, "value is not a finite number: give the threshold in %s's unit", in.Code)
	case q.Years < 1 || q.Years > MaxHistoryYears:
		return nil, analytics.Errorf(analytics.BadUserInput, "years is %d: give the span of the growth used, from 1 to %d years", q.Years, MaxHistoryYears)
	}
	if q.By != nil {
		if err := checkYear(*q.By); err != nil {
			return nil, err
		}
	}
	return &thresholdPlan{q: q, region: region, in: in}, nil
}

// Threshold answers when a region reached a threshold of an indicator and at what growth it gets there;
// the math is assess.Threshold's, over the region's newest values.
func (e *Engine) Threshold(ctx context.Context, q analytics.ThresholdQuery) (*analytics.Threshold, error) {
	s := e.snap.Load()
	p, err := planThreshold(s, q)
	if err != nil {
		return nil, err
	}
	return cached(e, s, keyOf("threshold", p.q), func() (*analytics.Threshold, error) {
		ms, err := e.matrices(ctx, s, nil, p.in.Code)
		if err != nil {
			return nil, err
		}
		m, r := ms[p.in.Code], s.RegionAt[p.region.Code]
		var series []calc.YearValue
		if m != nil {
			for _, c := range m.Cells[m.Off[r]:m.Off[r+1]] {
				series = append(series, calc.YearValue{Year: int(c.Year), Value: c.Value})
			}
		}
		res, err := assess.Threshold(assess.ThresholdInput{Series: series, Sign: p.in.Sign(), Value: q.Value, By: q.By, Years: q.Years,
			Level: p.in.Measure == analytics.Level})
		if err != nil {
			var ae *assess.Error
			if errors.As(err, &ae) {
				return nil, analytics.Errorf(analytics.BadUserInput, "threshold of %q on %q: %s", p.region.Code, p.in.Code, ae.Msg)
			}
			return nil, err
		}
		out := &analytics.Threshold{Region: p.region, Indicator: p.in, Value: q.Value, ReachedIn: res.ReachedIn, LatestYear: res.LatestYear,
			Latest: res.Latest, Gap: res.Gap, GrowthUsed: res.GrowthUsed, YearsToReach: res.YearsToReach, RequiredGrowth: res.RequiredGrowth,
			Warnings: []*analytics.Warning{}}
		for _, w := range res.Why {
			out.Warnings = append(out.Warnings, &analytics.Warning{Indicator: p.in, Message: w})
		}
		return out, nil
	})
}
