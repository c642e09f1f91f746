package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"pacesetter/analytics/duck"
)

// The import command on real files: a good dataset loads and says what it loaded; a corrupt one is refused
// with its lines named, exits 1, and leaves the file's dataset exactly as it was.
func TestImportCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nbs.db")
	ctx := context.Background()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"import", "--db", db, "../../data/china-provinces-nbs"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !regexp.MustCompile(`: 32 regions, 13 groups, 27 indicators, 5050 observations \(2016–2025\), version [0-9a-f]{16}\n` +
		`with 1 assessment scheme\(s\) and 93 target\(s\)\ntook `).MatchString(out.String()) {
		t.Errorf("import said %q", out.String())
	}
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}

	// A copy of the dataset with three bad rows: an unknown region, a non-numeric value, a duplicate.
	bad := t.TempDir()
	for _, f := range []string{"regions.csv", "groups.csv", "memberships.csv", "indicators.csv", "derived.csv", "observations.csv"} {
		b, err := os.ReadFile(filepath.Join("../../data/china-provinces-nbs", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "observations.csv" {
			b = append(b, "999999,Nowhere,gdp,2024,1,\n320000,江苏省,gdp,2024,lots,\n320000,江苏省,gdp,2019,99485.0,\n"...)
		}
		if err := os.WriteFile(filepath.Join(bad, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"import", bad, "--db", db}, &out, &errb); code != 1 {
		t.Fatalf("a corrupt dataset exited %d: %s", code, errb.String())
	}
	// observations.csv has 4907 rows after the header, so the appended rows are lines 4909–4911.
	for _, want := range []string{
		"dataset refused: 3 problem(s)",
		`observations.csv:4909: unknown region_code "999999"`,
		`observations.csv:4910: value "lots" is not a finite number`,
		"observations.csv:4911: duplicate observation of 320000, gdp, 2019 (first on line ",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	// A derived indicator that divides by zero (population − population) is refused whole too, with the line
	// of derived.csv (20 lines: the header and 19 rows, so the added row is line 21) and the region and year.
	derived, err := os.ReadFile("../../data/china-provinces-nbs/derived.csv")
	if err != nil {
		t.Fatal(err)
	}
	derived = append(derived, "x,X,u,higher_is_better,level,retail_sales / (population - population),,,,\n"...)
	if err := os.WriteFile(filepath.Join(bad, "derived.csv"), derived, 0o644); err != nil {
		t.Fatal(err)
	}
	obs, err := os.ReadFile("../../data/china-provinces-nbs/observations.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "observations.csv"), obs, 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := run(ctx, []string{"import", bad, "--db", db}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), `derived.csv:21: formula of "x" for region 110000 in 2024: division by zero`) {
		t.Errorf("division by zero: exit %d:\n%s", code, errb.String())
	}
	after, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("a refused import changed the database file")
	}
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{nil, {"frobnicate"}, {"import", "--db"}, {"import", "dir"}, {"serve", "--port", "1"}, {"serve", "--tls-cert", "cert.pem"}} {
		out.Reset()
		errb.Reset()
		if code := run(context.Background(), args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage:") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

// serve over a file made by import, and over the embedded dataset (the README's first command): each starts,
// answers on the address it prints, and stops cleanly on cancellation (a signal, in the real program).
func TestServeCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "wb.db")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"import", "--db", db, "../../data/worldbank-gdp-population"}, &out, &errb); code != 0 {
		t.Fatalf("import: %s", errb.String())
	}
	// India and China lead Asia's population in 2024 (data/worldbank-gdp-population: IND 1450935791,
	// CHN 1408975000); Guangdong and Jiangsu lead China's provinces on GRP in 2024 (data/china-provinces-nbs:
	// 141488.9 and 136696.9).
	for _, c := range []struct {
		args         []string
		query        string
		want1, want2 string
	}{
		{[]string{"serve", "--db", db, "--addr", "127.0.0.1:0"},
			`{ dataset { observations } ranking(indicator: \"SP.POP.TOTL\", year: 2024, group: \"Asia\") { entries { region { code } rank } } }`,
			`"observations":31174`, `{"region":{"code":"IND"},"rank":1},{"region":{"code":"CHN"},"rank":2}`},
		{[]string{"serve", "--addr", "127.0.0.1:0"},
			`{ dataset { observations } ranking(indicator: \"gdp\", year: 2024, level: \"province\") { entries { region { code } rank } } }`,
			`"observations":5050`, `{"region":{"code":"440000"},"rank":1},{"region":{"code":"320000"},"rank":2}`},
		// The access flags (graph/server/guard_test.go checks what they do).
		{[]string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--no-graphiql", "--no-introspection"},
			`{ dataset { observations } }`, `"observations":31174`, `"observations":31174`},
	} {
		body, code, stderr := serveAndAsk(t, c.args, c.query)
		if !strings.Contains(body, c.want1) || !strings.Contains(body, c.want2) {
			t.Errorf("%q answered %s", c.args, body)
		}
		if code != 0 {
			t.Errorf("%q exited %d: %s", c.args, code, stderr)
		}
	}
}

// serveAndAsk runs serve, posts one query to the endpoint it prints, stops it, and returns the answer,
// the exit code and what it wrote to stderr.
func serveAndAsk(t *testing.T, args []string, query string) (string, int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errb bytes.Buffer
	pr, pw := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, args, pw, &errb)
		pw.Close()
	}()
	var addr string
	sc := bufio.NewScanner(pr)
	for addr == "" && sc.Scan() {
		if m := regexp.MustCompile(`endpoint at (http://\S+/graphql)`).FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
		}
	}
	go io.Copy(io.Discard, pr)
	if addr == "" {
		cancel()
		<-exit
		t.Fatalf("serve did not say where it listens; stderr: %s", errb.String())
	}
	var body []byte
	for i := range 2 {
		res, err := http.Post(addr, "application/json", strings.NewReader(`{"query":"`+query+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		// The serving defaults are in force: the same request again comes from the response cache.
		if hit := res.Header.Get("X-Cache"); (i == 1) != (hit == "hit") {
			t.Errorf("request %d: X-Cache %q", i+1, hit)
		}
	}
	cancel()
	code := <-exit
	return string(body), code, errb.String()
}

// export on the shell: the embedded dataset's East ranking on retail sales in 2024 as CSV, into a file
// (values from data/china-provinces-nbs/observations.csv: Guangdong 45029.2, Jiangsu 44922.1); a refused query
// exits 1 with the error and leaves no file.
func TestExportCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "east.csv")
	var stdout, stderr bytes.Buffer
	q := `query($g: ID) { ranking(indicator: "retail_sales", year: 2024, group: $g) { entries(top: 2) { region { code } value rank } } }`
	if code := run(context.Background(), []string{"export", "--format", "csv", "--query", q, "--variables", `{"g": "East"}`, "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "region.code,value,rank\n440000,45029.2,1\n320000,44922.1,2\n"; string(b) != want {
		t.Errorf("wrote %q, want %q", b, want)
	}
	if !strings.Contains(stdout.String(), "wrote 2 rows to ") {
		t.Errorf("said %q", stdout.String())
	}

	bad := filepath.Join(t.TempDir(), "bad.csv")
	stderr.Reset()
	if code := run(context.Background(), []string{"export", "--query", `{ ranking(indicator: "gpd") { entries { value } } }`, "--out", bad}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), `unknown indicator "gpd"`) || !strings.Contains(stderr.String(), "NOT_FOUND") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if entries, _ := os.ReadDir(filepath.Dir(bad)); len(entries) != 0 {
		t.Errorf("a refused export left %v", entries)
	}
}

