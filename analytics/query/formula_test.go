package query

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
	"pacesetter/data"
)

// A formula given at query time must answer exactly what the same formula imported through derived.csv
// answers: the import computes the stored indicator in analytics/dataset (derive.go), the query computes
// the formula over the operands' matrices here, so the two are independent computations of the same rule.
// Compared value for value (and flag for flag, but for derived ↔ computed) through every query that takes
// a formula, on the embedded NBS data and on generated data at several sizes.

// sameFlags compares flag letters, the import's "derived" and the query's "computed" aside.
func sameFlags(imported, computed []string) bool {
	a := slices.DeleteFunc(slices.Clone(imported), func(s string) bool { return s == "derived" })
	b := slices.DeleteFunc(slices.Clone(computed), func(s string) bool { return s == "derived" })
	if !slices.Contains(b, "computed") {
		return false
	}
	b = slices.DeleteFunc(b, func(s string) bool { return s == "computed" })
	return slices.Equal(a, b)
}

// compareFormula checks formula against the stored derived indicator code on e over the years given.
func compareFormula(t *testing.T, e *Engine, code string, f *analytics.Formula, years []int, scopes []analytics.ScopeQuery, trendRegions []string) {
	t.Helper()
	ctx := context.Background()
	text := f.Text
	compared := 0
	for _, y := range years {
		for _, sq := range scopes {
			want, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: code, Year: &y, ScopeQuery: sq})
			if err != nil {
				t.Fatalf("ranking %s %d %+v: %v", code, y, sq, err)
			}
			got, err := e.Ranking(ctx, analytics.RankingQuery{Formula: f, Year: &y, ScopeQuery: sq})
			if err != nil {
				t.Fatalf("ranking formula %d %+v: %v", y, sq, err)
			}
			if got.Indicator.Code != strings.Join(strings.Fields(text), " ") || got.Count != want.Count || len(got.Missing) != len(want.Missing) {
				t.Fatalf("%d %+v: formula %q ranks %d (%d missing), %s ranks %d (%d missing)", y, sq, got.Indicator.Code, got.Count, len(got.Missing), code, want.Count, len(want.Missing))
			}
			for i, w := range want.Entries {
				g := got.Entries[i]
				if g.Region.Code != w.Region.Code || g.Value != w.Value || g.Rank != w.Rank || !sameFlags(w.Flags, g.Flags) ||
					!eqPtr(g.PreviousRank, w.PreviousRank) {
					t.Fatalf("%d %+v entry %d: formula %s %v rank %d flags %v, %s %s %v rank %d flags %v", y, sq, i,
						g.Region.Code, g.Value, g.Rank, g.Flags, code, w.Region.Code, w.Value, w.Rank, w.Flags)
				}
				compared++
			}
			if !eqPtr(got.Mean, want.Mean) || !eqPtr(got.Median, want.Median) {
				t.Fatalf("%d %+v: mean/median differ", y, sq)
			}
		}
	}
	for _, r := range trendRegions {
		want, err := e.Trend(ctx, analytics.TrendQuery{Region: r, Indicator: code})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Trend(ctx, analytics.TrendQuery{Region: r, Formula: f})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Points) != len(want.Points) || !eqPtr(got.Cagr, want.Cagr) {
			t.Fatalf("trend %s: %d points cagr %v, want %d points cagr %v", r, len(got.Points), got.Cagr, len(want.Points), want.Cagr)
		}
		for i, w := range want.Points {
			g := got.Points[i]
			if g.Year != w.Year || g.Value != w.Value || !eqPtr(g.Yoy, w.Yoy) || !eqPtr(g.BestEver, w.BestEver) || g.Streak != w.Streak || !sameFlags(w.Flags, g.Flags) {
				t.Fatalf("trend %s point %d: %+v, want %+v", r, i, g, w)
			}
			compared++
		}
	}
	if compared == 0 {
		t.Fatal("nothing compared")
	}
	t.Logf("%d values compared", compared)
}

func eqPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// embeddedWith is the embedded NBS dataset with more lines in derived.csv.
func embeddedWith(t *testing.T, derived string) *dataset.Dataset {
	t.Helper()
	fsys := fstest.MapFS{}
	err := fs.WalkDir(data.Default(), ".", func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := fs.ReadFile(data.Default(), path)
		if path == "derived.csv" {
			b = append(b, derived...)
		}
		fsys[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Read(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFormulaEqualsDerivedEmbedded(t *testing.T) {
	// Fiscal revenue as a share of GRP, 2019–2024 (the dataset's own retail_sales_pc has population's one year).
	d := embeddedWith(t, "fiscal_share,财政收入占GDP比重,%,higher_is_better,rate,fiscal_revenue / gdp * 100,,,none,2\n")
	e := newTestEngine(t, d, Options{CacheEntries: 100})
	scopes := []analytics.ScopeQuery{{}, {Group: "East"}, {Parent: "CN"}, {Level: "country"}}
	compareFormula(t, e, "retail_sales_pc", &analytics.Formula{Text: "retail_sales / population * 10000"}, []int{2024}, scopes, []string{"CN", "320000"})
	compareFormula(t, e, "fiscal_share", &analytics.Formula{Text: "fiscal_revenue / gdp * 100", Measure: analytics.Rate}, []int{2019, 2020, 2022, 2024},
		scopes, []string{"CN", "320000", "650000"})

	// Standings and compare take a formula in their lists of indicators.
	ctx := context.Background()
	st, err := e.Standings(ctx, analytics.StandingsQuery{Region: "320000", Year: 2024, Top: 3, ScopeQuery: analytics.ScopeQuery{Group: "East"},
		Indicators: []string{"fiscal_share", "fiscal_revenue/gdp*100"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Entries) != 2 || st.Entries[0].Value != st.Entries[1].Value || st.Entries[0].Rank != st.Entries[1].Rank ||
		st.Entries[1].Indicator.Code != "fiscal_revenue / gdp * 100" {
		t.Fatalf("standings: %+v %+v", st.Entries[0], st.Entries[len(st.Entries)-1])
	}
	cmp, err := e.Compare(ctx, analytics.CompareQuery{Regions: []string{"320000", "330000"}, Indicators: []string{"fiscal_share", "fiscal_revenue / gdp * 100"},
		From: 2020, To: 2024, Scope: &analytics.ScopeQuery{Group: "East"}, Baseline: &analytics.BaselineQuery{Stat: analytics.BaselineMean}})
	if err != nil {
		t.Fatal(err)
	}
	byInd := map[string][]string{}
	for _, r := range cmp.Rows {
		byInd[r.Indicator.Code] = append(byInd[r.Indicator.Code], fmt.Sprint(r.Region.Code, r.Year, r.Value, derefI(r.Rank), derefF(r.Difference)))
	}
	if a, b := byInd["fiscal_share"], byInd["fiscal_revenue / gdp * 100"]; len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("compare rows differ:\n%v\n%v", a, b)
	}
	// A composite line by formula scores as the stored indicator's line does.
	c1, err := e.Composite(ctx, analytics.CompositeQuery{Year: 2024, ScopeQuery: analytics.ScopeQuery{Group: "East"},
		Indicators: []analytics.WeightedIndicator{{Indicator: "fiscal_share", Weight: 2}, {Indicator: "gdp", Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := e.Composite(ctx, analytics.CompositeQuery{Year: 2024, ScopeQuery: analytics.ScopeQuery{Group: "East"},
		Indicators: []analytics.WeightedIndicator{{Formula: &analytics.Formula{Text: "fiscal_revenue / gdp * 100"}, Weight: 2}, {Indicator: "gdp", Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c1.Entries) == 0 || len(c1.Entries) != len(c2.Entries) {
		t.Fatalf("composite: %d and %d entries", len(c1.Entries), len(c2.Entries))
	}
	for i := range c1.Entries {
		if c1.Entries[i].Region != c2.Entries[i].Region || c1.Entries[i].Score != c2.Entries[i].Score {
			t.Fatalf("composite entry %d: %s %v vs %s %v", i, c1.Entries[i].Region.Code, c1.Entries[i].Score, c2.Entries[i].Region.Code, c2.Entries[i].Score)
		}
	}
}

func derefI(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func derefF(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// On generated data of several sizes, with parents filled in by rollup, a formula of three operands with
// constants and parentheses, and the stored twin imported through derived.csv.
func TestFormulaEqualsDerivedGenerated(t *testing.T) {
	const text = "(I001 + I003) / I002 * 100 - 2.5"
	for _, size := range []struct{ regions, years int }{{40, 6}, {600, 10}, {4000, 8}} {
		t.Run(fmt.Sprint(size.regions), func(t *testing.T) {
			d := dataset.Synthetic(uint64(size.regions), size.regions, 4, size.years)
			for i := range d.Indicators[:3] {
				d.Indicators[i].Rollup, d.Indicators[i].FillParents = analytics.RollupSum, true
			}
			for i := range d.Observations { // a divisor of 0 would refuse the import; the query's case is tested apart
				if o := &d.Observations[i]; o.Indicator == "I002" && o.Value == 0 {
					o.Value = 0.1
				}
			}
			d.Indicators = append(d.Indicators, dataset.Indicator{Code: "ratio", Name: "ratio", Unit: "%", Direction: analytics.HigherIsBetter,
				Measure: analytics.Level, Rollup: analytics.RollupNone, Decimals: -1, Formula: text})
			dir := filepath.Join(t.TempDir(), "ds")
			if err := d.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			d2, err := dataset.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			e := newTestEngine(t, d2, Options{CacheEntries: 100})
			years := []int{2001, 2001 + size.years/2, 2000 + size.years}
			scopes := []analytics.ScopeQuery{{}, {Group: "G03"}, {Parent: "ROOT"}}
			compareFormula(t, e, "ratio", &analytics.Formula{Text: text}, years, scopes, []string{"ROOT", "R0001", d2.Regions[len(d2.Regions)-1].Code})
		})
	}
}

// Errors name the place in the formula and suggest codes; a division by zero is a warning for the region,
// not an error of the answer.
func TestFormulaErrorsAndDivisionByZero(t *testing.T) {
	d, err := dataset.Read(data.Default())
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, d, Options{})
	ctx := context.Background()
	y := 2024
	for _, c := range []struct{ text, code, msg string }{
		{"retail_sales / populaton * 10000", analytics.NotFound, `formula: 1:16: unknown indicator "populaton" (did you mean "population"?)`},
		{"fiscal_revenue / (gdp", analytics.BadUserInput, `formula: 1:18: unclosed "("`},
		{"gdp / / population", analytics.BadUserInput, `formula: 1:7: expected a number`},
		{"gdp", analytics.BadUserInput, `is the indicator "gdp" alone`},
		{"2 * 3", analytics.BadUserInput, `names no indicator`},
		{"", analytics.BadUserInput, `formula: formula is empty`},
		{"gdp+va_primary+va_secondary+va_tertiary+va_agriculture+va_industry+va_construction+va_wholesale_retail+va_transport+va_hotels_catering+va_finance+va_real_estate+va_other+gdp_per_capita+gdp_index+retail_sales+population",
			analytics.BadUserInput, "a 17th indicator; a formula may read at most 16"},
	} {
		_, err := e.Ranking(ctx, analytics.RankingQuery{Formula: &analytics.Formula{Text: c.text}, Year: &y})
		if err == nil || analytics.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: %v (%s), want %s containing %q", c.text, err, analytics.ErrorCode(err), c.code, c.msg)
		}
	}
	if _, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: "gdp", Formula: &analytics.Formula{Text: "gdp / population"}}); analytics.ErrorCode(err) != analytics.BadUserInput {
		t.Errorf("indicator and formula: %v", err)
	}
	if _, err := e.Ranking(ctx, analytics.RankingQuery{}); analytics.ErrorCode(err) != analytics.BadUserInput {
		t.Errorf("neither indicator nor formula: %v", err)
	}

	// natural_growth_rate is 0 somewhere? Make a divisor that is 0 for exactly the regions where two
	// indicators are equal: (birth_rate - death_rate - natural_growth_rate) is 0 wherever the bureau's
	// rounding agrees, so dividing by it leaves those regions without a value, each with a warning.
	rk, err := e.Ranking(ctx, analytics.RankingQuery{Formula: &analytics.Formula{Text: "gdp / (birth_rate - death_rate - natural_growth_rate)"}, Year: &y})
	if err != nil {
		t.Fatal(err)
	}
	// Independently: the regions whose three rates satisfy b − d − n = 0 exactly, by hand from the values.
	vals := map[string]map[string]float64{}
	for _, o := range d.Observations {
		if o.Year == y && (o.Indicator == "birth_rate" || o.Indicator == "death_rate" || o.Indicator == "natural_growth_rate" || o.Indicator == "gdp") {
			if vals[o.Region] == nil {
				vals[o.Region] = map[string]float64{}
			}
			vals[o.Region][o.Indicator] = o.Value
		}
	}
	var zero []string
	for r, v := range vals {
		if len(v) == 4 && v["birth_rate"]-v["death_rate"]-v["natural_growth_rate"] == 0 {
			zero = append(zero, r)
		}
	}
	slices.Sort(zero)
	var warned []string
	for _, w := range rk.Warnings {
		if strings.Contains(w.Message, "division by zero") {
			warned = append(warned, strings.Fields(w.Message)[0])
		}
	}
	slices.Sort(warned)
	if len(zero) == 0 {
		t.Fatalf("the test's premise failed: no region has a zero divisor in %d", y)
	}
	if !slices.Equal(zero, warned) {
		t.Fatalf("division by zero warned for %v, want %v", warned, zero)
	}
	cmp, err := e.Compare(ctx, analytics.CompareQuery{Regions: []string{zero[0], "110000"}, From: y, To: y,
		Indicators: []string{"gdp / (birth_rate - death_rate - natural_growth_rate)"}})
	if err != nil {
		t.Fatal(err)
	}
	var rowsOfZero int
	for _, r := range cmp.Rows {
		if r.Region.Code == zero[0] {
			rowsOfZero++
		}
	}
	if rowsOfZero != 0 || len(cmp.Warnings) != 1+btoi(slices.Contains(zero, "110000")) || !strings.HasPrefix(cmp.Warnings[0].Message, zero[0]+" in 2024: division by zero") {
		t.Fatalf("compare: %d rows of %s, warnings %+v", rowsOfZero, zero[0], cmp.Warnings)
	}
	for _, m := range rk.Missing {
		if slices.Contains(zero, m.Code) {
			zero = slices.DeleteFunc(zero, func(s string) bool { return s == m.Code })
		}
	}
	if len(zero) != 0 {
		t.Fatalf("regions with a zero divisor not listed in missing: %v", zero)
	}
	if math.IsNaN(*rk.Mean) || rk.Count == 0 {
		t.Fatal("the others are ranked")
	}
}

// A formula's answer is cached under its normalised text: two spellings of one formula compute once.
func TestFormulaCachedByNormalisedText(t *testing.T) {
	d := embeddedWith(t, "")
	e := newTestEngine(t, d, Options{CacheEntries: 100})
	ctx := context.Background()
	y := 2024
	before := computed.Load()
	for _, text := range []string{"fiscal_revenue/gdp*100", "fiscal_revenue / gdp * 100", "(fiscal_revenue) ÷ gdp × 100"} {
		if _, err := e.Ranking(ctx, analytics.RankingQuery{Formula: &analytics.Formula{Text: text}, Year: &y, ScopeQuery: analytics.ScopeQuery{Group: "East"}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := computed.Load() - before; n != 1 {
		t.Fatalf("three spellings of one formula computed %d times", n)
	}
	// A different unit is a different answer.
	if _, err := e.Ranking(ctx, analytics.RankingQuery{Formula: &analytics.Formula{Text: "fiscal_revenue/gdp*100", Unit: "%"}, Year: &y, ScopeQuery: analytics.ScopeQuery{Group: "East"}}); err != nil {
		t.Fatal(err)
	}
	if n := computed.Load() - before; n != 2 {
		t.Fatalf("with a unit: computed %d times in all", n)
	}
}

// A trend of a formula says which years it has no value in for want of a divisor.
func TestFormulaTrendDivisionByZero(t *testing.T) {
	d := embeddedWith(t, "")
	e := newTestEngine(t, d, Options{})
	ctx := context.Background()
	// The test finds, from the values themselves, a region whose b − d − n is exactly 0 in 2024.
	vals := map[string]map[string]float64{}
	for _, o := range d.Observations {
		if o.Year == 2024 && (o.Indicator == "birth_rate" || o.Indicator == "death_rate" || o.Indicator == "natural_growth_rate") {
			if vals[o.Region] == nil {
				vals[o.Region] = map[string]float64{}
			}
			vals[o.Region][o.Indicator] = o.Value
		}
	}
	zero := ""
	for r, v := range vals {
		if len(v) == 3 && v["birth_rate"]-v["death_rate"]-v["natural_growth_rate"] == 0 {
			zero = r
			break
		}
	}
	if zero == "" {
		t.Fatal("the test's premise failed: no region has a zero divisor in 2024")
	}
	tr, err := e.Trend(ctx, analytics.TrendQuery{Region: zero, Formula: &analytics.Formula{Text: "birth_rate / (birth_rate - death_rate - natural_growth_rate)"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Points) != 0 || len(tr.Warnings) != 1 || !strings.Contains(tr.Warnings[0].Message, zero+" in 2024: division by zero") {
		t.Fatalf("points %d, warnings %+v", len(tr.Points), tr.Warnings)
	}
}

// BenchmarkRankingFormula ranks a ratio of two indicators by formula and, for comparison, the same ratio
// stored through derived.csv, on 3,000 regions (answers not cached; values in memory after the first).
func BenchmarkRankingFormula(b *testing.B) {
	d := dataset.Synthetic(3, 3000, 3, 10)
	d.Indicators = append(d.Indicators, dataset.Indicator{Code: "ratio", Name: "ratio", Unit: "", Direction: analytics.HigherIsBetter,
		Measure: analytics.Level, Rollup: analytics.RollupNone, Decimals: -1, Formula: "I001 / I002"})
	for i := range d.Observations {
		if o := &d.Observations[i]; o.Indicator == "I002" && o.Value == 0 {
			o.Value = 0.1
		}
	}
	dir := filepath.Join(b.TempDir(), "ds")
	if err := d.WriteDir(dir); err != nil {
		b.Fatal(err)
	}
	d2, err := dataset.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	store, err := duck.Open("")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if _, err := store.Import(context.Background(), d2, "bench"); err != nil {
		b.Fatal(err)
	}
	e, err := NewEngine(context.Background(), store, Options{})
	if err != nil {
		b.Fatal(err)
	}
	y := 2010
	for _, c := range []struct {
		name string
		q    analytics.RankingQuery
	}{
		{"stored", analytics.RankingQuery{Indicator: "ratio", Year: &y}},
		{"formula", analytics.RankingQuery{Formula: &analytics.Formula{Text: "I001 / I002"}, Year: &y}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.Ranking(context.Background(), c.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// compareSQLReads checks that observations, aggregates and pivots of formula text equal those of the stored
// derived indicator code, value for value, under each filter (its indicators are set here): the stored
// values were computed at import (analytics/dataset), the formula's at query time from its operands.
func compareSQLReads(t *testing.T, e *Engine, code, text string, filters []analytics.ValueFilter) {
	t.Helper()
	ctx := context.Background()
	norm := strings.Join(strings.Fields(text), " ")
	compared := 0
	for _, f := range filters {
		fs, ff := f, f
		fs.Indicators, ff.Indicators = []string{code}, []string{text}
		// Observations, every page of 7 (so that cursors cross the formula's rows too).
		all := func(vf analytics.ValueFilter) []*analytics.Observation {
			var out []*analytics.Observation
			q := analytics.ObservationQuery{ValueFilter: vf, First: 7}
			for {
				p, err := e.Observations(ctx, q)
				if err != nil {
					t.Fatalf("observations %+v: %v", vf, err)
				}
				out = append(out, p.Items...)
				if !p.HasNextPage {
					if p.TotalCount != len(out) {
						t.Fatalf("observations %+v: totalCount %d, %d items", vf, p.TotalCount, len(out))
					}
					return out
				}
				q.After = p.Cursors[len(p.Cursors)-1]
			}
		}
		want, got := all(fs), all(ff)
		if len(got) != len(want) {
			t.Fatalf("observations %+v: %d of the formula, %d of %s", f, len(got), len(want), code)
		}
		for i, w := range want {
			g := got[i]
			if g.Region != w.Region || g.Year != w.Year || g.Value != w.Value || g.Indicator.Code != norm || !sameFlags(w.Flags, g.Flags) {
				t.Fatalf("observation %d: %s %d %v %v %s, want %s %d %v %v", i, g.Region.Code, g.Year, g.Value, g.Flags, g.Indicator.Code, w.Region.Code, w.Year, w.Value, w.Flags)
			}
			compared++
		}
		// Aggregates by region and year, and by year with totals, with the previous year's groups.
		ms := []analytics.AggregateMeasure{analytics.MeasureCount, analytics.MeasureMean, analytics.MeasureMedian, analytics.MeasureMin,
			analytics.MeasureMax, analytics.MeasureStddev, analytics.MeasureSum}
		for _, by := range [][]analytics.Dimension{{analytics.DimRegion, analytics.DimYear}, {analytics.DimYear}, {analytics.DimParent, analytics.DimYear}} {
			agg := func(vf analytics.ValueFilter) *analytics.Aggregate {
				a, err := e.Aggregate(ctx, analytics.AggregateQuery{By: by, Filter: vf, Measures: ms, Totals: ms, Previous: true, First: 10000})
				if err != nil {
					t.Fatalf("aggregate %v %+v: %v", by, vf, err)
				}
				return a
			}
			a, b := agg(fs), agg(ff)
			if len(a.Rows) != len(b.Rows) || a.TotalCount != b.TotalCount {
				t.Fatalf("aggregate %v %+v: %d rows of the formula, %d of %s", by, f, len(b.Rows), len(a.Rows), code)
			}
			row := func(r *analytics.AggregateRow) string {
				if r == nil {
					return "nil"
				}
				var out []string
				for _, m := range ms {
					out = append(out, fmt.Sprint(derefF(r.Measure(m))))
				}
				k := groupKey(r, by, 0)
				return k + strings.Join(out, " ")
			}
			for i := range a.Rows {
				if row(a.Rows[i]) != row(b.Rows[i]) || row(a.Rows[i].Prev) != row(b.Rows[i].Prev) {
					t.Fatalf("aggregate %v row %d: %q (prev %q), want %q (prev %q)", by, i, row(b.Rows[i]), row(b.Rows[i].Prev), row(a.Rows[i]), row(a.Rows[i].Prev))
				}
				compared++
			}
			if row(a.Totals) != row(b.Totals) {
				t.Fatalf("aggregate %v totals: %q, want %q", by, row(b.Totals), row(a.Totals))
			}
		}
		// Pivots: the formula as the pivot's indicator, and in the filter with INDICATOR as columns.
		pf := f
		pf.Indicators = nil
		p1, err1 := e.Pivot(ctx, analytics.PivotQuery{Indicator: code, Rows: analytics.DimRegion, Columns: analytics.DimYear, Filter: pf})
		p2, err2 := e.Pivot(ctx, analytics.PivotQuery{Indicator: text, Rows: analytics.DimRegion, Columns: analytics.DimYear, Filter: pf})
		p3, err3 := e.Pivot(ctx, analytics.PivotQuery{Rows: analytics.DimRegion, Columns: analytics.DimIndicator, Filter: ff})
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("pivot %+v: %v %v %v", f, err1, err2, err3)
		}
		if p2.Indicator.Code != norm || len(p1.Rows) != len(p2.Rows) || len(p1.Columns) != len(p2.Columns) || p3.Columns[0].Indicator.Code != norm {
			t.Fatalf("pivot %+v: %d×%d of the formula, %d×%d of %s", f, len(p2.Rows), len(p2.Columns), len(p1.Rows), len(p1.Columns), code)
		}
		for i, r := range p1.Rows {
			for j, c := range r.Cells {
				if p2.Rows[i].Code != r.Code || !eqPtr(p2.Rows[i].Cells[j], c) {
					t.Fatalf("pivot %+v: %s column %d: %v, want %v", f, r.Code, j, derefF(p2.Rows[i].Cells[j]), derefF(c))
				}
				compared++
			}
		}
	}
	if compared == 0 {
		t.Fatal("nothing compared")
	}
	t.Logf("%d observations, aggregate rows and cells compared", compared)
}

// Observations, aggregates and pivots take a formula where they take an indicator's code, and answer what
// the same ratio imported through derived.csv answers: on the embedded data, with every kind of filter.
func TestFormulaInObservationsAggregatePivot(t *testing.T) {
	d := embeddedWith(t, "fiscal_share,财政收入占GDP比重,%,higher_is_better,rate,fiscal_revenue / gdp * 100,,,none,2\n")
	e := newTestEngine(t, d, Options{CacheEntries: 100})
	y1, y2 := 2019, 2023
	compareSQLReads(t, e, "fiscal_share", "fiscal_revenue / gdp * 100", []analytics.ValueFilter{
		{}, {Group: "East"}, {Parent: "CN"}, {Level: "country"}, {Regions: []string{"CN", "320000", "650000"}},
		{From: &y1, To: &y2}, {Group: "East", From: &y2},
	})
	ctx := context.Background()
	// A formula beside stored indicators in one filter, and a sum over it: null, with the warning of a
	// rollup NONE, as a stored ratio's.
	a, err := e.Aggregate(ctx, analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimIndicator}, First: 10,
		Filter:   analytics.ValueFilter{Indicators: []string{"gdp", "fiscal_revenue / gdp * 100"}, From: &y2, To: &y2, Group: "East"},
		Measures: []analytics.AggregateMeasure{analytics.MeasureSum, analytics.MeasureCount}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Rows) != 2 || a.Rows[1].Indicator.Code != "fiscal_revenue / gdp * 100" || a.Rows[1].Sum != nil || *a.Rows[1].Count != 10 ||
		a.Rows[0].Sum == nil || len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0].Message, "rollup is NONE") {
		t.Fatalf("gdp and a formula: %+v %+v %+v", a.Rows[0], a.Rows[len(a.Rows)-1], a.Warnings)
	}
	// A zero divisor: no value there and a warning naming the region and year, as rankings give.
	const zeroed = "gdp / (birth_rate - death_rate - natural_growth_rate)" // see TestFormulaErrorsAndDivisionByZero
	y := 2024
	a, err = e.Aggregate(ctx, analytics.AggregateQuery{By: []analytics.Dimension{analytics.DimRegion}, First: 100,
		Filter: analytics.ValueFilter{Indicators: []string{zeroed}, From: &y, To: &y}, Measures: []analytics.AggregateMeasure{analytics.MeasureCount}})
	if err != nil {
		t.Fatal(err)
	}
	rk, err := e.Ranking(ctx, analytics.RankingQuery{Formula: &analytics.Formula{Text: zeroed}, Year: &y})
	if err != nil {
		t.Fatal(err)
	}
	var aw, rw []string
	for _, w := range a.Warnings {
		aw = append(aw, w.Message)
	}
	for _, w := range rk.Warnings {
		if strings.Contains(w.Message, "division by zero") {
			rw = append(rw, w.Message)
		}
	}
	if len(rw) == 0 || !slices.Equal(aw, rw) || len(a.Rows) != rk.Count {
		t.Fatalf("zero divisor: aggregate warns %v over %d rows, ranking %v over %d", aw, len(a.Rows), rw, rk.Count)
	}
	// Errors name the place in the formula, as elsewhere.
	_, err = e.Observations(ctx, analytics.ObservationQuery{ValueFilter: analytics.ValueFilter{Indicators: []string{"gdp / populaton"}}, First: 1})
	if analytics.ErrorCode(err) != analytics.NotFound || !strings.Contains(err.Error(), `1:7: unknown indicator "populaton" (did you mean "population"?)`) {
		t.Fatalf("unknown operand: %v", err)
	}
}

// The same on generated data of several sizes, with parents filled in by rollup (so that a parent's formula
// value rests on rolled-up operands and is not its own, as the derived twin's is not).
func TestFormulaInObservationsAggregatePivotGenerated(t *testing.T) {
	const text = "(I001 + I003) / I002 * 100 - 2.5"
	for _, size := range []struct{ regions, years int }{{40, 6}, {250, 6}, {800, 4}} {
		t.Run(fmt.Sprint(size.regions), func(t *testing.T) {
			d := dataset.Synthetic(uint64(size.regions), size.regions, 4, size.years)
			for i := range d.Indicators[:3] {
				d.Indicators[i].Rollup, d.Indicators[i].FillParents = analytics.RollupSum, true
			}
			for i := range d.Observations { // a divisor of 0 would refuse the import
				if o := &d.Observations[i]; o.Indicator == "I002" && o.Value == 0 {
					o.Value = 0.1
				}
			}
			d.Indicators = append(d.Indicators, dataset.Indicator{Code: "ratio", Name: "ratio", Unit: "%", Direction: analytics.HigherIsBetter,
				Measure: analytics.Level, Rollup: analytics.RollupNone, Decimals: -1, Formula: text})
			dir := filepath.Join(t.TempDir(), "ds")
			if err := d.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			d2, err := dataset.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			e := newTestEngine(t, d2, Options{CacheEntries: 100})
			y := 2001 + size.years/2
			compareSQLReads(t, e, "ratio", text, []analytics.ValueFilter{{}, {Group: "G03"}, {Parent: "ROOT"}, {From: &y, To: &y},
				{Regions: []string{"ROOT", "R0001", d2.Regions[len(d2.Regions)-1].Code}}})
		})
	}
}
