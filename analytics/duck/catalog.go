package duck

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"pacesetter/analytics"
	"slices"
	"strings"
)

// Catalog is what a store holds besides its values: the dataset's regions, groups, indicators, schemes and
// targets, with the indexes the reads need. It lives here, beside the SQL that reads it, because the rows of
// aggregates and observation pages come back as codes that only the catalog turns into regions and
// indicators; the query service wraps it with the checks that answer a client (unknown codes, levels,
// categories). A Catalog is immutable once read.
type Catalog struct {
	Info        analytics.DatasetInfo
	Key         string // names this import in cache keys: the content version and the import time
	Regions     []*analytics.Region
	RegionBy    map[string]*analytics.Region
	Groups      []*analytics.Group
	GroupBy     map[string]*analytics.Group
	Indicators  []*analytics.Indicator
	IndicatorBy map[string]*analytics.Indicator
	IndicatorAt map[string]int   // position in dataset order
	RegionAt    map[string]int   // position in dataset order: the row of a matrix
	CodeOrder   []int32          // of each region (by position), its place in code order: ties list by code
	ByCode      []string         // the region codes, sorted
	Series      map[string][]int // regions (positions) with a value of each indicator in some year
	Own         map[string][]int // … of which a value of their own, not only their children's rollup
	All         map[string][]int // … of which the scope ALL: those none of whose children is in Own (ScopeAll)
	// Every region with a value of an indicator is in its scope ALL: no rollups, and no region with values of
	// its own above others with theirs. Aggregates then need not filter by region.
	Flat     bool
	ParentAt []int32          // of each region (by position), its parent's position, -1 for none
	Levels   []string         // the distinct levels of regions, in dataset order
	Vintages []analytics.Date // the distinct release dates of the values, in order
	Wide     bool             // a value is beyond ±2^400 or nearer 0 than 2^-400: aggregates take measureSQLWide
	// Assessments (schemes.go): the schemes in file order, and the targets in file order with an index by
	// region, indicator, year and kind.
	Schemes  []*analytics.Scheme
	SchemeBy map[string]*analytics.Scheme
	Targets  []*analytics.Target
	TargetBy map[TargetKey]*analytics.Target
	// The names of categories and departments schemes.yaml gives, by code (Label gives every one).
	CategoryLabels, DepartmentLabels map[string]*analytics.Label
	// The dataset order of the regions (and of the parents they name), groups and indicators as an aggregate
	// orders its rows by them (see orderColumn); read with the catalog.
	regionOrder, parentOrder, groupOrder, indicatorOrder codeOrder
	parentsKnown                                         bool // every parent_code is a region's
}

// Label is the names of category (department when dept) code: schemes.yaml's, else the code as its name;
// nil for "".
func (s *Catalog) Label(dept bool, code string) *analytics.Label {
	if code == "" {
		return nil
	}
	m := s.CategoryLabels
	if dept {
		m = s.DepartmentLabels
	}
	if l := m[code]; l != nil {
		return l
	}
	return &analytics.Label{Code: code, Name: code}
}

