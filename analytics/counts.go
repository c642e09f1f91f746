package analytics

// ValueCounts say how many regions have a value (the latest release) of each indicator in each year. The
// cost model prices a query by the values its own arguments select from these counts, not by the size of
// the whole dataset, so that a query narrowed to one indicator or one year costs what it reads. Immutable
// once built.
type ValueCounts struct {
	first, last int
	by          map[string][]int32 // by indicator, a count per year from first to last
	all         []int              // by year, every indicator's counts summed
	per         map[string]int     // periods a year of a quarterly or monthly indicator (absent: 1)
}

// SetPerYear records that indicator has n periods a year (4 or 12): a region then has up to n values a
// year, so a scope of k regions reads up to k·n of them. Only while building.
func (c *ValueCounts) SetPerYear(indicator string, n int) {
	if c.per == nil {
		c.per = map[string]int{}
	}
	c.per[indicator] = n
}

// PerYear is how many periods a year indicator has (1 unless SetPerYear said otherwise).
func (c *ValueCounts) PerYear(indicator string) int {
	if c == nil || c.per[indicator] == 0 {
		return 1
	}
	return c.per[indicator]
}

// NewValueCounts returns empty counts over the years first…last.
func NewValueCounts(first, last int) *ValueCounts {
	return &ValueCounts{first: first, last: last, by: map[string][]int32{}, all: make([]int, max(0, last-first+1))}
}

// Add records n values of indicator in year; years outside the span are ignored. Only while building.
func (c *ValueCounts) Add(indicator string, year, n int) {
	if year < c.first || year > c.last {
		return
	}
	row := c.by[indicator]
	if row == nil {
		row = make([]int32, c.last-c.first+1)
		c.by[indicator] = row
	}
	row[year-c.first] += int32(n)
	c.all[year-c.first] += n
}

// Values is how many values a query reads at most: of the indicators named (nil: every one), in the years
// from…to (inclusive, clipped to the dataset's), of a scope of at most scope regions (0 or less: no limit),
// so each indicator-year counts at most scope values. Capped at 2^40.
func (c *ValueCounts) Values(indicators []string, from, to, scope int) int {
	if c == nil {
		return 0
	}
	from, to = max(from, c.first), min(to, c.last)
	n := 0
	add := func(code string, row []int32) {
		per := c.PerYear(code)
		for y := from; y <= to; y++ {
			k := int(row[y-c.first])
			if scope > 0 {
				k = min(k, scope*per)
			}
			n += k
		}
	}
	switch {
	case indicators != nil:
		seen := map[string]bool{}
		for _, in := range indicators {
			if row := c.by[in]; row != nil && !seen[in] {
				seen[in] = true
				add(in, row)
			}
		}
	case scope <= 0:
		for y := from; y <= to; y++ {
			n += c.all[y-c.first]
		}
	default:
		for code, row := range c.by {
			add(code, row)
		}
	}
	return min(n, 1<<40)
}

// Span is the first and last year counted.
func (c *ValueCounts) Span() (first, last int) {
	if c == nil {
		return 0, -1
	}
	return c.first, c.last
}
