package main

import (
	"encoding/json"
	"fmt"
)

// printJSON writes v as one line of JSON to stdout (--json output).
func (e *env) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = e.stdout.Write(b)
	return err
}

// printf writes human-readable output to stdout.
func (e *env) printf(format string, args ...any) {
	fmt.Fprintf(e.stdout, format, args...)
}

// notef writes a remark for the person at the terminal to stderr, where it
// stays out of the way of scripts that read stdout.
func (e *env) notef(format string, args ...any) {
	fmt.Fprintf(e.stderr, format, args...)
}
