package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"pacesetter/analytics"
	"pacesetter/analytics/formula"
)

// MaxQueryTokens is the longest query document accepted, in lexical tokens (GraphiQL's introspection query
// has about 300).
const MaxQueryTokens = 15000

// The cost of an operation is what its answer can hold and what computing it takes, in one unit: a field
// of the answer. Each field costs 1 plus its selection; a list field 1 plus its selection times the most
// elements it can return on the dataset served (a ranking's entries: its scope's regions, or entries(top:)
// or first:; trend points: its years; an aggregate's rows: first, or fewer when its dimensions cannot make
// that many groups within its filter); a query adds the values it reads, priced from the dataset's counts
// of values per indicator and year (analytics.ValueCounts) for the indicators, years and regions its own
// arguments select, never from the size of the whole dataset: values ranked or scored in memory cost
// 1/memoryValues each, values DuckDB scans and groups 1/scanValues. So a dashboard of 25 rankings of 32
// provinces costs what its answer is, about 9,000, an aggregate of one year of one indicator little
// whatever the dataset's size, while four nested levels of children cost 32⁴ and a ranking of 3,000
// regions 25 times over 500,000.
//
// defaultListLength is how many elements a list field is charged for when nothing bounds it better (see
// costRules).
const defaultListLength = 20

// memoryValues and scanValues are how many values make a unit of work: values ranked or scored in memory
// (a ranking, standings, a composite: a few nanoseconds each once loaded, plus their share of the load),
// and values an aggregate or a pivot has DuckDB scan and group (columnar, about 100 million a second).
// Measured against the unit of answer (about a microsecond of gqlgen's writing), these are still generous.
const (
	memoryValues = 20
	scanValues   = 1000
)

// cellsPerUnit is how many of a pivot's cells make a field: a cell is a bare number in a row's list (about 8
// bytes of JSON, written by the plain writer from a slice), not an object's field with a name.
const cellsPerUnit = 4

// rowFieldsPerUnit is how many fields of an aggregate's rows make a unit: a row is a flat object of codes
// and numbers that the plain writer writes from a slice, about 0.4 µs a field with its share of HTTP on a
// loaded machine (10,000 rows of year, count and mean: 70 ms through HTTP against 55 ms in the engine),
// where the unit is about a microsecond of gqlgen's. At one unit a field, the 6,000 rows of every indicator
// by year of a 200-indicator, 30-year dataset cost twice the scan of its 17.5 M values and were refused.
const rowFieldsPerUnit = 2

// costed is the executable schema with the cost model above.
type costed struct {
	graphql.ExecutableSchema
	engine analytics.Engine
	lists  map[string]bool // "Type.field" of every list field outside introspection
	// Introspection's lists, at their longest in this schema: types, fields of a type, arguments of a
	// field, enum values of a type, input fields of a type, directives.
	types, fields, args, enums, inputs, directives int
	// schemaCost is what a __schema field costs: gqlgen's cost walk skips it, so it is charged here as the
	// values a whole answer about the schema holds: 8 for each type, field, argument and enum value (a name,
	// a description, a kind, a type reference with its ofType chain, deprecation), about what GraphiQL's
	// introspection query gets back (33 KB here).
	schemaCost int
}

func withCosts(es graphql.ExecutableSchema, engine analytics.Engine) costed {
	c := costed{ExecutableSchema: es, engine: engine, lists: map[string]bool{}}
	schema := es.Schema()
	for name, def := range schema.Types {
		c.types++
		c.enums, c.inputs = max(c.enums, len(def.EnumValues)), max(c.inputs, len(def.Fields))
		c.schemaCost += 1 + len(def.EnumValues)
		for _, f := range def.Fields {
			c.args = max(c.args, len(f.Arguments))
			c.schemaCost += 1 + len(f.Arguments)
		}
		c.fields = max(c.fields, len(def.Fields))
		if strings.HasPrefix(name, "__") || def.Kind != ast.Object {
			continue
		}
		for _, f := range def.Fields {
			if f.Type.Elem != nil {
				c.lists[name+"."+f.Name] = true
			}
		}
	}
	for _, d := range schema.Directives {
		c.directives++
		c.args = max(c.args, len(d.Arguments))
		c.schemaCost += 1 + len(d.Arguments)
	}
	c.schemaCost *= 8
	return c
}

func (s costed) Complexity(ctx context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	info, err := s.engine.Dataset(ctx)
	if err != nil {
		return s.ExecutableSchema.Complexity(ctx, typeName, field, child, args)
	}
	var c fieldCost
	if rule, ok := costRules[typeName+"."+field]; ok {
		e := &costEnv{ctx: ctx, s: s, info: info, field: field, child: child, args: args,
			regions: max(1, info.Regions), indicators: max(1, info.Indicators), groups: max(1, info.Groups), years: 1}
		if info.FirstYear != nil {
			e.years = *info.LastYear - *info.FirstYear + 1
		}
		c = rule(e)
		if typeName == "Query" {
			// A root field's work (values read, runs): what admission's lane looks at beside the cost.
			if w, ok := ctx.Value(workKey{}).(*int); ok {
				*w = min(*w+c.work, 1<<50)
			}
		}
		if c.total > 0 {
			return c.total, true
		}
	} else if s.lists[typeName+"."+field] {
		c.n = defaultListLength // a list the table misses (TestEveryFieldHasACostRule fails on one)
	}
	if c.n > 0 {
		return 1 + c.n*child + c.work, true
	}
	if c.work > 0 {
		return 1 + child + c.work, true
	}
	return s.ExecutableSchema.Complexity(ctx, typeName, field, child, args)
}

