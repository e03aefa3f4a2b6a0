package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// The CLI tests encrypt keyrings with a cheap scrypt work factor; see
// testScryptWorkFactor.
func init() { testScryptWorkFactor = 10 }

// TestMain makes the test binary double as the dhtchat binary: testscript
// puts a copy named "dhtchat" first in $PATH, so the scripts and the tests
// below run the real program in its own process, exit codes and all.
//
// Those processes inherit GORACE=atexit_sleep_ms=10 unless GORACE is set:
// with -race, every process otherwise sleeps a second on exit (for other
// threads to report races; ours report them as they happen), and the
// tests start about 300 of them.
func TestMain(m *testing.M) {
	if _, ok := os.LookupEnv("GORACE"); !ok {
		os.Setenv("GORACE", "atexit_sleep_ms=10")
	}
	testscript.Main(m, map[string]func(){"dhtchat": main})
}

// TestScripts runs the CLI scripts in testdata/script. Each runs with a
// fresh DHTCHAT_HOME and no terminal.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("DHTCHAT_HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("HOME", filepath.Join(env.WorkDir, "userhome"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"perm":      cmdPerm,
			"setstdout": cmdSetStdout,
			"status":    cmdStatus,
			"voice":     cmdVoice,
		},
	})
}

// perm FILE MODE checks a file's permission bits, e.g. "perm home/keyring.json 0600".
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm FILE MODE")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	got := uint64(fi.Mode().Perm())
	if (got == want) == neg {
		ts.Fatalf("mode of %s is %#o, want %s%#o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// status CODE PROGRAM ARGS... runs a program and checks its exit status; its
// output can be checked with stdout and stderr afterwards, as after exec.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Logf("stderr: %s", ts.ReadFile("stderr"))
		ts.Fatalf("%s exited with status %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}

// voice checks that the last command said something on stderr, and every
// line of it in dhtchat's voice: "dhtchat: …", "dhtchat: warning: …" or
// "dhtchat: hint: …", one sentence without a final period.
func cmdVoice(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: voice")
	}
	out := ts.ReadFile("stderr")
	if out == "" {
		ts.Fatalf("nothing on stderr")
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !voiceLine.MatchString(l) {
			ts.Fatalf("stderr line not in dhtchat's voice: %q", l)
		}
	}
}

var voiceLine = regexp.MustCompile(`^dhtchat: (warning: |hint: )?[^A-Z\s].*[^.\s]$`)

// setstdout VAR [REGEXP] sets VAR to the last command's stdout, or to the
// first group of REGEXP matched against it: a script's way to reuse a key
// that a command printed.
func cmdSetStdout(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: setstdout VAR [REGEXP]")
	}
	out := ts.ReadFile("stdout")
	val := strings.TrimSpace(out)
	if len(args) == 2 {
		m := regexp.MustCompile(args[1]).FindStringSubmatch(out)
		if len(m) < 2 {
			ts.Fatalf("stdout does not match %q", args[1])
		}
		val = m[1]
	}
	ts.Setenv(args[0], val)
}

// dhtchat runs the real binary with home as DHTCHAT_HOME.
func dhtchatCmd(t *testing.T, home string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut strings.Builder
	cmd := execCommand(home, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("dhtchat %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

func execCommand(home string, args ...string) *exec.Cmd {
	cmd := exec.Command("dhtchat", args...)
	cmd.Env = append(cleanEnv(), "DHTCHAT_HOME="+home)
	return cmd
}

// cleanEnv is the test process's environment without any DHTCHAT_ variable.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		// XDG_RUNTIME_DIR out too: each test home keeps its control
		// socket, so that no test's agent serves another's commands.
		if !strings.HasPrefix(kv, "DHTCHAT_") && !strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") {
			env = append(env, kv)
		}
	}
	return env
}
