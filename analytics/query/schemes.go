package query

import (
	"context"

	"pacesetter/analytics"
	"pacesetter/analytics/duck"
)

// scheme is the scheme of the code, or NOT_FOUND naming the schemes there are.
func (s *snapshot) scheme(code string) (*analytics.Scheme, error) {
	if sc := s.SchemeBy[code]; sc != nil {
		return sc, nil
	}
	if len(s.Schemes) == 0 {
		return nil, analytics.Errorf(analytics.NotFound, "unknown scheme %q: this dataset has no schemes (a dataset folder gives them in schemes.yaml)", analytics.Cut(code))
	}
	return nil, unknown("scheme", code, "schemes", len(s.Schemes), func(i int) string { return s.Schemes[i].Code })
}

// target is the region's target on the indicator in the year, of the kind; nil when targets.csv sets none.
func (s *snapshot) target(region, indicator string, year int, kind analytics.TargetKind) *analytics.Target {
	if len(s.TargetBy) == 0 { // most datasets: no key of four fields made for every region and line
		return nil
	}
	return s.TargetBy[duck.TargetKey{Region: region, Indicator: indicator, Year: year, Kind: kind}]
}

func (e *Engine) Schemes(ctx context.Context) ([]*analytics.Scheme, error) {
	return e.snap.Load().Schemes, nil
}

func (e *Engine) Scheme(ctx context.Context, code string) (*analytics.Scheme, error) {
	return e.snap.Load().scheme(code)
}
