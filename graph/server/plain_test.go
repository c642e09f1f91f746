package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"pacesetter/analytics/query"
	"pacesetter/data"
	"pacesetter/graph"
)

// The plain writer (graph/plain.go) must write exactly what gqlgen writes. This test builds, from the schema
// itself, a query for every root field that selects every field reachable from it (three objects deep, with
// optional arguments left to their defaults and required ones from plainArgs), and compares the bytes of
// the answer with the writer on and off. A root field or a field argument the table does not know fails the
// test, so that what the schema gains is covered too.

// plainArgs are the arguments given to fields that require some, by "Type.field", on the NBS dataset.
var plainArgs = map[string]string{
	"Query.region":             `(code: "320000")`,
	"Query.group":              `(code: "East")`,
	"Query.indicator":          `(code: "gdp")`,
	"Query.ranking":            `(indicator: "gdp", year: 2024)`,
	"Query.standings":          `(region: "320000", year: 2024)`,
	"Query.trend":              `(region: "320000", indicator: "gdp")`,
	"Query.observations":       `(regions: ["320000", "110000"], first: 50)`,
	"Query.aggregate":          `(by: [GROUP, YEAR], filter: {indicators: ["gdp", "population"], from: 2020})`,
	"Query.pivot":              `(indicator: "gdp")`,
	"Query.scheme":             `(code: "hqd")`,
	"Region.value":             `(indicator: "gdp", year: 2024)`,
	"Region.valueSource":       `(indicator: "gdp", year: 2024)`,
	"Region.rank":              `(indicator: "gdp", year: 2024, group: "East")`,
	"AggregateRow.quantile":    `(p: 0.9)`,
	"AggregateRow.previous":    `(measure: SUM)`,
	"AggregateRow.change":      `(measure: MEAN)`,
	"AggregateRow.changeRatio": `(measure: COUNT)`,
	"Query.compare":            `(regions: ["320000", "330000", "440000"], indicators: ["gdp", "registered_unemployed", "fai_funds_growth"], from: 2019, to: 2024, scope: {group: "East"}, baseline: {stat: MEAN})`,
	"StandingEntry.moveToTop":  `(n: 2)`,
	"Trend.rankStreak":         `(atOrAbove: 2)`,
	"Trend.firstYearAbove":     `(value: 100000)`,
	"Trend.firstYearBelow":     `(value: 120000)`,
	"Query.composite":          `(input: {year: 2024, scheme: "hqd"})`,
	"Query.robustness":         `(input: {year: 2024, scheme: "hqd"}, runs: 200)`,
	"Query.compositeHistory":   `(input: {year: 2024, scheme: "hqd"}, from: 2021)`,
	"Query.departments":        `(input: {year: 2024, scheme: "hqd"}, department: "商务厅")`,
	"Query.categories":         `(input: {year: 2024, scheme: "hqd"}, region: "320000")`,
	"Query.threshold":          `(region: "370000", indicator: "gdp", value: 100000, by: 2025)`,
	"CompositeEntry.gapToTier": `(tier: 1)`,
	"CompositeEntry.versus":    `(region: "310000")`,
	// issue 19: search, weighted means
	"Query.search":                `(text: "江")`,
	"Ranking.weightedMean":        `(weight: "population")`,
	"RankingEntry.vsWeightedMean": `(weight: "population")`,
}

// wbArgs are plainArgs for the World Bank dataset.
var wbArgs = map[string]string{
	"Region.value":             `(indicator: "NY.GDP.MKTP.CD", year: 2020)`,
	"Region.valueSource":       `(indicator: "NY.GDP.MKTP.CD", year: 2020)`,
	"Region.rank":              `(indicator: "NY.GDP.MKTP.CD", year: 2020, group: "Europe")`,
	"AggregateRow.quantile":    `(p: 0.25)`,
	"AggregateRow.previous":    `(measure: SUM)`,
	"AggregateRow.change":      `(measure: MEAN)`,
	"AggregateRow.changeRatio": `(measure: COUNT)`,
	"StandingEntry.moveToTop":  `(n: 2)`,
	"Trend.rankStreak":         `(atOrAbove: 2)`,
	"Trend.firstYearAbove":     `(value: 1e12)`,
	"Trend.firstYearBelow":     `(value: 1e12)`,
	// issue 19: weighted means
	"Ranking.weightedMean":        `(weight: "SP.POP.TOTL")`,
	"RankingEntry.vsWeightedMean": `(weight: "SP.POP.TOTL")`,
}