// costEnv is what a cost rule reads: the dataset's sizes, the field (its name, arguments and what its
// selection costs), and through s the engine and the schema's introspection bounds.
type costEnv struct {
	ctx                                context.Context
	s                                  costed
	info                               *analytics.DatasetInfo
	regions, indicators, groups, years int // at least 1 each
	field                              string
	child                              int
	args                               map[string]any
}

// year is the field's year argument; nil when it has none.
func (e *costEnv) year() *int {
	if y, ok := e.args["year"].(int64); ok {
		v := int(y)
		return &v
	}
	return nil
}

// rankYears are the years a ranking reads: the year asked (else the dataset's last) and the one before.
func (e *costEnv) rankYears() (from, to int) {
	first, last := e.info.Counts.Span()
	to = last
	if y := e.year(); y != nil {
		to = *y
	}
	return max(first, to-1), to
}

// yearsArg is the span of the from and to arguments in args, within the dataset's years.
func (e *costEnv) yearsArg(args map[string]any) (from, to int) {
	first, last := e.info.Counts.Span()
	if e.info.FirstYear != nil {
		first, last = *e.info.FirstYear, *e.info.LastYear
	}
	from, to = max(first, intArg(args, "from", first)), min(last, intArg(args, "to", last))
	if from > to { // refused when run; priced as one year
		return from, from
	}
	return from, to
}

// scope is how many regions the scope arguments in args name (every region when none).
func (e *costEnv) scope(args map[string]any, year *int) int {
	return e.s.scopeRegions(e.ctx, args, year, e.regions)
}

// values is how many values the indicators named (nil: every one) have in the years from…to within a
// scope of that many regions: what a query reads, from the dataset's counts. Without counts (an engine
// that has none), the most it could be.
func (e *costEnv) values(codes []string, from, to, scope int) int {
	if e.info.Counts != nil {
		return e.info.Counts.Values(codes, from, to, scope)
	}
	k := e.indicators
	if codes != nil {
		k = len(codes)
	}
	return min(k*max(1, to-from+1)*scope, 1<<40)
}

// costFilter is what an ObservationFilter (an aggregate's, a pivot's) selects: indicators (nil: every
// one), years and how many regions.
type costFilter struct {
	codes    []string
	from, to int
	scope    int
	groups   int // the groups it keeps (its group: 1)
}

// filter reads the field's filter argument; indicator, when not empty, is the one indicator a pivot reads.
func (e *costEnv) filter(indicator []string) costFilter {
	f, _ := e.args["filter"].(map[string]any)
	out := costFilter{groups: e.groups}
	out.from, out.to = e.yearsArg(f)
	out.scope = e.scope(f, nil)
	if f["group"] != nil {
		out.groups = 1
	}
	switch {
	case len(indicator) > 0 && indicator[0] != "": // a code, or a formula's operands
		out.codes = indicator
	default:
		out.codes = e.s.indicatorCodes(e.ctx, f)
	}
	return out
}

// dim is how many values a dimension takes within the filter: how many rows (or columns) grouping by it
// can make.
func (f costFilter) dim(e *costEnv, d analytics.Dimension) int {
	switch d {
	case analytics.DimRegion, analytics.DimParent:
		return max(1, f.scope)
	case analytics.DimGroup:
		return max(1, f.groups)
	case analytics.DimLevel:
		return max(1, e.info.Levels)
	case analytics.DimIndicator:
		if f.codes != nil {
			return max(1, len(f.codes))
		}
		return e.indicators
	case analytics.DimCategory:
		return max(1, e.info.Categories)
	case analytics.DimPeriod: // at most a year's value and 12 months a year (quarters fewer)
		return max(1, 13*(f.to-f.from+1))
	}
	return max(1, f.to-f.from+1)
}

func (f costFilter) values(e *costEnv) int { return e.values(f.codes, f.from, f.to, f.scope) }

// sizes are the operation's sizes, read before the cost walk (zero when there are none).
func (e *costEnv) sizes() sizes {
	sz, _ := e.ctx.Value(sizesKey{}).(sizes)
	return sz
}

// fieldCost is what a rule charges a field: a list field n elements (0: not a list), each its selection's
// cost, and work for the values it reads; total, when not 0, is the field's whole cost as it is (a rule
// that prices its selection itself). A field charged nothing of these costs 1 plus its selection.
// fieldCost is a rule's price: a list of n elements, the work of computing the field (values read and
// scored or scanned, Monte Carlo runs), or, when total is set, the whole price, work included (work then
// says how much of it is work, for admission's lanes).
type fieldCost struct{ n, work, total int }

// costRule prices one field.
type costRule func(e *costEnv) fieldCost

