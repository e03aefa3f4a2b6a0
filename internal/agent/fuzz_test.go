package agent

import (
	"encoding/json"
	"testing"
)

// FuzzParseRequest: no input panics the parser, and what it accepts is a
// JSON-RPC 2.0 request with a method and an object (or no) params.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"send","params":{"friend":"bob","text":"hi"}}`,
		`{"jsonrpc":"2.0","method":"subscribe"}`,
		`{"jsonrpc":"2.0","id":"x","method":"chats","params":null}`,
		`[{"jsonrpc":"2.0"}]`, `{}`, `null`, `"`, `{"id":1e999}`, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseRequest(line)
		if err != nil {
			if err.Code >= 0 || err.Message == "" {
				t.Fatalf("error %+v has no code or message", err)
			}
			if len(r.ID) > 0 && !json.Valid(r.ID) {
				t.Fatalf("error carries an invalid id %q", r.ID)
			}
			return
		}
		if r.JSONRPC != "2.0" || r.Method == "" {
			t.Fatalf("accepted %q as %+v", line, r)
		}
		if len(r.Params) > 0 && r.Params[0] != '{' && string(r.Params) != "null" {
			t.Fatalf("accepted params %q", r.Params)
		}
	})
}
