package main

import (
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/dhtchat/dhtchat/internal/textsafe"
)

// printJSON writes v as one line of JSON to stdout (--json output).
func (e *env) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(escapeControls(b), '\n')
	_, err = e.stdout.Write(b)
	return err
}

// escapeControls escapes, in JSON text, the characters that encoding/json
// leaves raw but that a terminal obeys or that reorder text: C1 controls
// (U+0080–U+009F, 8-bit forms of escape sequences) and the bidirectional
// formatting characters. A friend's message printed with --json to a
// terminal stays inert; a JSON parser reads the same string.
func escapeControls(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if textsafe.IsControl(r) && r >= 0x80 {
			if out == nil {
				out = append(make([]byte, 0, len(b)+16), b[:i]...)
			}
			out = fmt.Appendf(out, `\u%04x`, r)
		} else if out != nil {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	if out == nil {
		return b
	}
	return out
}

// printf writes human-readable output to stdout.
func (e *env) printf(format string, args ...any) {
	fmt.Fprintf(e.stdout, format, args...)
}

// dhtchat speaks on stderr in one voice, age's: every line begins
// "dhtchat: ", errors and what a command did or is doing plainly, then
// "warning: " for what may be wrong, "hint: " for what to do. Each line
// is one sentence, lower case, without a final period, and stays on one
// line whatever its arguments hold. Stdout is for the command's output.

// notef says on stderr what the command did or is doing:
// "dhtchat: joined the chat with bob".
func (e *env) notef(format string, args ...any) {
	say(e.stderr, "", fmt.Sprintf(format, args...))
}

// warnf warns on stderr: "dhtchat: warning: …".
func (e *env) warnf(format string, args ...any) {
	say(e.stderr, "warning: ", fmt.Sprintf(format, args...))
}

// hintf says on stderr what the user can do: "dhtchat: hint: …".
func (e *env) hintf(format string, args ...any) {
	say(e.stderr, "hint: ", fmt.Sprintf(format, args...))
}

// say writes one line in dhtchat's voice to w.
func say(w io.Writer, kind, text string) {
	fmt.Fprintf(w, "dhtchat: %s%s\n", kind, textsafe.OneLine(text))
}
