package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/dhtchat/dhtchat/internal/userr"
)

// A command is one dhtchat subcommand. Each lives in its own file, which
// declares its command value and registers it in commands.
type command struct {
	name  string
	args  string // the positional arguments, for usage lines: "NAME PUBKEY"
	short string // one line for the command list
	long  string // the rest of the help text, with examples

	// nargs checks the number of positional arguments.
	nargs func(n int) bool
	// setup registers the command's own flags on fs (the global flags are
	// registered on every command's flag set as well) and returns the
	// function that does the work with them. That function returns an
	// error; it never prints one and never exits: report does both, in one
	// voice. Flag values live in setup's closure, not in package state.
	setup func(fs *flag.FlagSet) runFunc
}

type runFunc func(ctx context.Context, e *env, args []string) error

// commands lists the subcommands in the order the help shows them.
var commands []*command

func init() {
	commands = []*command{
		keygenCmd, whoamiCmd, passphraseCmd,
		addFriendCmd, friendsCmd, verifyCmd, removeFriendCmd, renameFriendCmd,
		exportFriendsCmd, importFriendsCmd,
		startCmd, respondCmd, sendCmd, recvCmd, historyCmd, searchCmd, chatsCmd, agentCmd, serveCmd, configCmd,
		blockCmd, unblockCmd, deleteChatCmd,
		nodeCmd, demoCmd, versionCmd,
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// exactly and atLeast are the usual argument-count checks.
func exactly(k int) func(int) bool { return func(n int) bool { return n == k } }
func atLeast(k int) func(int) bool { return func(n int) bool { return n >= k } }

// globals are the flags every command accepts (CLI.md, "Global flags").
type globals struct {
	home           string
	bootstrap      string
	listen         string
	passphraseFile string
	json           bool
	debug          bool
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.home, "home", g.home, "keep keyring, database and logs under `DIR` (env DHTCHAT_HOME)")
	fs.StringVar(&g.bootstrap, "bootstrap", g.bootstrap, "bootstrap from `ADDR[,ADDR…]` (env DHTCHAT_BOOTSTRAP; default: public IPFS peers)")
	fs.StringVar(&g.listen, "listen", g.listen, "libp2p listen `ADDR[,ADDR…]` (env DHTCHAT_LISTEN)")
	fs.StringVar(&g.passphraseFile, "passphrase-file", g.passphraseFile, "read the keyring passphrase from `FILE` (or put the passphrase itself in env DHTCHAT_PASSPHRASE)")
	fs.BoolVar(&g.json, "json", g.json, "machine-readable output: one JSON object per line")
	fs.BoolVar(&g.debug, "debug", g.debug, "write a debug log under the data directory (env DHTCHAT_DEBUG)")
}

// env is what a command runs with: its standard streams, the environment,
// the global flags, and the paths they resolve to.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	globals
	log debugLog // the --debug log, opened once for the process
	// noAgent: the command does its own network work even if a running
	// dhtchat serves the control socket (recv --follow).
	noAgent bool
	cfg     *loadedSettings // config.toml and the environment, once read (config.go)
	// long: the command runs until interrupted or until its input ends
	// (recv --follow, pipe mode), and so runs the live path like the
	// full-screen chat (see openSessionWatching).
	long bool
}

// run is dhtchat without the process around it: main gives it the process's
// arguments, streams and signal context, and tests may call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	e.fromEnvironment()
	// Last, once the command has closed everything that logs.
	defer func() { err = errors.Join(err, e.closeDebugLog()) }()

	top := flag.NewFlagSet("dhtchat", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	e.globals.register(top)
	help := top.Bool("help", false, "")
	top.BoolVar(help, "h", false, "")
	showVersion := top.Bool("version", false, "")
	if err := top.Parse(args); err != nil {
		return userr.Usagef("%v", flagMessage(err)).WithHint("run 'dhtchat --help' for usage")
	}
	if *help {
		printUsage(stdout)
		return nil
	}
	if *showVersion {
		return printVersion(e)
	}
	rest := top.Args()
	if len(rest) == 0 {
		return runUI(ctx, e)
	}
	name, rest := rest[0], rest[1:]
	if name == "help" {
		if len(rest) == 0 {
			printUsage(stdout)
			return nil
		}
		name, rest = rest[0], []string{"--help"}
	}
	c := lookup(name)
	if c == nil {
		err := userr.Usagef("unknown command %q", name)
		if s := suggest(name); s != "" {
			return err.WithHint("did you mean 'dhtchat %s'?", s)
		}
		return err.WithHint("run 'dhtchat --help' for the list of commands")
	}
	return c.parseAndRun(ctx, e, rest)
}

