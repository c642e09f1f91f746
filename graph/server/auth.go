package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"pacesetter/analytics"
)

// Tokens are the bearer tokens a server accepts, kept as their SHA-256 hashes (a file of hashes leaks no
// token), read from a file and replaced whole by Reload.
type Tokens struct {
	path   string
	hashes atomic.Pointer[[][sha256.Size]byte]
	mu     sync.Mutex
	file   os.FileInfo // the file as last read, or last refused: Changed looks for another
}

// LoadTokens reads a token file: one SHA-256 hash in hex a line (the first word of the line, so the output
// of `printf %s "$TOKEN" | sha256sum` may be appended as it is), blank lines and lines starting with #
// ignored. A file with a line that is not a hash, or with no hash at all, is refused.
func LoadTokens(path string) (*Tokens, error) {
	t := &Tokens{path: path}
	if err := t.Reload(); err != nil {
		return nil, err
	}
	return t, nil
}

// Reload rereads the file; on an error the tokens stay as they were.
func (t *Tokens) Reload() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	fi, err := os.Stat(t.path)
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	t.file = fi
	hashes, err := readTokenHashes(t.path)
	if err != nil {
		return err
	}
	t.hashes.Store(&hashes)
	return nil
}

// Changed says whether the file at the path is another than the one last read (replaced or rewritten).
func (t *Tokens) Changed() bool {
	fi, err := os.Stat(t.path)
	if err != nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return !os.SameFile(fi, t.file) || !fi.ModTime().Equal(t.file.ModTime()) || fi.Size() != t.file.Size()
}

// Len is how many token hashes are accepted.
func (t *Tokens) Len() int { return len(*t.hashes.Load()) }

func readTokenHashes(path string) ([][sha256.Size]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer f.Close()
	var hashes [][sha256.Size]byte
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		word := strings.Fields(text)[0]
		var h [sha256.Size]byte
		if n, err := hex.Decode(h[:], []byte(word)); err != nil || n != sha256.Size || len(word) != 2*sha256.Size {
			return nil, fmt.Errorf(`%s:%d: %q is not a SHA-256 hash in hex (64 characters 0-9a-f); make one with: printf %%s "$TOKEN" | sha256sum`,
				path, line, cutText(word))
		}
		hashes = append(hashes, h)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokens: %s: %w", path, err)
	}
	if len(hashes) == 0 {
		return nil, fmt.Errorf("%s holds no token hash, so every request would be refused; add one a line: printf %%s \"$TOKEN\" | sha256sum", path)
	}
	return hashes, nil
}

func cutText(s string) string {
	if len(s) > 80 {
		return strings.ToValidUTF8(s[:80], "") + "…"
	}
	return s
}

// allows says whether an Authorization header carries an accepted token. The token's hash is compared with
// every accepted hash in constant time, so the time taken tells nothing of how close a guess came.
func (t *Tokens) allows(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return false
	}
	h := sha256.Sum256([]byte(token))
	match := 0
	for _, a := range *t.hashes.Load() {
		match |= subtle.ConstantTimeCompare(h[:], a[:])
	}
	return match == 1
}

// requireToken answers 401 with a WWW-Authenticate challenge (RFC 6750) and an UNAUTHENTICATED error to a
// request without an accepted bearer token.
func requireToken(t *Tokens, next http.Handler) http.Handler {
	if t == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if t.allows(header) {
			next.ServeHTTP(w, r)
			return
		}
		if header == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pacesetter"`)
			writeError(w, http.StatusUnauthorized, analytics.Unauthenticated,
				"this API needs a bearer token: send the header Authorization: Bearer TOKEN")
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="pacesetter", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, analytics.Unauthenticated,
			"the bearer token is not one this server accepts (or the Authorization header is not of the form Bearer TOKEN)")
	})
}

// Pinner is an engine whose dataset may be replaced while serving (query.Served): Pin returns the context a
// request runs under, which keeps the dataset it started on to its end, and the function to call then.
type Pinner interface {
	Pin(ctx context.Context) (context.Context, func())
}

func pinned(p Pinner, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, release := p.Pin(r.Context())
		defer release()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
