package duck

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"

	"pacesetter/analytics"
)

// Engine answers analytics queries over a Store. The catalog (regions, groups, indicators) is small and
// read on every request, so it is held in memory as an immutable snapshot; observations stay in DuckDB.
// Answers are cached by request, keyed by the dataset version, so an import invalidates them by itself.
type Engine struct {
	store       *Store
	snap        atomic.Pointer[snapshot]
	cache       *answerCache // nil: no cache
	matrixCache *matrixCache
	chunks      *chunkCache // observations read ahead of the page asked for
	obs         Observer    // nil: none
}

var _ analytics.Engine = (*Engine)(nil)

// Options tune an Engine.
type Options struct {
	// CacheEntries is the most answers to keep, and CacheBytes the most memory they may take (estimated;
	// default 64 MiB); CacheEntries 0 turns the cache off.
	CacheEntries int
	CacheBytes   int64
	// MatrixBytes bounds the values kept in memory for rankings and trends (default 512 MiB).
	MatrixBytes int64
	// Observer, if not nil, is told of each statement the engine runs and each look-up in its answer cache:
	// graph's metrics and traces, kept out of this package so that it needs neither library.
	Observer Observer
}

// Observer measures the engine from outside.
type Observer interface {
	// Statement is called as a statement starts, with its SQL; it returns the context to run it under (a
	// span, say) and the function to call when it has ended.
	Statement(ctx context.Context, sql string) (context.Context, func(err error))
	// AnswerCache is called on each look-up in the answer cache.
	AnswerCache(hit bool)
}

// each runs one of the engine's queries on its store, told to the observer. The observer is the engine's,
// not the store's: engines of different options (a benchmark's cold and hot ones) may share a store.
func (e *Engine) each(ctx context.Context, query string, fn func(*sql.Rows) error, args ...any) error {
	if e.obs == nil {
		return each(ctx, e.store.db, query, fn, args...)
	}
	ctx, done := e.obs.Statement(ctx, query)
	err := each(ctx, e.store.db, query, fn, args...)
	done(err)
	return err
}

// DefaultOptions are the serving defaults.
var DefaultOptions = Options{CacheEntries: 4096, CacheBytes: 64 << 20}

type snapshot struct {
	info        analytics.DatasetInfo
	key         string // names this import in cache keys: the content version and the import time
	regions     []*analytics.Region
	regionBy    map[string]*analytics.Region
	groups      []*analytics.Group
	groupBy     map[string]*analytics.Group
	indicators  []*analytics.Indicator
	indicatorBy map[string]*analytics.Indicator
	indicatorAt map[string]int   // position in dataset order
	regionAt    map[string]int   // position in dataset order: the row of a matrix
	codeOrder   []int32          // of each region (by position), its place in code order: ties list by code
	byCode      []string         // the region codes, sorted
	series      map[string][]int // regions (positions) with a value of each indicator in some year
	own         map[string][]int // … of which a value of their own, not only their children's rollup
	levels      []string         // the distinct levels of regions, in dataset order
	vintages    []analytics.Date // the distinct release dates of the values, in order
	wide        bool             // a value is beyond ±2^400 or nearer 0 than 2^-400: aggregates take measureSQLWide
	// Assessments (schemes.go): the schemes in file order, and the targets in file order with an index by
	// region, indicator, year and kind.
	schemes  []*analytics.Scheme
	schemeBy map[string]*analytics.Scheme
	targets  []*analytics.Target
	targetBy map[targetKey]*analytics.Target
}