// parseAndRun parses the command's flags, which may come before or after
// its positional arguments ("--" ends them), and runs it.
func (c *command) parseAndRun(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("dhtchat "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	e.globals.register(fs)
	runCmd := c.setup(fs)
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return userr.Usagef("%s: %v", c.name, flagMessage(err)).WithHint("run 'dhtchat %s --help' for usage", c.name)
	}
	if *help {
		c.printUsage(e.stdout, fs)
		return nil
	}
	if c.nargs != nil && !c.nargs(len(pos)) {
		return userr.Usagef("usage: %s", strings.TrimSpace("dhtchat "+c.name+" "+c.args)).WithHint("run 'dhtchat %s --help' for details", c.name)
	}
	// A bad configuration file is said by every command, before it works.
	if _, err := e.settings(); err != nil {
		return err
	}
	return runCmd(ctx, e, pos)
}

// parseInterleaved parses flags that may appear anywhere among the
// positional arguments, which it returns in order. The flag package alone
// stops at the first positional argument.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagMessage turns the flag package's errors into our voice.
func flagMessage(err error) string {
	if errors.Is(err, flag.ErrHelp) {
		return "help requested"
	}
	msg := err.Error()
	msg = strings.Replace(msg, "flag provided but not defined: ", "unknown flag ", 1)
	// The flag package names flags with one dash; the documentation, two.
	return flagName.ReplaceAllString(msg, "$1--$2")
}

var flagName = regexp.MustCompile(`(^|\s)-([a-zA-Z])`)

// fromEnvironment sets the defaults of the global flags from the
// environment; flags on the command line override them.
func (e *env) fromEnvironment() {
	e.home = e.getenv("DHTCHAT_HOME")
	e.bootstrap = e.getenv("DHTCHAT_BOOTSTRAP")
	e.listen = e.getenv("DHTCHAT_LISTEN")
	switch strings.ToLower(e.getenv("DHTCHAT_DEBUG")) {
	case "", "0", "false", "no":
	default:
		e.debug = true
	}
}

// suggest returns the command whose name is closest to a mistyped one.
func suggest(name string) string {
	best, bestDist := "", 3
	for _, c := range commands {
		if d := editDistance(name, c.name); d < bestDist {
			best, bestDist = c.name, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

const overview = `dhtchat — end-to-end encrypted chat through the DHT, with no servers and no accounts

Usage:
  dhtchat [global flags] COMMAND [flags] [arguments]
  dhtchat                      open the full-screen chat over all your chats

Getting started:
  dhtchat keygen                        create your identity
  dhtchat whoami                        print your public key to give to a friend
  dhtchat add-friend alice dhtchat1…    add a friend's public key
  dhtchat start alice                   start a chat; give alice the chat key
  dhtchat respond bob dhtchat-chat1…    join the chat bob started
`

func printUsage(w io.Writer) {
	fmt.Fprint(w, overview)
	fmt.Fprintf(w, "\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.short)
	}
	fmt.Fprintf(w, "\nGlobal flags (before or after the command):\n")
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	new(globals).register(fs)
	fs.Bool("version", false, "print dhtchat's version (only before the command)")
	printFlags(w, fs)
	fmt.Fprintf(w, "\nExit status: 0 success, 1 runtime failure (network, files), 2 usage error or bad input.\n")
	fmt.Fprintf(w, "Run 'dhtchat COMMAND --help' for a command's details and examples.\n")
}

func (c *command) printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: dhtchat %s", c.name)
	if c.args != "" {
		fmt.Fprintf(w, " %s", c.args)
	}
	fmt.Fprintf(w, "\n\n%s\n", c.short)
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.long))
	}
	own := flag.NewFlagSet("", flag.ContinueOnError)
	c.setup(own)
	if hasFlags(own) {
		fmt.Fprintf(w, "\nFlags:\n")
		printFlags(w, own)
	}
	fmt.Fprintf(w, "\nGlobal flags: --home, --bootstrap, --listen, --passphrase-file, --json, --debug (see 'dhtchat --help').\n")
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// printFlags prints flags GNU style, with two dashes, which is how the
// documentation writes them (the flag package accepts one or two).
func printFlags(w io.Writer, fs *flag.FlagSet) {
	var lines [][2]string
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if name != "" {
			left += " " + name
		}
		lines = append(lines, [2]string{left, usage})
	})
	slices.SortFunc(lines, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	width := 0
	for _, l := range lines {
		width = max(width, len(l[0]))
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], l[1])
	}
}
