package dataset

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"pacesetter/analytics"
)

// A small folder for schemes and targets: regions with levels, a group whose members change, and indicators
// with categories (one derived).
func assessFolder(schemes, targets string) fstest.MapFS {
	fs := fstest.MapFS{
		RegionsFile:     {Data: []byte("region_code,region_name,parent_code,group,level\nCN,China,,,country\nA,Alpha,CN,East,province\nB,Beta,CN,East,province\nC,Gamma,CN,West,province\n")},
		MembershipsFile: {Data: []byte("group_code,region_code,from_year,to_year\nDelta,C,2021,\n")},
		GroupsFile:      {Data: []byte("group_code,name\nDelta,Delta zone\n")},
		IndicatorsFile: {Data: []byte("indicator_code,name,unit,direction,measure,category\ngdp,GDP,bn,higher_is_better,level,economy\n" +
			"unemp,Unemployment rate,%,lower_is_better,rate,\npop,Population,m,higher_is_better,level,people\n")},
		DerivedFile:      {Data: []byte("indicator_code,name,unit,direction,measure,formula\ngdp_pc,GDP per head,k,higher_is_better,level,gdp / pop\n")},
		ObservationsFile: {Data: []byte("region_code,indicator_code,year,value\nA,gdp,2020,10\nA,pop,2020,2\n")},
	}
	if schemes != "" {
		fs[SchemesFile] = &fstest.MapFile{Data: []byte(schemes)}
	}
	if targets != "" {
		fs[TargetsFile] = &fstest.MapFile{Data: []byte(targets)}
	}
	return fs
}

const goodSchemes = `# an assessment
schemes:
  - code: s1
    name: 综合评价
    name_en: Overall
    note: |
      Weights chosen by hand.
    scope: {level: province}
    normalisation: min_max
    aggregation: GEOMETRIC
    missing: EXCLUDE
    min_weight_share: 0.5
    ties: FRACTIONAL
    tiers: {cutoffs: [70, 50.5]}
    indicators:
      - indicator: gdp
        weight: 2
        department: 发展改革委
        low: 0
        high: 100
        to: 2021
      - indicator: gdp
        points: 4
        from: 2022
        rule: {kind: target, met: 0.8, missed: 0.25, step: 0.5, cap: 1.2}
      - indicator: unemp
        weight: 1.5
        category: jobs
        target: 4
      - indicator: gdp_pc
        points: 3
  - code: s2
    name: Second
    scope:
      group: East
    tiers:
      quotas: [1, 2]
    indicators: [{indicator: pop, weight: 1}]
`

func f64(x float64) *float64 { return &x }

