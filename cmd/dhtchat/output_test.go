package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEscapeControls(t *testing.T) {
	in := "plain é 日本 \u009b31m c1 \u202egnp.exe bidi \x1b[2J esc"
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := escapeControls(b)
	for _, raw := range []string{"\u009b", "\u202e", "\x1b"} {
		if strings.Contains(string(out), raw) {
			t.Errorf("escapeControls(%s) = %s: %q is still raw", b, out, raw)
		}
	}
	var back string
	if err := json.Unmarshal(out, &back); err != nil || back != in {
		t.Fatalf("escapeControls output parses to %q, %v; want %q", back, err, in)
	}
	if plain := []byte(`{"text":"héllo"}`); string(escapeControls(plain)) != string(plain) {
		t.Errorf("escapeControls changed text without controls: %s", escapeControls(plain))
	}
}
