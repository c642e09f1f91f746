package query

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
	"pacesetter/analytics/duck"
	"pacesetter/analytics/formula"
)

// Formulas at query time. A formula is resolved once, in the plan, into an indicator whose code is the
// formula's normalised text (formula.Expr.String). Every query that reads values reads them through
// matrices, which computes a formula's matrix from its operands' (and keeps it like any other), so
// rankings, standings, trends, comparisons and composites take formulas with no code of their own, and
// their answers are cached under keys made from the resolved plan like any other answer.

// MaxFormulaOperands is the most distinct indicators one formula may read.
const MaxFormulaOperands = 16

// formulaIndicator checks a formula against the catalog and returns the indicator it stands for, with the
// formula as resolved (normalised text, defaults applied): what a plan's key is made of.
func (s *snapshot) formulaIndicator(f analytics.Formula) (*analytics.Indicator, analytics.Formula, error) {
	x, err := s.parseFormula(f.Text)
	if err != nil {
		return nil, f, err
	}
	if f.Direction == "" {
		f.Direction = analytics.HigherIsBetter
	}
	if f.Measure == "" {
		f.Measure = analytics.Level
	}
	switch {
	case f.Direction != analytics.HigherIsBetter && f.Direction != analytics.LowerIsBetter:
		return nil, f, analytics.Errorf(analytics.BadUserInput, "direction %q is not HIGHER_IS_BETTER or LOWER_IS_BETTER", analytics.Cut(string(f.Direction)))
	case !slices.Contains([]analytics.Measure{analytics.Level, analytics.Rate, analytics.Growth, analytics.Index}, f.Measure):
		return nil, f, analytics.Errorf(analytics.BadUserInput, "measure %q is not LEVEL, RATE, GROWTH or INDEX", analytics.Cut(string(f.Measure)))
	case f.Decimals != nil && (*f.Decimals < 0 || *f.Decimals > 15):
		return nil, f, analytics.Errorf(analytics.BadUserInput, "decimals is %d: give 0 to 15", *f.Decimals)
	case len(f.Unit) > 100:
		return nil, f, analytics.Errorf(analytics.BadUserInput, "unit is %d bytes long: give at most 100", len(f.Unit))
	}
	f.Text = x.String()
	in := &analytics.Indicator{Code: f.Text, Name: f.Text, NameEn: &f.Text, Unit: f.Unit, Direction: f.Direction,
		Measure: f.Measure, Rollup: analytics.RollupNone, Decimals: f.Decimals, Formula: &f.Text}
	src := "computed at query time from " + strings.Join(x.Vars(), ", ")
	in.Source = &src
	// The years (and periods) with values are at most those all operands share; values combine period by
	// period, so the operands must share a frequency.
	first, last, firstOrd, lastOrd := 0, 1<<30, 0, 1<<30
	for i, c := range x.Vars() {
		op := s.IndicatorBy[c]
		if i == 0 {
			in.Frequency = op.Freq()
		} else if op.Freq() != in.Frequency {
			return nil, f, analytics.Errorf(analytics.BadUserInput, "formula %q mixes frequencies: %s is %s, %s is %s; a formula combines values of the same period",
				f.Text, x.Vars()[0], freqName(in.Frequency), c, freqName(op.Freq()))
		}
		if op.FirstYear == nil || op.FirstOrd == nil {
			first, last = 1, 0
			break
		}
		first, last = max(first, *op.FirstYear), min(last, *op.LastYear)
		firstOrd, lastOrd = max(firstOrd, *op.FirstOrd), min(lastOrd, *op.LastOrd)
	}
	if first <= last && firstOrd <= lastOrd {
		in.FirstYear, in.LastYear, in.FirstOrd, in.LastOrd = &first, &last, &firstOrd, &lastOrd
	}
	return in, f, nil
}

