package duck

import (
	"cmp"
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

//go:embed rank.sql
var rankSQL string

// scopeSQL holds the only fragments ever spliced into rank.sql, one per scope kind. Each yields the
// (indicator, year, region) triples of the scope and references $2, the group or parent code.
var scopeSQL = map[analytics.ScopeKind]string{
	analytics.ScopeAll: `SELECT s.indicator, y.year, s.region FROM series s JOIN ind i ON i.indicator = s.indicator
		CROSS JOIN years y WHERE $2 = ''`,
	analytics.ScopeGroup: `SELECT i.indicator, y.year, m.region_code AS region FROM memberships m CROSS JOIN years y CROSS JOIN ind i
		WHERE m.group_code = $2 AND (m.from_year IS NULL OR m.from_year <= y.year) AND (m.to_year IS NULL OR m.to_year >= y.year)`,
	analytics.ScopeParent: `SELECT i.indicator, y.year, r.code AS region FROM regions r CROSS JOIN years y CROSS JOIN ind i
		WHERE r.parent_code = $2`,
}

// rankQueries is rank.sql with each scope fragment in place, built once.
var rankQueries = func() map[analytics.ScopeKind]string {
	m := map[analytics.ScopeKind]string{}
	for k, frag := range scopeSQL {
		m[k] = strings.Replace(rankSQL, "/*SCOPE*/", frag, 1)
	}
	return m
}()

// RankRow is one row of rank.sql; Ranked is false for a region of the scope without a value.
type RankRow struct {
	Indicator, Region  string
	Ranked             bool
	V                  float64
	RankC, RankD, N    int
	Mean, Median, Lead float64
	PrevC, PrevD       sql.NullInt64
}

// RankRows runs the ranking query (rank.sql with the scope's fragment) and scans every row: the plain-SQL
// part of a ranking, without the engine's shaping and cache. Engine.Ranking and Standings build on it, and
// the benchmark times it alone as the API's baseline.
func (s *Store) RankRows(ctx context.Context, kind analytics.ScopeKind, year int, scopeCode string, growth bool, indicator string) ([]RankRow, error) {
	var out []RankRow
	err := each(ctx, s.db, rankQueries[kind], func(rows *sql.Rows) error {
		var r RankRow
		var v, mean, median, lead sql.NullFloat64
		var rc, rd, n sql.NullInt64
		if err := rows.Scan(&r.Indicator, &r.Region, &v, &rc, &rd, &n, &mean, &median, &lead, &r.PrevC, &r.PrevD); err != nil {
			return err
		}
		r.Ranked = v.Valid
		r.V, r.RankC, r.RankD, r.N = v.Float64, int(rc.Int64), int(rd.Int64), int(n.Int64)
		r.Mean, r.Median, r.Lead = mean.Float64, median.Float64, lead.Float64
		out = append(out, r)
		return nil
	}, year, scopeCode, growth, indicator)
	return out, err
}

func (r *RankRow) rank(t analytics.TieRule) int {
	if t == analytics.Dense {
		return r.RankD
	}
	return r.RankC
}

func (r *RankRow) previous(t analytics.TieRule) *int {
	p := r.PrevC
	if t == analytics.Dense {
		p = r.PrevD
	}
	if !p.Valid {
		return nil
	}
	v := int(p.Int64)
	return &v
}

func scopeCode(s *analytics.Scope) string {
	switch s.Kind {
	case analytics.ScopeGroup:
		return s.Group.Code
	case analytics.ScopeParent:
		return s.Parent.Code
	}
	return ""
}

func (e *Engine) rankRows(ctx context.Context, scope *analytics.Scope, year int, basis analytics.RankBasis, indicator string) ([]RankRow, error) {
	rows, err := e.store.RankRows(ctx, scope.Kind, year, scopeCode(scope), basis == analytics.ByGrowth, indicator)
	if err != nil {
		return nil, dbError(ctx, "rank", err)
	}
	return rows, nil
}

func defaults(t analytics.TieRule, b analytics.RankBasis) (analytics.TieRule, analytics.RankBasis) {
	if t == "" {
		t = analytics.Competition
	}
	if b == "" {
		b = analytics.ByValue
	}
	return t, b
}

// Ranking ranks the regions of a scope on one indicator in one year.
func (e *Engine) Ranking(ctx context.Context, q analytics.RankingQuery) (*analytics.Ranking, error) {
	s := e.snap.Load()
	in, err := s.indicator(q.Indicator)
	if err != nil {
		return nil, err
	}
	if err := checkYear(q.Year); err != nil {
		return nil, err
	}
	scope, err := s.scope(q.Group, q.Parent)
	if err != nil {
		return nil, err
	}
	q.Ties, q.Basis = defaults(q.Ties, q.Basis)
	return cached(e, s, fmt.Sprintf("ranking|%q|%d|%q|%q|%s|%s", q.Indicator, q.Year, q.Group, q.Parent, q.Ties, q.Basis), func() (*analytics.Ranking, error) {
		rows, err := e.rankRows(ctx, scope, q.Year, q.Basis, in.Code)
		if err != nil {
			return nil, err
		}
		rk := &analytics.Ranking{Indicator: in, Year: q.Year, Scope: scope, Ties: q.Ties, Basis: q.Basis,
			Entries: []*analytics.RankingEntry{}, Missing: []*analytics.Region{}}
		for i := range rows {
			r := &rows[i]
			region := s.regionBy[r.Region]
			if !r.Ranked {
				rk.Missing = append(rk.Missing, region)
				continue
			}
			if rk.Leader == nil { // rows come best first
				rk.Leader, rk.Count = region, r.N
				rk.Mean, rk.Median = &r.Mean, &r.Median
			}
			ent := &analytics.RankingEntry{Region: region, Value: r.V, Rank: r.rank(q.Ties),
				Percentile: calc.Percentile(r.N, r.RankC), PreviousRank: r.previous(q.Ties),
				GapToLeader: in.Sign()*r.Lead - in.Sign()*r.V /* x − x is +0, never −0 */, VsMean: r.V - r.Mean, VsMedian: r.V - r.Median}
			if ent.PreviousRank != nil {
				d := *ent.PreviousRank - ent.Rank
				ent.RankChange = &d
			}
			rk.Entries = append(rk.Entries, ent)
		}
		return rk, nil
	})
}

// Standings places one region on every indicator ranked in its scope in one year.
func (e *Engine) Standings(ctx context.Context, q analytics.StandingsQuery) (*analytics.Standings, error) {
	s := e.snap.Load()
	region, err := s.region(q.Region)
	if err != nil {
		return nil, err
	}
	if err := checkYear(q.Year); err != nil {
		return nil, err
	}
	if q.Top < 1 {
		return nil, analytics.Errorf(analytics.BadUserInput, "top must be at least 1, got %d", q.Top)
	}
	scope, err := s.scope(q.Group, q.Parent)
	if err != nil {
		return nil, err
	}
	q.Ties, q.Basis = defaults(q.Ties, q.Basis)
	return cached(e, s, fmt.Sprintf("standings|%q|%d|%q|%q|%d|%s|%s", q.Region, q.Year, q.Group, q.Parent, q.Top, q.Ties, q.Basis), func() (*analytics.Standings, error) {
		rows, err := e.rankRows(ctx, scope, q.Year, q.Basis, "")
		if err != nil {
			return nil, err
		}
		// Rows come by indicator code; answers list indicators in dataset order.
		slices.SortStableFunc(rows, func(a, b RankRow) int { return cmp.Compare(s.indicatorAt[a.Indicator], s.indicatorAt[b.Indicator]) })
		st := &analytics.Standings{Region: region, Year: q.Year, Scope: scope, Top: q.Top, Ties: q.Ties, Basis: q.Basis,
			Entries: []*analytics.StandingEntry{}, Entered: []*analytics.Indicator{}, Left: []*analytics.Indicator{},
			Missing: []*analytics.Indicator{}}
		// Movements are only judged on indicators ranked in the scope in both years: an indicator first
		// published this year has nobody entering its top.
		rankedNow, rankedBefore := map[string]bool{}, map[string]bool{}
		for i := range rows {
			rankedNow[rows[i].Indicator] = rankedNow[rows[i].Indicator] || rows[i].Ranked
			rankedBefore[rows[i].Indicator] = rankedBefore[rows[i].Indicator] || rows[i].PrevC.Valid
		}
		inScope := false
		for i := range rows {
			r := &rows[i]
			if r.Region != region.Code {
				continue
			}
			inScope = true
			in := s.indicatorBy[r.Indicator]
			prev := r.previous(q.Ties)
			wasTop := prev != nil && *prev <= q.Top
			if !r.Ranked {
				if rankedNow[r.Indicator] {
					st.Missing = append(st.Missing, in)
					if wasTop {
						st.Left = append(st.Left, in)
					}
				}
				continue
			}
			ent := &analytics.StandingEntry{Indicator: in, Value: r.V, Rank: r.rank(q.Ties), Count: r.N,
				Percentile: calc.Percentile(r.N, r.RankC), PreviousRank: prev}
			ent.InTop = ent.Rank <= q.Top
			st.Ranked++
			if ent.InTop {
				st.InTop++
			}
			if ent.Rank == 1 {
				st.First++
			}
			if prev != nil {
				d := *prev - ent.Rank
				ent.RankChange = &d
			}
			if ent.InTop && !wasTop && rankedBefore[r.Indicator] {
				st.Entered = append(st.Entered, in)
			}
			if wasTop && !ent.InTop {
				st.Left = append(st.Left, in)
			}
			st.Entries = append(st.Entries, ent)
		}
		if !inScope {
			return nil, analytics.Errorf(analytics.BadUserInput, "region %q is not in the scope (%s) in %d", region.Code, describeScope(scope), q.Year)
		}
		return st, nil
	})
}

func describeScope(s *analytics.Scope) string {
	switch s.Kind {
	case analytics.ScopeGroup:
		return "members of group " + s.Group.Code
	case analytics.ScopeParent:
		return "children of region " + s.Parent.Code
	}
	return "regions with a value of some indicator"
}
