package server

import (
	"context"
	"io"
	"net/http"
	"testing"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
)

// /readyz says "warming" (503) from the start of the warm-up until it is done, and ready (200) after;
// requests are answered meanwhile.
func TestReadyzWhileWarming(t *testing.T) {
	srv, engine := newServer(t, importDataset(t, dataset.Synthetic(2, 300, 4, 3)), query.DefaultOptions, DefaultOptions)
	readyz := func() (int, string) {
		t.Helper()
		res, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := readyz(); code != 200 || body != "{\"status\":\"ready\"}\n" {
		t.Errorf("before a warm-up: %d %q", code, body)
	}
	engine.StartWarm()
	if code, body := readyz(); code != 503 || body != "{\"status\":\"warming\"}\n" {
		t.Errorf("warming: %d %q", code, body)
	}
	mustPost(t, srv.URL, `{ ranking(indicator: "I001", year: 2002) { count } }`, nil, nil)
	if _, err := engine.WarmAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, body := readyz(); code != 200 || body != "{\"status\":\"ready\"}\n" {
		t.Errorf("after the warm-up: %d %q", code, body)
	}
}
