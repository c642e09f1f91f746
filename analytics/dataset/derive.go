package dataset

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"pacesetter/analytics"
	"pacesetter/analytics/calc"
)

// Derived values are computed here, at import, in pure Go: a formula's value for a region and year from
// the same region's values of other indicators that year, and a parent's value from its children's with
// the indicator's rollup where the parent has none. They are stored like published values, flagged
// Derived plus every flag of the values they rest on.
//
// Vintages carry through: a derived value is computed for every release date of one of its inputs, from
// the inputs as known on that date, so asOf answers see the derived values of that date too.

// cell is the vintages of one (region, year) of one indicator, undated first, then by date.
type cell []Observation

// asOf is the value known on date v: the last vintage released by then ("" is before every date).
func (c cell) asOf(v analytics.Date) (Observation, bool) {
	var out Observation
	ok := false
	for _, o := range c {
		if o.Vintage > v {
			break
		}
		out, ok = o, true
	}
	return out, ok
}

// regionYear is a region and a period: year·16 + the quarter or month (0 for a year's value), so that
// derived values of a sub-annual indicator are computed per period by the same code.
type regionYear struct {
	region string
	year   int
}

func periodKey(o Observation) int { return o.Year*16 + o.Period }

// keyText is a period key as observations.csv writes the period, for problems.
func (d *Dataset) keyText(code string, key int) string {
	f := analytics.Annual
	if in := d.indicator(code); in != nil && in.Frequency != "" {
		f = in.Frequency
	}
	return Observation{Year: key / 16, Period: key % 16}.PeriodText(f)
}

func (r *reader) derive() {
	if len(r.derived) == 0 {
		return
	}
	d := r.d
	// Index the values of every indicator a definition reads or writes.
	involved := map[string]bool{}
	for _, def := range r.derived {
		involved[def.code] = true
		if def.formula != nil {
			for _, v := range def.formula.Vars() {
				involved[v] = true
			}
		}
	}
	index := map[string]map[regionYear]cell{}
	for code := range involved {
		index[code] = map[regionYear]cell{}
	}
	for _, o := range d.Observations { // sorted, so each cell's vintages come in order
		if m := index[o.Indicator]; m != nil {
			k := regionYear{o.Region, periodKey(o)}
			m[k] = append(m[k], o)
		}
	}
	add := func(o Observation) {
		k := regionYear{o.Region, periodKey(o)}
		index[o.Indicator][k] = append(index[o.Indicator][k], o)
		d.Observations = append(d.Observations, o)
	}
	regionAt := map[string]int{}
	for i, rg := range d.Regions {
		regionAt[rg.Code] = i
	}
	for _, def := range r.ordered() {
		if def.formula != nil {
			r.computeFormula(def, index, regionAt, add)
		} else {
			r.fillParents(def, index, add)
		}
	}
}

// ordered puts formulas after the formulas they read, and each parent_rollup after its indicator's formula
// (if it has one) and before any formula that reads it.
func (r *reader) ordered() []derivedDef {
	byCode := map[string][]derivedDef{}
	for _, def := range r.derived {
		byCode[def.code] = append(byCode[def.code], def) // the formula comes first: derivedDefs adds rollups last
	}
	done := map[string]bool{}
	var out []derivedDef
	var visit func(code string)
	visit = func(code string) {
		if done[code] {
			return
		}
		done[code] = true
		for _, def := range byCode[code] {
			if def.formula != nil {
				for _, v := range def.formula.Vars() {
					visit(v)
				}
			}
		}
		out = append(out, byCode[code]...)
	}
	for _, def := range r.derived {
		visit(def.code)
	}
	return out
}

// vintagesOf lists the distinct vintages of the cells, undated ("") first.
func vintagesOf(cells []cell) []analytics.Date {
	var vs []analytics.Date
	for _, c := range cells {
		for _, o := range c {
			vs = append(vs, o.Vintage)
		}
	}
	slices.Sort(vs)
	return slices.Compact(vs)
}

// emit adds the values computed for one (region, year) at each vintage, skipping a vintage that changes
// neither the value nor its flags.
func emit(code string, k regionYear, cells []cell, own analytics.FlagSet, compute func(vals []float64) (float64, error), add func(Observation)) error {
	vals := make([]float64, len(cells))
	var last *Observation
	for _, v := range vintagesOf(cells) {
		flags := analytics.Derived | own
		known := true
		for i, c := range cells {
			o, ok := c.asOf(v)
			if !ok {
				known = false
				break
			}
			vals[i] = o.Value
			flags |= o.Flags
		}
		if !known {
			continue
		}
		x, err := compute(vals)
		if err != nil {
			return err
		}
		x = calc.Round12(x) // computed, not published: 1337605.7999999998 is stored as 1337605.8
		if last != nil && last.Value == x && last.Flags == flags {
			continue
		}
		o := Observation{Region: k.region, Indicator: code, Year: k.year / 16, Period: k.year % 16, Value: x + 0, Flags: flags, Vintage: v}
		add(o)
		last = &o
	}
	return nil
}