// costRules price the fields of the schema by "Type.field". Every root field and every list field outside
// introspection must have one, even one that charges only the plain 1 plus its selection, or
// TestEveryFieldHasACostRule fails and names it: a new query or list cannot be left to a default unseen.
var costRules = map[string]costRule{
	// Lists of regions, groups, indicators: at most every one of the dataset.
	"Query.regions": regionsList, "Group.members": regionsList, "Region.children": regionsList,
	"Ranking.missing": regionsList, "Scope.regions": regionsList, "Group.memberships": regionsList,
	"Query.groups": groupsList, "Region.groups": groupsList, "Region.memberships": groupsList,
	"Query.indicators": func(e *costEnv) fieldCost { return fieldCost{n: e.indicators} },
	// search reads every region, group and indicator's names once; it lists at most first hits.
	"Query.search": func(e *costEnv) fieldCost {
		return fieldCost{n: max(1, min(intArg(e.args, "first", 10), 100)), work: e.regions + e.groups + e.indicators}
	},
	// A standings' lists: an entry per indicator placed, at most those it names.
	"Standings.entries": standingsList, "Standings.entered": standingsList, "Standings.left": standingsList,
	"Standings.missing": standingsList,
	// One warning per indicator that does not add up, one per measure out of range.
	"Aggregate.warnings": func(e *costEnv) fieldCost { return fieldCost{n: e.indicators + 6} },
	"Pivot.warnings":     func(e *costEnv) fieldCost { return fieldCost{n: e.indicators + 6} },
	// gapToLeader, vsMean, vsMedian out of range; growths out of range.
	"Ranking.warnings": func(*costEnv) fieldCost { return fieldCost{n: 4} },
	// cagr; yoy.
	"Trend.warnings":        func(*costEnv) fieldCost { return fieldCost{n: 2} },
	"TargetResult.warnings": func(*costEnv) fieldCost { return fieldCost{n: 2} }, // why progress is null: a few at most
	"Ranking.flagCounts":    func(*costEnv) fieldCost { return fieldCost{n: len(analytics.AllFlags)} },
	"Ranking.entries": func(e *costEnv) fieldCost {
		n := e.regions
		if sz := e.sizes(); sz.rankingRegions > 0 {
			n = sz.rankingRegions
		}
		return fieldCost{n: min(n, intArg(e.args, "top", n), intArg(e.args, "first", n))}
	},
	"Trend.points": func(e *costEnv) fieldCost {
		if sz := e.sizes(); sz.trendYears > 0 {
			return fieldCost{n: sz.trendYears}
		}
		return fieldCost{n: e.years}
	},
	"Query.ranking": func(e *costEnv) fieldCost {
		// This year's and last year's values of the scope (a rank change).
		from, to := e.rankYears()
		return fieldCost{work: 1 + e.values(readCodes(stringArg(e.args, "indicator"), stringArg(e.args, "formula")), from, to, e.scope(e.args, e.year()))/memoryValues}
	},
	"Query.standings": func(e *costEnv) fieldCost {
		// The scope's values of each indicator placed, this year and the year before.
		from, to := e.rankYears()
		return fieldCost{work: 1 + e.values(e.s.indicatorCodes(e.ctx, e.args), from, to, e.scope(e.args, e.year()))/memoryValues}
	},
	"Query.trend": func(e *costEnv) fieldCost {
		from, to := e.yearsArg(e.args)
		for _, a := range []string{"group", "parent", "level", "regions"} {
			if e.args[a] != nil { // a ranking of the scope each year
				return fieldCost{work: to - from + 1 + e.values(readCodes(stringArg(e.args, "indicator"), stringArg(e.args, "formula")), from, to, e.scope(e.args, nil))/memoryValues}
			}
		}
		return fieldCost{work: (to - from + 1) * e.info.Counts.PerYear(stringArg(e.args, "indicator"))}
	},
	"Comparison.rows": comparisonList, "Comparison.gaps": comparisonList, "Comparison.leaders": comparisonList,
	"Comparison.leads": comparisonList, "Comparison.warnings": comparisonList, "Comparison.regions": comparisonList, "Comparison.indicators": comparisonList,
	"Query.compare": func(e *costEnv) fieldCost {
		// The work is the values compared, and with a scope its regions' values.
		c := e.s.compareSize(e.ctx, e.args, e.years)
		work := c.regions * c.indicators * c.years
		if scope, ok := e.args["scope"].(map[string]any); ok { // each indicator-year ranked in the scope
			work += c.indicators * c.years * e.scope(scope, nil) / memoryValues
		}
		return fieldCost{total: 1 + e.child + min(work, 1<<40), work: min(work, 1<<40)}
	},
	"Query.observations": func(e *costEnv) fieldCost {
		// The connection is charged here for first elements; its edges and nodes then count once.
		return fieldCost{total: 1 + max(1, intArg(e.args, "first", 100))*e.child + e.years + e.formulaWork(e.args, "")}
	},
	// Lists their root field charges for (a page, an aggregate's rows, a pivot's table): once here.
	"ObservationConnection.edges": chargedAbove, "ObservationConnection.nodes": chargedAbove,
	"Aggregate.rows": chargedAbove, "Pivot.rows": chargedAbove, "Pivot.columns": chargedAbove, "PivotRow.cells": chargedAbove,
	"Query.aggregate": func(e *costEnv) fieldCost {
		// Its rows, at most the groups its dimensions make within its filter, and the values the filter selects.
		f := e.filter(nil)
		groupsMax := 1
		if by, ok := e.args["by"].([]any); ok {
			for _, d := range by {
				if d, ok := d.(string); ok {
					groupsMax = min(groupsMax*f.dim(e, analytics.Dimension(d)), 1<<30)
				}
			}
		}
		rows := max(1, min(intArg(e.args, "first", 100), groupsMax))
		work := f.values(e)/scanValues + e.formulaWork(e.args["filter"], "")
		return fieldCost{total: 1 + min(rows*e.child, 1<<40)/rowFieldsPerUnit + work, work: work}
	},
	"Query.pivot": func(e *costEnv) fieldCost {
		// A row per value of its rows' dimension within the filter, a cell per column, and the values read.
		f := e.filter(readCodes("", stringArg(e.args, "indicator")))
		rows := f.dim(e, dimArg(e.args, "rows", analytics.DimRegion))
		cols := f.dim(e, dimArg(e.args, "columns", analytics.DimYear))
		work := f.values(e)/scanValues + e.formulaWork(e.args["filter"], stringArg(e.args, "indicator"))
		return fieldCost{total: 1 + min(rows*e.child+rows*cols/cellsPerUnit, 1<<40) + work, work: work}
	},
	"Query.schemes": func(e *costEnv) fieldCost { return fieldCost{n: max(1, e.info.Schemes)} },
	"Scheme.indicators": func(e *costEnv) fieldCost {
		// The longest scheme's lines (one indicator may have several, for different years).
		n := 1
		if schemes, err := e.s.engine.Schemes(e.ctx); err == nil {
			for _, sc := range schemes {
				n = max(n, len(sc.Indicators))
			}
		}
		return fieldCost{n: n}
	},
	"Query.targets": func(e *costEnv) fieldCost {
		// Every target of the dataset and of extra at most (filters only narrow them), each read from values
		// held in memory; a rank target ranks its scope once per indicator and year.
		n := e.info.Targets
		if l, ok := e.args["extra"].([]any); ok {
			n += len(l)
		}
		return fieldCost{n: max(1, n), work: n + e.regions}
	},
	"Composite.entries": func(e *costEnv) fieldCost { // entries(first:) pages them, as a ranking's
		c := compositeRegions(e)
		c.n = min(c.n, intArg(e.args, "first", c.n))
		return c
	},
	"Composite.excluded": compositeRegions, "Robustness.entries": compositeRegions,
	"Robustness.excluded": compositeRegions, "CompositeHistory.regions": compositeRegions,
	"Composite.indicators": compositeIndicators, "CompositeEntry.breakdown": compositeIndicators,
	"CompositeEntry.departments": compositeIndicators, "CompositeEntry.categories": compositeIndicators,
	"CompositeHistory.years": historyYears, "CompositeHistory.periods": historyYears, "CompositeRegionHistory.years": historyYears,
	"Query.departments": points, "Query.categories": points,
	// A composite's classes: groups of the dataset, each at most once.
	"Composite.classes": groupsList, "Scheme.classes": groupsList,
	// One region's series of one indicator; its warnings, at most three.
	"Query.threshold": plain, "Threshold.warnings": defaultList, "CompositeEntry.versus": compositeIndicators,
	"Query.composite": composite, "Query.robustness": composite, "Query.compositeHistory": composite,
	// One object, found by its code: 1 plus its selection.
	"Query.dataset": plain, "Query.region": plain, "Query.group": plain, "Query.indicator": plain, "Query.scheme": plain,
	// Short lists of scalars (a value's flags, at most len(analytics.AllFlags); a tier rule's cut-offs or
	// quotas, one per tier but the last): a scalar's selection costs nothing, so the length never counts.
	"Observation.flags": defaultList, "RankingEntry.flags": defaultList, "StandingEntry.flags": defaultList,
	"TrendPoint.flags": defaultList, "CompareRow.flags": defaultList,
	"Scheme.cutoffs": defaultList, "Scheme.quotas": defaultList, "TierRule.cutoffs": defaultList, "TierRule.quotas": defaultList,
	// Batched: the values are read once for every region asking.
	"Region.value":       func(*costEnv) fieldCost { return fieldCost{work: 1} },
	"Region.valueSource": func(*costEnv) fieldCost { return fieldCost{work: 1} },
	"Region.rank":        func(*costEnv) fieldCost { return fieldCost{work: 1} },
	// Introspection's lists, at their longest in this schema.
	"__Schema.types":       func(e *costEnv) fieldCost { return fieldCost{n: e.s.types} },
	"__Type.possibleTypes": func(e *costEnv) fieldCost { return fieldCost{n: e.s.types} },
	"__Type.interfaces":    func(e *costEnv) fieldCost { return fieldCost{n: e.s.types} },
	"__Schema.directives":  func(e *costEnv) fieldCost { return fieldCost{n: e.s.directives} },
	"__Type.fields":        func(e *costEnv) fieldCost { return fieldCost{n: e.s.fields} },
	"__Type.inputFields":   func(e *costEnv) fieldCost { return fieldCost{n: e.s.inputs} },
	"__Type.enumValues":    func(e *costEnv) fieldCost { return fieldCost{n: e.s.enums} },
	"__Field.args":         func(e *costEnv) fieldCost { return fieldCost{n: e.s.args} },
	"__Directive.args":     func(e *costEnv) fieldCost { return fieldCost{n: e.s.args} },
}

