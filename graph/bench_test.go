package graph

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
)

// BenchmarkRanking times one ranking through the whole API beside the same ranking as plain SQL on the
// same DuckDB store, so that the cost of the API layer (GraphQL parsing, field resolution, JSON) can be
// read off as a ratio; the aim is api ≤ 1.5 × sql. Variants, for each dataset and scope:
//
//	sql         duck.RankSQL run on the store's *sql.DB, every row scanned into Go values as the engine does
//	api         the query POSTed to NewHandler (handler.ServeHTTP with an httptest.ResponseRecorder, no
//	            TCP), with the engine's answer cache and the handler's response cache off: each iteration
//	            runs the same SQL plus the engine, GraphQL and JSON
//	api-cached  the same with the serving defaults (duck.DefaultOptions, DefaultOptions): after the first
//	            request the whole answer comes from the response cache
//
// Sub-benchmarks are named set=…/scope=…/via=…, so that benchstat can set the variants side by side and
// give api and api-cached as a change from sql:
//
//	go test -run '^$' -bench BenchmarkRanking -benchmem -count 10 ./graph/ > bench.txt
//	benchstat -col /via bench.txt
func BenchmarkRanking(b *testing.B) {
	cases := []struct {
		set, scope string
		store      func() (*duck.Store, error)
		indicator  string
		year       int
		group      string
	}{
		{"worldbank", "all", benchWorldBank, "NY.GDP.MKTP.CD", 2020, ""},
		{"worldbank", "Europe", benchWorldBank, "NY.GDP.MKTP.CD", 2020, "Europe"},
		{"synthetic", "all", benchSynthetic, "I003", 2010, ""},
		{"synthetic", "G01", benchSynthetic, "I003", 2010, "G01"},
	}
	for _, c := range cases {
		b.Run("set="+c.set+"/scope="+c.scope, func(b *testing.B) {
			store, err := c.store()
			if err != nil {
				b.Fatal(err)
			}
			kind := analytics.ScopeAll
			if c.group != "" {
				kind = analytics.ScopeGroup
			}
			q, args := duck.RankSQL(kind, c.year, c.group, false, c.indicator)
			want, err := benchScanRanking(store.DB(), q, args)
			if err != nil {
				b.Fatal(err)
			}
			ranked := 0
			for _, r := range want {
				if r.ranked {
					ranked++
				}
			}
			if ranked == 0 {
				b.Fatalf("nothing ranked for %s in %d", c.indicator, c.year)
			}

			b.Run("via=sql", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := benchScanRanking(store.DB(), q, args); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(ranked), "entries") // after the loop: ResetTimer drops reported metrics
			})

			vars := map[string]any{"i": c.indicator, "y": c.year, "t": "COMPETITION"}
			if c.group != "" {
				vars["g"] = c.group
			}
			body, err := json.Marshal(map[string]any{"query": benchRankingQuery, "variables": vars})
			if err != nil {
				b.Fatal(err)
			}
			cold := DefaultOptions
			cold.ResponseCache = 0
			for _, v := range []struct {
				name string
				opt  duck.Options
				gopt Options
			}{{"api", duck.Options{CacheEntries: 0}, cold}, {"api-cached", duck.DefaultOptions, DefaultOptions}} {
				b.Run("via="+v.name, func(b *testing.B) {
					engine, err := duck.NewEngine(context.Background(), store, v.opt)
					if err != nil {
						b.Fatal(err)
					}
					h := NewHandler(engine, v.gopt)
					benchCheckRanking(b, benchServe(h, body), want)
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						if rec := benchServe(h, body); rec.Code != http.StatusOK {
							b.Fatalf("status %d: %s", rec.Code, rec.Body)
						}
					}
					b.ReportMetric(float64(ranked), "entries")
				})
			}
		})
	}
}

// benchRankingQuery is the query of the issue.
const benchRankingQuery = `query($i: ID!, $y: Int!, $g: ID, $t: TieRule) { ranking(indicator: $i, year: $y, group: $g, ties: $t) { entries { region { code name } value rank percentile } missing { code } } }`

// The benchmark stores are loaded once per test binary, on first use, and never closed.
var (
	benchWorldBank = sync.OnceValues(func() (*duck.Store, error) {
		d, err := dataset.Read(worldBank())
		if err != nil {
			return nil, err
		}
		return benchImport(d)
	})
	benchSynthetic = sync.OnceValues(func() (*duck.Store, error) {
		return benchImport(dataset.Synthetic(1, 3000, 50, 20))
	})
)

func benchImport(d *dataset.Dataset) (*duck.Store, error) {
	store, err := duck.Open("")
	if err != nil {
		return nil, err
	}
	if _, err := store.Import(context.Background(), d, "bench"); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// benchRow is one row of the ranking SQL, scanned as the engine scans it.
type benchRow struct {
	indicator, region  string
	ranked             bool
	v                  float64
	rankC, rankD, n    int
	mean, median, lead float64
	prevC, prevD       sql.NullInt64
}

// benchScanRanking runs the ranking SQL and scans every row into Go values, as the engine's rankRows does.
func benchScanRanking(db *sql.DB, q string, args []any) ([]benchRow, error) {
	rows, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []benchRow
	for rows.Next() {
		var r benchRow
		var v, mean, median, lead sql.NullFloat64
		var rc, rd, n sql.NullInt64
		if err := rows.Scan(&r.indicator, &r.region, &v, &rc, &rd, &n, &mean, &median, &lead, &r.prevC, &r.prevD); err != nil {
			return nil, err
		}
		r.ranked = v.Valid
		r.v, r.rankC, r.rankD, r.n = v.Float64, int(rc.Int64), int(rd.Int64), int(n.Int64)
		r.mean, r.median, r.lead = mean.Float64, median.Float64, lead.Float64
		out = append(out, r)
	}
	return out, rows.Err()
}

// benchServe POSTs body to the handler in process, without TCP.
func benchServe(h http.Handler, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// benchCheckRanking fails unless the API answered with the rows of the SQL: the same ranked regions,
// values and ranks in the same order, and the same missing regions, so both variants do equal work.
func benchCheckRanking(tb testing.TB, rec *httptest.ResponseRecorder, want []benchRow) {
	tb.Helper()
	var res struct {
		Data struct {
			Ranking struct {
				Entries []struct {
					Region struct{ Code, Name string }
					Value  float64
					Rank   int
				}
				Missing []struct{ Code string }
			}
		}
		Errors []gqlError
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || rec.Code != http.StatusOK || len(res.Errors) > 0 {
		tb.Fatalf("status %d, %v: %s", rec.Code, err, rec.Body)
	}
	got := res.Data.Ranking
	var ranked, missing []benchRow
	for _, r := range want {
		if r.ranked {
			ranked = append(ranked, r)
		} else {
			missing = append(missing, r)
		}
	}
	if len(got.Entries) != len(ranked) || len(got.Missing) != len(missing) {
		tb.Fatalf("API: %d entries and %d missing; SQL: %d ranked and %d missing",
			len(got.Entries), len(got.Missing), len(ranked), len(missing))
	}
	for i, e := range got.Entries {
		if r := ranked[i]; e.Region.Code != r.region || e.Value != r.v || e.Rank != r.rankC {
			tb.Fatalf("entry %d: API %s %v rank %d, SQL %s %v rank %d", i, e.Region.Code, e.Value, e.Rank, r.region, r.v, r.rankC)
		}
	}
	for i, m := range got.Missing {
		if m.Code != missing[i].region {
			tb.Fatalf("missing %d: API %s, SQL %s", i, m.Code, missing[i].region)
		}
	}
}
