// Package chat is the dhtchat engine: a [Client] keeps the chats of one
// identity in a SQLite database (history, outbox, acknowledgements, the
// sequence numbers of every record), publishes its own records and
// fetches the friend's through a [Network] (a *dht.Node), and reports what
// changed as events. With a Network, a Client owns a worker from [Open] to
// [Client.Close] that does this in the background for the chats
// [Config.Watch] names; [Client.Subscribe] gives each caller its events,
// and [Client.Sync] does it once, for a command that runs once.
//
// The conversation protocol itself (key derivation, chat keys, sealing,
// the slot record codec) is package [github.com/dhtchat/dhtchat/chat/wire],
// which keeps no state and does no I/O: this package holds the state that
// wire leaves to its caller and does the I/O. It prints nothing; the
// commands and the full-screen UI show what it returns.
package chat