// parseFormula parses a formula and checks its codes against the catalog. Its errors name the place in
// the formula (line:column, the line always 1) and suggest the closest codes, as the API's other look-ups do.
func (s *snapshot) parseFormula(text string) (*formula.Expr, error) {
	x, err := formula.Parse(text)
	if err != nil {
		var pe *formula.PosError
		if errors.As(err, &pe) {
			return nil, analytics.Errorf(analytics.BadUserInput, "formula: 1:%d: %s", pe.Col, pe.Msg)
		}
		return nil, analytics.Errorf(analytics.BadUserInput, "formula: %v", err)
	}
	vars := x.Vars()
	if len(vars) > MaxFormulaOperands {
		return nil, analytics.Errorf(analytics.BadUserInput, "formula: 1:%d: a %dth indicator; a formula may read at most %d (each is a load of values)", x.Col(vars[MaxFormulaOperands]), MaxFormulaOperands+1, MaxFormulaOperands)
	}
	if len(vars) == 0 {
		return nil, analytics.Errorf(analytics.BadUserInput, "formula: %q names no indicator: it would give every region the same constant; write one over indicators' codes, e.g. tax_revenue / fiscal_revenue * 100", analytics.Cut(text))
	}
	for _, c := range vars {
		if s.IndicatorBy[c] == nil {
			err := unknownNamed("indicator", c, "indicators", s.things([]analytics.SearchKind{analytics.SearchIndicator}))
			return nil, analytics.Errorf(analytics.NotFound, "formula: 1:%d: %s", x.Col(c), err.(*analytics.Error).Message)
		}
	}
	if x.Operators() == 0 {
		return nil, analytics.Errorf(analytics.BadUserInput, "formula: %q is the indicator %q alone: give it as indicator", analytics.Cut(text), vars[0])
	}
	if s.IndicatorBy[x.String()] != nil {
		// A dataset whose codes hold operators and spaces: the formula's code would name that indicator.
		return nil, analytics.Errorf(analytics.BadUserInput, "formula: %q is written like the code of an indicator of this dataset: put the codes in backticks", analytics.Cut(text))
	}
	return x, nil
}

// indicatorOf resolves a query's indicator: its code, or the formula given instead (exactly one), which it
// replaces with the formula as resolved so that the plan's key names the formula's normalised text.
func (s *snapshot) indicatorOf(code string, f **analytics.Formula) (*analytics.Indicator, error) {
	switch {
	case *f == nil && code == "":
		return nil, analytics.Errorf(analytics.BadUserInput, "give indicator (a code) or formula (over indicators' codes, e.g. \"tax_revenue / fiscal_revenue * 100\")")
	case *f == nil:
		return s.indicator(code)
	case code != "":
		return nil, analytics.Errorf(analytics.BadUserInput, "give indicator or formula, not both")
	}
	in, resolved, err := s.formulaIndicator(**f)
	if err != nil {
		return nil, err
	}
	*f = &resolved
	return in, nil
}

// indicatorOrFormula resolves an entry of a list of indicators (standings, compare): an indicator's code,
// or else a formula over indicators' codes (with the defaults: higher is better, measure LEVEL, no unit).
// Text that is neither gets the indicator's NOT_FOUND, or the formula's own error once it has an operator.
func (s *snapshot) indicatorOrFormula(code string) (*analytics.Indicator, error) {
	if in := s.IndicatorBy[code]; in != nil {
		return in, nil
	}
	if x, err := formula.Parse(code); err == nil && x.Operators() > 0 {
		in, _, err := s.formulaIndicator(analytics.Formula{Text: code})
		return in, err
	}
	return s.indicator(code)
}

// isFormula says whether in is a formula resolved at query time rather than an indicator of the dataset.
func (s *snapshot) isFormula(in *analytics.Indicator) bool {
	return in != nil && s.IndicatorBy[in.Code] != in
}

// formulaSeries is, for a formula's code, the regions with values of every operand in some year (Series),
// or with all false, of those with values of their own of every operand (Own) the scope ALL (ScopeAll: a
// region none of whose children is among them): what members and scopeSize read for an indicator of the
// dataset (Series and All). A region in them may still have no value in a given year.
func (s *snapshot) formulaSeries(code string, all bool) []int {
	x, err := formula.Parse(code)
	if err != nil {
		return nil
	}
	var out []int
	for i, c := range x.Vars() {
		list := s.Series[c]
		if all {
			list = s.Own[c]
		}
		if i == 0 {
			out = slices.Clone(list)
			continue
		}
		out = slices.DeleteFunc(out, func(r int) bool { _, ok := slices.BinarySearch(list, r); return !ok })
	}
	if all {
		return s.ScopeAll(out)
	}
	return out
}

