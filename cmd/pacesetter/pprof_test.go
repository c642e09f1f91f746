package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serve --pprof ADDR serves Go's profiles on a listener of its own (a heap profile and the goroutines are
// read from it), the API's listener serves none, a non-loopback address is refused without
// --pprof-public, and without --pprof nothing is served or announced.
func TestServePprof(t *testing.T) {
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--pprof", "0.0.0.0:0"}, io.Discard, &errb); code != 2 ||
		!strings.Contains(errb.String(), `--pprof "0.0.0.0:0" is not a loopback address`) {
		t.Errorf("--pprof on every interface: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--pprof", "6060"}, io.Discard, &errb); code != 2 ||
		!strings.Contains(errb.String(), `--pprof "6060": give HOST:PORT`) {
		t.Errorf("--pprof without a host: exit %d, stderr %q", code, errb.String())
	}

	for _, withPprof := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		args := []string{"serve", "--addr", "127.0.0.1:0"}
		if withPprof {
			args = append(args, "--pprof", "127.0.0.1:0")
		}
		pr, pw := io.Pipe()
		var errs syncBuffer
		exit := make(chan int, 1)
		go func() {
			exit <- run(ctx, args, pw, &errs)
			pw.Close()
		}()
		var endpoint, profiles string
		sc := bufio.NewScanner(pr)
		for endpoint == "" && sc.Scan() {
			if m := regexp.MustCompile(`profiles \(pprof\) at (http://\S+/debug/pprof/)`).FindStringSubmatch(sc.Text()); m != nil {
				profiles = m[1]
			}
			if m := regexp.MustCompile(`endpoint at (http://\S+/graphql)`).FindStringSubmatch(sc.Text()); m != nil {
				endpoint = m[1]
			}
		}
		go io.Copy(io.Discard, pr)
		if endpoint == "" {
			t.Fatalf("serve did not say where it listens: %s", errs.String())
		}
		client := &http.Client{Timeout: 30 * time.Second}
		get := func(u string) (int, string) {
			res, err := client.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		if code, body := get(strings.TrimSuffix(endpoint, "/graphql") + "/debug/pprof/heap?debug=1"); code == 200 && strings.Contains(body, "heap profile") {
			t.Errorf("the API's listener serves a heap profile")
		}
		if withPprof {
			if profiles == "" {
				t.Fatal("serve --pprof did not say where the profiles are")
			}
			if code, body := get(profiles + "heap?debug=1"); code != 200 || !strings.Contains(body, "heap profile:") {
				t.Errorf("heap profile: %d %.200s", code, body)
			}
			if code, body := get(profiles + "goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile:") {
				t.Errorf("goroutines: %d %.200s", code, body)
			}
		} else if profiles != "" {
			t.Errorf("profiles announced without --pprof: %s", profiles)
		}
		cancel()
		if code := <-exit; code != 0 {
			t.Errorf("exit %d: %s", code, errs.String())
		}
	}
}
