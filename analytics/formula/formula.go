// Package formula parses and evaluates the formulas of derived indicators (derived.csv), such as
// `retail_sales / population * 10000`. A formula only ever runs here, in Go, per region and year;
// it is never spliced into SQL.
package formula

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits keep a hostile or broken derived.csv from costing more than a moment to parse.
const (
	maxRunes = 1000
	maxDepth = 64
)

// ErrDivisionByZero is returned (wrapped) when a divisor evaluates to 0.
var ErrDivisionByZero = errors.New("division by zero")

// Expr is a parsed formula.
type Expr struct {
	root *node
	vars []string
	cols []int // the 1-based column where each of vars first appears
}

type node struct {
	op   byte // 'n' number, 'v' indicator, 'u' negation, or a binary '+', '-', '*', '/'
	x, y *node
	num  float64
	name string
	idx  int // of a 'v': its place in Expr.vars
}

// Parse parses src. Grammar:
//
//	expr    = term { ("+" | "-" | "−") term }
//	term    = unary { ("*" | "×" | "/" | "÷") unary }
//	unary   = [ "-" | "−" | "+" ] unary | primary
//	primary = number | identifier | "(" expr ")"
//	number  = digits [ "." digits ] [ ("e" | "E") [ "+" | "-" ] digits ]   (10000, 0.5, .5, 1e4, 2.5E-3)
//	identifier = [A-Za-z_][A-Za-z0-9_.]*  |  "`" any code without a backtick "`"
//
// Spaces and tabs between tokens are ignored. Errors give the 1-based character (rune) column.
// Formulas longer than 1000 characters or nested (parentheses and signs) more than 64 deep are refused.
func Parse(src string) (*Expr, error) {
	return parse(src, maxRunes)
}

// parse takes the length limit as a parameter only so that tests can check that String's output
// (which adds spaces and may spell numbers out) parses back even when it grows past the limit.
func parse(src string, limit int) (*Expr, error) {
	if n := utf8.RuneCountInString(src); n > limit {
		return nil, fmt.Errorf("formula is %d characters long, the limit is %d", n, limit)
	}
	if !utf8.ValidString(src) {
		col := 1
		for i, r := range src {
			if r == utf8.RuneError {
				if _, size := utf8.DecodeRuneInString(src[i:]); size == 1 {
					break
				}
			}
			col++
		}
		return nil, errAt(col, "invalid UTF-8")
	}
	p := &parser{src: []rune(src), seen: map[string]bool{}}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, errors.New("formula is empty")
	}
	root, err := p.expr()
	if err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tEOF:
	case tRParen:
		return nil, errAt(p.tok.col, `unexpected ")"`)
	default:
		return nil, errAt(p.tok.col, "expected an operator or the end of the formula, found %s", p.tok.describe())
	}
	return &Expr{root: root, vars: p.vars, cols: p.cols}, nil
}

// Vars lists the distinct indicator codes in order of first appearance.
func (e *Expr) Vars() []string {
	if e == nil {
		return nil
	}
	return slices.Clone(e.vars) // callers must not be able to corrupt the Expr
}

// Col is the 1-based column (in runes) where the code first appears in the formula as written; 0 when
// it does not appear. Callers checking the codes against a catalog name the place of an unknown one.
func (e *Expr) Col(code string) int {
	if e == nil {
		return 0
	}
	if i := slices.Index(e.vars, code); i >= 0 {
		return e.cols[i]
	}
	return 0
}

// Operators counts the operations of the formula (negations included): 0 for a bare code or number.
func (e *Expr) Operators() int {
	if e == nil || e.root == nil {
		return 0
	}
	var count func(n *node) int
	count = func(n *node) int {
		switch n.op {
		case 'n', 'v':
			return 0
		case 'u':
			return 1 + count(n.x)
		}
		return 1 + count(n.x) + count(n.y)
	}
	return count(e.root)
}

// PosError is a syntax error at a column of the formula; its text is "at column N: …".
type PosError struct {
	Col int
	Msg string
}

func (e *PosError) Error() string { return fmt.Sprintf("at column %d: %s", e.Col, e.Msg) }

// String renders the formula canonically: ASCII operators, single spaces around binary operators,
// backticks only around codes that need them, and only the parentheses that change the meaning, so
// that Parse(e.String()) evaluates identically. Parentheses on the right of + and * are kept: floating
// point addition and multiplication are not associative.
func (e *Expr) String() string {
	if e == nil || e.root == nil {
		return ""
	}
	return render(e.root)
}

