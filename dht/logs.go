package dht

import (
	"io"
	"log/slog"

	golog "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// RouteLibraryLogs sends the logs of the libraries under this package to w,
// at level and above. go-libp2p, kad-dht and boxo log process-wide, apart
// from Config.Logger: go-log to stderr, and go-libp2p through its gologshim,
// to stderr as well. slog.Default is left alone. A
// full-screen UI must never have stderr written under it, so its main calls
// this once, before starting any Node (gologshim fixes each logger's output
// at its first line).
//
// It changes process-wide state and is not safe for concurrent use.
func RouteLibraryLogs(w io.Writer, level slog.Level) {
	name := "info"
	switch {
	case level < slog.LevelInfo:
		name = "debug"
	case level >= slog.LevelError:
		name = "error"
	case level >= slog.LevelWarn:
		name = "warn"
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	golog.SetPrimaryCore(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(w), zapcore.DebugLevel))
	// "*" sets the level of every subsystem, including those created later;
	// it cannot fail for these names.
	_ = golog.SetLogLevel("*", name)
	// go-libp2p's loggers go through go-log's slog bridge, and so to the
	// same core, at go-log's per-subsystem levels.
	gologshim.SetDefaultHandler(golog.SlogHandler())
}
