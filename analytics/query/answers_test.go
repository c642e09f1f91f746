package query

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/analytics/duck"
)

// TestAnswerCacheBoundedInBytes fills the cache with answers of very different sizes and checks that what it
// holds stays within its bytes, whatever the count: large answers push out many small ones.
func TestAnswerCacheBoundedInBytes(t *testing.T) {
	const max = 1 << 20
	c := newAnswerCache(100000, max)
	big := rankingOf(1000) // about 200 KB
	small := rankingOf(10)
	for i := range 2000 {
		if i%3 == 0 {
			c.add(fmt.Sprint("big", i), big)
		} else {
			c.add(fmt.Sprint("small", i), small)
		}
		if c.bytes > max || c.bytes < 0 {
			t.Fatalf("after %d answers the cache holds %d bytes, more than its %d", i+1, c.bytes, max)
		}
	}
	var sum int64
	for _, k := range c.lru.Keys() {
		sum += c.sizes[k]
	}
	if sum != c.bytes || len(c.sizes) != c.lru.Len() {
		t.Errorf("sizes of the answers kept add up to %d, the cache counts %d (%d sizes, %d answers)", sum, c.bytes, len(c.sizes), c.lru.Len())
	}
	huge := rankingOf(5000) // over a quarter of the cache
	c.add("huge", huge)
	if _, ok := c.get("huge"); ok {
		t.Error("an answer of more than a quarter of the cache was kept")
	}
}

// rankingOf is a ranking of n entries, each its own.
func rankingOf(n int) *analytics.Ranking {
	r := &analytics.Ranking{Entries: make([]*analytics.RankingEntry, n)}
	for i := range r.Entries {
		r.Entries[i] = &analytics.RankingEntry{}
	}
	return r
}

// TestIdenticalRequestsComputedOnce: many clients asking the same new question at once get one computation.
func TestIdenticalRequestsComputedOnce(t *testing.T) {
	store, err := duck.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Import(context.Background(), dataset.Synthetic(5, 2000, 3, 5), "test"); err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(context.Background(), store, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	y := 2004
	q := analytics.RankingQuery{Indicator: "I002", Year: &y}
	if _, err := e.Trend(context.Background(), analytics.TrendQuery{Region: "R0001", Indicator: "I002"}); err != nil {
		t.Fatal(err) // loads the indicator's values first, so that the race below is over the answer alone
	}
	before := computed.Load()
	var wg sync.WaitGroup
	start := make(chan struct{})
	answers := make([]*analytics.Ranking, 32)
	for i := range answers {
		wg.Go(func() {
			<-start
			r, err := e.Ranking(context.Background(), q)
			if err != nil {
				t.Error(err)
			}
			answers[i] = r
		})
	}
	close(start)
	wg.Wait()
	if n := computed.Load() - before; n != 1 {
		t.Errorf("32 identical requests at once computed %d answers, want 1", n)
	}
	for i, a := range answers {
		if a != answers[0] {
			t.Fatalf("answer %d is not the shared one", i)
		}
	}
}