// export's refusals speak of its flags (--format, --path, --limit), not the URL parameters of /export; a
// parse error says where in --query; a file written with --out has the mode the umask gives a new file.
func TestExportCommandMessages(t *testing.T) {
	dir := t.TempDir()
	ranking := `{ ranking(indicator: "gdp", year: 2024) { entries { rank } } }`
	for _, c := range []struct {
		args     []string
		mentions []string
	}{
		{[]string{"--format", "ods", "--query", ranking}, []string{`--format "ods" is not one of csv`}},
		{[]string{"--limit", "0", "--query", ranking}, []string{"--limit must be from 1"}},
		{[]string{"--path", "ranking", "--query", ranking}, []string{"--path ranking is an object"}},
		{[]string{"--path", "nope.rows", "--query", ranking}, []string{"at --path nope.rows"}},
		{[]string{"--query", `{ ranking(indicator: "gdp"}`}, []string{"at line 1, column 27 of --query", "GRAPHQL_PARSE_FAILED"}}, // the 27th character is the "}"
		{[]string{"--query", "{\n  ranking(indicator: \"gdp\") { entries { rnk } } }"}, []string{"at line 2, column"}},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"export", "--out", filepath.Join(dir, "x.csv")}, c.args...)
		code := run(context.Background(), args, &stdout, &stderr)
		msg := stderr.String()
		if code == 0 || strings.Contains(msg, "path=") || strings.Contains(msg, "format=") || strings.Contains(msg, "in the URL") {
			t.Errorf("%v: exit %d: %s", c.args, code, msg)
		}
		for _, m := range c.mentions {
			if !strings.Contains(msg, m) {
				t.Errorf("%v: %q lacks %q", c.args, msg, m)
			}
		}
	}
	for _, umask := range []int{0o022, 0o077} {
		old := syscall.Umask(umask)
		out := filepath.Join(dir, fmt.Sprintf("r%o.csv", umask))
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"export", "--query", ranking, "--out", out}, &stdout, &stderr)
		syscall.Umask(old)
		st, err := os.Stat(out)
		if code != 0 || err != nil {
			t.Fatalf("exit %d, %v: %s", code, err, stderr.String())
		}
		if want := os.FileMode(0o666 &^ umask); st.Mode().Perm() != want {
			t.Errorf("umask %o: mode %v, want %v", umask, st.Mode().Perm(), want)
		}
	}
}