// matrices returns the matrix of each indicator in codes (nil for one without values), loading the ones not
// kept in one query. A formula's code gets its computed matrix, and its operands' matrices come along in the
// answer under their own codes (formulaTrouble reads them).
func (e *Engine) matrices(ctx context.Context, s *snapshot, asOf *analytics.Date, codes ...string) (map[string]*duck.Matrix, error) {
	var exprs map[string]*formula.Expr
	need := codes
	for _, c := range codes {
		if s.IndicatorBy[c] != nil {
			continue
		}
		x, err := formula.Parse(c) // a code that is not an indicator's is a formula the plan has checked
		if err != nil {
			return nil, fmt.Errorf("formula %q: %w", c, err)
		}
		if exprs == nil {
			exprs, need = map[string]*formula.Expr{}, nil
			for _, c := range codes {
				if s.IndicatorBy[c] != nil {
					need = append(need, c)
				}
			}
		}
		exprs[c] = x
		for _, op := range x.Vars() {
			if !slices.Contains(need, op) {
				need = append(need, op)
			}
		}
	}
	out, err := e.loadMatrices(ctx, s, asOf, need...)
	if err != nil || exprs == nil {
		return out, err
	}
	v := s.vintage(asOf)
	for c, x := range exprs {
		key := matrixKey(s, "\x00formula\x00"+c, v)
		m, ok := e.matrixCache.get(key)
		if !ok {
			ops := make([]*duck.Matrix, len(x.Vars()))
			for i, op := range x.Vars() {
				ops[i] = out[op]
			}
			m = formulaMatrix(len(s.Regions), x, ops)
			e.matrixCache.add(key, m)
		}
		out[c] = m
	}
	return out, nil
}

// formulaMatrix computes a formula's values for every region and year where each operand has a value, with
// the flags of the operands' values plus Computed. A value is rounded to 12 significant digits as a
// derived.csv value is at import, so the two agree; a division by zero or an overflow leaves the cell out
// (formulaTrouble tells why). nil when no cell has a value, as for an indicator without values.
func formulaMatrix(regions int, x *formula.Expr, ops []*duck.Matrix) *duck.Matrix {
	for _, m := range ops {
		if m == nil {
			return nil
		}
	}
	out := &duck.Matrix{Off: make([]int32, regions+1)}
	vals := make([]float64, len(ops))
	for r := range regions {
		out.Off[r] = int32(len(out.Cells))
		first := ops[0].Cells[ops[0].Off[r]:ops[0].Off[r+1]]
	cells:
		for _, c := range first {
			vals[0] = c.Value
			flags := c.Flags | analytics.Computed
			for i := 1; i < len(ops); i++ {
				v, f, ok := ops[i].Get(r, int(c.Year))
				if !ok {
					continue cells
				}
				vals[i], flags = v, flags|f
			}
			v, err := x.EvalValues(vals)
			if err != nil {
				continue
			}
			out.Cells = append(out.Cells, duck.Cell{Year: c.Year, Flags: flags, Value: calc.Round12(v) + 0})
		}
	}
	out.Off[regions] = int32(len(out.Cells))
	if len(out.Cells) == 0 {
		return nil
	}
	out.Cells = slices.Clip(out.Cells)
	return out
}

// formulaOperands lists the codes a formula's code reads, in order of first appearance.
func formulaOperands(in *analytics.Indicator) []string {
	x, err := formula.Parse(in.Code)
	if err != nil {
		return nil
	}
	return x.Vars()
}

// formulaTrouble says why formula x has no value for region r in year y although every operand has one (a
// division by zero, an overflow); "" when it has a value or an operand has none. ms holds the operands'
// matrices (matrices puts them there).
func formulaTrouble(s *snapshot, x *formula.Expr, ms map[string]*duck.Matrix, r, y int) string {
	vals := make([]float64, len(x.Vars()))
	for i, op := range x.Vars() {
		v, _, ok := ms[op].Get(r, y)
		if !ok {
			return ""
		}
		vals[i] = v
	}
	if _, err := x.EvalValues(vals); err != nil {
		return fmt.Sprintf("%s in %d: %v, so the formula has no value there", s.Regions[r].Code, y, err)
	}
	return ""
}

// formulaWarnings are the warnings of the regions in rs that have no value of a formula in year y for
// want of a divisor or a finite result (see formulaTrouble); nil for an indicator of the dataset.
func formulaWarnings(s *snapshot, in *analytics.Indicator, ms map[string]*duck.Matrix, rs []int, y int) []*analytics.Warning {
	if !s.isFormula(in) {
		return nil
	}
	x, err := formula.Parse(in.Code) // once, not for every region
	if err != nil {
		return nil
	}
	var out []*analytics.Warning
	for _, r := range rs {
		if t := formulaTrouble(s, x, ms, r, y); t != "" {
			out = append(out, &analytics.Warning{Indicator: in, Message: t})
		}
	}
	return out
}