// readLabels reads the names of categories and departments, and gives each indicator its category's.
func (s *Catalog) readLabels(ctx context.Context, db *sql.DB) error {
	s.CategoryLabels, s.DepartmentLabels = map[string]*analytics.Label{}, map[string]*analytics.Label{}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'labels'`).Scan(&tables); err != nil {
		return err
	}
	if tables == 1 {
		err := each(ctx, db, `SELECT kind, code, name, name_en FROM labels ORDER BY kind, ord`, func(rows *sql.Rows) error {
			var kind string
			var name, nameEn sql.NullString
			l := &analytics.Label{}
			if err := rows.Scan(&kind, &l.Code, &name, &nameEn); err != nil {
				return err
			}
			l.Name, l.NameEn = cmp.Or(name.String, l.Code), nullString(nameEn)
			if kind == "department" {
				s.DepartmentLabels[l.Code] = l
			} else {
				s.CategoryLabels[l.Code] = l
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, in := range s.Indicators {
		if in.Category != nil {
			in.CategoryLabel = s.Label(false, *in.Category)
		}
	}
	return nil
}

// ReadCatalog reads the store's catalog. Its statements are not observed: they run once per import, not
// per request.
func ReadCatalog(ctx context.Context, st *Store) (*Catalog, error) {
	return readCatalog(ctx, st.db)
}

func readCatalog(ctx context.Context, db *sql.DB) (*Catalog, error) {
	s := &Catalog{RegionBy: map[string]*analytics.Region{}, GroupBy: map[string]*analytics.Group{},
		IndicatorBy: map[string]*analytics.Indicator{}, IndicatorAt: map[string]int{},
		RegionAt: map[string]int{}, Series: map[string][]int{}, Own: map[string][]int{}, All: map[string][]int{}}
	// In this order: memberships and series name regions, and assessments regions, groups and indicators.
	for _, read := range []func(context.Context, *sql.DB) error{s.readDataset, s.readRegions, s.readGroups,
		s.readIndicators, s.readSeries, s.readVintages, s.readCounts, s.readLabels, s.loadAssessment} {
		if err := read(ctx, db); err != nil {
			return nil, err
		}
	}
	s.count()
	s.orders()
	s.Key = s.Info.Version + "|" + s.Info.ImportedAt.String()
	return s, nil
}

// readDataset reads the dataset's row: its version, import and source, with the count, span and range of
// its values.
func (s *Catalog) readDataset(ctx context.Context, db *sql.DB) error {
	var first, last sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT d.version, d.imported_at, d.source,
			(SELECT count(*) FROM observations WHERE latest), (SELECT min(year) FROM observations), (SELECT max(year) FROM observations),
			(SELECT coalesce(max(abs(value)) > pow(2.0, 400) OR min(abs(value)) FILTER (WHERE value <> 0) < pow(2.0, -400), false) FROM observations)
		FROM dataset_info d`).Scan(&s.Info.Version, &s.Info.ImportedAt, &s.Info.Source, &s.Info.Observations, &first, &last, &s.Wide)
	if errors.Is(err, sql.ErrNoRows) {
		return errors.New("the database holds no dataset yet: import one first")
	}
	if err != nil {
		return err
	}
	if first.Valid {
		f, l := int(first.Int64), int(last.Int64)
		s.Info.FirstYear, s.Info.LastYear = &f, &l
	}
	return nil
}

// readRegions reads the regions in dataset order with their levels, orders them by code, and links each
// to its parent.
func (s *Catalog) readRegions(ctx context.Context, db *sql.DB) error {
	parents := map[*analytics.Region]string{}
	err := each(ctx, db, `SELECT code, name, name_en, parent_code, level FROM regions ORDER BY ord`, func(rows *sql.Rows) error {
		r := &analytics.Region{Memberships: []*analytics.Membership{}}
		var nameEn, parent, level sql.NullString
		if err := rows.Scan(&r.Code, &r.Name, &nameEn, &parent, &level); err != nil {
			return err
		}
		r.NameEn, r.Level = nullString(nameEn), nullString(level)
		if r.Level != nil && !slices.Contains(s.Levels, *r.Level) {
			s.Levels = append(s.Levels, *r.Level)
		}
		parents[r] = parent.String
		s.RegionAt[r.Code] = len(s.Regions)
		s.Regions = append(s.Regions, r)
		s.RegionBy[r.Code] = r
		return nil
	})
	if err != nil {
		return err
	}
	byCode := make([]int32, len(s.Regions))
	for i := range byCode {
		byCode[i] = int32(i)
	}
	slices.SortFunc(byCode, func(a, b int32) int { return strings.Compare(s.Regions[a].Code, s.Regions[b].Code) })
	s.CodeOrder, s.ByCode = make([]int32, len(s.Regions)), make([]string, len(s.Regions))
	for ord, r := range byCode {
		s.CodeOrder[r] = int32(ord)
		s.ByCode[ord] = s.Regions[r].Code
	}
	s.ParentAt = make([]int32, len(s.Regions))
	s.parentsKnown = true
	for i, r := range s.Regions {
		s.ParentAt[i] = -1
		if p := s.RegionBy[parents[r]]; p != nil {
			r.Parent = p
			p.Children = append(p.Children, r)
			s.ParentAt[i] = int32(s.RegionAt[p.Code])
		} else if parents[r] != "" {
			s.parentsKnown = false
		}
	}
	return nil
}