// plainVariants are further arguments for some root fields, so that scopes, ties, bases, the growth of each
// measure and vintages reach the writer too.
var plainVariants = map[string][]string{
	"ranking": {
		`(indicator: "gdp", year: 2024, group: "East", ties: DENSE)`,
		`(indicator: "gdp_index", year: 2023, basis: GROWTH)`,
		`(indicator: "fai_funds_growth", year: 2022, basis: GROWTH)`,
		`(indicator: "birth_rate", year: 2024, regions: ["320000", "110000", "440000"], basis: GROWTH)`,
		`(formula: "fiscal_revenue / gdp * 100", year: 2024, group: "East", unit: "%")`,
	},
	"standings": {`(region: "110000", year: 2023, group: "East", top: 3, basis: GROWTH)`,
		`(region: "330000", year: 2024, group: "East", orderBy: CLOSEST_GAIN, category: "prosperity")`},
	"trend": {`(region: "110000", indicator: "birth_rate", from: 2018)`, `(region: "110000", indicator: "gdp_index")`,
		`(region: "330000", indicator: "registered_unemployed", group: "East", ties: DENSE)`},
	"compare": {`(regions: ["East", "510000"], indicators: ["prosperity"], from: 2022, to: 2024, baseline: {region: "320000"})`,
		`(regions: ["320000", "330000"], indicators: ["gdp"], from: 2019, to: 2024, baseline: {stat: PARENT})`,
		`(regions: ["320000", "330000"], indicators: ["disposable_income_pc", "fiscal_revenue / gdp"], from: 2023, to: 2024, baseline: {stat: WEIGHTED_MEAN, weight: "population"})`},
	"regions":   {`(group: "East")`, `(level: "province")`},
	"aggregate": {`(by: [INDICATOR, CATEGORY], having: [{measure: COUNT, op: GE, value: 5}], orderBy: [{key: INDICATOR, desc: true}], first: 20)`},
	"pivot":     {`(indicator: "population", rows: YEAR, columns: REGION, filter: {group: "East"})`},
	"composite": {`(input: {year: 2023, group: "East", indicators: [{indicator: "gdp", weight: 2}, {indicator: "death_rate", weight: 1}], normalisation: Z_SCORE, ties: FRACTIONAL, tiers: {cutoffs: [0.5, 0]}})`,
		`(input: {year: 2024, scheme: "hqd", normalisation: RANK, aggregation: GEOMETRIC, missing: EXCLUDE})`},
	"targets": {`(region: "320000")`, `(year: 2024, group: "East", scheme: "hqd")`},
}

func TestPlainWriterMatchesGqlgen(t *testing.T) {
	store := loadStore(t, data.Default())
	opt := DefaultOptions
	opt.ResponseCache, opt.Complexity = 0, 1<<30
	srvPlain, engine := newServer(t, store, query.Options{CacheEntries: 0}, opt)
	opt.GqlgenOnly = true
	srvGqlgen, _ := newServer(t, store, query.Options{CacheEntries: 0}, opt)
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Engine: engine}}).Schema()

	var fields []string
	for _, f := range schema.Query.Fields {
		if !strings.HasPrefix(f.Name, "__") {
			fields = append(fields, f.Name)
		}
	}
	sort.Strings(fields)
	for _, name := range fields {
		f := schema.Query.Fields.ForName(name)
		args, known := plainArgs["Query."+name]
		if !known && requiresArgs(f) {
			t.Errorf("Query.%s needs arguments: add them to plainArgs", name)
			continue
		}
		sel := selectAll(t, schema, plainArgs, f.Type.Name(), 3)
		for _, a := range append([]string{args}, plainVariants[name]...) {
			query := fmt.Sprintf("{ a: %s%s %s  __typename b: %s%s %s }", name, a, sel, name, a, sel)
			got, want := rawPost(t, srvPlain.URL, query), rawPost(t, srvGqlgen.URL, query)
			if !bytes.Equal(got, want) {
				t.Errorf("%s%s: the plain writer and gqlgen differ\nplain:  %.600s\ngqlgen: %.600s\nfirst difference at byte %d",
					name, a, got, want, firstDiff(got, want))
			}
			if bytes.Contains(want, []byte(`"errors"`)) {
				t.Errorf("%s%s: the answer has errors, so it tests little: %.400s", name, a, want)
			}
		}
	}

	// The World Bank's values run to 1e13 and down to 1e-3: numbers gqlgen writes with an exponent.
	wbStore := loadStore(t, worldBank())
	opt.GqlgenOnly = false
	wbPlain, _ := newServer(t, wbStore, query.Options{CacheEntries: 0}, opt)
	opt.GqlgenOnly = true
	wbGqlgen, _ := newServer(t, wbStore, query.Options{CacheEntries: 0}, opt)
	for _, q := range []string{
		`ranking(indicator: "NY.GDP.MKTP.CD", year: 2020) ` + selectAll(t, schema, wbArgs, "Ranking", 2),
		`ranking(indicator: "SP.POP.TOTL", year: 2021, basis: GROWTH) ` + selectAll(t, schema, wbArgs, "Ranking", 2),
		`trend(region: "CHN", indicator: "NY.GDP.MKTP.CD") ` + selectAll(t, schema, wbArgs, "Trend", 2),
		`observations(regions: ["CHN", "TUV"], first: 200) ` + selectAll(t, schema, wbArgs, "ObservationConnection", 2),
	} {
		got, want := rawPost(t, wbPlain.URL, "{"+q+"}"), rawPost(t, wbGqlgen.URL, "{"+q+"}")
		if !bytes.Equal(got, want) || bytes.Contains(want, []byte(`"errors"`)) {
			t.Errorf("%.80s: the plain writer and gqlgen differ, or answer errors\nplain:  %.600s\ngqlgen: %.600s\nfirst difference at byte %d",
				q, got, want, firstDiff(got, want))
		}
	}

	// Fragments, inline fragments, aliases, @skip and @include reach the writer through gqlgen's own
	// CollectFields; one query with all of them.
	query := `query($no: Boolean!) { ranking(indicator: "gdp", year: 2024) { ...R entries { ... on RankingEntry { r: rank } region { code c2: code name @skip(if: $no) } region { nameEn } value @include(if: $no) } } }
		fragment R on Ranking { count leader { code } entries(top: 3) { region { code } } }`
	for _, no := range []string{"true", "false"} {
		body := `{"query":` + jsonString(query) + `,"variables":{"no":` + no + `}}`
		got, want := rawPostBody(t, srvPlain.URL, body), rawPostBody(t, srvGqlgen.URL, body)
		if !bytes.Equal(got, want) {
			t.Errorf("fragments, no=%s: the plain writer and gqlgen differ\nplain:  %.600s\ngqlgen: %.600s", no, got, want)
		}
	}
}

