package formula

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// inputs turns a map into the lookup Eval wants.
func inputs(m map[string]float64) func(string) (float64, bool) {
	return func(code string) (float64, bool) {
		v, ok := m[code]
		return v, ok
	}
}

func mustParse(t *testing.T, src string) *Expr {
	t.Helper()
	e, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return e
}

func TestEval(t *testing.T) {
	cases := []struct {
		src  string
		in   map[string]float64
		want float64
	}{
		{"2 + 3 * 4", nil, 14},
		{"(2 + 3) * 4", nil, 20},
		{"8 / 4 / 2", nil, 1},
		{"8 / (4 / 2)", nil, 4},
		{"10 - 4 - 3", nil, 3},
		{"10 - (4 - 3)", nil, 9},
		{"-2 * 3", nil, -6},
		{"2 * -3", nil, -6},
		{"--2", nil, 2},
		{"2 - -3", nil, 5},
		{"-(2 + 3)", nil, -5},
		{"+5 - +2", nil, 3},
		{"6 × 2 ÷ 3 − 1", nil, 3},
		{"−2 × −3", nil, 6},
		{"2*3+4*5", nil, 26},
		{"\t1 +\t2  ", nil, 3},
		{"2 * (3 + 4) - 5", nil, 9},
		{"((((7))))", nil, 7},
		{"10000", nil, 10000},
		{"0.5 + .25", nil, 0.75},
		{"5. / 2", nil, 2.5},
		{"1e4", nil, 10000},
		{"2.5E-3", nil, 0.0025},
		{"5E-1 * 4", nil, 2},
		{"1e+2 + 1E2", nil, 200},
		{"retail_sales / population * 10000", map[string]float64{"retail_sales": 500, "population": 250}, 20000},
		{"NY.GDP.MKTP.CD / SP.POP.TOTL", map[string]float64{"NY.GDP.MKTP.CD": 3e12, "SP.POP.TOTL": 1.5e8}, 20000},
		{"_x1 * x_2.a", map[string]float64{"_x1": 3, "x_2.a": 4}, 12},
		{"`code-with-dash` + `001`", map[string]float64{"code-with-dash": 1, "001": 2}, 3},
		{"`gross value (€ m)` - `x`", map[string]float64{"gross value (€ m)": 10, "x": 4}, 6},
		{"x / y / z", map[string]float64{"x": 8, "y": 4, "z": 2}, 1},
		{"a - a", map[string]float64{"a": 1.5}, 0},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			got, ok, err := mustParse(t, c.src).Eval(inputs(c.in))
			if err != nil || !ok || got != c.want {
				t.Errorf("Eval(%q) = %v, %v, %v; want %v, true, nil", c.src, got, ok, err, c.want)
			}
		})
	}
}

func TestVars(t *testing.T) {
	cases := []struct {
		src  string
		want []string
	}{
		{"2 + 3", nil},
		{"b + a * b - c", []string{"b", "a", "c"}},
		{"`001` + x.y + `001`", []string{"001", "x.y"}},
		{"`x` + x", []string{"x"}},
		{"a.b + a_b + A + a", []string{"a.b", "a_b", "A", "a"}},
		{"NY.GDP.MKTP.CD / (SP.POP.TOTL - NY.GDP.MKTP.CD)", []string{"NY.GDP.MKTP.CD", "SP.POP.TOTL"}},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			e := mustParse(t, c.src)
			if got := e.Vars(); !slices.Equal(got, c.want) {
				t.Errorf("Vars(%q) = %q, want %q", c.src, got, c.want)
			}
			if got := e.Vars(); len(got) > 0 {
				got[0] = "changed"
				if e.Vars()[0] == "changed" {
					t.Error("Vars shares its slice with the Expr")
				}
			}
		})
	}
}

func TestEvalMissing(t *testing.T) {
	cases := []struct {
		src string
		in  map[string]float64
	}{
		{"a + b * c", map[string]float64{"a": 1, "b": 2}},
		{"a / 0", nil},                                 // missing wins over division by zero
		{"a / b", map[string]float64{"b": 0}},          // likewise, with a zero divisor input
		{"1e308 * 10 + a", map[string]float64{"b": 1}}, // and over overflow
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			got, ok, err := mustParse(t, c.src).Eval(inputs(c.in))
			if got != 0 || ok || err != nil {
				t.Errorf("Eval(%q) = %v, %v, %v; want 0, false, nil", c.src, got, ok, err)
			}
		})
	}
}

