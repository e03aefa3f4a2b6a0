// Package archtest holds no code: its tests check the shape of the
// dhtchat module with `go list`, the way docs/ARCHITECTURE.md and
// DESIGN.md §2 draw it. The packages form layers (cmd → tui → chat →
// {chat/wire, dht, keyring, live} → internal helpers), every import goes to a
// lower layer (live → chat/wire is the one import within a layer), and
// chat/wire, the protocol, depends on nothing but the
// standard library, golang.org/x/crypto and internal helpers.
package archtest
