// This file is long because it is the keyring file's whole life: format,
// locking, atomic replacement, encryption at rest and backups, which share
// one lock and one set of invariants.

package keyring

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/dhtchat/dhtchat/internal/atomicfile"
)

// File names inside the keyring directory.
const (
	// FileName is the keyring file: plaintext JSON, or an age file.
	FileName = "keyring"
	// lockName is the lock file. The lock can't be on the keyring file
	// itself, which every write replaces by a rename.
	lockName = ".keyring.lock"
	// backupPrefix begins the name of the copy that Create(force), and an
	// Update that changes the identity, keep of the keyring they replace.
	// A backup holds an older secret key: it is stored as the keyring is,
	// encrypted with the same passphrase or in the clear (see
	// BackupChange).
	backupPrefix = FileName + ".bak-"
)

// MaxFileSize bounds what is read from a keyring file, before any parsing.
const MaxFileSize = 4 << 20

// ageIntro begins every (binary) age file.
var ageIntro = []byte("age-encryption.org/")

// Errors about the keyring file. ErrNotFound and ErrExists come in a
// *PathError naming the file.
var (
	ErrNotFound           = errors.New("keyring: no keyring yet")
	ErrExists             = errors.New("keyring: a keyring already exists")
	ErrWrongPassphrase    = errors.New("keyring: wrong passphrase")
	ErrPassphraseRequired = errors.New("keyring: the keyring is encrypted and needs a passphrase")
	ErrLocked             = errors.New("keyring: the keyring is locked by another process")
)

// PathError is ErrNotFound or ErrExists, about the keyring file at Path.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string { return e.Err.Error() + " at " + e.Path }

func (e *PathError) Unwrap() error { return e.Err }

// CorruptError reports a keyring file that can't be read: truncated,
// damaged, or edited into something invalid. The file was not modified,
// and nothing but Create with force replaces it.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("keyring: %s is damaged (it was not modified): %s",
		e.Path, strings.TrimPrefix(e.Err.Error(), "keyring: "))
}

func (e *CorruptError) Unwrap() error { return e.Err }

// File is the keyring file in a directory. Its methods are safe for
// concurrent use, also by several processes: reads take a shared lock,
// writes an exclusive one, and each write replaces the file atomically.
type File struct {
	dir        string
	passphrase func() ([]byte, error)
	workFactor int

	mu   sync.Mutex
	pass []byte // the passphrase that last opened the file, if encrypted
}

// Option configures a File.
type Option func(*File)

// WithScryptWorkFactor sets the scrypt work factor (log2 of N) used when
// encrypting, in place of age's default (18, about a second). It exists
// for tests; anything below 18 weakens the passphrase encryption.
func WithScryptWorkFactor(logN int) Option {
	return func(f *File) { f.workFactor = logN }
}