func TestDivisionByZero(t *testing.T) {
	cases := []struct {
		src     string
		in      map[string]float64
		wantMsg string
	}{
		{"1 / 0", nil, `division by zero: divisor "0" is 0`},
		{"0 / 0", nil, `division by zero: divisor "0" is 0`},
		{"a / (b - b)", map[string]float64{"a": 1, "b": 7}, `division by zero: divisor "b - b" is 0`},
		{"a / b", map[string]float64{"a": 1, "b": 0}, `division by zero: divisor "b" is 0`},
		{"a / -b", map[string]float64{"a": 1, "b": 0}, `division by zero: divisor "-b" is 0`},
		{"1 + 2 / (a * 0)", map[string]float64{"a": 5}, `division by zero: divisor "a * 0" is 0`},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			got, ok, err := mustParse(t, c.src).Eval(inputs(c.in))
			if !errors.Is(err, ErrDivisionByZero) || ok || got != 0 {
				t.Fatalf("Eval(%q) = %v, %v, %v; want ErrDivisionByZero", c.src, got, ok, err)
			}
			if err.Error() != c.wantMsg {
				t.Errorf("Eval(%q) error = %q, want %q", c.src, err, c.wantMsg)
			}
		})
	}
}

func TestNotFinite(t *testing.T) {
	cases := []struct {
		src     string
		in      map[string]float64
		wantMsg string
	}{
		{"1e308 * 10", nil, `result is not a finite number: "1e+308 * 10" overflows`},
		{"1e308 + 1e308", nil, `result is not a finite number: "1e+308 + 1e+308" overflows`},
		{"-1e308 - 1e308", nil, `result is not a finite number: "-1e+308 - 1e+308" overflows`},
		// The intermediate overflows even though Inf - Inf would hide it as NaN.
		{"a * 10 - a * 10", map[string]float64{"a": 1e308}, `result is not a finite number: "a * 10" overflows`},
		{"1 / 1e-308 / 1e-308", nil, `result is not a finite number: "1 / 1e-308 / 1e-308" overflows`},
		{"a + 1", map[string]float64{"a": math.NaN()}, `indicator "a" is not a finite number (NaN)`},
		{"a * 0", map[string]float64{"a": math.Inf(-1)}, `indicator "a" is not a finite number (-Inf)`},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			got, ok, err := mustParse(t, c.src).Eval(inputs(c.in))
			if err == nil || ok || got != 0 || errors.Is(err, ErrDivisionByZero) {
				t.Fatalf("Eval(%q) = %v, %v, %v; want a not-finite error", c.src, got, ok, err)
			}
			if err.Error() != c.wantMsg {
				t.Errorf("Eval(%q) error = %q, want %q", c.src, err, c.wantMsg)
			}
		})
	}
}

func TestNegativeZero(t *testing.T) {
	for _, src := range []string{"-0", "0 * -1", "-a", "a * -1", "a / -5", "-(a - a)"} {
		t.Run(src, func(t *testing.T) {
			got, ok, err := mustParse(t, src).Eval(inputs(map[string]float64{"a": 0}))
			if got != 0 || math.Signbit(got) || !ok || err != nil {
				t.Errorf("Eval(%q) = %v (signbit %v), %v, %v; want +0, true, nil", src, got, math.Signbit(got), ok, err)
			}
		})
	}
}

