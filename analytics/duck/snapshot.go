package duck

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// WriteSnapshot builds a new database file for path with load and renames it over path only once it is
// complete and on disk. A server reading path keeps the file it has open (DuckDB's lock is on that inode),
// and an import that fails or is killed leaves path exactly as it was. The new file is written beside path,
// as path.tmp-<pid>-<random> (the same file system, so the rename is atomic); the next import removes
// those left by an import that was killed.
func WriteSnapshot(ctx context.Context, path string, load func(*Store) (ImportStats, error)) (ImportStats, error) {
	if path == "" {
		return ImportStats{}, errors.New("a snapshot needs a file path")
	}
	unlock, err := lockImport(path)
	if err != nil {
		return ImportStats{}, err
	}
	defer unlock()
	removeStaleTemps(path)
	tmp := fmt.Sprintf("%s%s%d-%s", path, tempInfix, os.Getpid(), randomHex())
	renamed := false
	defer func() {
		if !renamed {
			removeTemp(tmp)
		}
	}()
	s, err := Open(tmp)
	if err != nil {
		return ImportStats{}, err
	}
	st, err := load(s)
	if err == nil {
		// Everything into the file itself, so that the file renamed into place needs no log beside it.
		if _, err = s.db.ExecContext(ctx, `CHECKPOINT`); err != nil {
			err = fmt.Errorf("checkpoint %s: %w", tmp, err)
		}
	}
	if cerr := s.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", tmp, cerr)
	}
	if err != nil {
		return st, err
	}
	if _, err := os.Stat(tmp + ".wal"); err == nil {
		return st, fmt.Errorf("%s: a write-ahead log remained after the checkpoint; the import is not complete", tmp)
	}
	if fi, err := os.Stat(path); err == nil {
		_ = os.Chmod(tmp, fi.Mode().Perm()) // the new file keeps the permissions of the one it replaces
	}
	if err := syncPath(tmp); err != nil {
		return st, err
	}
	// A log beside path belongs to the file being replaced (an in-place import of an older pacesetter,
	// killed): DuckDB would replay it into the new file.
	if err := os.Remove(path + ".wal"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return st, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return st, err
	}
	renamed = true
	// The rename itself is durable once the folder is synced.
	return st, syncPath(filepath.Dir(path))
}

const tempInfix = ".tmp-"

// lockImport takes path's import lock, an exclusive flock on path.import-lock, or says who holds it: two
// imports into one file would both "succeed" and the last rename would win, dropping the other's dataset
// without a word. The kernel releases the lock when its process ends, however it ends, so a killed import
// never leaves the file locked (only the empty lock file, which the next import takes). The holder removes
// the lock file before it unlocks, so nothing stays beside path; an import that locked a file removed
// meanwhile (it opened it just before) sees that the name no longer leads to its file, and tries again.
func lockImport(path string) (func(), error) {
	name := path + ".import-lock"
	for range 10 {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("import lock %s: %w", name, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			holder, _ := os.ReadFile(name)
			f.Close()
			who := "another import"
			if h := strings.TrimSpace(string(holder)); h != "" {
				who = "another import (" + h + ")"
			}
			return nil, fmt.Errorf("%s is being imported into by %s: wait for it to finish, or import into another file", path, who)
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(name)
		if err1 != nil || err2 != nil || !os.SameFile(held, now) {
			f.Close() // the holder before removed it as this one opened it: lock the file there now
			continue
		}
		_ = f.Truncate(0)
		_, _ = fmt.Fprintf(f, "PID %d", os.Getpid())
		return func() {
			_ = os.Remove(name)
			_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
		}, nil
	}
	return nil, fmt.Errorf("import lock %s: replaced again and again while being taken", name)
}

// TempName is a file name beside path for this process's use (purpose says which): one a killed process
// leaves behind is removed by the next WriteSnapshot, which knows it by tempInfix and the pid.
func TempName(path, purpose string) string {
	return fmt.Sprintf("%s%s%d-%s-%s", path, tempInfix, os.Getpid(), purpose, randomHex())
}

func randomHex() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// removeTemp removes a snapshot being written and what DuckDB keeps beside it (its log, its spill folder).
func removeTemp(tmp string) {
	for _, p := range []string{tmp, tmp + ".wal", tmp + ".tmp"} {
		_ = os.RemoveAll(p)
	}
}

// removeStaleTemps removes the snapshots of path that imports killed part-way left behind: those whose
// process (the pid in the name) is gone. One of a running import is left alone.
func removeStaleTemps(path string) {
	dir, prefix := filepath.Dir(path), filepath.Base(path)+tempInfix
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// alive says whether a process with this id runs (signal 0 checks without sending anything).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
