// Package agent is the local control socket of a running dhtchat: a unix
// socket, private to the user, on which one-shot commands and bots speak
// line-delimited JSON-RPC 2.0 (the convention of signal-cli's daemon) to a
// client that is already online, instead of joining the DHT themselves.
// docs/AGENT.md specifies the methods; this package is the reference.
//
// The server works over chat.Client: it never keeps state of its own
// beyond the subscriptions of its connections.
package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MaxLine bounds one request line: the longest message body (chat.MaxBody)
// a hundred times over, in JSON, fits.
const MaxLine = 4 << 20

// The JSON-RPC 2.0 error codes, and ours (-32000 to -32099 is the range
// the specification leaves to the application).
const (
	CodeParse          = -32700 // the line is not JSON
	CodeInvalidRequest = -32600 // JSON, but not a JSON-RPC 2.0 request
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternal       = -32603
	CodeNotFound       = -32001 // no such friend or chat
	CodeRefused        = -32002 // the engine refused: blocked, bad body, …
	CodeTimeout        = -32003 // a wait (wait_delivered, timeout) ran out
)

// Request is one JSON-RPC 2.0 request. ID is absent for a notification
// (a request that wants no response).
type Request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

// Response is the answer to a request with an ID, or (ID null) to a line
// that could not be read as one.
type Response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// Notification is what the server sends unasked: the events of a
// subscription ("event").
type Notification struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

// Error is a JSON-RPC error object.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("agent: %s (code %d)", e.Message, e.Code) }

func errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ParseRequest reads one line as a JSON-RPC 2.0 request. A line that is
// not one gets an error to send back (with the request's ID if it had a
// usable one); it never panics, whatever the bytes.
func ParseRequest(line []byte) (Request, *Error) {
	line = bytes.TrimSpace(line)
	if len(line) > MaxLine {
		return Request{}, errorf(CodeInvalidRequest, "request longer than %d bytes", MaxLine)
	}
	if len(line) == 0 || line[0] != '{' {
		if !json.Valid(line) {
			return Request{}, errorf(CodeParse, "parse error: not JSON")
		}
		return Request{}, errorf(CodeInvalidRequest, "invalid request: not a JSON object (batches are not supported)")
	}
	var r Request
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&r); err != nil {
		if !json.Valid(line) {
			return Request{}, errorf(CodeParse, "parse error: not JSON")
		}
		return Request{}, errorf(CodeInvalidRequest, "invalid request: %v", err)
	}
	if dec.More() {
		return Request{}, errorf(CodeParse, "parse error: more than one value on the line")
	}
	if len(r.ID) > 0 && !validID(r.ID) {
		r.ID = nil
		return r, errorf(CodeInvalidRequest, "invalid request: id must be a string, a number or null")
	}
	if r.JSONRPC != "2.0" {
		return r, errorf(CodeInvalidRequest, `invalid request: "jsonrpc" must be "2.0"`)
	}
	if r.Method == "" {
		return r, errorf(CodeInvalidRequest, `invalid request: "method" is missing`)
	}
	if len(r.Params) > 0 && r.Params[0] != '{' && !bytes.Equal(r.Params, []byte("null")) {
		return r, errorf(CodeInvalidParams, "invalid params: params must be an object")
	}
	return r, nil
}

// validID: JSON-RPC 2.0 ids are strings, numbers or null.
func validID(id json.RawMessage) bool {
	switch id[0] {
	case '"':
		var s string
		return json.Unmarshal(id, &s) == nil
	case 'n':
		return bytes.Equal(id, []byte("null"))
	default:
		var f json.Number
		return json.Unmarshal(id, &f) == nil
	}
}

// decodeParams reads params into v, refusing unknown fields so that a
// misspelt parameter is an error rather than silently ignored.
func decodeParams(params json.RawMessage, v any) *Error {
	if len(params) == 0 || bytes.Equal(params, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(CodeInvalidParams, "invalid params: %v", err)
	}
	return nil
}