func TestString(t *testing.T) {
	cases := []struct{ src, want string }{
		{"a+b*c", "a + b * c"},
		{"(a+b)*c", "(a + b) * c"},
		{"(a*b)+c", "a * b + c"},
		{"a-(b-c)", "a - (b - c)"},
		{"(a-b)-c", "a - b - c"},
		{"a/(b*c)", "a / (b * c)"},
		{"(a/b)*c", "a / b * c"},
		{"a+(b+c)", "a + (b + c)"},
		{"a*(b*c)", "a * (b * c)"},
		{"((a))", "a"},
		{"-(a+b)", "-(a + b)"},
		{"-(a*b)", "-(a * b)"},
		{"(-a)*b", "-a * b"},
		{"a*(-b)", "a * -b"},
		{"-(-a)", "--a"},
		{"+a", "a"},
		{"-(2)", "-2"},
		{"2 × −3", "2 * -3"},
		{"6÷2", "6 / 2"},
		{"`code-with-dash` + `001` + `x` + `a.b`", "`code-with-dash` + `001` + x + a.b"},
		{"`.a` + `_`", "`.a` + _"},
		{"NY.GDP.MKTP.CD/SP.POP.TOTL*1e4", "NY.GDP.MKTP.CD / SP.POP.TOTL * 10000"},
		{".5 + 2.50 + 1e-7 + 1e20 + 0.0001", "0.5 + 2.5 + 1e-07 + 1e+20 + 0.0001"},
		{"1e-400", "0"},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			if got := mustParse(t, c.src).String(); got != c.want {
				t.Errorf("String(%q) = %q, want %q", c.src, got, c.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	formulas := []string{
		"retail_sales / population * 10000",
		"a - (b - c) / (a + b)",
		"a + (b + c)",
		"--a × (b ÷ −c) − .5e1",
		"`x-1` / (`x-1` - b) * 1e-9",
		"a / b / c * (a * (b * c))",
	}
	inputSets := []map[string]float64{
		{"retail_sales": 1, "population": 3, "a": 0.1, "b": 0.2, "c": 0.3, "x-1": 7},
		{"retail_sales": 123.456, "population": 1e7, "a": -1e300, "b": 1e-300, "c": 3, "x-1": -2},
		{"retail_sales": 0, "population": 0, "a": 5, "b": 5, "c": 0, "x-1": 5},
	}
	for _, src := range formulas {
		t.Run(src, func(t *testing.T) {
			e1 := mustParse(t, src)
			s := e1.String()
			e2 := mustParse(t, s)
			if s2 := e2.String(); s2 != s {
				t.Errorf("String is not stable: %q then %q", s, s2)
			}
			if !slices.Equal(e1.Vars(), e2.Vars()) {
				t.Errorf("Vars %q became %q", e1.Vars(), e2.Vars())
			}
			for _, in := range inputSets {
				v1, ok1, err1 := e1.Eval(inputs(in))
				v2, ok2, err2 := e2.Eval(inputs(in))
				if math.Float64bits(v1) != math.Float64bits(v2) || ok1 != ok2 || (err1 == nil) != (err2 == nil) {
					t.Errorf("%q on %v = %v, %v, %v but %q = %v, %v, %v", src, in, v1, ok1, err1, s, v2, ok2, err2)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	deepParens := strings.Repeat("(", 65) + "1" + strings.Repeat(")", 65)
	deepSigns := strings.Repeat("-", 65) + "1"
	deepMixed := strings.Repeat("-(", 33) + "1" + strings.Repeat(")", 33)
	tooLong := "a" + strings.Repeat(" + a", 250) // 1001 characters
	cases := []struct{ name, src, want string }{
		{"empty", "", "formula is empty"},
		{"only spaces", "  \t ", "formula is empty"},
		{"dangling operator", "a +", `at column 4: expected a number, an indicator code or "(", found the end of the formula`},
		{"two operators", "a * * b", `at column 5: expected a number, an indicator code or "(", found "*"`},
		{"leading binary operator", "× 2", `at column 1: expected a number, an indicator code or "(", found "×"`},
		{"empty parentheses", "()", `at column 2: expected a number, an indicator code or "(", found ")"`},
		{"unclosed", "(a", `at column 1: unclosed "("`},
		{"unclosed inner", "a + (b * (c)", `at column 5: unclosed "("`},
		{"unopened", "a)", `at column 2: unexpected ")"`},
		{"bad character", "a $ b", `at column 3: unexpected character "$"`},
		{"newline", "a\nb", `at column 2: unexpected character "\n"`},
		{"column counts characters", "`größe` $", `at column 9: unexpected character "$"`},
		{"non-ASCII code", "ä + 1", `at column 1: unexpected character "ä" (put indicator codes like this in backticks)`},
		{"invalid UTF-8", "a + \xff", `at column 5: invalid UTF-8`},
		{"exponent without digits", "1e", `at column 1: number "1e" is not valid`},
		{"exponent sign without digits", "2 * 1e+", `at column 5: number "1e+" is not valid`},
		{"two dots", "1.2.3", `at column 1: number "1.2.3" is not valid`},
		{"lone dot", "a + .", `at column 5: number "." is not valid`},
		{"number glued to code", "2 + 3x", `at column 5: number "3x" is not valid`},
		{"number too large", "1e400", `at column 1: number "1e400" is too large`},
		{"missing operator", "a b", `at column 3: expected an operator or the end of the formula, found "b"`},
		{"missing operator before (", "2 (a)", `at column 3: expected an operator or the end of the formula, found "("`},
		{"missing operator in parentheses", "(a `b c`)", "at column 4: expected an operator or \")\", found \"`b c`\""},
		{"empty backticks", "a + ``", "at column 5: empty indicator code \"``\""},
		{"unclosed backtick", "a + `b", "at column 5: unclosed \"`\""},
		{"too deep parentheses", deepParens, `at column 65: parentheses and signs nested more than 64 deep`},
		{"too deep signs", deepSigns, `at column 65: parentheses and signs nested more than 64 deep`},
		{"too deep mixed", deepMixed, `at column 65: parentheses and signs nested more than 64 deep`},
		{"too long", tooLong, `formula is 1001 characters long, the limit is 1000`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := Parse(c.src)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error %q", c.src, e, c.want)
			}
			if err.Error() != c.want {
				t.Errorf("Parse(%q) error = %q, want %q", c.src, err, c.want)
			}
		})
	}
}

func TestParseAtLimits(t *testing.T) {
	cases := []struct {
		name, src string
		want      float64
	}{
		{"64 parentheses", strings.Repeat("(", 64) + "1" + strings.Repeat(")", 64), 1},
		{"64 signs", strings.Repeat("-", 64) + "1", 1},
		{"1000 characters", "1" + strings.Repeat(" + 1", 249) + "   ", 250},
		// The limit counts characters, not bytes: these 1000 characters are 1990 bytes.
		{"1000 non-ASCII characters", "`" + strings.Repeat("ä", 990) + "` * 0 + 1", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if n := utf8.RuneCountInString(c.src); n != 1000 && strings.HasPrefix(c.name, "1000") {
				t.Fatalf("test formula is %d characters", n)
			}
			e := mustParse(t, c.src)
			got, ok, err := e.Eval(func(string) (float64, bool) { return 2, true })
			if got != c.want || !ok || err != nil {
				t.Errorf("Eval = %v, %v, %v; want %v, true, nil", got, ok, err, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"retail_sales / population * 10000",
		"6 × 2 ÷ 3 − 1",
		"`code-with-dash` + `001` - NY.GDP.MKTP.CD",
		"--(a - b) / .5e-3 * (c + (d + e))",
		"1e308 * 10",
		"a / (b - b)",
		"(a",
		"1e",
		"a $ b",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e1, err := Parse(src)
		if err != nil {
			return
		}
		s := e1.String()
		// Canonical text can outgrow the length limit (spaces, "0.5" for ".5"); the grammar
		// round-trip must hold regardless, so past the limit parse without it.
		limit := maxRunes
		if utf8.RuneCountInString(s) > maxRunes {
			limit = math.MaxInt
		}
		e2, err := parse(s, limit)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q: %v", src, s, err)
		}
		if !slices.Equal(e1.Vars(), e2.Vars()) {
			t.Fatalf("Vars of %q = %q, of its String %q = %q", src, e1.Vars(), s, e2.Vars())
		}
		if s2 := e2.String(); s2 != s {
			t.Fatalf("String is not stable for %q: %q then %q", src, s, s2)
		}
		value := func(code string) (float64, bool) { return float64(len(code)%5) - 1.5, len(code) != 7 }
		v1, ok1, err1 := e1.Eval(value)
		v2, ok2, err2 := e2.Eval(value)
		if math.Float64bits(v1) != math.Float64bits(v2) || ok1 != ok2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("%q = %v, %v, %v but its String %q = %v, %v, %v", src, v1, ok1, err1, s, v2, ok2, err2)
		}
	})
}

// Col, Operators, EvalValues and PosError: what the query layer reads of a parsed formula.
func TestColOperatorsEvalValues(t *testing.T) {
	for _, c := range []struct {
		src  string
		cols map[string]int
		ops  int
		vals []float64
		want float64
	}{
		{"tax_revenue / fiscal_revenue * 100", map[string]int{"tax_revenue": 1, "fiscal_revenue": 15, "gdp": 0}, 2, []float64{80, 100}, 80},
		{"(a + b) / a - 2.5", map[string]int{"a": 2, "b": 6}, 3, []float64{2, 6}, 1.5},
		{"-x", map[string]int{"x": 2}, 1, []float64{4}, -4},
		{"`NY.GDP` × 2", map[string]int{"NY.GDP": 1}, 1, []float64{3}, 6},
	} {
		x, err := Parse(c.src)
		if err != nil {
			t.Fatal(err)
		}
		for code, col := range c.cols {
			if got := x.Col(code); got != col {
				t.Errorf("%q: Col(%s) = %d, want %d", c.src, code, got, col)
			}
		}
		if got := x.Operators(); got != c.ops {
			t.Errorf("%q: %d operators, want %d", c.src, got, c.ops)
		}
		if got, err := x.EvalValues(c.vals); err != nil || got != c.want {
			t.Errorf("%q: EvalValues(%v) = %v, %v; want %v", c.src, c.vals, got, err, c.want)
		}
	}
	x, _ := Parse("a / (b - c)")
	if _, err := x.EvalValues([]float64{1, 2, 2}); !errors.Is(err, ErrDivisionByZero) {
		t.Errorf("a / (b - c) with b = c: %v", err)
	}
	_, err := Parse("a + (b")
	var pe *PosError
	if !errors.As(err, &pe) || pe.Col != 5 || err.Error() != `at column 5: unclosed "("` {
		t.Errorf("a + (b: %#v", err)
	}
}
