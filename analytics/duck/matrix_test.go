package duck

import (
	"math/rand/v2"
	"slices"
	"testing"

	"pacesetter/analytics"
)

// buildMatrix against a plain statement of what a matrix is: for every (region, year) given, Get returns
// its value and flags; for every other, nothing. The values come shuffled, as DuckDB may send them, with
// years far apart and below zero, runs of consecutive years with gaps, and regions without any value (the
// first, the last, some between).
func TestBuildMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1))
	for _, n := range []int{1, 7, 300} {
		type rv struct{ r, y int }
		want := map[rv]Cell{}
		var vs []packed
		// and a run of consecutive years, some of them left out: Get's direct read and its search
		years := []int{-2147483648, -5, 0, 1, 1999, 2019, 2020, 2021, 2022, 2023, 2024, 7999, 2147483647}
		for r := 1; r < n-1; r++ {
			if r%3 == 0 {
				continue
			}
			for _, y := range years {
				if rng.IntN(2) == 0 {
					continue
				}
				c := Cell{Year: int32(y), Flags: analytics.FlagSet(rng.IntN(256)), Value: rng.NormFloat64()}
				want[rv{r, y}] = c
				vs = append(vs, packed{key: int64(r)<<40 | (int64(y)+2147483648)<<8 | int64(c.Flags), value: c.Value})
			}
		}
		rng.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
		m := buildMatrix(n, vs)
		if len(vs) == 0 {
			if m != nil {
				t.Errorf("%d regions, no values: got a matrix", n)
			}
			continue
		}
		if len(m.Cells) != len(want) || len(m.Off) != n+1 {
			t.Fatalf("%d regions: %d cells, %d offsets; want %d, %d", n, len(m.Cells), len(m.Off), len(want), n+1)
		}
		for r := range n {
			cs := m.Cells[m.Off[r]:m.Off[r+1]]
			if !slices.IsSortedFunc(cs, byYear) {
				t.Errorf("region %d: years out of order: %v", r, cs)
			}
			for _, y := range years {
				v, f, ok := m.Get(r, y)
				w, wok := want[rv{r, y}]
				if ok != wok || v != w.Value || f != w.Flags {
					t.Errorf("region %d year %d: got %v %v %v, want %v %v %v", r, y, v, f, ok, w.Value, w.Flags, wok)
				}
			}
		}
	}
}