func (r *reader) computeFormula(def derivedDef, index map[string]map[regionYear]cell, regionAt map[string]int, add func(Observation)) {
	vars := def.formula.Vars()
	if len(vars) == 0 {
		r.ps.add(DerivedFile, def.line, "formula of %q names no indicator: it would give every region the same constant", def.code)
		return
	}
	// The (region, year)s where every input has some value, in dataset order of regions, then years.
	var keys []regionYear
	for k := range index[vars[0]] {
		all := true
		for _, v := range vars[1:] {
			if _, ok := index[v][k]; !ok {
				all = false
				break
			}
		}
		if all {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b regionYear) int {
		return cmp.Or(cmp.Compare(regionAt[a.region], regionAt[b.region]), cmp.Compare(a.year, b.year))
	})
	for _, k := range keys {
		cells := make([]cell, len(vars))
		for i, v := range vars {
			cells[i] = index[v][k]
		}
		err := emit(def.code, k, cells, 0, func(vals []float64) (float64, error) {
			x, ok, err := def.formula.Eval(func(code string) (float64, bool) {
				i := slices.Index(vars, code)
				return vals[i], i >= 0
			})
			if err == nil && !ok {
				err = errors.New("an input is missing") // cannot happen: every input is known at this vintage
			}
			return x, err
		}, add)
		if err != nil {
			r.ps.add(DerivedFile, def.line, "formula of %q for region %s in %s: %v", def.code, k.region, r.d.keyText(def.code, k.year), err)
		}
	}
}

// fillParents gives each parent region without a value of the indicator in a year its children's sum or
// mean, when every child has a value that year (a sum over some children would understate it). The deepest
// parents go first, so a grandparent adds up parents that were filled in.
func (r *reader) fillParents(def derivedDef, index map[string]map[regionYear]cell, add func(Observation)) {
	d := r.d
	in := d.indicator(def.code)
	children := map[string][]string{}
	for _, rg := range d.Regions {
		if rg.Parent != "" {
			children[rg.Parent] = append(children[rg.Parent], rg.Code)
		}
	}
	depth := map[string]int{} // by memo: a long chain of parents stays linear
	var depthOf func(code string) int
	depthOf = func(code string) int {
		if d, ok := depth[code]; ok {
			return d
		}
		d := 0
		if p := r.regionBy[code].Parent; p != "" {
			d = depthOf(p) + 1
		}
		depth[code] = d
		return d
	}
	var parents []string
	for _, rg := range d.Regions {
		if len(children[rg.Code]) > 0 {
			parents = append(parents, rg.Code)
			depthOf(rg.Code)
		}
	}
	slices.SortStableFunc(parents, func(a, b string) int { return cmp.Compare(depth[b], depth[a]) })
	values := index[def.code]
	yearsOf := map[string][]int{} // the years each region has a value in, filled as parents are
	for k := range values {
		yearsOf[k.region] = append(yearsOf[k.region], k.year)
	}
	for _, p := range parents {
		kids := children[p]
		years := slices.Clone(yearsOf[kids[0]])
		slices.Sort(years)
		for _, y := range years {
			if _, has := values[regionYear{p, y}]; has {
				continue
			}
			cells := make([]cell, 0, len(kids))
			for _, c := range kids {
				if cl, ok := values[regionYear{c, y}]; ok {
					cells = append(cells, cl)
				}
			}
			if len(cells) < len(kids) {
				continue
			}
			err := emit(def.code, regionYear{p, y}, cells, analytics.RolledUp, func(vals []float64) (float64, error) {
				x := rollup(in.Rollup, vals)
				if math.IsInf(x, 0) || math.IsNaN(x) {
					return 0, fmt.Errorf("the %s of its %d children is not a finite number", in.Rollup, len(vals))
				}
				return x, nil
			}, add)
			if err != nil {
				r.ps.add(DerivedFile, def.line, "%s of %q for region %s in %s: %v", ParentRollup, def.code, p, r.d.keyText(def.code, y), err)
			} else if _, filled := values[regionYear{p, y}]; filled {
				yearsOf[p] = append(yearsOf[p], y)
			}
		}
	}
}

// rollup is the sum or the mean of vals. The mean divides each value first, so that values near the
// largest double do not overflow on the way; values near the subnormals, which dividing would round away
// (5e-324/2 is 0), take calc.Mean instead, exact at both ends. Ordinary values keep the division first, so
// their stored means (and the dataset's version) are as they were.
func rollup(how analytics.Rollup, vals []float64) float64 {
	s := 0.0
	if how == analytics.RollupMean {
		if slices.ContainsFunc(vals, func(v float64) bool { return v != 0 && math.Abs(v) < 0x1p-1000 }) {
			return calc.Mean(vals) + 0
		}
		n := float64(len(vals))
		for _, v := range vals {
			s += v / n
		}
		return s
	}
	for _, v := range vals {
		s += v
	}
	return s
}