func TestReadSchemes(t *testing.T) {
	d, err := Read(assessFolder(goodSchemes, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Schemes) != 2 {
		t.Fatalf("%d schemes", len(d.Schemes))
	}
	s := d.Schemes[0]
	want := Scheme{Code: "s1", Name: "综合评价", NameEn: "Overall", Note: "Weights chosen by hand.", ScopeLevel: "province",
		Normalisation: analytics.MinMax, Aggregation: analytics.Geometric, Missing: analytics.Exclude, MinWeightShare: f64(0.5),
		Ties: analytics.Fractional, Cutoffs: []float64{70, 50.5}, RankBy: analytics.RankByScore,
		Indicators: []SchemeIndicator{
			{Indicator: "gdp", Weight: 2, Category: "economy", Department: "发展改革委", Low: f64(0), High: f64(100), To: 2021,
				Rule: analytics.PointsRule{Kind: analytics.PointsScaled}, Basis: analytics.BasisValue},
			// points and no weight: the weight is the points; the target rule with every field given
			{Indicator: "gdp", Weight: 4, Points: f64(4), Category: "economy", From: 2022,
				Rule: analytics.PointsRule{Kind: analytics.PointsTarget, Met: 0.8, Missed: 0.25, Step: 0.5, Cap: 1.2}, Basis: analytics.BasisValue},
			// the file's category wins; an indicator without one and no category in the file has ""
			{Indicator: "unemp", Weight: 1.5, Category: "jobs", Target: f64(4), Rule: analytics.PointsRule{Kind: analytics.PointsScaled}, Basis: analytics.BasisValue},
			// a derived indicator; its category is empty
			{Indicator: "gdp_pc", Weight: 3, Points: f64(3), Rule: analytics.PointsRule{Kind: analytics.PointsScaled}, Basis: analytics.BasisValue},
		}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("scheme s1\n got %+v\nwant %+v", s, want)
	}
	// rank_by, classes and basis, read case-insensitively.
	d3, err := Read(assessFolder(scheme("    rank_by: points\n    classes: [East]\n", "      - {indicator: gdp, points: 2, basis: rank_change}\n      - {indicator: pop, points: 1, basis: Growth}\n"), ""))
	if err != nil {
		t.Fatal(err)
	}
	if s := d3.Schemes[0]; s.RankBy != analytics.RankByPoints || !reflect.DeepEqual(s.Classes, []string{"East"}) ||
		s.Indicators[0].Basis != analytics.BasisRankChange || s.Indicators[1].Basis != analytics.BasisGrowth {
		t.Errorf("rank_by, classes, basis: %+v", s)
	}
	// Defaults: MIN_MAX, ARITHMETIC, RESCALE, COMPETITION.
	s2 := d.Schemes[1]
	if s2.ScopeGroup != "East" || s2.Normalisation != analytics.MinMax || s2.Aggregation != analytics.Arithmetic ||
		s2.Missing != analytics.Rescale || s2.Ties != analytics.Competition || !reflect.DeepEqual(s2.Quotas, []int{1, 2}) ||
		s2.Cutoffs != nil || s2.MinWeightShare != nil || len(s2.Indicators) != 1 {
		t.Errorf("scheme s2 %+v", s2)
	}
	// No file, and an empty file: no schemes.
	for _, body := range []string{"", "# nothing yet\n"} {
		fs := assessFolder("", "")
		if body != "" {
			fs[SchemesFile] = &fstest.MapFile{Data: []byte(body)}
		}
		if d, err := Read(fs); err != nil || len(d.Schemes) != 0 {
			t.Errorf("%q: %v, %d schemes", body, err, len(d.Schemes))
		}
	}
}

// scheme wraps indicator lines (and scheme keys) into a file: extra (one line) is line 4, and the first
// indicator line is line 6.
func scheme(extra, indicators string) string {
	if extra == "" {
		extra = "    note: n\n"
	}
	return "schemes:\n  - code: s\n    name: S\n" + extra + "    indicators:\n" + indicators
}

func TestReadSchemesRefuses(t *testing.T) {
	gdp := "      - indicator: gdp\n        weight: 1\n"
	cases := []struct{ name, file, want string }{
		{"yaml syntax", "schemes:\n  - code: [\n", "schemes.yaml:2: not valid YAML"},
		{"unknown top key", "schemas:\n  - code: s\n", `schemes.yaml:1: unknown key "schemas" in the file (did you mean "schemes"?); the keys are schemes`},
		{"unknown scheme key", scheme("    normalization: MIN_MAX\n", gdp),
			`schemes.yaml:4: unknown key "normalization" in a scheme (did you mean "normalisation"?)`},
		{"unknown indicator key", scheme("", gdp+"        wieght: 2\n"),
			`schemes.yaml:8: unknown key "wieght" in an indicator of scheme "s" (did you mean "weight"?); the keys are indicator, weight, points`},
		{"unknown indicator", scheme("", "      - indicator: gpd\n        weight: 1\n"),
			`schemes.yaml:6: unknown indicator "gpd" in scheme "s" (not in indicators.csv or derived.csv); did you mean "gdp"?`},
		{"duplicate code", scheme("", gdp) + "  - code: s\n    name: T\n    indicators: [{indicator: gdp, weight: 1}]\n",
			`schemes.yaml:8: duplicate scheme code "s" (first on line 2)`},
		{"overlapping years", scheme("", "      - indicator: gdp\n        weight: 1\n        to: 2021\n      - indicator: gdp\n        weight: 2\n        from: 2021\n"),
			`schemes.yaml:9: indicator "gdp" appears twice in scheme "s" for overlapping years (first on line 6)`},
		{"twice, open years", scheme("", gdp+gdp), `schemes.yaml:8: indicator "gdp" appears twice in scheme "s" for overlapping years (first on line 6)`},
		{"weight 0", scheme("", "      - indicator: gdp\n        weight: 0\n"), `schemes.yaml:7: weight of indicator "gdp" of scheme "s" must be above 0, got 0`},
		{"weight negative", scheme("", "      - indicator: gdp\n        weight: -2\n"), `schemes.yaml:7: weight of indicator "gdp" of scheme "s" must be above 0, got -2`},
		{"weight infinite", scheme("", "      - indicator: gdp\n        weight: .inf\n"), `schemes.yaml:7: weight of indicator "gdp" of scheme "s" must be a finite number`},
		{"weight text", scheme("", "      - indicator: gdp\n        weight: heavy\n"), `schemes.yaml:7: weight of indicator "gdp" of scheme "s" must be a number, got "heavy"`},
		{"no weight", scheme("", "      - indicator: gdp\n        department: X\n"), `schemes.yaml:6: indicator "gdp" of scheme "s" has neither weight nor points`},
		{"a year without weight", scheme("", "      - indicator: gdp\n        weight: 1\n        to: 2019\n      - indicator: pop\n        weight: 1\n        from: 2022\n"),
			`schemes.yaml:6: no indicator of scheme "s" counts in 2020–2021, between years in which some do, so its weights sum to 0 there`},
		{"unknown normalisation", scheme("    normalisation: MINMAX\n", gdp),
			`schemes.yaml:4: normalisation of scheme "s" "MINMAX" is not one of MIN_MAX, Z_SCORE, RANK, PERCENTILE_RANK, DISTANCE_TO_LEADER, DISTANCE_TO_TARGET, GOALPOSTS`},
		{"unknown aggregation", scheme("    aggregation: median\n", gdp), `schemes.yaml:4: aggregation of scheme "s" "median" is not one of ARITHMETIC, GEOMETRIC`},
		{"unknown missing", scheme("    missing: zero\n", gdp), `schemes.yaml:4: missing of scheme "s" "zero" is not one of RESCALE, EXCLUDE`},
		{"unknown ties", scheme("    ties: average\n", gdp), `schemes.yaml:4: ties of scheme "s" "average" is not one of COMPETITION, DENSE, FRACTIONAL`},
		{"min_weight_share", scheme("    min_weight_share: 70\n", gdp), `schemes.yaml:4: min_weight_share of scheme "s" must be from 0 to 1`},
		{"cutoffs ascending", scheme("    tiers: {cutoffs: [50, 70]}\n", gdp), `schemes.yaml:4: cutoffs of scheme "s" must be strictly descending (the best tier's first, e.g. [80, 60]): 70 follows 50`},
		{"cutoffs equal", scheme("    tiers: {cutoffs: [50, 50]}\n", gdp), `must be strictly descending`},
		{"quota 0", scheme("    tiers: {quotas: [3, 0]}\n", gdp), `schemes.yaml:4: a quota of scheme "s" (how many regions in a tier) must be a whole number from 1`},
		{"quota fraction", scheme("    tiers: {quotas: [2.5]}\n", gdp), `must be a whole number from 1`},
		{"both tiers", scheme("    tiers: {cutoffs: [50], quotas: [3]}\n", gdp), `schemes.yaml:4: the tiers of scheme "s" give both cutoffs and quotas`},
		{"low >= high", scheme("", gdp+"        low: 5\n        high: 5\n"), `schemes.yaml:8: goalposts of indicator "gdp" of scheme "s": low 5 must be below high 5`},
		{"only low", scheme("", gdp+"        low: 5\n"), `schemes.yaml:8: indicator "gdp" of scheme "s" gives only one goalpost`},
		{"unknown group", scheme("    scope: {group: Eats}\n", gdp), `schemes.yaml:4: unknown group "Eats" in the scope of scheme "s"`},
		{"unknown parent", scheme("    scope: {parent: XX}\n", gdp), `schemes.yaml:4: unknown region "XX" as parent in the scope of scheme "s"`},
		{"unknown level", scheme("    scope: {level: city}\n", gdp), `schemes.yaml:4: unknown level "city" in the scope of scheme "s"; the levels are country, province`},
		{"group and parent", scheme("    scope: {group: East, parent: CN}\n", gdp), `schemes.yaml:4: the scope of scheme "s" gives both group and parent`},
		{"rule kind", scheme("", "      - indicator: gdp\n        points: 5\n        rule: {kind: bonus}\n"),
			`schemes.yaml:8: kind of the rule of indicator "gdp" of scheme "s" "bonus" is not one of SCALED, TARGET`},
		{"rule without points", scheme("", gdp+"        rule: {kind: target}\n"), `schemes.yaml:8: the rule of indicator "gdp" of scheme "s" turns a result into points, but the indicator has no points`},
		{"scaled rule with met", scheme("", "      - indicator: gdp\n        points: 5\n        rule: {kind: scaled, met: 1}\n"),
			`schemes.yaml:8: met belongs to a rule of kind target`},
		{"met above cap", scheme("", "      - indicator: gdp\n        points: 5\n        rule: {kind: target, met: 1.5}\n"),
			`schemes.yaml:8: met of the rule of indicator "gdp" of scheme "s" must be from 0 to cap (1)`},
		{"missed above met", scheme("", "      - indicator: gdp\n        points: 5\n        rule: {kind: target, met: 0.5, missed: 0.6}\n"),
			`schemes.yaml:8: missed of the rule of indicator "gdp" of scheme "s" must be from 0 to met (0.5)`},
		{"negative step", scheme("", "      - indicator: gdp\n        points: 5\n        rule: {kind: target, step: -1}\n"), `step of the rule of indicator "gdp" of scheme "s" must not be negative`},
		{"unknown rule key", scheme("", "      - indicator: gdp\n        points: 5\n        rule: {kind: target, bonus: 1}\n"), `schemes.yaml:8: unknown key "bonus" in the rule of indicator "gdp"`},
		{"unknown rank_by", scheme("    rank_by: votes\n", gdp), `schemes.yaml:4: rank_by of scheme "s" "votes" is not one of SCORE, POINTS`},
		{"rank_by points without points", scheme("    rank_by: points\n", gdp), `schemes.yaml:4: scheme "s" ranks by points, but none of its indicators has points`},
		{"unknown class", scheme("    classes: [East, Eats]\n", gdp), `schemes.yaml:4: unknown group "Eats" in the classes of scheme "s"`},
		{"class twice", scheme("    classes: [East, East]\n", gdp), `schemes.yaml:4: group "East" is twice in the classes of scheme "s"`},
		{"unknown basis", scheme("", gdp+"        basis: speed\n"), `schemes.yaml:8: basis of indicator "gdp" of scheme "s" "speed" is not one of VALUE, GROWTH, RANK_CHANGE`},
		{"no name", "schemes:\n  - code: s\n    indicators: [{indicator: gdp, weight: 1}]\n", `schemes.yaml:2: scheme "s" has no name`},
		{"no indicators", "schemes:\n  - code: s\n    name: S\n", `schemes.yaml:2: scheme "s" has no indicators`},
		{"unknown category named", scheme("", gdp) + "categories:\n  econmy: {name: 经济}\n",
			`schemes.yaml:9: unknown category "econmy" in categories (did you mean "economy"?); indicators.csv and the schemes' lines name economy, people`},
		{"unknown department named", scheme("", gdp+"        department: 发展改革委\n") + "departments:\n  发改委: {name_en: NDRC}\n",
			`schemes.yaml:10: unknown department "发改委" in departments (did you mean "发展改革委"?); the schemes' lines name 发展改革委`},
		{"label key typo", scheme("", gdp) + "categories:\n  economy: {name: 经济, nmae_en: Economy}\n",
			`schemes.yaml:9: unknown key "nmae_en" in category "economy" (did you mean "name_en"?); the keys are name, name_en`},
		{"label without a name", "categories:\n  people: {}\n", `schemes.yaml:2: category "people" has no name: give name, name_en or both`},
		{"labels not a mapping", "departments: [a, b]\n", `schemes.yaml:1: departments must be a mapping of each department's code to {name, name_en}`},
		{"alias", "schemes:\n  - code: &c s\n    name: *c\n    indicators: [{indicator: gdp, weight: 1}]\n", `schemes.yaml:3: aliases (*name) are not supported`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(assessFolder(c.file, ""))
			var inv *Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("not refused: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got\n%v\nwant a problem containing\n%s", err, c.want)
			}
		})
	}
}

