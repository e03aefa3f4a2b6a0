package keyring

import (
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"Bob_2", true},
		{"a.b-c_d", true},
		{"x", true},
		{"_x", true},
		{".hidden", true},
		{"...", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{".", false},
		{"..", false},
		{"-rf", false},
		{"al ice", false},
		{"al/ice", false},
		{"alice\n", false},
		{"аlice", false}, // Cyrillic а
		{"émile", false},
		{"a\x1b[31m", false},
		{"a\u202eb", false},
	}
	for _, tt := range tests {
		err := ValidName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidName(%q) = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && (!errors.Is(err, ErrBadName) || !strings.HasPrefix(err.Error(), "keyring: ")) {
			t.Errorf("ValidName(%q) = %v, want ErrBadName", tt.name, err)
		}
	}
}

func TestFriends(t *testing.T) {
	k := newKeyring(t)
	alice, bob, carol := newKey(t), newKey(t), newKey(t)

	add := func(name string, key PublicKey) (bool, error) {
		t.Helper()
		return k.AddFriend(name, key)
	}
	if added, err := add("bob", bob); !added || err != nil {
		t.Fatalf("AddFriend(bob) = %v, %v", added, err)
	}
	if added, err := add("alice", alice); !added || err != nil {
		t.Fatalf("AddFriend(alice) = %v, %v", added, err)
	}
	if added, err := add("alice", alice); added || err != nil {
		t.Errorf("AddFriend(alice) again = %v, %v, want false, nil", added, err)
	}

	tests := []struct {
		name string
		key  PublicKey
		want error
		msg  string
	}{
		{"alice", carol, ErrNameTaken, `friend "alice" already exists with a different key`},
		{"ALICE", carol, ErrNameTaken, `friend "alice" already exists`},
		{"al", alice, ErrKeyTaken, `that public key already belongs to friend "alice"`},
		{"me", k.Identity.Public(), ErrOwnKey, "your own public key"},
		{"bad name", carol, ErrBadName, "invalid friend name"},
		{"zero", PublicKey{}, ErrLowOrder, "low-order"},
	}
	for _, tt := range tests {
		added, err := add(tt.name, tt.key)
		if added || !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("AddFriend(%q) = %v, %v, want %v containing %q", tt.name, added, err, tt.want, tt.msg)
		}
	}
	var fe *FriendError
	if _, err := add("al", alice); !errors.As(err, &fe) || fe.Name != "alice" {
		t.Errorf("AddFriend(al, alice's key) = %v, want a FriendError naming alice", err)
	}

	if f, ok := k.Friend("alice"); !ok || !f.Key.Equal(alice) || f.AddedAt.IsZero() {
		t.Errorf("Friend(alice) = %+v, %v", f, ok)
	}
	if f, ok := k.FriendByKey(bob); !ok || f.Name != "bob" {
		t.Errorf("FriendByKey(bob) = %+v, %v", f, ok)
	}
	if _, ok := k.FriendByKey(carol); ok {
		t.Error("FriendByKey(carol) found")
	}

	if err := k.SetVerified("bob", true); err != nil {
		t.Fatal(err)
	}
	if err := k.RenameFriend("bob", "aaron"); err != nil {
		t.Fatal(err)
	}
	if f, ok := k.Friend("aaron"); !ok || !f.Verified || !f.Key.Equal(bob) {
		t.Errorf("renamed friend = %+v, %v", f, ok)
	}
	if _, ok := k.Friend("bob"); ok {
		t.Error("bob still there after rename")
	}
	if got := names(k); got != "aaron,alice" {
		t.Errorf("friends = %s, want sorted aaron,alice", got)
	}
	if err := k.RenameFriend("aaron", "Alice"); !errors.Is(err, ErrNameTaken) {
		t.Errorf("RenameFriend onto alice = %v, want ErrNameTaken", err)
	}
	if err := k.RenameFriend("aaron", "AARON"); err != nil {
		t.Errorf("RenameFriend changing case = %v", err)
	}
	if err := k.RenameFriend("nobody", "x"); !errors.Is(err, ErrUnknownFriend) {
		t.Errorf("RenameFriend(nobody) = %v, want ErrUnknownFriend", err)
	}
	if err := k.RenameFriend("alice", "-x"); !errors.Is(err, ErrBadName) {
		t.Errorf("RenameFriend(alice, -x) = %v, want ErrBadName", err)
	}
	if err := k.SetVerified("nobody", true); !errors.Is(err, ErrUnknownFriend) {
		t.Errorf("SetVerified(nobody) = %v", err)
	}
	if err := k.RemoveFriend("alice"); err != nil {
		t.Fatal(err)
	}
	if err := k.RemoveFriend("alice"); !errors.Is(err, ErrUnknownFriend) || !strings.Contains(err.Error(), `no friend named "alice"`) {
		t.Errorf("RemoveFriend(alice) again = %v", err)
	}
	if got := names(k); got != "AARON" {
		t.Errorf("friends = %s", got)
	}
}

func names(k *Keyring) string {
	var s []string
	for _, f := range k.Friends {
		s = append(s, f.Name)
	}
	return strings.Join(s, ",")
}

func TestCheck(t *testing.T) {
	a := newKey(t)
	k := newKeyring(t)
	k.Friends = []Friend{{Name: "b", Key: a}, {Name: "a", Key: newKey(t)}}
	if err := k.check(); err != nil {
		t.Fatal(err)
	}
	if names(k) != "a,b" {
		t.Errorf("check did not sort: %s", names(k))
	}
	for _, bad := range [][]Friend{
		{{Name: "a", Key: a}, {Name: "b", Key: a}},
		{{Name: "a", Key: a}, {Name: "A", Key: newKey(t)}},
		{{Name: "a", Key: k.Identity.Public()}},
		{{Name: "a"}},
		{{Name: "", Key: a}},
	} {
		k.Friends = bad
		if err := k.check(); err == nil {
			t.Errorf("check(%v) = nil", names(k))
		}
	}
}