// readGroups reads the groups in dataset order, then the memberships, which a region lists in its
// groups' order.
func (s *Catalog) readGroups(ctx context.Context, db *sql.DB) error {
	err := each(ctx, db, `SELECT code, name, name_en FROM groups ORDER BY ord`, func(rows *sql.Rows) error {
		g := &analytics.Group{Memberships: []*analytics.Membership{}}
		var nameEn sql.NullString
		if err := rows.Scan(&g.Code, &g.Name, &nameEn); err != nil {
			return err
		}
		g.NameEn = nullString(nameEn)
		s.Groups = append(s.Groups, g)
		s.GroupBy[g.Code] = g
		return nil
	})
	if err != nil {
		return err
	}
	groupAt := map[*analytics.Group]int{}
	for i, g := range s.Groups {
		groupAt[g] = i
	}
	err = each(ctx, db, `SELECT m.group_code, m.region_code, m.from_year, m.to_year FROM memberships m
		JOIN regions r ON r.code = m.region_code ORDER BY r.ord, m.from_year NULLS FIRST`,
		func(rows *sql.Rows) error {
			var g, r string
			var from, to sql.NullInt64
			if err := rows.Scan(&g, &r, &from, &to); err != nil {
				return err
			}
			m := &analytics.Membership{Group: s.GroupBy[g], Region: s.RegionBy[r], FromYear: nullInt(from), ToYear: nullInt(to)}
			m.Group.Memberships = append(m.Group.Memberships, m)
			m.Region.Memberships = append(m.Region.Memberships, m)
			return nil
		})
	if err != nil {
		return err
	}
	for _, r := range s.Regions {
		slices.SortStableFunc(r.Memberships, func(a, b *analytics.Membership) int { return cmp.Compare(groupAt[a.Group], groupAt[b.Group]) })
	}
	return nil
}

// readIndicators reads the indicators in dataset order, each with the span of its series.
func (s *Catalog) readIndicators(ctx context.Context, db *sql.DB) error {
	return each(ctx, db, `SELECT i.code, i.name, i.name_en, i.unit, i.direction, i.measure, i.category, i.rollup, i.decimals, i.source, i.formula,
			s.first, s.last, i.frequency, i.cumulative, s.first_ord, s.last_ord
		FROM indicators i LEFT JOIN (SELECT indicator, min(first_year) AS first, max(last_year) AS last, min(first_ord) AS first_ord,
			max(last_ord) AS last_ord FROM series GROUP BY indicator) s ON s.indicator = i.code ORDER BY i.ord`, func(rows *sql.Rows) error {
		in := &analytics.Indicator{}
		var nameEn, category, source, formula sql.NullString
		var decimals, first, last, firstOrd, lastOrd sql.NullInt64
		var dir, measure, rollup, freq string
		if err := rows.Scan(&in.Code, &in.Name, &nameEn, &in.Unit, &dir, &measure, &category, &rollup, &decimals, &source, &formula, &first, &last,
			&freq, &in.Cumulative, &firstOrd, &lastOrd); err != nil {
			return err
		}
		in.Frequency, in.FirstOrd, in.LastOrd = analytics.Frequency(freq), nullInt(firstOrd), nullInt(lastOrd)
		in.NameEn, in.Category, in.Source, in.Formula = nullString(nameEn), nullString(category), nullString(source), nullString(formula)
		in.Decimals, in.FirstYear, in.LastYear = nullInt(decimals), nullInt(first), nullInt(last)
		in.Direction, in.Measure, in.Rollup = analytics.Direction(dir), analytics.Measure(measure), analytics.Rollup(rollup)
		s.IndicatorAt[in.Code] = len(s.Indicators)
		s.Indicators = append(s.Indicators, in)
		s.IndicatorBy[in.Code] = in
		return nil
	})
}

