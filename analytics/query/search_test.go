package query

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"pacesetter/analytics"
	"pacesetter/analytics/dataset"
	"pacesetter/data"
)

// The expected hits are read off regions.csv, indicators.csv and schemes.yaml by eye: 320000 is 江苏省,
// Jiangsu; retail_sales is 社会消费品零售总额; 发展改革委 is a department of hqd's lines.
func TestSearchEmbedded(t *testing.T) {
	d, err := dataset.Read(data.Default())
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, d, Options{})
	ctx := context.Background()
	hits := func(text string, kinds ...analytics.SearchKind) string {
		t.Helper()
		hs, err := e.Search(ctx, analytics.SearchQuery{Text: text, Kinds: kinds, First: 3})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hs {
			out = append(out, fmt.Sprintf("%s %s %s", h.Kind, h.Code, h.Match))
		}
		return strings.Join(out, "; ")
	}
	for _, c := range []struct{ text, want string }{
		{"江苏", "REGION 320000 PREFIX"},
		{"江苏省", "REGION 320000 NAME"},
		{"Jiangsu", "REGION 320000 NAME"},
		{"jiangsu", "REGION 320000 NAME"},
		{"Jaingsu", "REGION 320000 CLOSE"},
		{"320000", "REGION 320000 CODE"},
		{"社会消费品零售总额", "INDICATOR retail_sales NAME; INDICATOR retail_sales_pc CONTAINS"},
		{"发展改革委", "DEPARTMENT 发展改革委 CODE"},
		{"东部", "GROUP East PREFIX; GROUP EasternCoast PREFIX"},
	} {
		if got := hits(c.text); got != c.want {
			t.Errorf("search %q: %s, want %s", c.text, got, c.want)
		}
	}
	if got := hits("retail", analytics.SearchIndicator); got != "INDICATOR retail_sales PREFIX; INDICATOR retail_sales_pc PREFIX; INDICATOR va_wholesale_retail CONTAINS" {
		t.Errorf("retail among indicators: %s", got)
	}
	if got := hits("江苏", analytics.SearchIndicator); got != "" {
		t.Errorf("江苏 among indicators: %s", got)
	}
	for _, q := range []analytics.SearchQuery{{Text: " ", First: 3}, {Text: "x", First: 0}, {Text: "x", First: 101}} {
		if _, err := e.Search(ctx, q); analytics.ErrorCode(err) != analytics.BadUserInput {
			t.Errorf("%+v: %v", q, err)
		}
	}

	// NOT_FOUND suggests by name.
	for _, c := range []struct {
		err  error
		want string
	}{
		{func() error { _, err := e.Region(ctx, "江苏省"); return err }(), `unknown region "江苏省" (did you mean "320000" (江苏省)?)`},
		{func() error { _, err := e.Region(ctx, "Jiangsu Province"); return err }(), `unknown region "Jiangsu Province"`},
		{func() error {
			_, err := e.Ranking(ctx, analytics.RankingQuery{Indicator: "社会消费品零售总额"})
			return err
		}(), `unknown indicator "社会消费品零售总额" (did you mean "retail_sales" (社会消费品零售总额) or "retail_sales_pc" (人均社会消费品零售总额)?)`},
		{func() error { _, err := e.Group(ctx, "东部"); return err }(), `(did you mean "East" (东部地区) or "EasternCoast" (东部沿海综合经济区)?)`},
		{func() error { _, err := e.Region(ctx, "320001"); return err }(), `(did you mean "320000"`},
	} {
		if c.err == nil || analytics.ErrorCode(c.err) != analytics.NotFound || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%v, want NOT_FOUND containing %s", c.err, c.want)
		}
	}
}

// On generated data of several sizes: each region is found by its name and by its code, first.
func TestSearchGenerated(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{20, 2000, 20000} {
		d := dataset.Synthetic(uint64(n), n, 2, 2)
		e := newTestEngine(t, d, Options{})
		for _, r := range []dataset.Region{d.Regions[1], d.Regions[n/2], d.Regions[n]} {
			for _, text := range []string{r.Code, r.Name, strings.ToUpper(r.Name)} {
				hs, err := e.Search(ctx, analytics.SearchQuery{Text: text, First: 5})
				if err != nil {
					t.Fatal(err)
				}
				if len(hs) == 0 || hs[0].Code != r.Code || hs[0].Kind != analytics.SearchRegion {
					t.Fatalf("%d regions: search %q found %+v first, want %s", n, text, hs, r.Code)
				}
			}
		}
	}
}
