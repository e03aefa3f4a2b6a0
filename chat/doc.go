// Package chat is the dhtchat engine: a [Client] keeps the chats of one
// identity in a SQLite database (history, outbox, acknowledgements, the
// sequence numbers of every record), publishes its own records and
// fetches the friend's through a [Network] (a *dht.Node), and reports what
// changed as events.
//
// The conversation protocol itself (key derivation, chat keys, sealing,
// the slot record codec) is package [github.com/dhtchat/dhtchat/chat/wire],
// which keeps no state and does no I/O: this package holds the state that
// wire leaves to its caller and does the I/O. It prints nothing; the
// commands and the full-screen UI show what it returns.
package chat