// import reads a WDI bulk CSV file as well as a folder (the fixture of analytics/dataset: 2 countries, 4 values).
func TestImportWDI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "wdi.db")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"import", "--db", db, "../../analytics/dataset/testdata/wdi/WDI_pop.csv"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), ": 2 regions, 0 groups, 1 indicators, 4 observations (2022–2023)") {
		t.Errorf("exit %d: %s %s", code, out.String(), errb.String())
	}
}

// --help and -h on every command print its flags with their defaults on standard output and exit 0; a bare
// number for a duration is refused with what to write instead.
func TestHelpAndDurations(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{{"help"}, {"serve", "--help"}, {"serve", "-h"}, {"import", "--help"}, {"synth", "-h"}, {"export", "--help"}, {"health", "-h"}} {
		var out, errb bytes.Buffer
		if code := run(ctx, args, &out, &errb); code != 0 {
			t.Errorf("%v exited %d: %s", args, code, errb.String())
		}
		if !strings.Contains(out.String(), "usage:") || errb.Len() > 0 {
			t.Errorf("%v printed %q, stderr %q", args, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	run(ctx, []string{"serve", "--help"}, &out, &errb)
	for _, want := range []string{`-addr string`, `(default "127.0.0.1:8080")`, "-timeout", "(default 10s)", "(default 50000)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "no-metrics") || !strings.Contains(out.String(), "-metrics-public") {
		t.Errorf("serve --help shows the hidden --no-metrics or lacks --metrics-public:\n%s", out.String())
	}
	// Progress is for terminals: with output to a buffer, a synthesis writes no spinner.
	out.Reset()
	if code := run(ctx, []string{"synth", "--regions", "50", "--indicators", "3", "--years", "2", t.TempDir()}, &out, &errb); code != 0 ||
		errb.Len() > 0 || strings.ContainsAny(out.String(), "\r\x1b") {
		t.Errorf("synth off a terminal: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	if code := run(ctx, []string{"serve", "--timeout", "5"}, &out, &errb); code != 2 ||
		!strings.Contains(errb.String(), "a duration needs a unit: write 5s") {
		t.Errorf("--timeout 5: exit %d, %s", code, errb.String())
	}
}

// A file that another process holds open for writing (a DuckDB shell, say) is refused with what to do, not
// DuckDB's raw "Could not set lock on file" error.
func TestLockedFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "held.db")
	mustRun(t, "import", "--db", db, "../../data/china-provinces-nbs")
	held, err := duck.Open(db) // read-write: DuckDB locks the file against every other process
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	for _, args := range [][]string{{"serve", "--db", db, "--addr", "127.0.0.1:0"}, {"export", "--db", db, "--query", "{ indicators { code } }"}} {
		cmd := pacesetter(args...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err == nil {
			t.Errorf("%v ran on a file another process writes", args)
		}
		if msg := errb.String(); strings.Contains(msg, "Could not set lock") || !strings.Contains(msg, "is open for writing in another process") {
			t.Errorf("%v said %s", args, msg)
		}
	}
}

// The usage text names every flag each command takes (hidden ones aside): a flag added to a command but
// not to its synopsis fails here. The flags are read from the command's own --help, not listed by hand.
func TestUsageNamesEveryFlag(t *testing.T) {
	for _, cmd := range []string{"serve", "import", "synth", "export", "health"} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{cmd, "--help"}, &out, &errb); code != 0 {
			t.Fatalf("%s --help: exit %d, %s", cmd, code, errb.String())
		}
		// The synopsis of cmd: from its "pacesetter cmd" line up to the next command's.
		syn := usage[strings.Index(usage, "pacesetter "+cmd):]
		if i := strings.Index(syn[1:], "\n  pacesetter "); i >= 0 {
			syn = syn[:i+1]
		}
		n := 0
		for _, line := range strings.Split(out.String(), "\n") {
			// flag.PrintDefaults writes each flag as "  -name" (then a tab or " type").
			if !strings.HasPrefix(line, "  -") {
				continue
			}
			name := strings.Fields(line)[0][1:]
			n++
			if !regexp.MustCompile(`--` + regexp.QuoteMeta(name) + `([^a-z-]|$)`).MatchString(syn) {
				t.Errorf("pacesetter %s --%s is not in the usage text", cmd, name)
			}
		}
		if n == 0 {
			t.Errorf("%s --help listed no flags: %q", cmd, out.String())
		}
	}
}