// NewFile returns the keyring file in dir. passphrase is called when a
// passphrase is needed to decrypt the file, at most once per File after a
// success (the passphrase is then kept in memory for later writes); it may
// be nil for a caller that can't ask.
func NewFile(dir string, passphrase func() ([]byte, error), opts ...Option) *File {
	f := &File{dir: dir, passphrase: passphrase}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Path returns the path of the keyring file.
func (f *File) Path() string { return filepath.Join(f.dir, FileName) }

// Exists reports whether the keyring file exists.
func (f *File) Exists() (bool, error) {
	_, err := os.Lstat(f.Path())
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("keyring: %w", err)
}

// Encrypted reports whether the keyring file is passphrase-encrypted.
func (f *File) Encrypted() (bool, error) {
	data, err := f.read()
	if err != nil {
		return false, err
	}
	return bytes.HasPrefix(data, ageIntro), nil
}

// Load reads the keyring, under a shared lock.
func (f *File) Load() (*Keyring, error) {
	if err := f.askEarly(); err != nil {
		return nil, err
	}
	unlock, err := f.lock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	k, _, _, err := f.readKeyring()
	return k, err
}

// Update reads the keyring, calls fn on it and writes the result, all
// under an exclusive lock, so that concurrent updates (from other
// processes too) are never lost. If fn returns an error, or leaves the
// keyring unchanged, nothing is written. An encrypted file stays encrypted
// with the same passphrase.
func (f *File) Update(fn func(*Keyring) error) error {
	return f.update(fn, false, nil, nil)
}

// BackupChange says what a change of the keyring's encryption did to the
// backups of the keyrings it replaced (keyring.bak-…, see Create), which
// hold older secret keys: they are kept as the keyring is, so that setting
// a passphrase leaves no secret key in the clear beside it.
type BackupChange struct {
	// Resealed are the backups (file names) now stored as the keyring:
	// encrypted with the new passphrase, or in the clear after
	// RemovePassphrase.
	Resealed []string
	// Left are the backups encrypted with a passphrase other than the
	// keyring's (from before an earlier change) or unreadable: they were
	// left as they were. None is in the clear.
	Left []string
}

// SetPassphrase encrypts the keyring with passphrase, which must not be
// empty (see RemovePassphrase). If the file is already encrypted, its
// current passphrase is asked for first. The backups are encrypted with
// the new passphrase too: those in the clear, and those encrypted with the
// old one.
func (f *File) SetPassphrase(passphrase []byte) (BackupChange, error) {
	if len(passphrase) == 0 {
		return BackupChange{}, errors.New("keyring: empty passphrase (to store the keyring unencrypted, remove the passphrase)")
	}
	return f.changePass(passphrase)
}

// RemovePassphrase stores the keyring unencrypted, and the backups
// encrypted with its passphrase too.
func (f *File) RemovePassphrase() (BackupChange, error) {
	return f.changePass(nil)
}

func (f *File) changePass(newPass []byte) (BackupChange, error) {
	var bc BackupChange
	err := f.update(nil, true, newPass, func(oldPass []byte) error {
		var err error
		bc, err = f.resealBackups(oldPass, newPass)
		return err
	})
	return bc, err
}

// backups returns the paths of the backups, in name (time) order.
func (f *File) backups() ([]string, error) {
	names, err := filepath.Glob(filepath.Join(f.dir, backupPrefix+"*"))
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return names, nil
}

// resealBackups rewrites each backup as the keyring now is: encrypted
// with newPass, or in the clear if newPass is empty. An encrypted backup is
// opened with oldPass; one that does not open (another passphrase), or is
// not a keyring, is left as it is, and so is one already in the right
// form. Each is replaced atomically. The caller holds the exclusive lock.
func (f *File) resealBackups(oldPass, newPass []byte) (BackupChange, error) {
	var bc BackupChange
	paths, err := f.backups()
	if err != nil {
		return bc, err
	}
	for _, path := range paths {
		name := filepath.Base(path)
		data, err := readBounded(path)
		if err != nil {
			return bc, err
		}
		plain := data
		encrypted := bytes.HasPrefix(data, ageIntro)
		switch {
		case !encrypted && len(newPass) == 0:
			continue // in the clear, as the keyring
		case encrypted && len(oldPass) == 0:
			bc.Left = append(bc.Left, name) // the keyring was in the clear: not with its passphrase
			continue
		case encrypted:
			if plain, err = open(data, oldPass); err != nil {
				bc.Left = append(bc.Left, name)
				continue
			}
		}
		if _, err := parseKeyring(plain); err != nil {
			if encrypted {
				bc.Left = append(bc.Left, name)
				continue
			}
			// Not a keyring we can read, in the clear: it may still hold a
			// secret key, so it is encrypted all the same.
		}
		sealed, err := f.seal(plain, newPass)
		if err != nil {
			return bc, err
		}
		if err := atomicfile.WriteFile(path, sealed, 0o600); err != nil {
			return bc, fmt.Errorf("keyring: rewriting the backup %s: %w", name, err)
		}
		bc.Resealed = append(bc.Resealed, name)
	}
	return bc, nil
}

// Create writes k as a new keyring file, encrypted with passphrase unless
// it is empty. The directory is created (mode 0700) if missing; an
// existing directory's mode is left alone. If a keyring exists Create
// fails with ErrExists, unless force is set: then the old file is kept as
// "keyring.bak-<UTC time>" beside the new one, since an identity lost is
// every chat lost, and the new one replaces it atomically. With a
// passphrase, the backups in the clear (the old file among them) are
// encrypted with it.
func (f *File) Create(k *Keyring, force bool, passphrase []byte) error {
	plain, err := marshalKeyring(k)
	if err != nil {
		return err
	}
	data, err := f.seal(plain, passphrase)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	unlock, err := f.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	f.removeStaleTemps()

	exists, err := f.Exists()
	if err != nil {
		return err
	}
	if exists && !force {
		return &PathError{Path: f.Path(), Err: ErrExists}
	}
	if exists {
		if err := f.backup(); err != nil {
			return err
		}
	}
	if err := f.write(data, !exists); err != nil {
		return err
	}
	f.setPass(passphrase)
	if len(passphrase) > 0 {
		if _, err := f.resealBackups(nil, passphrase); err != nil {
			return err
		}
	}
	return nil
}

// backup hard-links the current file to a new, unique backup name.
func (f *File) backup() error {
	base := filepath.Join(f.dir, backupPrefix+time.Now().UTC().Format("20060102T150405Z"))
	name := base
	for i := 2; ; i++ {
		err := os.Link(f.Path(), name)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrExist) || i > 100 {
			return fmt.Errorf("keyring: keeping a backup of the old keyring: %w", err)
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

// update is Update, and with changePass also sets (newPass) or removes
// (nil) the encryption; then, if set, it calls after with the passphrase
// the file had (nil: none), still under the lock.
func (f *File) update(fn func(*Keyring) error, changePass bool, newPass []byte, after func(oldPass []byte) error) error {
	if err := f.askEarly(); err != nil {
		return err
	}
	unlock, err := f.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	f.removeStaleTemps()

	k, oldPlain, pass, err := f.readKeyring()
	if err != nil {
		return err
	}
	oldPass, oldIdentity := pass, k.Identity
	if fn != nil {
		if err := fn(k); err != nil {
			return err
		}
	}
	plain, err := marshalKeyring(k)
	if err != nil {
		return err
	}
	if changePass {
		pass = newPass
	} else if bytes.Equal(plain, oldPlain) {
		return nil
	}
	data, err := f.seal(plain, pass)
	if err != nil {
		return err
	}
	if k.Identity != oldIdentity {
		// As in Create(force): an identity is never destroyed without
		// a copy.
		if err := f.backup(); err != nil {
			return err
		}
	}
	if err := f.write(data, false); err != nil {
		return err
	}
	f.setPass(pass)
	if after != nil {
		return after(oldPass)
	}
	return nil
}

// askEarly asks for the passphrase before the lock is taken, if the file
// is encrypted and none is known yet, so that other processes don't wait
// on a person typing. It is only a hint: readKeyring asks again if needed.
func (f *File) askEarly() error {
	f.mu.Lock()
	have := f.pass != nil
	f.mu.Unlock()
	if have {
		return nil
	}
	fh, err := os.Open(f.Path())
	if err != nil {
		return nil // reported properly under the lock
	}
	defer fh.Close()
	head := make([]byte, len(ageIntro))
	if _, err := io.ReadFull(fh, head); err != nil || !bytes.Equal(head, ageIntro) {
		return nil
	}
	_, err = f.getPass()
	return err
}

func (f *File) setPass(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(p) == 0 {
		f.pass = nil
		return
	}
	f.pass = bytes.Clone(p)
}

// getPass returns the known passphrase or asks for one.
func (f *File) getPass() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pass != nil {
		return f.pass, nil
	}
	if f.passphrase == nil {
		return nil, ErrPassphraseRequired
	}
	p, err := f.passphrase()
	if err != nil {
		return nil, fmt.Errorf("keyring: reading passphrase: %w", err)
	}
	if len(p) == 0 {
		return nil, ErrPassphraseRequired
	}
	f.pass = bytes.Clone(p)
	return f.pass, nil
}

// read returns the file's bytes, bounded by MaxFileSize.
func (f *File) read() ([]byte, error) {
	data, err := readBounded(f.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &PathError{Path: f.Path(), Err: ErrNotFound}
	}
	return data, err
}

// readBounded returns the bytes of the file at path, at most MaxFileSize
// of them: a larger file is not a keyring (*CorruptError).
func readBounded(path string) ([]byte, error) {
	data, err := atomicfile.ReadFile(path, MaxFileSize)
	var tooLarge *atomicfile.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, &CorruptError{Path: path, Err: fmt.Errorf("larger than %d MiB", MaxFileSize>>20)}
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return data, nil
}

// readKeyring reads, decrypts and parses the file. It returns the keyring,
// its plaintext, and the passphrase it was encrypted with (nil if none).
func (f *File) readKeyring() (k *Keyring, plain, pass []byte, err error) {
	data, err := f.read()
	if err != nil {
		return nil, nil, nil, err
	}
	plain = data
	if bytes.HasPrefix(data, ageIntro) {
		if pass, err = f.getPass(); err != nil {
			return nil, nil, nil, err
		}
		plain, err = open(data, pass)
		if errors.Is(err, ErrWrongPassphrase) {
			f.setPass(nil) // let the caller ask again
			return nil, nil, nil, err
		}
		if err != nil {
			return nil, nil, nil, &CorruptError{Path: f.Path(), Err: err}
		}
	}
	k, err = parseKeyring(plain)
	if errors.Is(err, ErrUnsupportedVersion) {
		return nil, nil, nil, fmt.Errorf("keyring: %s: %w", f.Path(), err)
	}
	if err != nil {
		return nil, nil, nil, &CorruptError{Path: f.Path(), Err: err}
	}
	return k, plain, pass, nil
}

// open decrypts an age file encrypted with a scrypt recipient.
func open(data, pass []byte) ([]byte, error) {
	id, err := age.NewScryptIdentity(string(pass))
	if err != nil {
		return nil, ErrPassphraseRequired
	}
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if errors.Is(err, age.ErrIncorrectIdentity) {
		return nil, ErrWrongPassphrase
	}
	if err != nil {
		return nil, fmt.Errorf("decrypting: %v", err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("decrypting: %v", err)
	}
	if len(plain) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d MiB", MaxFileSize>>20)
	}
	return plain, nil
}

// seal encrypts plain with pass (age, scrypt), or returns it as it is if
// pass is empty.
func (f *File) seal(plain, pass []byte) ([]byte, error) {
	if len(pass) == 0 {
		return plain, nil
	}
	r, err := age.NewScryptRecipient(string(pass))
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if f.workFactor > 0 {
		r.SetWorkFactor(f.workFactor)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("keyring: encrypting: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("keyring: encrypting: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("keyring: encrypting: %w", err)
	}
	return buf.Bytes(), nil
}

// write replaces the keyring file with data atomically (see atomicfile):
// mode 0600, written and synced under a temporary name in the same
// directory, then renamed over the file or, with excl, linked to its
// name, which fails rather than replace a file that appeared meanwhile;
// then the directory is synced. The caller holds the exclusive lock.
func (f *File) write(data []byte, excl bool) error {
	if !excl {
		if err := atomicfile.WriteFile(f.Path(), data, 0o600); err != nil {
			return fmt.Errorf("keyring: %w", err)
		}
		return nil
	}
	err := atomicfile.CreateFile(f.Path(), data, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return &PathError{Path: f.Path(), Err: ErrExists}
	}
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	return nil
}

// removeStaleTemps removes temporary files left by a writer that crashed
// (the keyring's and its backups'). The caller holds the exclusive lock,
// so no writer is using one.
func (f *File) removeStaleTemps() {
	_ = atomicfile.RemoveTemps(f.dir, FileName) // best effort: a leftover is harmless
}