func regionsList(e *costEnv) fieldCost { return fieldCost{n: e.regions} }
func groupsList(e *costEnv) fieldCost  { return fieldCost{n: e.groups} }
func chargedAbove(*costEnv) fieldCost  { return fieldCost{n: 1} }

// historyYears are a composite history's years: from its from to its input's year.
func historyYears(e *costEnv) fieldCost {
	if sz := e.sizes(); sz.historyYears > 0 {
		return fieldCost{n: sz.historyYears}
	}
	return fieldCost{n: e.years}
}

// plain charges a field 1 plus its selection: an object or a scalar read with its parent.
func plain(*costEnv) fieldCost { return fieldCost{} }

// defaultList charges a list defaultListLength elements: for lists whose length does not matter.
func defaultList(*costEnv) fieldCost { return fieldCost{n: defaultListLength} }

func standingsList(e *costEnv) fieldCost {
	n := e.indicators
	if sz := e.sizes(); sz.standingsIndicators > 0 {
		n = sz.standingsIndicators
	}
	return fieldCost{n: n}
}

// comparisonList is what each list of a comparison can hold, from the compare fields' arguments (see
// sizes): a row per region, indicator and year; a gap per region and indicator; a leader per indicator and
// year (ties add a few); a lead per region.
func comparisonList(e *costEnv) fieldCost {
	c, n := e.sizes().compare, 0
	switch e.field {
	case "rows":
		n = c.regions * c.indicators * c.years
	case "gaps":
		n = c.regions * c.indicators
	case "leaders":
		n = 2 * c.indicators * c.years
	case "leads", "regions":
		n = c.regions
	case "indicators":
		n = c.indicators
	}
	return fieldCost{n: max(1, min(n, 1<<30))}
}

