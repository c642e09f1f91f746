package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// certFiles is the served TLS certificate, read again on SIGHUP and when the watch sees either file
// replaced (a renewal, say), without a restart: each new handshake takes the certificate of the moment
// (tls.Config.GetCertificate); a pair that fails to load is logged and the old one kept.
type certFiles struct {
	cert, key string
	cur       atomic.Pointer[tls.Certificate]
	mu        sync.Mutex
	seen      [2]time.Time // the files' modification times when last read
}

func loadCertFiles(cert, key string) (*certFiles, error) {
	c := &certFiles{cert: cert, key: key}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certFiles) reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := c.modTimes()
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return fmt.Errorf("--tls-cert %s, --tls-key %s: %w", c.cert, c.key, err)
	}
	c.cur.Store(&pair)
	c.seen = seen
	return nil
}

// changed says whether either file was replaced or written since it was last read.
func (c *certFiles) changed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.modTimes() != c.seen
}

func (c *certFiles) modTimes() (t [2]time.Time) {
	for i, p := range []string{c.cert, c.key} {
		if fi, err := os.Stat(p); err == nil {
			t[i] = fi.ModTime()
		}
	}
	return t
}

func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cur.Load(), nil }
