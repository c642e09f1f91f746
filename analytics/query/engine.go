package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"

	"pacesetter/analytics"
	"pacesetter/analytics/duck"
)

// Engine answers analytics queries over a Store. The catalog (regions, groups, indicators) is small and
// read on every request, so it is held in memory as an immutable snapshot; observations stay in DuckDB.
// Answers are cached by request, keyed by the dataset version, so an import invalidates them by itself.
type Engine struct {
	store       *duck.Store
	reader      *duck.Reader // runs this engine's statements, told to obs
	snap        atomic.Pointer[snapshot]
	warming     atomic.Bool  // the warm-up at start is under way (warm.go)
	cache       *answerCache // nil: no cache
	matrixCache *matrixCache
	obs         Observer // nil: none
	// loads counts the loads of values under way, which may outlive the request that started them: a
	// closing snapshot waits for them before it lets its matrices go.
	loads sync.WaitGroup
}

// snapshot is the catalog duck read, with the look-ups that check a request against it (unknown codes,
// levels, categories) and resolve its scope.
type snapshot struct {
	*duck.Catalog
	// windows holds, by indicator code, the one window of periods loaded of an indicator before its whole
	// matrix (matricesWindow); a copy with extra targets (withTargets) shares it.
	windows *sync.Map
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
	// DuckDBBytes is DuckDB's memory_limit for each snapshot OpenServed opens (0: DuckDB's own default,
	// 80% of the machine's memory).
	DuckDBBytes int64
	// Observer, if not nil, is told of each statement the engine runs and each look-up in its answer cache:
	// graph's metrics and traces, kept out of this package so that it needs neither library.
	Observer Observer
	// caches, when set (by OpenServed), are the matrix and answer caches every snapshot a Served opens
	// shares: one budget across the two snapshots held during a reload, not one each.
	caches *caches
}

// caches are the caches bounded by Options' bytes, shared by the engines of one Served.
type caches struct {
	matrices *matrixCache
	answers  *answerCache // nil: no answer cache
}

func newCaches(opt Options) *caches {
	if opt.MatrixBytes <= 0 {
		opt.MatrixBytes = 512 << 20
	}
	c := &caches{matrices: newMatrixCache(opt.MatrixBytes)}
	if opt.CacheEntries > 0 {
		if opt.CacheBytes <= 0 {
			opt.CacheBytes = 64 << 20
		}
		c.answers = newAnswerCache(opt.CacheEntries, opt.CacheBytes)
	}
	return c
}

// drop releases what a snapshot keeps (its keys start with prefix): it is closed.
func (c *caches) drop(prefix string) {
	c.matrices.drop(prefix)
	if c.answers != nil {
		c.answers.drop(prefix)
	}
}

// Observer measures the engine from outside.
type Observer interface {
	// Statement is called as a statement starts, with its SQL; it returns the context to run it under (a
	// span, say) and the function to call when it has ended.
	Statement(ctx context.Context, sql string) (context.Context, func(err error))
	// AnswerCache is called on each look-up in the answer cache.
	AnswerCache(hit bool)
}

// DefaultOptions are the serving defaults.
var DefaultOptions = Options{CacheEntries: 4096, CacheBytes: 64 << 20}

// NewEngine reads the store's catalog and returns an engine over it.
func NewEngine(ctx context.Context, s *duck.Store, opt Options) (*Engine, error) {
	c := opt.caches
	if c == nil {
		c = newCaches(opt)
	}
	e := &Engine{store: s, reader: duck.NewReader(s, opt.Observer), matrixCache: c.matrices, cache: c.answers, obs: opt.Observer}
	if err := e.Refresh(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// Refresh rereads the catalog after an import into the same store.
func (e *Engine) Refresh(ctx context.Context) error {
	cat, err := duck.ReadCatalog(ctx, e.store)
	if err != nil {
		return fmt.Errorf("read catalog: %w", err)
	}
	e.snap.Store(&snapshot{Catalog: cat, windows: &sync.Map{}})
	return nil
}

// cached returns the cached answer for key under the snapshot the request reads, or computes and keeps it.
// The key names the snapshot by its content version and import time, so an answer computed from one import
// is never served for another. A request without a key ("", see keyOf) is computed and not kept.
func cached[T any](e *Engine, s *snapshot, key string, compute func() (T, error)) (T, error) {
	if e.cache == nil || key == "" {
		return compute()
	}
	key = s.Key + "|" + key
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

// Catalog lookups.

func (e *Engine) Dataset(ctx context.Context) (*analytics.DatasetInfo, error) {
	info := e.snap.Load().Info
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
	for _, r := range s.Regions {
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
	return e.snap.Load().Groups, nil
}

func (e *Engine) Group(ctx context.Context, code string) (*analytics.Group, error) {
	return e.snap.Load().group(code)
}

func (e *Engine) Indicators(ctx context.Context) ([]*analytics.Indicator, error) {
	return e.snap.Load().Indicators, nil
}

func (e *Engine) Indicator(ctx context.Context, code string) (*analytics.Indicator, error) {
	return e.snap.Load().indicator(code)
}

func (s *snapshot) region(code string) (*analytics.Region, error) {
	if r := s.RegionBy[code]; r != nil {
		return r, nil
	}
	return nil, unknownNamed("region", code, "regions", s.things([]analytics.SearchKind{analytics.SearchRegion}))
}

func (s *snapshot) group(code string) (*analytics.Group, error) {
	if g := s.GroupBy[code]; g != nil {
		return g, nil
	}
	return nil, unknownNamed("group", code, "groups", s.things([]analytics.SearchKind{analytics.SearchGroup}))
}

func (s *snapshot) indicator(code string) (*analytics.Indicator, error) {
	if in := s.IndicatorBy[code]; in != nil {
		return in, nil
	}
	return nil, unknownNamed("indicator", code, "indicators", s.things([]analytics.SearchKind{analytics.SearchIndicator}))
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
	case slices.Contains(s.Levels, level):
		return nil
	case len(s.Levels) == 0:
		return analytics.Errorf(analytics.BadUserInput, "unknown level %q: this dataset gives its regions no level", analytics.Cut(level))
	}
	return analytics.Errorf(analytics.BadUserInput, "unknown level %q; the levels are %s", analytics.Cut(level), strings.Join(s.Levels, ", "))
}

// members lists the positions of the regions of a scope in year, for the indicator, in dataset order. The
// scope ALL is every region with a value of its own in some year (not only a rollup of its children's, so a
// country's sum of its provinces does not rank among them) none of whose children has one (so neither does
// the country's own national figure: duck.Catalog.ScopeAll); with a level, every region of that level with a
// value.
func (s *snapshot) members(sc *analytics.Scope, indicator string, year int) []int {
	var out []int
	keep := func(r *analytics.Region) {
		if sc.Level == nil || r.Level != nil && *r.Level == *sc.Level {
			out = append(out, s.RegionAt[r.Code])
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
		all := s.All[indicator]
		if sc.Level != nil {
			all = s.Series[indicator]
		}
		if s.IndicatorBy[indicator] == nil {
			all = s.formulaSeries(indicator, sc.Level == nil)
		}
		// Positions already: no look-up of each region's code (a composite history asks for every indicator
		// in every year).
		out = make([]int, 0, len(all))
		for _, i := range all {
			if r := s.Regions[i]; sc.Level == nil || r.Level != nil && *r.Level == *sc.Level {
				out = append(out, i)
			}
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