func compositeRegions(e *costEnv) fieldCost {
	n := e.regions
	if sz := e.sizes(); sz.compositeRegions > 0 {
		n = sz.compositeRegions
	}
	return fieldCost{n: n}
}

func compositeIndicators(e *costEnv) fieldCost {
	n := e.indicators
	if sz := e.sizes(); sz.compositeIndicators > 0 {
		n = sz.compositeIndicators
	}
	return fieldCost{n: n}
}

// points prices departments and categories: a composite's points, a department (category) of each region
// scored, at most one per indicator.
func points(e *costEnv) fieldCost {
	in, _ := e.args["input"].(map[string]any)
	rs, k := e.s.scopeRegions(e.ctx, in, yearIn(in), e.regions), e.s.indicatorsNamed(e.ctx, in, e.indicators)
	return fieldCost{n: max(1, min(rs*k, 1<<30)), work: 1 + compositeValues(e, in)/memoryValues}
}

// compositeValues are the values a composite scores: its indicators' of the scope, this year and the year
// before, from the dataset's counts; of a quarterly or monthly indicator, this period and the same period a
// year earlier (its two years' values over its periods a year).
func compositeValues(e *costEnv, in map[string]any) int {
	year := yearIn(in)
	_, last := e.info.Counts.Span()
	to := last
	if year != nil {
		to = *year
	}
	codes, rs := e.s.indicatorCodes(e.ctx, in), e.s.scopeRegions(e.ctx, in, year, e.regions)
	if !slices.ContainsFunc(codes, func(c string) bool { return e.info.Counts.PerYear(c) > 1 }) {
		return e.values(codes, to-1, to, rs)
	}
	n := 0
	for _, c := range codes {
		n += e.values([]string{c}, to-1, to, rs) / e.info.Counts.PerYear(c)
	}
	return n
}

// yearIn is the year of a composite's input, or its period's calendar year; nil when neither is given.
func yearIn(in map[string]any) *int {
	if y, ok := in["year"].(int64); ok {
		v := int(y)
		return &v
	}
	if p := periodIn(in); p != nil {
		return &p.Year
	}
	return nil
}

// periodIn is the quarter or month of a composite's input; nil for a year, none, or a malformed one (which
// the resolver refuses).
func periodIn(in map[string]any) *analytics.Period {
	return subAnnual(stringArg(in, "period"))
}

// subAnnual parses a quarter or month; nil for anything else.
func subAnnual(text string) *analytics.Period {
	p, err := analytics.ParsePeriod(text)
	if err != nil || p.Freq == analytics.Annual {
		return nil
	}
	return &p
}

// historySpan is how many lines a compositeHistory asks for, at most years·(periods a year) of the
// dataset's years: the years from `from` to the input's year (the dataset's last without one), or the
// periods from fromPeriod to the input's period (the last period of the dataset's last year without one);
// and the calendar years from the one before its first line to its last, whose values it reads.
func historySpan(args, in map[string]any, last, years int) (lines, from, to int) {
	to = last
	if y := yearIn(in); y != nil {
		to = *y
	}
	f := analytics.Annual
	p, fp := periodIn(in), subAnnual(stringArg(args, "fromPeriod"))
	if p != nil {
		f = p.Freq
	} else if fp != nil {
		f = fp.Freq
	}
	if f == analytics.Annual {
		from := intArg(args, "from", to)
		if y, err := analytics.ParsePeriod(stringArg(args, "fromPeriod")); err == nil && y.Freq == analytics.Annual {
			from = y.Year
		}
		lines = max(1, min(to-from+1, years))
		return lines, to - lines, to
	}
	per := f.PerYear()
	toOrd := analytics.OrdOf(f, to, per)
	if p != nil {
		toOrd = p.Ord()
	}
	fromOrd := analytics.OrdOf(f, intArg(args, "from", to), 1)
	if fp != nil && fp.Freq == f {
		fromOrd = fp.Ord()
	}
	lines = max(1, min(toOrd-fromOrd+1, years*per))
	return lines, analytics.YearOfOrd(f, toOrd-lines+1) - 1, to
}

// composite prices composite, robustness and compositeHistory. A composite scores its indicators' values of
// the scope, this year and the year before, in memory: 1/memoryValues of a unit a value (its answer is
// charged by its lists). A Monte Carlo run scores them again (1,000 runs over 3,000 regions × 50
// indicators take 0.16 s: charged 3,000); a history each year of its span once.
func composite(e *costEnv) fieldCost {
	in, _ := e.args["input"].(map[string]any)
	rs, k := e.s.scopeRegions(e.ctx, in, yearIn(in), e.regions), e.s.indicatorsNamed(e.ctx, in, e.indicators)
	if e.field == "compositeHistory" {
		// Each year (period) of the span is scored once over the values from the year before `from` to the
		// input's year: those values are read once, not twice a year as pricing each year as a composite
		// would. A monthly history of two years scores 24 periods.
		_, last := e.info.Counts.Span()
		lines, from, to := historySpan(e.args, in, last, e.years)
		return fieldCost{work: lines + e.values(e.s.indicatorCodes(e.ctx, in), from, to, rs)/memoryValues}
	}
	work := 1 + compositeValues(e, in)/memoryValues
	if e.field == "robustness" {
		work += intArg(e.args, "runs", 1000) * rs * k / 50000
	}
	return fieldCost{work: work}
}

