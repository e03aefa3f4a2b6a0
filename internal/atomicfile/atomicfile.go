// Package atomicfile writes files that are either whole or absent, and
// reads files with a bound on their size.
//
// A write goes to a new temporary file in the target's directory (created
// O_EXCL), which is given its mode, written, synced and closed, and only
// then renamed over the target (WriteFile) or linked to its name
// (CreateFile, which never replaces a file); the directory is synced last,
// so that the new name is durable too. A crash at any point leaves the old
// file or the new one, never a mix; at worst a temporary file is left
// behind, which RemoveTemps cleans up.
//
// The keyring and the DHT node's identity are written this way: both hold
// secret keys, so the temporary file is never readable by others either.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile replaces the file at path with data, atomically, with the
// permission bits perm. The directory must exist.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return write(path, data, perm, os.Rename)
}

// CreateFile writes data to a new file at path, atomically, with the
// permission bits perm. If path exists, it fails with an error wrapping
// fs.ErrExist and leaves the file alone: the data is linked into place,
// and unlike a rename a link never replaces a file, also one that another
// process created meanwhile. The directory must exist.
func CreateFile(path string, data []byte, perm fs.FileMode) error {
	return write(path, data, perm, func(tmp, path string) error {
		if err := os.Link(tmp, path); err != nil {
			return err
		}
		// The data is in place under its name. The temporary name left if
		// this fails is harmless, and RemoveTemps removes it.
		_ = os.Remove(tmp)
		return nil
	})
}

// write writes data to a temporary file beside path and then calls place
// to give it path's name.
func write(path string, data []byte, perm fs.FileMode, place func(tmp, path string) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, tempPrefix+base+"-*"+tempSuffix)
	if err != nil {
		return err
	}
	placed := false
	defer func() {
		if !placed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes the file 0600; Chmod, unlike the mode given to
	// open, is not masked by the umask, so the file gets exactly perm.
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := place(tmp.Name(), path); err != nil {
		return err
	}
	placed = true
	return syncDir(dir)
}

// syncDir makes the directory's entries durable: without it a crash just
// after the rename may bring back the old file, or no file at all.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return &fs.PathError{Op: "sync", Path: dir, Err: err}
	}
	return nil
}

// Temporary files are named ".<target name>-<random>.tmp".
const (
	tempPrefix = "."
	tempSuffix = ".tmp"
)

// RemoveTemps removes the temporary files that WriteFile and CreateFile
// left in dir for files whose names begin with prefix, when they were
// interrupted by a crash. Call it only when no other process is writing
// such a file (under the lock that guards the files), or it may remove a
// temporary file that a write is using.
func RemoveTemps(dir, prefix string) error {
	names, err := filepath.Glob(filepath.Join(dir, tempPrefix+globEscape(prefix)+"*"+tempSuffix))
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if err := os.Remove(n); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// globEscape quotes the characters that filepath.Match treats specially.
func globEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// TooLargeError is returned by ReadFile for a file larger than its bound.
type TooLargeError struct {
	Path  string
	Limit int64 // the bound, in bytes
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("atomicfile: %s is larger than %d bytes", e.Path, e.Limit)
}

// ReadFile reads the file at path, as os.ReadFile does, but reads no more
// than limit bytes of it: a larger file gives a *TooLargeError, so that
// a damaged or hostile file never makes its reader allocate without bound.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err // an *fs.PathError, naming path
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Path: path, Limit: limit}
	}
	return data, nil
}