// NewEngine reads the store's catalog and returns an engine over it.
func NewEngine(ctx context.Context, s *Store, opt Options) (*Engine, error) {
	if opt.MatrixBytes <= 0 {
		opt.MatrixBytes = 512 << 20
	}
	e := &Engine{store: s, matrixCache: newMatrixCache(opt.MatrixBytes), chunks: newChunkCache(), obs: opt.Observer}
	if opt.CacheEntries > 0 {
		if opt.CacheBytes <= 0 {
			opt.CacheBytes = 64 << 20
		}
		e.cache = newAnswerCache(opt.CacheEntries, opt.CacheBytes)
	}
	if err := e.Refresh(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// Refresh rereads the catalog after an import into the same store.
func (e *Engine) Refresh(ctx context.Context) error {
	snap, err := loadSnapshot(ctx, e.store.db)
	if err != nil {
		return fmt.Errorf("read catalog: %w", err)
	}
	e.snap.Store(snap)
	return nil
}

func loadSnapshot(ctx context.Context, db *sql.DB) (*snapshot, error) {
	s := &snapshot{regionBy: map[string]*analytics.Region{}, groupBy: map[string]*analytics.Group{},
		indicatorBy: map[string]*analytics.Indicator{}, indicatorAt: map[string]int{}}
	var first, last sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT d.version, d.imported_at, d.source,
			(SELECT count(*) FROM observations WHERE latest), (SELECT min(year) FROM observations), (SELECT max(year) FROM observations),
			(SELECT coalesce(max(abs(value)) > pow(2.0, 400) OR min(abs(value)) FILTER (WHERE value <> 0) < pow(2.0, -400), false) FROM observations)
		FROM dataset_info d`).Scan(&s.info.Version, &s.info.ImportedAt, &s.info.Source, &s.info.Observations, &first, &last, &s.wide)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errors.New("the database holds no dataset yet: import one first")
	}
	if err != nil {
		return nil, err
	}
	if first.Valid {
		f, l := int(first.Int64), int(last.Int64)
		s.info.FirstYear, s.info.LastYear = &f, &l
	}

	s.regionAt, s.series, s.own = map[string]int{}, map[string][]int{}, map[string][]int{}
	parents := map[*analytics.Region]string{}
	err = each(ctx, db, `SELECT code, name, name_en, parent_code, level FROM regions ORDER BY ord`, func(rows *sql.Rows) error {
		r := &analytics.Region{Memberships: []*analytics.Membership{}}
		var nameEn, parent, level sql.NullString
		if err := rows.Scan(&r.Code, &r.Name, &nameEn, &parent, &level); err != nil {
			return err
		}
		r.NameEn, r.Level = nullString(nameEn), nullString(level)
		if r.Level != nil && !slices.Contains(s.levels, *r.Level) {
			s.levels = append(s.levels, *r.Level)
		}
		parents[r] = parent.String
		s.regionAt[r.Code] = len(s.regions)
		s.regions = append(s.regions, r)
		s.regionBy[r.Code] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	byCode := make([]int32, len(s.regions))
	for i := range byCode {
		byCode[i] = int32(i)
	}
	slices.SortFunc(byCode, func(a, b int32) int { return strings.Compare(s.regions[a].Code, s.regions[b].Code) })
	s.codeOrder, s.byCode = make([]int32, len(s.regions)), make([]string, len(s.regions))
	for ord, r := range byCode {
		s.codeOrder[r] = int32(ord)
		s.byCode[ord] = s.regions[r].Code
	}
	for _, r := range s.regions {
		if p := s.regionBy[parents[r]]; p != nil {
			r.Parent = p
			p.Children = append(p.Children, r)
		}
	}
	err = each(ctx, db, `SELECT code, name, name_en FROM groups ORDER BY ord`, func(rows *sql.Rows) error {
		g := &analytics.Group{Memberships: []*analytics.Membership{}}
		var nameEn sql.NullString
		if err := rows.Scan(&g.Code, &g.Name, &nameEn); err != nil {
			return err
		}
		g.NameEn = nullString(nameEn)
		s.groups = append(s.groups, g)
		s.groupBy[g.Code] = g
		return nil
	})
	if err != nil {
		return nil, err
	}
	groupAt := map[*analytics.Group]int{}
	for i, g := range s.groups {
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
			m := &analytics.Membership{Group: s.groupBy[g], Region: s.regionBy[r], FromYear: nullInt(from), ToYear: nullInt(to)}
			m.Group.Memberships = append(m.Group.Memberships, m)
			m.Region.Memberships = append(m.Region.Memberships, m)
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, r := range s.regions {
		slices.SortStableFunc(r.Memberships, func(a, b *analytics.Membership) int { return cmp.Compare(groupAt[a.Group], groupAt[b.Group]) })
	}
	err = each(ctx, db, `SELECT i.code, i.name, i.name_en, i.unit, i.direction, i.measure, i.category, i.rollup, i.decimals, i.source, i.formula,
			(SELECT min(first_year) FROM series WHERE indicator = i.code), (SELECT max(last_year) FROM series WHERE indicator = i.code)
		FROM indicators i ORDER BY i.ord`, func(rows *sql.Rows) error {
		in := &analytics.Indicator{}
		var nameEn, category, source, formula sql.NullString
		var decimals, first, last sql.NullInt64
		var dir, measure, rollup string
		if err := rows.Scan(&in.Code, &in.Name, &nameEn, &in.Unit, &dir, &measure, &category, &rollup, &decimals, &source, &formula, &first, &last); err != nil {
			return err
		}
		in.NameEn, in.Category, in.Source, in.Formula = nullString(nameEn), nullString(category), nullString(source), nullString(formula)
		in.Decimals, in.FirstYear, in.LastYear = nullInt(decimals), nullInt(first), nullInt(last)
		in.Direction, in.Measure, in.Rollup = analytics.Direction(dir), analytics.Measure(measure), analytics.Rollup(rollup)
		s.indicatorAt[in.Code] = len(s.indicators)
		s.indicators = append(s.indicators, in)
		s.indicatorBy[in.Code] = in
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(ctx, db, `SELECT s.indicator, r.ord, s.own FROM series s JOIN regions r ON r.code = s.region ORDER BY s.indicator, r.ord`, func(rows *sql.Rows) error {
		var code string
		var r int
		var own bool
		if err := rows.Scan(&code, &r, &own); err != nil {
			return err
		}
		s.series[code] = append(s.series[code], r)
		if own {
			s.own[code] = append(s.own[code], r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(ctx, db, `SELECT DISTINCT CAST(vintage AS VARCHAR) FROM observations WHERE vintage IS NOT NULL ORDER BY 1`, func(rows *sql.Rows) error {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		s.vintages = append(s.vintages, analytics.Date(v))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.loadAssessment(ctx, db); err != nil {
		return nil, err
	}
	s.info.Regions, s.info.Groups, s.info.Indicators = len(s.regions), len(s.groups), len(s.indicators)
	s.info.Schemes, s.info.Targets = len(s.schemes), len(s.targets)
	s.info.Levels = len(s.levels)
	categories := map[string]bool{}
	for _, in := range s.indicators {
		if in.Category != nil {
			categories[*in.Category] = true
		}
	}
	s.info.Categories = len(categories)
	s.key = s.info.Version + "|" + s.info.ImportedAt.String()
	return s, nil
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

// queryer is a *sql.DB or, inside a transaction, a *sql.Conn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// each runs a query and calls fn for each row. A request already past its deadline does not start one:
// DuckDB only checks the context while a query runs, and a short query would otherwise still answer.
func each(ctx context.Context, db queryer, query string, fn func(*sql.Rows) error, args ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// cached returns the cached answer for key under the snapshot the request reads, or computes and keeps it.
// The key names the snapshot by its content version and import time, so an answer computed from one import
// is never served for another.
func cached[T any](e *Engine, s *snapshot, key string, compute func() (T, error)) (T, error) {
	if e.cache == nil {
		return compute()
	}
	key = s.key + "|" + key
	v, ok := e.cache.get(key)
	if e.obs != nil {
		e.obs.AnswerCache(ok)
	}
	if ok {
		return v.(T), nil
	}
	v, err, shared := e.cache.flight.Do(key, func() (any, error) {
		computed.Add(1)
		v, err := compute()
		if err == nil {
			e.cache.add(key, v)
		}
		return v, err
	})
	if err != nil && shared && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return compute() // the client whose request computed it has gone; this one has not
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

// computed counts the answers computed (not taken from the cache), for the test of identical requests.
var computed atomic.Int64

// dbError turns a failed query into what a client may see: TIMEOUT for a deadline, else INTERNAL. The
// DuckDB message (which quotes SQL) is kept for the server log only.
func dbError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Catalog lookups.

func (e *Engine) Dataset(ctx context.Context) (*analytics.DatasetInfo, error) {
	info := e.snap.Load().info
	return &info, nil
}

func (e *Engine) Regions(ctx context.Context, f analytics.RegionFilter) ([]*analytics.Region, error) {
	s := e.snap.Load()
	var group *analytics.Group
	var parent *analytics.Region
	var err error
	if f.Group != "" {
		if group, err = s.group(f.Group); err != nil {
			return nil, err
		}
	}
	if f.Parent != "" {
		if parent, err = s.region(f.Parent); err != nil {
			return nil, err
		}
	}
	if f.Level != "" {
		if err := s.checkLevel(f.Level); err != nil {
			return nil, err
		}
	}
	out := []*analytics.Region{}
	for _, r := range s.regions {
		if group != nil && !r.InGroup(group, nil) || parent != nil && r.Parent != parent ||
			f.Level != "" && (r.Level == nil || *r.Level != f.Level) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

func (e *Engine) Region(ctx context.Context, code string) (*analytics.Region, error) {
	return e.snap.Load().region(code)
}

func (e *Engine) Groups(ctx context.Context) ([]*analytics.Group, error) {
	return e.snap.Load().groups, nil
}

func (e *Engine) Group(ctx context.Context, code string) (*analytics.Group, error) {
	return e.snap.Load().group(code)
}

func (e *Engine) Indicators(ctx context.Context) ([]*analytics.Indicator, error) {
	return e.snap.Load().indicators, nil
}

func (e *Engine) Indicator(ctx context.Context, code string) (*analytics.Indicator, error) {
	return e.snap.Load().indicator(code)
}

func (s *snapshot) region(code string) (*analytics.Region, error) {
	if r := s.regionBy[code]; r != nil {
		return r, nil
	}
	return nil, unknown("region", code, "regions", len(s.regions), func(i int) string { return s.regions[i].Code })
}

func (s *snapshot) group(code string) (*analytics.Group, error) {
	if g := s.groupBy[code]; g != nil {
		return g, nil
	}
	return nil, unknown("group", code, "groups", len(s.groups), func(i int) string { return s.groups[i].Code })
}

func (s *snapshot) indicator(code string) (*analytics.Indicator, error) {
	if in := s.indicatorBy[code]; in != nil {
		return in, nil
	}
	return nil, unknown("indicator", code, "indicators", len(s.indicators), func(i int) string { return s.indicators[i].Code })
}

// unknown is the NOT_FOUND error for a code: it suggests the closest codes by edit distance and names the
// allowed ones, all of them when there are few, else how many there are and which query lists them.
func unknown(what, code, query string, n int, codeAt func(int) string) error {
	const most = 12
	const longest = 64 // longer codes are quoted cut, and get no suggestion (edit distance is quadratic)
	var close []string
	if len(code) <= longest {
		best := max(2, len(code)/3) + 1 // a suggestion is at most a third of the code away
		lower := strings.ToLower(code)
		for i := range n {
			c := codeAt(i)
			if abs(utf8.RuneCountInString(c)-utf8.RuneCountInString(code)) > best {
				continue // the distance is at least the difference in length
			}
			switch d := levenshtein.ComputeDistance(lower, strings.ToLower(c)); {
			case d < best:
				best, close = d, []string{c}
			case d == best && len(close) < 3:
				close = append(close, c)
			}
		}
	}
	msg := fmt.Sprintf("unknown %s %q", what, analytics.Cut(code))
	if len(close) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(quoteAll(close), " or "))
	}
	if n <= most {
		all := make([]string, n)
		for i := range n {
			all[i] = codeAt(i)
		}
		return analytics.Errorf(analytics.NotFound, "%s; the %s are %s", msg, plural(what), strings.Join(all, ", "))
	}
	return analytics.Errorf(analytics.NotFound, "%s; there are %d %s, listed by the %s query", msg, n, plural(what), query)
}

// plural is the plural of a noun of these messages: categories, regions, schemes.
func plural(noun string) string {
	if strings.HasSuffix(noun, "y") {
		return noun[:len(noun)-1] + "ies"
	}
	return noun + "s"
}

func abs(x int) int { return max(x, -x) }

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// MaxScopeRegions is the longest ad-hoc list of regions a scope may name.
const MaxScopeRegions = 10000

// scope resolves the scope a query names: a group, a parent or an ad-hoc list of regions (at most one),
// optionally narrowed to one level (not with a list, which names its regions itself).
func (s *snapshot) scope(q analytics.ScopeQuery) (*analytics.Scope, error) {
	given := 0
	for _, g := range []bool{q.Group != "", q.Parent != "", q.Regions != nil} {
		if g {
			given++
		}
	}
	if given > 1 {
		return nil, analytics.Errorf(analytics.BadUserInput, "give one of group, parent and regions: group ranks the members of a peer group, parent the children of a region, regions the regions listed")
	}
	sc := &analytics.Scope{Kind: analytics.ScopeAll}
	switch {
	case q.Group != "":
		g, err := s.group(q.Group)
		if err != nil {
			return nil, err
		}
		sc.Kind, sc.Group = analytics.ScopeGroup, g
	case q.Parent != "":
		p, err := s.region(q.Parent)
		if err != nil {
			return nil, err
		}
		sc.Kind, sc.Parent = analytics.ScopeParent, p
	case q.Regions != nil:
		if len(q.Regions) == 0 {
			return nil, analytics.Errorf(analytics.BadUserInput, "regions is empty: list the regions to compare, or leave regions out")
		}
		if len(q.Regions) > MaxScopeRegions {
			return nil, analytics.Errorf(analytics.BadUserInput, "regions lists %d regions; at most %d may be given", len(q.Regions), MaxScopeRegions)
		}
		if q.Level != "" {
			return nil, analytics.Errorf(analytics.BadUserInput, "give level or regions, not both: regions names the regions to compare itself")
		}
		seen := map[string]bool{}
		for _, c := range q.Regions {
			r, err := s.region(c)
			if err != nil {
				return nil, err
			}
			if seen[c] {
				return nil, analytics.Errorf(analytics.BadUserInput, "regions lists %q twice", c)
			}
			seen[c] = true
			sc.Regions = append(sc.Regions, r)
		}
		sc.Kind = analytics.ScopeRegions
	}
	if q.Level != "" {
		if err := s.checkLevel(q.Level); err != nil {
			return nil, err
		}
		sc.Level = &q.Level
	}
	return sc, nil
}

// checkLevel refuses a level no region of the dataset has, naming the ones there are.
func (s *snapshot) checkLevel(level string) error {
	switch {
	case slices.Contains(s.levels, level):
		return nil
	case len(s.levels) == 0:
		return analytics.Errorf(analytics.BadUserInput, "unknown level %q: this dataset gives its regions no level", analytics.Cut(level))
	}
	return analytics.Errorf(analytics.BadUserInput, "unknown level %q; the levels are %s", analytics.Cut(level), strings.Join(s.levels, ", "))
}

// members lists the positions of the regions of a scope in year, for the indicator, in dataset order. The
// scope ALL is every region with a value of its own in some year (not only a rollup of its children's, so a
// country's sum of its provinces does not rank among them); with a level, every region of that level with a
// value.
func (s *snapshot) members(sc *analytics.Scope, indicator string, year int) []int {
	var out []int
	keep := func(r *analytics.Region) {
		if sc.Level == nil || r.Level != nil && *r.Level == *sc.Level {
			out = append(out, s.regionAt[r.Code])
		}
	}
	switch sc.Kind {
	case analytics.ScopeGroup:
		for _, r := range sc.Group.Members(&year) {
			keep(r)
		}
	case analytics.ScopeParent:
		for _, r := range sc.Parent.Children {
			keep(r)
		}
	case analytics.ScopeRegions:
		for _, r := range sc.Regions {
			keep(r)
		}
	default:
		all := s.own[indicator]
		if sc.Level != nil {
			all = s.series[indicator]
		}
		for _, i := range all {
			keep(s.regions[i])
		}
	}
	return out
}

func checkYear(year int) error {
	if year < 1 || year > 9999 {
		return analytics.Errorf(analytics.BadUserInput, "year %d is out of range: give a year from 1 to 9999", year)
	}
	return nil
}