// sizes are the longest lists the assessment fields of an operation can answer, read from their root fields
// arguments before the cost walk (which gives a list's cost no access to its parent's arguments): a
// composite's entries are at most its scope's regions and its breakdown its indicators, a standings' entries
// its indicators. Zero: no such root field.
type sizes struct {
	compositeRegions, compositeIndicators, standingsIndicators int
	rankingRegions, trendYears                                 int         // a ranking's scope, a trend's span of years
	historyYears                                               int         // a composite history's span
	compare                                                    compareSize // the largest of the operation's compare fields
}

// compareSize is what a compare's arguments name: regions (a group counts its members), indicators (a
// category its indicators) and years (the span, within the dataset's).
type compareSize struct{ regions, indicators, years int }

func (s costed) compareSize(ctx context.Context, args map[string]any, years int) compareSize {
	rs, is := 0, 0
	// The groups by code, once: a miss of Engine.Group builds a "did you mean" message, and most codes here
	// are regions' (up to 10,000 of them, priced before the request is admitted).
	groups := map[string]*analytics.Group{}
	if gs, err := s.engine.Groups(ctx); err == nil {
		for _, g := range gs {
			groups[g.Code] = g
		}
	}
	for _, c := range stringsArg(args, "regions") {
		if g := groups[c]; g != nil {
			if _, err := s.engine.Region(ctx, c); err != nil {
				rs += len(g.Members(nil))
				continue
			}
		}
		rs++
	}
	all, _ := s.engine.Indicators(ctx)
	for _, c := range stringsArg(args, "indicators") {
		k := 0
		for _, in := range all {
			if in.Code == c {
				k = 1
				break
			}
			if in.Category != nil && *in.Category == c {
				k++
			}
		}
		is += max(1, k)
	}
	span := max(1, min(years, intArg(args, "to", 0)-intArg(args, "from", 0)+1))
	return compareSize{max(1, rs), max(1, is), span}
}

type sizesKey struct{}

func (s costed) sizes(ctx context.Context, set ast.SelectionSet, vars map[string]any) sizes {
	var out sizes
	info, err := s.engine.Dataset(ctx)
	if err != nil {
		return out
	}
	regions, indicators := max(1, info.Regions), max(1, info.Indicators)
	years := 1
	if info.FirstYear != nil {
		years = *info.LastYear - *info.FirstYear + 1
	}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				switch sel.Name {
				case "composite", "robustness", "compositeHistory", "departments", "categories":
					in, _ := sel.ArgumentMap(vars)["input"].(map[string]any)
					out.compositeRegions = max(out.compositeRegions, s.scopeRegions(ctx, in, yearIn(in), regions))
					out.compositeIndicators = max(out.compositeIndicators, s.indicatorsNamed(ctx, in, indicators))
					if sel.Name == "compositeHistory" { // a history without year or period ends with the dataset
						last := 0
						if info.LastYear != nil {
							last = *info.LastYear
						}
						lines, _, _ := historySpan(sel.ArgumentMap(vars), in, last, years)
						out.historyYears = max(out.historyYears, lines)
					}
				case "compare":
					c := s.compareSize(ctx, sel.ArgumentMap(vars), years)
					if c.regions*c.indicators*c.years > out.compare.regions*out.compare.indicators*out.compare.years {
						out.compare = c
					}
				case "ranking":
					args := sel.ArgumentMap(vars)
					out.rankingRegions = max(out.rankingRegions, s.scopeRegions(ctx, args, nil, regions))
				case "trend":
					from, to := intArg(sel.ArgumentMap(vars), "from", 0), intArg(sel.ArgumentMap(vars), "to", 1<<30)
					if info.FirstYear != nil {
						from, to = max(from, *info.FirstYear), min(to, *info.LastYear)
					}
					// A quarterly or monthly indicator has 4 or 12 points a year.
					per := info.Counts.PerYear(stringArg(sel.ArgumentMap(vars), "indicator"))
					out.trendYears = max(out.trendYears, per*min(years, max(1, to-from+1)))
				case "standings":
					out.standingsIndicators = max(out.standingsIndicators, s.indicatorsNamed(ctx, sel.ArgumentMap(vars), indicators))
				}
			case *ast.InlineFragment:
				walk(sel.SelectionSet)
			case *ast.FragmentSpread:
				if sel.Definition != nil {
					walk(sel.Definition.SelectionSet)
				}
			}
		}
	}
	walk(set)
	return out
}

