package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hello", "hello"},
		{"héllo 日本語 🎉", "héllo 日本語 🎉"},
		{"two\nlines\ttab", "two\nlines\ttab"},
		{"crlf\r\nline", "crlf\nline"},
		{"over\rwrite", "over\nwrite"},
		{"red \x1b[31mtext\x1b[0m", "red text"},
		{"move \x1b[2J\x1b[H home", "move  home"},
		{"title \x1b]0;pwned\x07 done", "title  done"},
		{"clip \x1b]52;c;aGVsbG8=\x1b\\ done", "clip  done"},
		{"clip \x1b]52;c;aGVsbG8=", "clip "},
		{"bell\x07", "bell"},
		{"c1 csi \u009b31m x", "c1 csi  x"},
		{"c1 osc \u009d0;t\u009c x", "c1 osc  x"},
		{"nel \u0085 x", "nel  x"},
		{"dcs \x1bPq#0\x1b\\ x", "dcs  x"},
		{"keypad \x1b= x", "keypad  x"},
		{"charset \x1b(B x", "charset  x"},
		{"bidi \u202egnp.exe", "bidi gnp.exe"},
		{"isolate \u2066x\u2069", "isolate x"},
		{"bad \xff\xfe utf8", "bad \ufffd\ufffd utf8"},
		{"nul\x00 del\x7f", "nul del"},
		{"trailing esc \x1b", "trailing esc "},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	if got, want := OneLine("a\nb\tc\x1b[1m"), "a b c"; got != want {
		t.Errorf("OneLine = %q, want %q", got, want)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"hello", "\x1b[31mx", "\x1b]52;c;AA\x07", "\u009b1m", "\xff", "a\r\nb", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Clean(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			if r != '\n' && r != '\t' && unsafeRune(r) {
				t.Fatalf("Clean(%q) = %q: contains %U", s, out, r)
			}
		}
		if Clean(out) != out {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
		if strings.ContainsRune(OneLine(s), '\n') {
			t.Fatalf("OneLine(%q) contains a newline", s)
		}
	})
}
