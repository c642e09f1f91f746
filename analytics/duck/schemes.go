package duck

import (
	"context"
	"database/sql"
	"fmt"

	"pacesetter/analytics"
)

// targetKey names one target: a region's target on an indicator in a year, of one kind.
type targetKey struct {
	region, indicator string
	year              int
	kind              analytics.TargetKind
}

// loadAssessment reads the schemes and targets into the snapshot. A file imported before they were stored
// has none of their tables: it holds no schemes and no targets.
func (s *snapshot) loadAssessment(ctx context.Context, db *sql.DB) error {
	s.schemeBy, s.targetBy = map[string]*analytics.Scheme{}, map[targetKey]*analytics.Target{}
	s.schemes, s.targets = []*analytics.Scheme{}, []*analytics.Target{}
	var tables int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name IN ('schemes', 'scheme_indicators', 'targets')`).Scan(&tables)
	if err != nil {
		return err
	}
	if tables < 3 {
		return nil
	}
	err = each(ctx, db, `SELECT code, name, name_en, note, scope_group, scope_parent, scope_level, normalisation, aggregation, missing,
			min_weight_share, ties, cutoffs, quotas FROM schemes ORDER BY ord`, func(rows *sql.Rows) error {
		sc := &analytics.Scheme{Indicators: []*analytics.SchemeIndicator{}}
		var nameEn, note, group, parent, level sql.NullString
		var norm, agg, missing, ties string
		var share sql.NullFloat64
		var cutoffs, quotas any
		if err := rows.Scan(&sc.Code, &sc.Name, &nameEn, &note, &group, &parent, &level, &norm, &agg, &missing, &share, &ties, &cutoffs, &quotas); err != nil {
			return err
		}
		sc.NameEn, sc.Note = nullString(nameEn), nullString(note)
		sc.Scope = analytics.ScopeQuery{Group: group.String, Parent: parent.String, Level: level.String}
		sc.Normalisation, sc.Aggregation, sc.Missing, sc.Ties = analytics.Normalisation(norm), analytics.Aggregation(agg), analytics.MissingRule(missing), analytics.TieRule(ties)
		sc.MinWeightShare = nullFloat(share)
		var err error
		if sc.Cutoffs, err = listOf[float64](cutoffs); err != nil {
			return err
		}
		qs, err := listOf[int32](quotas)
		if err != nil {
			return err
		}
		for _, q := range qs {
			sc.Quotas = append(sc.Quotas, int(q))
		}
		s.schemes = append(s.schemes, sc)
		s.schemeBy[sc.Code] = sc
		return nil
	})
	if err != nil {
		return err
	}
	err = each(ctx, db, `SELECT scheme, indicator, weight, points, category, department, low, high, target, from_year, to_year,
			rule_kind, rule_met, rule_missed, rule_step, rule_cap FROM scheme_indicators ORDER BY scheme, ord`, func(rows *sql.Rows) error {
		si := &analytics.SchemeIndicator{}
		var scheme, code string
		var points, low, high, target sql.NullFloat64
		var category, department sql.NullString
		var from, to sql.NullInt64
		var kind string
		if err := rows.Scan(&scheme, &code, &si.Weight, &points, &category, &department, &low, &high, &target, &from, &to,
			&kind, &si.Rule.Met, &si.Rule.Missed, &si.Rule.Step, &si.Rule.Cap); err != nil {
			return err
		}
		sc, in := s.schemeBy[scheme], s.indicatorBy[code]
		if sc == nil || in == nil {
			return fmt.Errorf("scheme line of %q names an unknown scheme or indicator %q", scheme, code)
		}
		si.Indicator, si.Category, si.Department = in, category.String, department.String
		si.Points, si.Low, si.High, si.Target = nullFloat(points), nullFloat(low), nullFloat(high), nullFloat(target)
		si.From, si.To, si.Rule.Kind = nullInt(from), nullInt(to), analytics.PointsRuleKind(kind)
		sc.Indicators = append(sc.Indicators, si)
		return nil
	})
	if err != nil {
		return err
	}
	return each(ctx, db, `SELECT region, indicator, year, comparator, value, kind, group_code FROM targets ORDER BY ord`, func(rows *sql.Rows) error {
		t := &analytics.Target{}
		var region, code, comparator, kind string
		var group sql.NullString
		if err := rows.Scan(&region, &code, &t.Year, &comparator, &t.Value, &kind, &group); err != nil {
			return err
		}
		t.Region, t.Indicator = s.regionBy[region], s.indicatorBy[code]
		if t.Region == nil || t.Indicator == nil {
			return fmt.Errorf("target of unknown region %q or indicator %q", region, code)
		}
		if group.Valid {
			if t.Group = s.groupBy[group.String]; t.Group == nil {
				return fmt.Errorf("target in unknown group %q", group.String)
			}
		}
		t.Comparator, t.Kind = analytics.Comparator(comparator), analytics.TargetKind(kind)
		s.targets = append(s.targets, t)
		s.targetBy[targetKey{region, code, t.Year, t.Kind}] = t
		return nil
	})
}

// listOf reads a DuckDB list as the driver scans it ([]any; nil for NULL).
func listOf[T any](v any) ([]T, error) {
	if v == nil {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("a list scanned as %T", v)
	}
	out := make([]T, len(items))
	for i, x := range items {
		if out[i], ok = x.(T); !ok {
			return nil, fmt.Errorf("a list item scanned as %T", x)
		}
	}
	return out, nil
}

// scheme is the scheme of the code, or NOT_FOUND naming the schemes there are.
func (s *snapshot) scheme(code string) (*analytics.Scheme, error) {
	if sc := s.schemeBy[code]; sc != nil {
		return sc, nil
	}
	if len(s.schemes) == 0 {
		return nil, analytics.Errorf(analytics.NotFound, "unknown scheme %q: this dataset has no schemes (a dataset folder gives them in schemes.yaml)", analytics.Cut(code))
	}
	return nil, unknown("scheme", code, "schemes", len(s.schemes), func(i int) string { return s.schemes[i].Code })
}

// target is the region's target on the indicator in the year, of the kind; nil when targets.csv sets none.
func (s *snapshot) target(region, indicator string, year int, kind analytics.TargetKind) *analytics.Target {
	return s.targetBy[targetKey{region, indicator, year, kind}]
}

func (e *Engine) Schemes(ctx context.Context) ([]*analytics.Scheme, error) {
	return e.snap.Load().schemes, nil
}

func (e *Engine) Scheme(ctx context.Context, code string) (*analytics.Scheme, error) {
	return e.snap.Load().scheme(code)
}