// Eval evaluates the formula; value returns an input's value and whether it exists.
// ok is false with a nil err when an input is missing: then there is no derived value.
// err wraps ErrDivisionByZero when a divisor is 0, and says "result is not a finite number" when the
// result or an intermediate overflows. A result of -0 is returned as 0.
func (e *Expr) Eval(value func(code string) (float64, bool)) (v float64, ok bool, err error) {
	if e == nil || e.root == nil {
		return 0, false, errors.New("formula is empty")
	}
	// Inputs are fetched up front so that a missing one yields "no value" rather than
	// whatever error a partial evaluation might have hit first.
	vals := make([]float64, len(e.vars))
	for i, code := range e.vars {
		x, ok := value(code)
		if !ok {
			return 0, false, nil
		}
		vals[i] = x
	}
	v, err = e.EvalValues(vals)
	return v, err == nil, err
}

// EvalValues evaluates the formula over the values of its Vars, in their order (len(vals) must be
// len(Vars())), with Eval's errors; a loop over many regions and years calls it without a closure or a map.
func (e *Expr) EvalValues(vals []float64) (float64, error) {
	if e == nil || e.root == nil {
		return 0, errors.New("formula is empty")
	}
	for i, x := range vals {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, fmt.Errorf("indicator %q is not a finite number (%v)", e.vars[i], x)
		}
	}
	r, err := eval(e.root, vals)
	if err != nil {
		return 0, err
	}
	if r == 0 {
		r = 0 // -0 would print as "-0" in reports
	}
	return r, nil
}

func eval(n *node, vals []float64) (float64, error) {
	switch n.op {
	case 'n':
		return n.num, nil
	case 'v':
		return vals[n.idx], nil
	case 'u':
		x, err := eval(n.x, vals)
		return -x, err
	}
	x, err := eval(n.x, vals)
	if err != nil {
		return 0, err
	}
	y, err := eval(n.y, vals)
	if err != nil {
		return 0, err
	}
	var r float64
	switch n.op {
	case '+':
		r = x + y
	case '-':
		r = x - y
	case '*':
		r = x * y
	case '/':
		if y == 0 {
			return 0, fmt.Errorf("%w: divisor %q is 0", ErrDivisionByZero, render(n.y))
		}
		r = x / y
	default:
		return 0, fmt.Errorf("formula: unknown operator %q", n.op)
	}
	// Inputs are finite and x/0 is caught above, so only overflow can get here.
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return 0, fmt.Errorf("result is not a finite number: %q overflows", render(n))
	}
	return r, nil
}

func prec(n *node) int {
	switch n.op {
	case '+', '-':
		return 1
	case '*', '/':
		return 2
	case 'u':
		return 3
	}
	return 4
}

func render(n *node) string {
	var b strings.Builder
	write(&b, n)
	return b.String()
}

func write(b *strings.Builder, n *node) {
	switch n.op {
	case 'n':
		b.WriteString(formatNumber(n.num))
	case 'v':
		if isBare(n.name) {
			b.WriteString(n.name)
		} else {
			b.WriteString("`" + n.name + "`")
		}
	case 'u':
		b.WriteByte('-')
		writeOperand(b, n.x, prec(n.x) < prec(n))
	default:
		writeOperand(b, n.x, prec(n.x) < prec(n))
		b.WriteString(" " + string(n.op) + " ")
		// Operators are left-associative, so an equal-precedence right operand was parenthesized.
		writeOperand(b, n.y, prec(n.y) <= prec(n))
	}
}

func writeOperand(b *strings.Builder, n *node, parens bool) {
	if parens {
		b.WriteByte('(')
	}
	write(b, n)
	if parens {
		b.WriteByte(')')
	}
}

