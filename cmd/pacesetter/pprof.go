package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startPprof serves Go's profiles (net/http/pprof: CPU, heap, goroutines, mutex, block, trace) at
// http://addr/debug/pprof/ on a listener of their own, never on the API's: they show the process's insides
// and a CPU profile costs while it runs. Loopback addresses only, unless public says otherwise. It returns
// the address listened on (for ":0", the port chosen) and a function that stops serving.
func startPprof(addr string, public bool, logger *slog.Logger) (string, func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, usageError{fmt.Errorf("--pprof %q: give HOST:PORT, e.g. 127.0.0.1:6060: %w", addr, err)}
	}
	if !public {
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", nil, usageError{fmt.Errorf("--pprof %q is not a loopback address: profiles show the process's insides; use 127.0.0.1:PORT, or add --pprof-public to listen there anyway", addr)}
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also the named profiles: heap, goroutine, allocs, block, mutex …
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No write timeout: a CPU profile or a trace answers after its ?seconds= (30 by default).
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}
