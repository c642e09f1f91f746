package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"pacesetter/analytics/dataset"
	"pacesetter/analytics/query"
)

// postAccept posts a GraphQL request with the given Accept header and returns the status and the decoded answer.
func postAccept(t *testing.T, base, q, accept string) (int, map[string]json.RawMessage, []gqlError) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a struct {
		Data   map[string]json.RawMessage
		Errors []gqlError
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return res.StatusCode, a.Data, a.Errors
}

// TestPartialAnswers: the two panels, one of them failing, answer the other (status 200 under both
// media types); the failing one is null with its error at its alias.
func TestPartialAnswers(t *testing.T) {
	srv := nbsServer(t)
	var one struct{ Ranking struct{ Count int } }
	mustPost(t, srv.URL, `{ ranking(indicator: "gdp", year: 2024, group: "East") { count } }`, nil, &one)
	q := `{ a: ranking(indicator: "gdp", year: 2024, group: "East") { count } b: ranking(indicator: "nope", year: 2024) { count } }`
	for _, accept := range []string{"", "application/json", "application/graphql-response+json"} {
		status, data, errs := postAccept(t, srv.URL, q, accept)
		if status != http.StatusOK {
			t.Errorf("Accept %q: status %d", accept, status)
		}
		var a struct{ Count int }
		if err := json.Unmarshal(data["a"], &a); err != nil || a.Count != one.Ranking.Count || a.Count == 0 {
			t.Errorf("Accept %q: a = %s; want the count %d the field alone answers", accept, data["a"], one.Ranking.Count)
		}
		if string(data["b"]) != "null" {
			t.Errorf("Accept %q: b = %s; want null", accept, data["b"])
		}
		if len(errs) != 1 || fmt.Sprint(errs[0].Path) != "[b]" || errs[0].Extensions["code"] != "NOT_FOUND" || !strings.Contains(errs[0].Message, `"nope"`) {
			t.Errorf("Accept %q: errors %+v; want one NOT_FOUND at path [b]", accept, errs)
		}
	}
}

// TestThirtyPanelsOneFails: on a generated dataset, 30 rankings of which one asks for a year its indicator
// has no value in: 29 answer, with the entries each ranking asked alone answers, and the one is null.
func TestThirtyPanelsOneFails(t *testing.T) {
	d := dataset.Synthetic(30, 400, 30, 6)
	// I017 loses its last year: the panel that asks for it fails.
	kept := d.Observations[:0]
	for _, o := range d.Observations {
		if o.Indicator != "I017" || o.Year != 2006 {
			kept = append(kept, o)
		}
	}
	d.Observations = kept
	srv, _ := newServer(t, importDataset(t, d), query.DefaultOptions, DefaultOptions)
	var b strings.Builder
	b.WriteString("{")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, " p%02d: ranking(indicator: \"I%03d\", year: 2006, group: \"G%02d\") { count entries { region { code } rank } }", i, i, i%10+1)
	}
	b.WriteString(" }")
	status, data, errs := postAccept(t, srv.URL, b.String(), "application/graphql-response+json")
	if status != http.StatusOK || len(errs) != 1 || fmt.Sprint(errs[0].Path) != "[p17]" || errs[0].Extensions["code"] != "BAD_USER_INPUT" {
		t.Fatalf("status %d, errors %+v; want 200 and one error at p17", status, errs)
	}
	for i := 1; i <= 30; i++ {
		alias := fmt.Sprintf("p%02d", i)
		if i == 17 {
			if string(data[alias]) != "null" {
				t.Errorf("p17 = %s; want null", data[alias])
			}
			continue
		}
		var alone map[string]json.RawMessage
		mustPost(t, srv.URL, fmt.Sprintf(`{ ranking(indicator: "I%03d", year: 2006, group: "G%02d") { count entries { region { code } rank } } }`, i, i%10+1), nil, &alone)
		if !bytes.Equal(alone["ranking"], data[alias]) || len(data[alias]) < 50 {
			t.Errorf("%s = %.200s; alone %.200s", alias, data[alias], alone["ranking"])
		}
	}
}
