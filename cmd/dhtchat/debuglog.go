package main

import (
	"cmp"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dhtchat/dhtchat/dht"
	"github.com/dhtchat/dhtchat/internal/userr"
)

// debugLog is the process's debug log, with --debug: one file in the data
// directory, opened on first use and shared by dhtchat's own logger and
// the libraries' logs. run closes it when the command has returned, so
// that it is still open for the last lines of everything the command
// closed (a DHT node says when it stopped).
type debugLog struct {
	name string // the file's name in the data directory; "" is debug.log
	f    *os.File
}

// debugWriter returns the debug log, opened on first use, or nil without
// --debug.
func (e *env) debugWriter() (io.Writer, error) {
	if !e.debug {
		return nil, nil
	}
	if e.log.f != nil {
		return e.log.f, nil
	}
	dir, err := e.dataDir()
	if err != nil {
		return nil, err
	}
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, cmp.Or(e.log.name, "debug.log")), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, userr.Runtimef("cannot open the debug log: %v", err)
	}
	e.log.f = f
	return f, nil
}

// closeDebugLog closes the debug log, if it was opened.
func (e *env) closeDebugLog() error {
	if e.log.f == nil {
		return nil
	}
	err := e.log.f.Close()
	e.log.f = nil
	return err
}

// logger returns dhtchat's own logger: the debug log with --debug (never
// the terminal), else one that discards.
func (e *env) logger() (*slog.Logger, error) {
	w, err := e.debugWriter()
	if err != nil || w == nil {
		return slog.New(slog.DiscardHandler), err
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), nil
}

// routeLibraryLogs sends the process-wide logs of libp2p and kad-dht, which
// go to stderr by default, to the debug log with --debug and nowhere
// otherwise: nothing may write to the terminal under the full-screen UI,
// nor in the middle of a command's output. It must run before a DHT node
// starts; unroute sends them nowhere again.
func (e *env) routeLibraryLogs() (unroute func() error, err error) {
	nowhere := func() error {
		dht.RouteLibraryLogs(io.Discard, slog.LevelError)
		return nil
	}
	w, err := e.debugWriter()
	if err != nil {
		return nil, err
	}
	if w == nil {
		return func() error { return nil }, nowhere()
	}
	dht.RouteLibraryLogs(w, slog.LevelInfo)
	return nowhere, nil
}