// scopeRegions is how many regions the scope arguments in args name at most: a list's length, a group's
// members (in year, or in any year when year is nil), a parent's children, a level's regions, or a
// scheme's scope; else every region.
func (s costed) scopeRegions(ctx context.Context, args map[string]any, year *int, all int) int {
	if args == nil {
		return all
	}
	if l, ok := args["regions"].([]any); ok {
		return max(1, min(len(l), all))
	}
	if g, ok := args["group"].(string); ok {
		if grp, err := s.engine.Group(ctx, g); err == nil {
			return max(1, len(grp.Members(year)))
		}
	}
	if cl, ok := args["classes"].([]any); ok && len(cl) > 0 { // a composite in classes scores their members
		n, known := 0, true
		for _, c := range cl {
			code, _ := c.(string)
			grp, err := s.engine.Group(ctx, code)
			if err != nil {
				known = false
				break
			}
			n += len(grp.Members(year))
		}
		if known {
			return max(1, min(n, all))
		}
	}
	if p, ok := args["parent"].(string); ok {
		if r, err := s.engine.Region(ctx, p); err == nil {
			return max(1, len(r.Children))
		}
	}
	level, _ := args["level"].(string)
	if code, ok := args["scheme"].(string); ok && level == "" {
		if sc, err := s.engine.Scheme(ctx, code); err == nil && sc != nil {
			return s.scopeRegions(ctx, map[string]any{"group": sc.Scope.Group, "parent": sc.Scope.Parent, "level": sc.Scope.Level}, year, all)
		}
	}
	if level != "" {
		if rs, err := s.engine.Regions(ctx, analytics.RegionFilter{Level: level}); err == nil {
			return max(1, len(rs))
		}
	}
	return all
}

// indicatorsNamed is how many indicators the arguments in args name at most: a list's length, a category's
// indicators, a scheme's lines; else every indicator.
func (s costed) indicatorsNamed(ctx context.Context, args map[string]any, all int) int {
	if codes := s.indicatorCodes(ctx, args); codes != nil {
		return max(1, min(len(codes), all))
	}
	return all
}

// readCodes are the indicators an indicator argument reads: the code, or the operands of a formula (a
// formula's values are computed from theirs, so it costs what they cost).
func readCodes(code, src string) []string {
	if src == "" {
		return []string{code}
	}
	x, err := formula.Parse(src)
	if err != nil {
		return []string{src} // not a formula this grammar reads: a code, priced as one
	}
	return x.Vars()
}

// formulaWork is the work of computing the formulas among a filter's indicators (args: the filter, or
// observations' own arguments) and a pivot's indicator (one): each is computed in memory over every value
// of its operands, for every region and year, before SQL reads the filter's.
func (e *costEnv) formulaWork(args any, indicator string) int {
	texts := []string{indicator}
	if f, ok := args.(map[string]any); ok {
		if l, ok := f["indicators"].([]any); ok {
			for _, v := range l {
				if v, ok := v.(string); ok {
					texts = append(texts, v)
				}
			}
		}
	}
	var ops []string
	for _, t := range texts {
		if x, err := formula.Parse(t); err == nil && x.Operators() > 0 {
			ops = append(ops, x.Vars()...)
		}
	}
	if ops == nil {
		return 0
	}
	first, last := e.yearsArg(nil)
	return e.values(ops, first, last, e.regions) / memoryValues
}

// indicatorCodes are the indicators the arguments in args name: a list (of codes, or of a composite's
// weighted indicators), a category's, a scheme's; nil when they name none (every indicator).
func (s costed) indicatorCodes(ctx context.Context, args map[string]any) []string {
	if args == nil {
		return nil
	}
	if l, ok := args["indicators"].([]any); ok {
		codes := make([]string, 0, len(l))
		for _, v := range l {
			switch v := v.(type) {
			case string: // a code, or a formula standing for one
				codes = append(codes, readCodes("", v)...)
			case map[string]any: // WeightedIndicatorInput
				c, _ := v["indicator"].(string)
				f, _ := v["formula"].(string)
				codes = append(codes, readCodes(c, f)...)
			}
		}
		return codes
	}
	if c, ok := args["category"].(string); ok {
		codes := []string{}
		if ins, err := s.engine.Indicators(ctx); err == nil {
			for _, in := range ins {
				if in.Category != nil && *in.Category == c {
					codes = append(codes, in.Code)
				}
			}
		}
		return codes
	}
	if code, ok := args["scheme"].(string); ok {
		if sc, err := s.engine.Scheme(ctx, code); err == nil && sc != nil {
			codes := make([]string, 0, len(sc.Indicators))
			for _, line := range sc.Indicators {
				if line.Indicator != nil {
					codes = append(codes, line.Indicator.Code)
				}
			}
			return codes
		}
	}
	return nil
}

// costLimit refuses an operation whose cost (above) is over limit, before it runs. It stands in for gqlgen's
// FixedComplexityLimit to charge introspection, which gqlgen's walk leaves out (320 aliased __schema fields
// made a 10.6 MB answer), and, with introspection off, to refuse it as a request error instead of failing
// each field.
type costLimit struct {
	es            costed
	limit         int
	introspection bool
}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = &costLimit{}

func (*costLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *costLimit) Validate(schema graphql.ExecutableSchema) error {
	es, ok := schema.(costed)
	if !ok {
		return fmt.Errorf("costLimit needs the schema of withCosts, got %T", schema)
	}
	c.es = es
	return nil
}