// categories: and departments: name the codes in both languages, in file order; a file may hold names only.
func TestReadLabels(t *testing.T) {
	file := scheme("", "      - indicator: gdp\n        weight: 1\n        category: growth\n        department: 发展改革委\n") +
		"categories:\n  people: {name_en: People}\n  growth: {name: 增长, name_en: Growth}\n" +
		"departments:\n  发展改革委: {name: 发展和改革委员会, name_en: Development and Reform Commission}\n"
	d, err := Read(assessFolder(file, ""))
	if err != nil {
		t.Fatal(err)
	}
	wantC := []Label{{Code: "people", NameEn: "People"}, {Code: "growth", Name: "增长", NameEn: "Growth"}}
	wantD := []Label{{Code: "发展改革委", Name: "发展和改革委员会", NameEn: "Development and Reform Commission"}}
	if !reflect.DeepEqual(d.Categories, wantC) || !reflect.DeepEqual(d.Departments, wantD) {
		t.Fatalf("categories %+v departments %+v", d.Categories, d.Departments)
	}
	d2, err := Read(assessFolder("categories:\n  economy: {name: 经济}\n", ""))
	if err != nil || len(d2.Schemes) != 0 || !reflect.DeepEqual(d2.Categories, []Label{{Code: "economy", Name: "经济"}}) {
		t.Fatalf("names only: %v %+v", err, d2)
	}
	// The names are part of the version: renaming a category changes it.
	d3, err := Read(assessFolder("categories:\n  economy: {name: 经济发展}\n", ""))
	if err != nil || d3.VersionWith(ObservationsDigest{}) == d2.VersionWith(ObservationsDigest{}) {
		t.Fatalf("a renamed category keeps the version: %v", err)
	}
}

