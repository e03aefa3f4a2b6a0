package atomicfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/dhtchat/dhtchat/internal/atomicfile"
	"github.com/dhtchat/dhtchat/internal/testio"
)

// names lists the entries of dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := atomicfile.WriteFile(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "two" {
		t.Errorf("after two writes: %q, %v; want \"two\"", got, err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"f"}) {
		t.Errorf("directory holds %q, want only the file (no temporary files)", got)
	}
}

func TestPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	dir := t.TempDir()
	for _, perm := range []fs.FileMode{0o600, 0o640, 0o644} {
		path := filepath.Join(dir, perm.String())
		if err := atomicfile.CreateFile(path, []byte("x"), perm); err != nil {
			t.Fatal(err)
		}
		if got := mode(t, path); got != perm {
			t.Errorf("CreateFile(%v): mode %v", perm, got)
		}
		if err := atomicfile.WriteFile(path, []byte("y"), perm); err != nil {
			t.Fatal(err)
		}
		if got := mode(t, path); got != perm {
			t.Errorf("WriteFile(%v): mode %v", perm, got)
		}
	}
	// A file made readable by others before is not after: the mode is the
	// new file's, not the old one's.
	path := filepath.Join(dir, "secret")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, path); got != 0o600 {
		t.Errorf("replacing a 0644 file with 0600: mode %v", got)
	}
}

func TestCreateFileNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := atomicfile.CreateFile(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := atomicfile.CreateFile(path, []byte("second"), 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CreateFile on an existing file = %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "first" {
		t.Errorf("the existing file now holds %q", got)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"f"}) {
		t.Errorf("directory holds %q, want only the file (no temporary files)", got)
	}
}

// TestFailedWriteKeepsOld: a write that cannot be put in place leaves the
// old file as it was and no temporary file behind.
func TestFailedWriteKeepsOld(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should be: the rename fails.
	path := filepath.Join(dir, "d")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "inside"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(path, []byte("data"), 0o600); err == nil {
		t.Fatal("WriteFile over a non-empty directory succeeded")
	}
	if got := names(t, dir); !slices.Equal(got, []string{"d"}) {
		t.Errorf("directory holds %q, want only d (no temporary files)", got)
	}
	// A missing directory: nothing is created.
	if err := atomicfile.WriteFile(filepath.Join(dir, "no", "f"), []byte("x"), 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteFile in a missing directory = %v, want fs.ErrNotExist", err)
	}
}

// TestReadersSeeWholeFiles: while a file is rewritten again and again,
// every read sees one of the versions whole, never a mix or a truncation.
func TestReadersSeeWholeFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	version := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, 64<<10+i) }
	if err := atomicfile.WriteFile(path, version(0), 0o600); err != nil {
		t.Fatal(err)
	}
	const writes = 200
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := 1; i <= writes; i++ {
			if err := atomicfile.WriteFile(path, version(i), 0o600); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for reads := 0; ; reads++ {
		select {
		case <-done:
			wg.Wait()
			return
		default:
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		if !whole(got) {
			t.Fatalf("read %d: %d bytes that are no version written", reads, len(got))
		}
	}
}

// whole reports whether b is one of the versions the tests write: 64 KiB
// plus i bytes, all the letter of i.
func whole(b []byte) bool {
	if len(b) < 64<<10 {
		return false
	}
	i := len(b) - 64<<10
	return bytes.Count(b, []byte{byte('a' + i%26)}) == len(b)
}

const crashEnv = "ATOMICFILE_TEST_CRASH"

// TestSurvivesKill rewrites a file in a loop in a child process and kills
// it with SIGKILL, most likely in the middle of a write: the file still
// holds one version whole, and RemoveTemps clears what the write left.
func TestSurvivesKill(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashHelper(path)
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	// Killed once it has replaced the file a few times, while it writes
	// the next version.
	testio.KillChild(t, "TestSurvivesKill", crashEnv, path, 5)

	got, err := os.ReadFile(path)
	if err != nil || !whole(got) {
		t.Fatalf("after kill -9: %d bytes (%v), not a version written whole", len(got), err)
	}
	t.Logf("left after the kill: %q", names(t, dir))
	if err := os.WriteFile(filepath.Join(dir, "f2.tmp"), nil, 0o600); err != nil { // not ours: kept
		t.Fatal(err)
	}
	if err := atomicfile.RemoveTemps(dir, "f"); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"f", "f2.tmp"}) {
		t.Errorf("after RemoveTemps the directory holds %q, want f and f2.tmp", got)
	}
}

func crashHelper(path string) {
	for i := 0; ; i++ {
		data := bytes.Repeat([]byte{byte('a' + i%26)}, 64<<10+i)
		if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
			panic(err)
		}
		os.Stdout.WriteString(strconv.Itoa(i) + "\n")
	}
}

func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".keyring-123.tmp", ".keyring.bak-1-7.tmp", "keyring", ".keyring.lock", ".other-1.tmp", "keyring.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := atomicfile.RemoveTemps(dir, "keyring"); err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, dir), []string{".keyring.lock", ".other-1.tmp", "keyring", "keyring.tmp"}; !slices.Equal(got, want) {
		t.Errorf("RemoveTemps(keyring) left %q, want %q", got, want)
	}
	// A prefix with glob characters matches only itself.
	if err := os.WriteFile(filepath.Join(dir, ".a*b-1.tmp"), nil, 0o600); err != nil && runtime.GOOS != "windows" {
		t.Fatal(err)
	}
	if err := atomicfile.RemoveTemps(dir, "a*"); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names(t, dir), ".a*b-1.tmp") {
		t.Errorf("RemoveTemps(%q) removed nothing", "a*")
	}
	if err := atomicfile.RemoveTemps(dir, ""); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); slices.Contains(got, ".other-1.tmp") || !slices.Contains(got, "keyring.tmp") {
		t.Errorf("RemoveTemps(\"\") left %q", got)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	const limit = 100
	for _, size := range []int{0, 1, limit - 1, limit} {
		data := bytes.Repeat([]byte{'x'}, size)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := atomicfile.ReadFile(path, limit); err != nil || !bytes.Equal(got, data) {
			t.Errorf("ReadFile of %d bytes, limit %d = %d bytes, %v", size, limit, len(got), err)
		}
	}
	for _, size := range []int{limit + 1, 10 * limit} {
		if err := os.WriteFile(path, bytes.Repeat([]byte{'x'}, size), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := atomicfile.ReadFile(path, limit)
		var tl *atomicfile.TooLargeError
		if !errors.As(err, &tl) || tl.Path != path || tl.Limit != limit {
			t.Errorf("ReadFile of %d bytes, limit %d = %v, want a *TooLargeError", size, limit, err)
		}
		if want := fmt.Sprintf("atomicfile: %s is larger than %d bytes", path, limit); err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	}
	if _, err := atomicfile.ReadFile(filepath.Join(dir, "missing"), limit); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file = %v, want fs.ErrNotExist", err)
	}
	if _, err := atomicfile.ReadFile(dir, limit); err == nil {
		t.Error("ReadFile of a directory succeeded")
	}
}
