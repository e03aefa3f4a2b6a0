package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/dhtchat/dhtchat/internal/userr"
)

// configDir is where the keyring lives: --home or DHTCHAT_HOME if set, else
// $XDG_CONFIG_HOME/dhtchat (by default ~/.config/dhtchat).
func (e *env) configDir() (string, error) {
	return e.dir("XDG_CONFIG_HOME", ".config")
}

// dataDir is where the database, the node's identity and the logs live:
// --home or DHTCHAT_HOME if set, else $XDG_DATA_HOME/dhtchat (by default
// ~/.local/share/dhtchat).
func (e *env) dataDir() (string, error) {
	return e.dir("XDG_DATA_HOME", filepath.Join(".local", "share"))
}

func (e *env) dir(xdgVar, fallback string) (string, error) {
	if e.home != "" {
		return filepath.Abs(e.home)
	}
	// The XDG spec says relative values are invalid and must be ignored.
	if base := e.getenv(xdgVar); filepath.IsAbs(base) {
		return filepath.Join(base, "dhtchat"), nil
	}
	home := e.getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", userr.Runtimef("cannot find your home directory").
				WithHint("set --home DIR or DHTCHAT_HOME")
		}
	}
	if !filepath.IsAbs(home) {
		return "", errors.New("$HOME is not an absolute path; set --home DIR or DHTCHAT_HOME")
	}
	return filepath.Join(home, fallback, "dhtchat"), nil
}

// ensureDir creates dir, private to the user, if it does not exist.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return userr.Runtimef("cannot create %s: %v", dir, errors.Unwrap(err))
	}
	return nil
}