// Observations, aggregates and pivots read values through SQL. A formula among their filter's indicators
// is computed here, from its operands' matrices as a ranking's is (the same values, flags and rounding as
// a derived.csv twin), and handed to duck as rows it reads beside the stored values (duck.Computed).

// computedOf is, for a filter checkFilter has resolved, the values of the formulas it names (nil when it
// names none) and the catalog that knows their indicators. ownOnly keeps only the scope ALL of each
// formula, as duck keeps it of a stored indicator: the regions with a value of their own (one not resting
// on a rollup) none of whose children has one. The warnings name the regions and years where a formula has
// no value for want of a divisor.
func (e *Engine) computedOf(ctx context.Context, s *snapshot, f analytics.ValueFilter, ownOnly bool) (*duck.Catalog, *duck.Computed, []*analytics.Warning, error) {
	var ins []*analytics.Indicator
	for _, code := range f.Indicators {
		if s.IndicatorBy[code] == nil {
			in, _, err := s.formulaIndicator(analytics.Formula{Text: code})
			if err != nil {
				return nil, nil, nil, err
			}
			ins = append(ins, in)
		}
	}
	if len(ins) == 0 {
		return s.Catalog, nil, nil, nil
	}
	cat := *s.Catalog
	cat.IndicatorBy = maps.Clone(s.IndicatorBy)
	cat.Indicators = slices.Clone(s.Indicators)
	codes := make([]string, len(ins))
	for i, in := range ins {
		cat.IndicatorBy[in.Code] = in
		cat.Indicators = append(cat.Indicators, in)
		codes[i] = in.Code
	}
	ms, err := e.matrices(ctx, s, f.AsOf, codes...)
	if err != nil {
		return nil, nil, nil, err
	}
	var only map[int]bool // the filter's list of regions; its group, parent and level are duck's to apply
	if f.Regions != nil {
		only = map[int]bool{}
		for _, c := range f.Regions {
			only[s.RegionAt[c]] = true
		}
	}
	inYears := func(y int) bool { return (f.From == nil || y >= *f.From) && (f.To == nil || y <= *f.To) }
	c := &duck.Computed{}
	for _, in := range ins {
		switch in.Freq() {
		case analytics.Quarterly:
			c.Quarterly = append(c.Quarterly, in.Code)
		case analytics.Monthly:
			c.Monthly = append(c.Monthly, in.Code)
		}
	}
	var warns []*analytics.Warning
	for _, in := range ins {
		x, _ := formula.Parse(in.Code) // checked by formulaIndicator
		m, first := ms[in.Code], ms[x.Vars()[0]]
		// With ownOnly, the formula's scope ALL, as a ranking of it takes (members): the regions with values
		// of their own of every operand, none of whose children has them.
		var inAll []bool
		if ownOnly {
			inAll = make([]bool, len(s.Regions))
			for _, r := range s.formulaSeries(in.Code, true) {
				inAll[r] = true
			}
		}
		for r := range s.Regions {
			if only != nil && !only[r] {
				continue
			}
			var cells []duck.Cell
			if m != nil {
				cells = m.Cells[m.Off[r]:m.Off[r+1]]
			}
			if !ownOnly || inAll[r] {
				for _, cl := range cells {
					// A matrix holds a period's ordinal (for a year's value, the year).
					if p := in.Period(int(cl.Year)); inYears(p.Year) {
						c.Add(in.Code, s.Regions[r].Code, p, cl.Value, cl.Flags)
						cat.Wide = cat.Wide || wide(cl.Value)
					}
				}
			}
			if first == nil {
				continue
			}
			for _, cl := range first.Cells[first.Off[r]:first.Off[r+1]] { // years where every operand has a value and the formula none
				if _, _, ok := m.Get(r, int(cl.Year)); ok || !inYears(in.Period(int(cl.Year)).Year) || ownOnly && (cl.Flags&analytics.RolledUp != 0 || !inAll[r]) {
					continue
				}
				if t := formulaTrouble(s, x, ms, r, int(cl.Year)); t != "" {
					warns = append(warns, &analytics.Warning{Indicator: in, Message: t})
				}
			}
		}
	}
	return &cat, c, warns, nil
}

// wide says whether v is beyond ±2^400 or nearer 0 than 2^-400, where duck's plain aggregates go wrong
// (see duck.Catalog.Wide).
func wide(v float64) bool {
	a := math.Abs(v)
	return a > 0x1p400 || a != 0 && a < 0x1p-400
}