// formatNumber spells out everyday magnitudes (10000, not 1e+04) and uses an exponent otherwise;
// either way the text parses back to exactly the same float64.
func formatNumber(v float64) string {
	if a := math.Abs(v); a == 0 || (a >= 1e-4 && a < 1e15) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func isBare(s string) bool {
	for i, r := range s {
		if !isIdentRune(r) || i == 0 && (r == '.' || isDigit(r)) {
			return false
		}
	}
	return s != ""
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

func isIdentRune(r rune) bool {
	return r == '_' || r == '.' || isDigit(r) || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
}

func errAt(col int, format string, args ...any) error {
	return &PosError{Col: col, Msg: fmt.Sprintf(format, args...)}
}

type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tIdent
	tOp
	tLParen
	tRParen
)

type token struct {
	kind tokKind
	col  int    // 1-based rune column
	text string // as written, for error messages
	op   byte   // ASCII form of an operator
	num  float64
	name string
}

func (t token) describe() string {
	if t.kind == tEOF {
		return "the end of the formula"
	}
	return strconv.Quote(t.text)
}

type parser struct {
	src   []rune
	pos   int
	tok   token
	depth int
	vars  []string
	cols  []int
	seen  map[string]bool
}

// next scans one token lazily, so that the leftmost problem in a formula is the one reported.
func (p *parser) next() error {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	start := p.pos
	col := start + 1
	if start == len(p.src) {
		p.tok = token{kind: tEOF, col: col}
		return nil
	}
	r := p.src[start]
	switch {
	case r == '(':
		p.pos++
		p.tok = token{kind: tLParen, col: col, text: "("}
	case r == ')':
		p.pos++
		p.tok = token{kind: tRParen, col: col, text: ")"}
	case asciiOp(r) != 0:
		p.pos++
		p.tok = token{kind: tOp, col: col, text: string(r), op: asciiOp(r)}
	case r == '`':
		end := slices.Index(p.src[start+1:], '`')
		if end < 0 {
			return errAt(col, "unclosed \"`\"")
		}
		if end == 0 {
			return errAt(col, "empty indicator code \"``\"")
		}
		name := string(p.src[start+1 : start+1+end])
		p.pos = start + end + 2
		p.tok = token{kind: tIdent, col: col, text: "`" + name + "`", name: name}
	case isDigit(r) || r == '.':
		// Swallow the whole word so that "3x" or "1e" is reported as one bad number,
		// not as a number followed by something confusing.
		end := start
		for end < len(p.src) {
			c := p.src[end]
			if isIdentRune(c) ||
				(c == '+' || c == '-') && (p.src[end-1] == 'e' || p.src[end-1] == 'E') && isMantissa(p.src[start:end-1]) {
				end++
				continue
			}
			break
		}
		text := string(p.src[start:end])
		p.pos = end
		if !isNumber(p.src[start:end]) {
			return errAt(col, "number %q is not valid", text)
		}
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return errAt(col, "number %q is too large", text)
			}
			return errAt(col, "number %q is not valid", text)
		}
		p.tok = token{kind: tNum, col: col, text: text, num: v}
	case r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z':
		end := start + 1
		for end < len(p.src) && isIdentRune(p.src[end]) {
			end++
		}
		name := string(p.src[start:end])
		p.pos = end
		p.tok = token{kind: tIdent, col: col, text: name, name: name}
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return errAt(col, "unexpected character %q (put indicator codes like this in backticks)", string(r))
	default:
		return errAt(col, "unexpected character %q", string(r))
	}
	return nil
}

func asciiOp(r rune) byte {
	switch r {
	case '+', '-', '*', '/':
		return byte(r)
	case '−':
		return '-'
	case '×':
		return '*'
	case '÷':
		return '/'
	}
	return 0
}

func isMantissa(s []rune) bool {
	for _, r := range s {
		if !isDigit(r) && r != '.' {
			return false
		}
	}
	return true
}

// isNumber is stricter than strconv.ParseFloat, which would also take "Inf", "0x1p3" and "1_000".
func isNumber(s []rune) bool {
	i, digits := 0, 0
	for i < len(s) && isDigit(s[i]) {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// enter bounds the recursion, so that a pathological formula cannot exhaust the stack.
func (p *parser) enter(col int) error {
	if p.depth++; p.depth > maxDepth {
		return errAt(col, "parentheses and signs nested more than %d deep", maxDepth)
	}
	return nil
}

func (p *parser) expr() (*node, error) { return p.binary("+-", p.term) }

func (p *parser) term() (*node, error) { return p.binary("*/", p.unary) }

// binary parses operands joined by the operators in ops, left-associative: a - b - c is (a - b) - c.
func (p *parser) binary(ops string, operand func() (*node, error)) (*node, error) {
	x, err := operand()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tOp && strings.IndexByte(ops, p.tok.op) >= 0 {
		op := p.tok.op
		if err := p.next(); err != nil {
			return nil, err
		}
		y, err := operand()
		if err != nil {
			return nil, err
		}
		x = &node{op: op, x: x, y: y}
	}
	return x, nil
}

func (p *parser) unary() (*node, error) {
	if p.tok.kind != tOp || (p.tok.op != '-' && p.tok.op != '+') {
		return p.primary()
	}
	op := p.tok.op
	if err := p.enter(p.tok.col); err != nil {
		return nil, err
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	p.depth--
	if op == '+' {
		return x, nil // unary plus changes nothing, not even the sign of 0
	}
	return &node{op: 'u', x: x}, nil
}

func (p *parser) primary() (*node, error) {
	switch t := p.tok; t.kind {
	case tNum:
		return &node{op: 'n', num: t.num}, p.next()
	case tIdent:
		if !p.seen[t.name] {
			p.seen[t.name] = true
			p.vars = append(p.vars, t.name)
			p.cols = append(p.cols, t.col)
		}
		return &node{op: 'v', name: t.name, idx: slices.Index(p.vars, t.name)}, p.next()
	case tLParen:
		if err := p.enter(t.col); err != nil {
			return nil, err
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		switch p.tok.kind {
		case tRParen:
		case tEOF:
			return nil, errAt(t.col, `unclosed "("`)
		default:
			return nil, errAt(p.tok.col, `expected an operator or ")", found %s`, p.tok.describe())
		}
		p.depth--
		return x, p.next()
	default:
		return nil, errAt(t.col, `expected a number, an indicator code or "(", found %s`, t.describe())
	}
}