// Every problem of the file is listed, not only the first.
func TestReadSchemesListsAll(t *testing.T) {
	file := scheme("    ties: average\n", "      - indicator: gpd\n        weight: 1\n      - indicator: gdp\n        weight: -1\n")
	_, err := Read(assessFolder(file, ""))
	var inv *Invalid
	if !errors.As(err, &inv) || inv.Total != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	var lines []int
	for _, p := range inv.Problems {
		lines = append(lines, p.Line)
	}
	if !reflect.DeepEqual(lines, []int{4, 6, 9}) {
		t.Errorf("lines %v, want [4 6 9]: %v", lines, err)
	}
}

const targetsHeader = "region_code,indicator_code,year,comparator,value,kind,group\n"

func TestReadTargets(t *testing.T) {
	d, err := Read(assessFolder("", targetsHeader+"A,gdp,2024,>=,5,growth,\nB,unemp,2024,<=,4.5,LEVEL,\nC,gdp_pc,2023,<=,2,rank,Delta\nA,gdp,2024,>=,100,level,\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{
		{Region: "A", Indicator: "gdp", Year: 2024, Comparator: ">=", Value: 5, Kind: analytics.TargetGrowth},
		{Region: "B", Indicator: "unemp", Year: 2024, Comparator: "<=", Value: 4.5, Kind: analytics.TargetLevel},
		{Region: "C", Indicator: "gdp_pc", Year: 2023, Comparator: "<=", Value: 2, Kind: analytics.TargetRank, Group: "Delta"},
		{Region: "A", Indicator: "gdp", Year: 2024, Comparator: ">=", Value: 100, Kind: analytics.TargetLevel},
	}
	if !reflect.DeepEqual(d.Targets, want) {
		t.Errorf("targets\n got %+v\nwant %+v", d.Targets, want)
	}
	// Without the optional group column.
	if d, err := Read(assessFolder("", "region_code,indicator_code,year,comparator,value,kind\nA,gdp,2024,>=,5,growth\n")); err != nil || len(d.Targets) != 1 {
		t.Errorf("%v %v", err, d)
	}
}

func TestReadTargetsRefuses(t *testing.T) {
	cases := []struct{ row, want string }{
		{"X,gdp,2024,>=,5,growth,", `targets.csv:2: unknown region_code "X" (not in regions.csv)`},
		{"A,gpd,2024,>=,5,growth,", `targets.csv:2: unknown indicator_code "gpd" (not in indicators.csv or derived.csv); did you mean "gdp"?`},
		{"A,gdp,0,>=,5,growth,", `targets.csv:2: year "0" is not a whole number from 1 to 9999`},
		{"A,gdp,2024,>,5,growth,", `targets.csv:2: comparator ">" is not >= (at least the value) or <= (at most the value)`},
		{"A,gdp,2024,>=,NaN,growth,", `targets.csv:2: value "NaN" is not a finite number`},
		{"A,gdp,2024,>=,,growth,", `targets.csv:2: value "" is not a finite number`},
		{"A,gdp,2024,>=,5,share,", `targets.csv:2: kind "share" is not level`},
		{"A,gdp,2024,>=,3,rank,", `targets.csv:2: a rank target takes <= (rank 1 is the best: <= 3 is the top 3), not >=`},
		{"A,gdp,2024,<=,2.5,rank,", `targets.csv:2: a rank target's value must be a whole number of at least 1, got 2.5`},
		{"A,gdp,2024,<=,0,rank,", `a rank target's value must be a whole number of at least 1, got 0`},
		{"A,gdp,2024,>=,5,growth,East", `targets.csv:2: group "East" is only for rank targets`},
		{"A,gdp,2024,<=,3,rank,Eats", `targets.csv:2: unknown group "Eats"`},
		{"C,gdp,2020,<=,3,rank,Delta", `targets.csv:2: region C is not a member of group Delta in 2020, so it has no rank there`},
		{"A,gdp,2024,>=,5,growth,\nA,gdp,2024,>=,6,GROWTH,", `targets.csv:3: duplicate growth target of A, gdp, 2024 (first on line 2)`},
	}
	for _, c := range cases {
		_, err := Read(assessFolder("", targetsHeader+c.row+"\n"))
		var inv *Invalid
		if !errors.As(err, &inv) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %s", c.row, err, c.want)
		}
	}
	if _, err := Read(assessFolder("", "region_code,indicator_code,year,value,kind\n")); err == nil ||
		!strings.Contains(err.Error(), "targets.csv:1: missing column(s) comparator") {
		t.Errorf("missing column: %v", err)
	}
}

// Schemes and targets are part of the version; a dataset without them keeps the version it had.
func TestVersionWithSchemesAndTargets(t *testing.T) {
	v := func(fs fstest.MapFS) string {
		d, err := Read(fs)
		if err != nil {
			t.Fatal(err)
		}
		return d.VersionWith(ObservationsDigest{})
	}
	base := assessFolder("", "")
	plain := v(base)
	withS := v(assessFolder(goodSchemes, ""))
	withT := v(assessFolder("", targetsHeader+"A,gdp,2024,>=,5,growth,\n"))
	otherT := v(assessFolder("", targetsHeader+"A,gdp,2024,>=,6,growth,\n"))
	if plain == withS || plain == withT || withT == otherT || withS == withT {
		t.Errorf("versions %s %s %s %s", plain, withS, withT, otherT)
	}
	delete(base, DerivedFile)
	base[SchemesFile] = &fstest.MapFile{Data: []byte("")}
	d, _ := Read(base)
	d2, _ := Read(func() fstest.MapFS { f := assessFolder("", ""); delete(f, DerivedFile); return f }())
	if d.VersionWith(ObservationsDigest{}) != d2.VersionWith(ObservationsDigest{}) {
		t.Error("an empty schemes.yaml changed the version")
	}
}