func (c *costLimit) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	schemas, types := introspectionFields(rc.Operation.SelectionSet, map[string][2]int{})
	if !c.introspection && schemas+types > 0 {
		err := gqlerror.Errorf("introspection (__schema, __type) is turned off on this server")
		errcode.Set(err, analytics.BadUserInput)
		return err
	}
	// Each root selection is priced alone, with the sizes its own arguments give its lists (a ranking's
	// entries its scope's regions); the operation costs their sum, and a refusal names the dearest.
	cost, work := 0, 0
	var name, field string
	var dearest int
	for _, sel := range rc.Operation.SelectionSet {
		op := *rc.Operation
		op.SelectionSet = ast.SelectionSet{sel}
		cctx := context.WithValue(context.WithValue(ctx, sizesKey{}, c.es.sizes(ctx, op.SelectionSet, rc.Variables)), workKey{}, &work)
		n := complexity.Calculate(cctx, c.es, &op, rc.Variables)
		cost = min(cost+n, 1<<50)
		if n > dearest {
			dearest = n
			name, field = selectionName(sel)
		}
	}
	cost = min(cost+min(schemas, 1<<20)*c.es.schemaCost, 1<<50)
	if cost > c.limit {
		msg := fmt.Sprintf("operation has complexity %d, which exceeds the limit of %d", cost, c.limit)
		if schemas > 0 {
			msg += fmt.Sprintf(" (each __schema costs %d, the size of the schema)", c.es.schemaCost)
		}
		if name != "" {
			msg += fmt.Sprintf("; the dearest field is %s at %d: %s", name, dearest, narrowHint(field))
		}
		err := gqlerror.Errorf("%s", msg)
		errcode.Set(err, analytics.QueryTooComplex)
		err.Extensions["cost"], err.Extensions["limit"] = cost, c.limit
		if name != "" {
			err.Extensions["field"] = name
		}
		return err
	}
	rc.Stats.SetExtension(costExtension, cost)
	rc.Stats.SetExtension(workExtension, work)
	return nil
}

// selectionName names a root selection in a message: its response name (and its field when aliased), or
// its fragment.
func selectionName(sel ast.Selection) (name, field string) {
	switch sel := sel.(type) {
	case *ast.Field:
		name = strconv.Quote(sel.Alias)
		if sel.Alias != sel.Name {
			name += " (" + sel.Name + ")"
		}
		return name, sel.Name
	case *ast.FragmentSpread:
		return "..." + sel.Name, ""
	}
	return "an inline fragment", ""
}

// narrowHint says which arguments of a root field narrow what it reads or returns.
func narrowHint(field string) string {
	switch field {
	case "aggregate":
		return "narrow its filter (indicators, category, regions, group, parent, level, from, to) or ask for fewer rows (first)"
	case "pivot":
		return "narrow its filter (regions, group, parent, level, from, to)"
	case "ranking":
		return "narrow its scope (group, parent, level, regions) or take fewer entries (entries(top:) or first:)"
	case "standings":
		return "name fewer indicators (indicators, category, scheme) or narrow its scope (group, parent, level, regions)"
	case "trend":
		return "narrow its years (from, to) or its scope (group, parent, level, regions)"
	case "compare":
		return "compare fewer regions or indicators, or fewer years (from, to)"
	case "observations":
		return "ask for a smaller page (first) and follow its cursor"
	case "composite", "robustness", "compositeHistory", "departments", "categories":
		return "narrow its scope (group, parent, level, regions) or its indicators, or ask for fewer runs or years"
	}
	return "select fewer fields or nested lists"
}

// costExtension is where costLimit leaves an admitted operation's estimated cost (OperationCost).
const costExtension = "pacesetter.cost"

// workExtension is where costLimit leaves the work part of that cost (OperationWork): the root fields'
// values read and scored or scanned, and Monte Carlo runs, without their answers' size.
const workExtension = "pacesetter.work"

// workKey carries the *int the root fields' work is added to while an operation is priced.
type workKey struct{}

// introspectionFields counts the __schema and __type fields of a validated operation's root, through its
// fragments (each counted once, its count reused at every spread).
func introspectionFields(set ast.SelectionSet, memo map[string][2]int) (schemas, types int) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			switch s.Name {
			case "__schema":
				schemas++
			case "__type":
				types++
			}
		case *ast.InlineFragment:
			a, b := introspectionFields(s.SelectionSet, memo)
			schemas, types = schemas+a, types+b
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			n, ok := memo[s.Name]
			if !ok {
				memo[s.Name] = [2]int{} // a cycle counts nothing (validation refuses it)
				n[0], n[1] = introspectionFields(s.Definition.SelectionSet, memo)
				memo[s.Name] = n
			}
			schemas, types = schemas+n[0], types+n[1]
		}
	}
	return min(schemas, 1<<30), min(types, 1<<30)
}

// intArg reads an Int argument as the cost walker hands it over (gqlparser's values: int64), or def when it
// is absent or null.
func intArg(args map[string]any, name string, def int) int {
	switch v := args[name].(type) {
	case int64:
		return int(max(0, min(v, 1<<30)))
	case json.Number: // a number inside a variable's object (filter: $f), as the request's JSON has it
		if n, err := v.Int64(); err == nil {
			return int(max(0, min(n, 1<<30)))
		}
	case int: // the same, coerced by the validator
		return max(0, min(v, 1<<30))
	case *analytics.PeriodOrYear: // trend's from and to: a period counts as its year
		if v != nil {
			return v.Year
		}
	case analytics.PeriodOrYear:
		return v.Year
	case string: // a PeriodOrYear literal, as the document has it
		var p analytics.PeriodOrYear
		if p.UnmarshalGQL(v) == nil {
			return p.Year
		}
	}
	return def
}

// stringArg reads a String or ID argument; "" when absent.
func stringArg(args map[string]any, name string) string {
	s, _ := args[name].(string)
	return s
}

// stringsArg reads a list of strings argument; nil when absent.
func stringsArg(args map[string]any, name string) []string {
	var out []string
	if l, ok := args[name].([]any); ok {
		for _, v := range l {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// dimArg reads a Dimension argument (an enum: a string), or def.
func dimArg(args map[string]any, name string, def analytics.Dimension) analytics.Dimension {
	if v, ok := args[name].(string); ok {
		return analytics.Dimension(v)
	}
	return def
}
