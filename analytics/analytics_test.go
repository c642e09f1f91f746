package analytics

import (
	"fmt"
	"testing"
)

func TestRankingTop(t *testing.T) {
	r := &Ranking{}
	for _, rank := range []int{1, 2, 2, 4, 5} {
		r.Entries = append(r.Entries, &RankingEntry{Rank: rank})
	}
	ranks := func(es []*RankingEntry) string {
		var s []int
		for _, e := range es {
			s = append(s, e.Rank)
		}
		return fmt.Sprint(s)
	}
	for _, c := range []struct {
		top  *int
		want string
	}{{nil, "[1 2 2 4 5]"}, {ptr(1), "[1]"}, {ptr(2), "[1 2 2]"}, {ptr(3), "[1 2 2]"}, {ptr(9), "[1 2 2 4 5]"}} {
		got, err := r.Top(c.top)
		if err != nil || ranks(got) != c.want {
			t.Errorf("Top(%v) = %s, %v; want %s", c.top, ranks(got), err, c.want)
		}
	}
	if _, err := r.Top(ptr(0)); ErrorCode(err) != BadUserInput {
		t.Errorf("Top(0): %v", err)
	}
}

func ptr(n int) *int { return &n }
