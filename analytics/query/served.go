package query

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"pacesetter/analytics"
	"pacesetter/analytics/duck"
)

// Served is the engine a server answers with: an Engine over the snapshot file at a path, replaced whole
// by Reload when the file is replaced (an import writes a new file and renames it over the old one). Each
// request pins the engine it starts on (Pin), so one answer never mixes two datasets, and a replaced store
// is closed only once the last request pinned to it has finished.
type Served struct {
	path    string
	opt     Options
	mu      sync.Mutex // one Reload at a time
	cur     atomic.Pointer[servedEngine]
	bad     os.FileInfo    // the last file that failed to open: not retried until it changes (under mu)
	closing sync.WaitGroup // replaced stores waiting for their requests

	lastWarm atomic.Pointer[WarmResult] // the last reload's warm-up
}

// LastWarm is what the last reload's warm-up loaded, nil before the first reload that warmed.
func (s *Served) LastWarm() *WarmResult { return s.lastWarm.Load() }

// StartWarm, Warming and WarmAll are the current engine's (see Engine.WarmAll).
func (s *Served) StartWarm() { s.cur.Load().StartWarm() }

func (s *Served) Warming() bool { return s.cur.Load().Warming() }

func (s *Served) WarmAll(ctx context.Context) (WarmResult, error) { return s.cur.Load().WarmAll(ctx) }

type servedEngine struct {
	*Engine
	store *duck.Store
	file  os.FileInfo // the file as it was when opened
	refs  atomic.Int64
}

var _ analytics.Engine = (*Served)(nil)

// OpenServed opens the snapshot at path read-only, locks it down, and serves it.
func OpenServed(ctx context.Context, path string, opt Options) (*Served, error) {
	// One matrix cache and one answer cache for every snapshot served: during a reload the new snapshot's
	// warm-up and first requests push out the old one's least recently used values instead of adding to them.
	opt.caches = newCaches(opt)
	se, err := openServedEngine(ctx, path, opt, false)
	if err != nil {
		return nil, err
	}
	s := &Served{path: path, opt: opt}
	s.cur.Store(se)
	return s, nil
}

