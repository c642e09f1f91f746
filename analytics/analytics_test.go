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

// A: member of G until 2010 and again from 2015, and of H always; B: member of G from 2012 to 2013. The
// memberships are sorted as the engine keeps them (by the other end, then by year).
func TestMembersAndGroupsByYear(t *testing.T) {
	g, h := &Group{Code: "G"}, &Group{Code: "H"}
	a, b := &Region{Code: "A"}, &Region{Code: "B"}
	a1 := &Membership{Group: g, Region: a, ToYear: ptr(2010)}
	a2 := &Membership{Group: g, Region: a, FromYear: ptr(2015)}
	ah := &Membership{Group: h, Region: a}
	b1 := &Membership{Group: g, Region: b, FromYear: ptr(2012), ToYear: ptr(2013)}
	g.Memberships, h.Memberships = []*Membership{a1, a2, b1}, []*Membership{ah}
	a.Memberships, b.Memberships = []*Membership{a1, a2, ah}, []*Membership{b1}
	codes := func(rs []*Region) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Code)
		}
		return fmt.Sprint(s)
	}
	for _, c := range []struct {
		year *int
		want string
	}{{nil, "[A B]"}, {ptr(2010), "[A]"}, {ptr(2011), "[]"}, {ptr(2012), "[B]"}, {ptr(2015), "[A]"}} {
		if got := codes(g.Members(c.year)); got != c.want {
			t.Errorf("G.Members(%s) = %s, want %s", show(c.year), got, c.want)
		}
	}
	for _, c := range []struct {
		year *int
		want int
	}{{nil, 2}, {ptr(2012), 1}, {ptr(2016), 2}} {
		if got := a.Groups(c.year); len(got) != c.want || got[len(got)-1] != h {
			t.Errorf("A.Groups(%s) = %v, want %d ending with H", show(c.year), got, c.want)
		}
	}
}

func show(p *int) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}
