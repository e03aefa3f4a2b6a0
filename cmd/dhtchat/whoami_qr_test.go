package main

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dhtchat/dhtchat/keyring"
	"rsc.io/qr"
)

// readHalfBlocks turns a half-block drawing back into rows of modules
// (true = dark): each character is two modules, the upper and the lower
// half of the cell; a light half is drawn in the foreground colour.
func readHalfBlocks(t *testing.T, drawing string) [][]bool {
	t.Helper()
	var rows [][]bool
	for _, line := range strings.Split(strings.TrimSuffix(drawing, "\n"), "\n") {
		var top, bottom []bool
		for _, r := range line {
			switch r {
			case '█':
				top, bottom = append(top, false), append(bottom, false)
			case '▀':
				top, bottom = append(top, false), append(bottom, true)
			case '▄':
				top, bottom = append(top, true), append(bottom, false)
			case ' ':
				top, bottom = append(top, true), append(bottom, true)
			default:
				t.Fatalf("unexpected character %q in the QR drawing", r)
			}
		}
		rows = append(rows, top, bottom)
	}
	return rows
}

// TestWhoamiQR checks the drawing module by module against rsc.io/qr's
// encoding of the key (no QR decoder is among our dependencies, so this
// is the next best thing: the drawing is exactly the QR code of the key
// text, with its quiet zone), and that the text in it parses back to the
// key.
func TestWhoamiQR(t *testing.T) {
	sk, err := keyring.GenerateSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	pk := sk.Public()
	text := keyQRText(pk)
	if back, err := keyring.ParsePublicKey(text); err != nil || !back.Equal(pk) {
		t.Fatalf("ParsePublicKey(QR text %q) = %v, %v; want the key", text, back, err)
	}

	var buf bytes.Buffer
	writeKeyQR(&buf, pk)
	drawing := buf.String()
	lines := strings.Split(strings.TrimSuffix(drawing, "\n"), "\n")
	width := utf8.RuneCountInString(lines[0])
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n != width {
			t.Fatalf("line %d is %d characters wide, line 0 is %d", i, n, width)
		}
	}
	// With the key and fingerprint lines above and a shell prompt below,
	// it must fit on an 80×24 terminal.
	if width > 80 || len(lines)+3 > 24 {
		t.Fatalf("QR drawing is %d×%d characters; it must fit under two lines on 80×24", width, len(lines))
	}

	code, err := qr.Encode(text, qr.M)
	if err != nil {
		t.Fatal(err)
	}
	rows := readHalfBlocks(t, drawing)
	// Find the code: the first dark module is the corner of the top-left
	// finder pattern, which sits at (0, 0) of the code.
	oy, ox := -1, -1
	for y := range rows {
		for x := range rows[y] {
			if rows[y][x] {
				oy, ox = y, x
				break
			}
		}
		if oy >= 0 {
			break
		}
	}
	if oy < qrQuietZone || ox < qrQuietZone {
		t.Fatalf("quiet zone is %d modules above and %d left, want at least %d", oy, ox, qrQuietZone)
	}
	if below, right := len(rows)-oy-code.Size, width-ox-code.Size; below < qrQuietZone || right < qrQuietZone {
		t.Fatalf("quiet zone is %d modules below and %d right, want at least %d", below, right, qrQuietZone)
	}
	// The code and its quiet zone; beyond it (the last half line, drawn
	// as the terminal's background) anything goes.
	for y := oy - qrQuietZone; y < oy+code.Size+qrQuietZone; y++ {
		for x := ox - qrQuietZone; x < ox+code.Size+qrQuietZone; x++ {
			want := code.Black(x-ox, y-oy) // false outside the code
			if rows[y][x] != want {
				t.Fatalf("module (%d, %d) of the drawing is dark=%v, want %v", x-ox, y-oy, rows[y][x], want)
			}
		}
	}
	t.Logf("QR code of %d×%d modules, drawn in %d×%d characters", code.Size, code.Size, width, len(lines))
}
