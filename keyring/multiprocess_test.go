//go:build unix

package keyring

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// helperEnv makes the test binary, run again by TestConcurrentProcesses,
// act as one dhtchat process adding one friend.
const helperEnv = "DHTCHAT_KEYRING_TEST_HELPER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(helperAddFriend(dir, os.Getenv("DHTCHAT_KEYRING_TEST_HELPER_N")))
	}
	os.Exit(m.Run())
}

func helperAddFriend(dir, n string) int {
	f := NewFile(dir, nil)
	err := f.Update(func(k *Keyring) error {
		_, err := k.AddFriend("friend-"+n, mustKey())
		return err
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestConcurrentProcesses starts 20 processes at once, each adding a
// different friend: the lock must serialize them so that none of the
// updates is lost.
func TestConcurrentProcesses(t *testing.T) {
	const procs = 20
	f, _ := setup(t, "")
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+f.Dir(), "DHTCHAT_KEYRING_TEST_HELPER_N="+strconv.Itoa(i))
		cmd.Stderr = os.Stderr
		cmds[i] = cmd
	}
	for _, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v", i, err)
		}
	}
	k, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Friends) != procs+2 {
		t.Errorf("%d friends, want %d: %s", len(k.Friends), procs+2, names(k))
	}
	for i := range procs {
		if _, ok := k.Friend("friend-" + strconv.Itoa(i)); !ok {
			t.Errorf("friend-%d lost", i)
		}
	}
	checkMode(t, f.Path(), 0o600)
}