// TestPlainWriterIsUsed checks that the writer really answers plain queries (else the test above would
// pass with the writer never running), and leaves to gqlgen what it must: errors and fields it cannot read.
func TestPlainWriterIsUsed(t *testing.T) {
	opt := DefaultOptions
	opt.ResponseCache = 0
	srv, _ := newServer(t, loadStore(t, data.Default()), query.Options{}, opt)
	for _, c := range []struct {
		query string
		plain int64 // root fields the writer answers
	}{
		{`{ ranking(indicator: "gdp", year: 2024) { entries { region { code } value rank } } }`, 1},
		{`{ ranking(indicator: "gdp", year: 2024) { entries(top: 3) { rank } leader { groups(year: 2024) { code } } } }`, 1},
		{`{ a: standings(region: "320000", year: 2024) { entries { indicator { code } rank } } b: trend(region: "320000", indicator: "gdp") { points { year value } } }`, 2},
		// Composite.entries(first:, offset:) is bound to Composite.Page (gqlgen.yml's fieldName).
		{`{ composite(input: {year: 2024, group: "East", indicators: [{indicator: "gdp", weight: 1}]}) { entries { region { code } score rank breakdown { indicator { code } normalised contribution } } } }`, 1},
		{`{ composite(input: {year: 2024, group: "East", indicators: [{indicator: "gdp", weight: 1}]}) { entries(first: 2, offset: 1) { rank } } }`, 1},
		// pacebench's Q1, with and without the fields that call resolvers (totalCount, pageInfo).
		{`{ aggregate(by: [INDICATOR, YEAR], filter: {from: 2020}, first: 1000) { rows { indicator { code } year count mean } } }`, 1},
		{`{ aggregate(by: [INDICATOR, YEAR], first: 10) { totalCount rows { indicator { code name } year count } pageInfo { hasNextPage endCursor } } }`, 1},
		{`{ ranking(indicator: "gdp", year: 2024) { entries(top: 0) { rank } } }`, 0}, // an error: gqlgen reports it
		{`{ ranking(indicator: "nope", year: 2024) { count } }`, 0},
	} {
		before := plainWritten.Load()
		rawPost(t, srv.URL, c.query)
		if got := plainWritten.Load() - before; got != c.plain {
			t.Errorf("%s: the plain writer answered %d root fields, want %d", c.query, got, c.plain)
		}
	}
}

func requiresArgs(f *ast.FieldDefinition) bool {
	for _, a := range f.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			return true
		}
	}
	return false
}

// selectAll is a selection of every field of the named type down to depth objects, with arguments from
// plainArgs for fields that require them (a field that requires unknown ones fails the test).
func selectAll(t *testing.T, schema *ast.Schema, argTable map[string]string, typ string, depth int) string {
	def := schema.Types[typ]
	if def.Kind != ast.Object {
		return ""
	}
	var b strings.Builder
	b.WriteString("{ __typename")
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		args, known := argTable[typ+"."+f.Name]
		if !known && requiresArgs(f) {
			t.Errorf("%s.%s needs arguments: add them to the table", typ, f.Name)
			continue
		}
		inner := schema.Types[f.Type.Name()]
		if inner.Kind == ast.Object {
			if depth == 0 {
				continue
			}
			b.WriteString(" " + f.Name + args + " " + selectAll(t, schema, argTable, inner.Name, depth-1))
			continue
		}
		b.WriteString(" " + f.Name + args)
	}
	b.WriteString(" }")
	return b.String()
}

func rawPost(t *testing.T, url, query string) []byte {
	t.Helper()
	return rawPostBody(t, url, `{"query":`+jsonString(query)+`}`)
}

func rawPostBody(t *testing.T, url, body string) []byte {
	t.Helper()
	res, err := http.Post(url+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	if _, err := out.ReadFrom(res.Body); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