// readSeries reads which regions have values of each indicator (Series), of those which have values of
// their own (Own), and of those the scope ALL (All), in dataset order.
func (s *Catalog) readSeries(ctx context.Context, db *sql.DB) error {
	err := each(ctx, db, `SELECT s.indicator, r.ord, s.own FROM series s JOIN regions r ON r.code = s.region ORDER BY s.indicator, r.ord`, func(rows *sql.Rows) error {
		var code string
		var r int
		var own bool
		if err := rows.Scan(&code, &r, &own); err != nil {
			return err
		}
		s.Series[code] = append(s.Series[code], r)
		if own {
			s.Own[code] = append(s.Own[code], r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.Flat = true
	for code, own := range s.Own {
		s.All[code] = s.ScopeAll(own)
		s.Flat = s.Flat && len(s.All[code]) == len(s.Series[code])
	}
	s.Flat = s.Flat && len(s.Own) == len(s.Series)
	return nil
}

// ScopeAll is the scope ALL of an indicator whose regions with values of their own are own (positions,
// ascending): those of own none of whose children is in own. A total or an average of regions (a country's
// own national figure over its provinces') does not rank among them; a region without children in own (a
// World Bank aggregate, which has no children) stays. The result is ascending too.
func (s *Catalog) ScopeAll(own []int) []int {
	above := map[int32]bool{}
	for _, r := range own {
		if p := s.ParentAt[r]; p >= 0 {
			above[p] = true
		}
	}
	if len(above) == 0 {
		return own
	}
	out := make([]int, 0, len(own))
	for _, r := range own {
		if !above[int32(r)] {
			out = append(out, r)
		}
	}
	return out
}

// readVintages reads the distinct release dates of the values, in order.
func (s *Catalog) readVintages(ctx context.Context, db *sql.DB) error {
	return each(ctx, db, `SELECT DISTINCT CAST(vintage AS VARCHAR) FROM observations WHERE vintage IS NOT NULL ORDER BY 1`, func(rows *sql.Rows) error {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		s.Vintages = append(s.Vintages, analytics.Date(v))
		return nil
	})
}

// readCounts reads how many values of each indicator each year has (the latest release of each): the cost
// model prices a query by the values its arguments select (analytics.ValueCounts). One pass over the
// values, once per import: about 1,500 × 64 rows on a dataset the size of the World Bank's WDI.
func (s *Catalog) readCounts(ctx context.Context, db *sql.DB) error {
	if s.Info.FirstYear == nil {
		s.Info.Counts = analytics.NewValueCounts(0, -1)
		return nil
	}
	c := analytics.NewValueCounts(*s.Info.FirstYear, *s.Info.LastYear)
	err := each(ctx, db, `SELECT indicator, year, count(*) FROM observations WHERE latest GROUP BY indicator, year`, func(rows *sql.Rows) error {
		var code string
		var year, n int
		if err := rows.Scan(&code, &year, &n); err != nil {
			return err
		}
		c.Add(code, year, n)
		return nil
	})
	for _, in := range s.Indicators {
		if in.PerYear() > 1 {
			c.SetPerYear(in.Code, in.PerYear())
		}
	}
	s.Info.Counts = c
	return err
}

// count fills the dataset's counts from what has been read.
func (s *Catalog) count() {
	s.Info.Regions, s.Info.Groups, s.Info.Indicators = len(s.Regions), len(s.Groups), len(s.Indicators)
	s.Info.Schemes, s.Info.Targets = len(s.Schemes), len(s.Targets)
	s.Info.Levels = len(s.Levels)
	categories := map[string]bool{}
	for _, in := range s.Indicators {
		if in.Category != nil {
			categories[*in.Category] = true
		}
	}
	s.Info.Categories = len(categories)
}

func nullString(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func nullInt(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// targetKey names one target: a region's target on an indicator in a year, of one kind.
type TargetKey struct {
	Region, Indicator string
	Year              int
	Kind              analytics.TargetKind
}

// loadAssessment reads the schemes and targets into the snapshot. A file imported before they were stored
// has none of their tables: it holds no schemes and no targets.
func (s *Catalog) loadAssessment(ctx context.Context, db *sql.DB) error {
	s.SchemeBy, s.TargetBy = map[string]*analytics.Scheme{}, map[TargetKey]*analytics.Target{}
	s.Schemes, s.Targets = []*analytics.Scheme{}, []*analytics.Target{}
	var tables int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name IN ('schemes', 'scheme_indicators', 'targets')`).Scan(&tables)
	if err != nil {
		return err
	}
	if tables < 3 {
		return nil
	}
	err = each(ctx, db, `SELECT code, name, name_en, note, scope_group, scope_parent, scope_level, normalisation, aggregation, missing,
			min_weight_share, ties, cutoffs, quotas, rank_by, classes FROM schemes ORDER BY ord`, func(rows *sql.Rows) error {
		sc := &analytics.Scheme{Indicators: []*analytics.SchemeIndicator{}}
		var nameEn, note, group, parent, level sql.NullString
		var norm, agg, missing, ties, rankBy string
		var share sql.NullFloat64
		var cutoffs, quotas, classes any
		if err := rows.Scan(&sc.Code, &sc.Name, &nameEn, &note, &group, &parent, &level, &norm, &agg, &missing, &share, &ties, &cutoffs, &quotas,
			&rankBy, &classes); err != nil {
			return err
		}
		sc.RankBy = analytics.CompositeRank(rankBy)
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
		if sc.Classes, err = listOf[string](classes); err != nil {
			return err
		}
		s.Schemes = append(s.Schemes, sc)
		s.SchemeBy[sc.Code] = sc
		return nil
	})
	if err != nil {
		return err
	}
	err = each(ctx, db, `SELECT scheme, indicator, weight, points, category, department, low, high, target, from_year, to_year,
			rule_kind, rule_met, rule_missed, rule_step, rule_cap, basis FROM scheme_indicators ORDER BY scheme, ord`, func(rows *sql.Rows) error {
		si := &analytics.SchemeIndicator{}
		var scheme, code string
		var points, low, high, target sql.NullFloat64
		var category, department sql.NullString
		var from, to sql.NullInt64
		var kind, basis string
		if err := rows.Scan(&scheme, &code, &si.Weight, &points, &category, &department, &low, &high, &target, &from, &to,
			&kind, &si.Rule.Met, &si.Rule.Missed, &si.Rule.Step, &si.Rule.Cap, &basis); err != nil {
			return err
		}
		si.Basis = analytics.Basis(basis)
		sc, in := s.SchemeBy[scheme], s.IndicatorBy[code]
		if sc == nil || in == nil {
			return fmt.Errorf("scheme line of %q names an unknown scheme or indicator %q", scheme, code)
		}
		si.Indicator, si.Category, si.Department = in, category.String, department.String
		si.CategoryLabel, si.DepartmentLabel = s.Label(false, si.Category), s.Label(true, si.Department)
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
		t.Region, t.Indicator = s.RegionBy[region], s.IndicatorBy[code]
		if t.Region == nil || t.Indicator == nil {
			return fmt.Errorf("target of unknown region %q or indicator %q", region, code)
		}
		if group.Valid {
			if t.Group = s.GroupBy[group.String]; t.Group == nil {
				return fmt.Errorf("target in unknown group %q", group.String)
			}
		}
		t.Comparator, t.Kind = analytics.Comparator(comparator), analytics.TargetKind(kind)
		s.Targets = append(s.Targets, t)
		s.TargetBy[TargetKey{region, code, t.Year, t.Kind}] = t
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