// openServedEngine opens the snapshot at path. DuckDB keeps one database instance per path in a process
// (its instance cache, which also sees through ./ and ../), so opening path again while the replaced
// snapshot is still open would hand back the old database. A reload (viaLink) therefore opens the new file
// through a hard link of its own beside it, removed once open (DuckDB holds the file by its descriptor;
// one left by a killed server is removed by the next import, as its name says).
func openServedEngine(ctx context.Context, path string, opt Options, viaLink bool) (*servedEngine, error) {
	open := path
	if viaLink {
		open = duck.TempName(path, "open")
		if err := os.Link(path, open); err != nil {
			return nil, fmt.Errorf("cannot open the new %s (a reload opens it through a link beside it, so the folder must be writable): %w", path, err)
		}
		defer os.Remove(open)
	}
	fi, err := os.Stat(open)
	if err != nil {
		return nil, fmt.Errorf("cannot serve %s: %w (create it with: pacesetter import --db %s DIR)", path, err, path)
	}
	store, err := duck.OpenReadOnly(open)
	if err != nil {
		err = errors.New(strings.ReplaceAll(err.Error(), open, path))
		if !strings.Contains(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return nil, err
	}
	if opt.DuckDBBytes > 0 {
		if err := store.SetMemoryLimit(ctx, opt.DuckDBBytes); err != nil {
			store.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := store.LockDown(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	e, err := NewEngine(ctx, store, opt)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &servedEngine{Engine: e, store: store, file: fi}, nil
}

// Path is the snapshot file served.
func (s *Served) Path() string { return s.path }

// Changed says whether the file at the path is another than the one served (or than the last one that
// failed to open): a poll for a replaced snapshot.
func (s *Served) Changed() bool {
	fi, err := os.Stat(s.path)
	if err != nil {
		return false // gone or unreadable: keep serving what is open, and say so when asked to reload
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !sameFile(fi, s.cur.Load().file) && (s.bad == nil || !sameFile(fi, s.bad))
}

func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}

// Reload opens the file at the path and, if it opens and holds a dataset, serves it from now on in place of
// the current one, which is closed once its requests finish. On any error the current snapshot stays.
// It returns the dataset now served.
func (s *Served) Reload(ctx context.Context) (*analytics.DatasetInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := openServedEngine(ctx, s.path, s.opt, true)
	if err != nil {
		if fi, serr := os.Stat(s.path); serr == nil {
			s.bad = fi
		}
		return nil, err
	}
	s.bad = nil
	// Warmed before it switches: the indicators the old snapshot served most recently are loaded from the
	// new one, so that the first requests after the switch do not each pay their load. A warm-up that fails
	// (a deadline) only leaves the rest to the requests.
	if codes, sizes := s.cur.Load().Hottest(); len(codes) > 0 {
		res, _ := next.Warm(ctx, codes, sizes)
		s.lastWarm.Store(&res)
	}
	old := s.cur.Swap(next)
	s.closing.Add(1)
	go func() {
		defer s.closing.Done()
		// Pin takes a reference and then checks the engine is still current, so once the swap is done a
		// count at zero stays at zero for good.
		for old.refs.Load() > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		old.loads.Wait()
		// What it kept goes with it, unless the snapshot served now is the same one reopened (the same key:
		// its values are those kept).
		if key := old.snap.Load().Key; s.opt.caches != nil && key != s.cur.Load().snap.Load().Key {
			s.opt.caches.drop(key + "|")
		}
		old.store.Close()
	}()
	return next.Dataset(ctx)
}

type pinKey struct{}

// Pin returns ctx carrying the engine served now, for a request's whole life, and the function to call when
// the request is done.
func (s *Served) Pin(ctx context.Context) (context.Context, func()) {
	for {
		se := s.cur.Load()
		se.refs.Add(1)
		if s.cur.Load() == se {
			var once sync.Once
			return context.WithValue(ctx, pinKey{}, se), func() { once.Do(func() { se.refs.Add(-1) }) }
		}
		se.refs.Add(-1) // replaced meanwhile: take the new one
	}
}

// Close closes the store served, after those replaced before it; requests must have finished.
func (s *Served) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing.Wait()
	return s.cur.Load().store.Close()
}

// at is the engine of the request (pinned), or the current one.
func (s *Served) at(ctx context.Context) *Engine {
	if se, ok := ctx.Value(pinKey{}).(*servedEngine); ok {
		return se.Engine
	}
	return s.cur.Load().Engine
}

func (s *Served) Dataset(ctx context.Context) (*analytics.DatasetInfo, error) {
	return s.at(ctx).Dataset(ctx)
}

func (s *Served) Regions(ctx context.Context, f analytics.RegionFilter) ([]*analytics.Region, error) {
	return s.at(ctx).Regions(ctx, f)
}

func (s *Served) Region(ctx context.Context, code string) (*analytics.Region, error) {
	return s.at(ctx).Region(ctx, code)
}

func (s *Served) Groups(ctx context.Context) ([]*analytics.Group, error) {
	return s.at(ctx).Groups(ctx)
}

func (s *Served) Group(ctx context.Context, code string) (*analytics.Group, error) {
	return s.at(ctx).Group(ctx, code)
}

func (s *Served) Indicators(ctx context.Context) ([]*analytics.Indicator, error) {
	return s.at(ctx).Indicators(ctx)
}

func (s *Served) Indicator(ctx context.Context, code string) (*analytics.Indicator, error) {
	return s.at(ctx).Indicator(ctx, code)
}

func (s *Served) Observations(ctx context.Context, q analytics.ObservationQuery) (*analytics.ObservationPage, error) {
	return s.at(ctx).Observations(ctx, q)
}

func (s *Served) Ranking(ctx context.Context, q analytics.RankingQuery) (*analytics.Ranking, error) {
	return s.at(ctx).Ranking(ctx, q)
}

func (s *Served) Standings(ctx context.Context, q analytics.StandingsQuery) (*analytics.Standings, error) {
	return s.at(ctx).Standings(ctx, q)
}

func (s *Served) Trend(ctx context.Context, q analytics.TrendQuery) (*analytics.Trend, error) {
	return s.at(ctx).Trend(ctx, q)
}

func (s *Served) Compare(ctx context.Context, q analytics.CompareQuery) (*analytics.Comparison, error) {
	return s.at(ctx).Compare(ctx, q)
}

func (s *Served) WeightedMean(ctx context.Context, rk *analytics.Ranking, weight string) (*float64, error) {
	return s.at(ctx).WeightedMean(ctx, rk, weight)
}

func (s *Served) Search(ctx context.Context, q analytics.SearchQuery) ([]*analytics.SearchHit, error) {
	return s.at(ctx).Search(ctx, q)
}

func (s *Served) Aggregate(ctx context.Context, q analytics.AggregateQuery) (*analytics.Aggregate, error) {
	return s.at(ctx).Aggregate(ctx, q)
}

func (s *Served) Pivot(ctx context.Context, q analytics.PivotQuery) (*analytics.Pivot, error) {
	return s.at(ctx).Pivot(ctx, q)
}

func (s *Served) ValueSources(ctx context.Context, keys []analytics.ValueKey) ([]*analytics.BaselineSource, error) {
	return s.at(ctx).ValueSources(ctx, keys)
}

func (s *Served) Values(ctx context.Context, keys []analytics.ValueKey) ([]*float64, error) {
	return s.at(ctx).Values(ctx, keys)
}

func (s *Served) Ranks(ctx context.Context, keys []analytics.RankKey) ([]*int, error) {
	return s.at(ctx).Ranks(ctx, keys)
}

func (s *Served) Schemes(ctx context.Context) ([]*analytics.Scheme, error) {
	return s.at(ctx).Schemes(ctx)
}

func (s *Served) Scheme(ctx context.Context, code string) (*analytics.Scheme, error) {
	return s.at(ctx).Scheme(ctx, code)
}

func (s *Served) Targets(ctx context.Context, q analytics.TargetQuery) ([]*analytics.TargetResult, error) {
	return s.at(ctx).Targets(ctx, q)
}

func (s *Served) Composite(ctx context.Context, q analytics.CompositeQuery) (*analytics.Composite, error) {
	return s.at(ctx).Composite(ctx, q)
}

func (s *Served) Robustness(ctx context.Context, q analytics.RobustnessQuery) (*analytics.Robustness, error) {
	return s.at(ctx).Robustness(ctx, q)
}

func (s *Served) CompositeHistory(ctx context.Context, q analytics.CompositeHistoryQuery) (*analytics.CompositeHistory, error) {
	return s.at(ctx).CompositeHistory(ctx, q)
}

func (s *Served) Threshold(ctx context.Context, q analytics.ThresholdQuery) (*analytics.Threshold, error) {
	return s.at(ctx).Threshold(ctx, q)
}
