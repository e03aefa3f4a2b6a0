package main

import (
	"context"
	"flag"
	"io"
	"strings"

	"github.com/mdp/qrterminal/v3"

	"github.com/dhtchat/dhtchat/internal/userr"
	"github.com/dhtchat/dhtchat/keyring"
)

var whoamiCmd = &command{
	name:  "whoami",
	short: "Print your public key and its fingerprint",
	long: `Prints your public key on the first line and its fingerprint on the second.
Give the key to a friend; compare the fingerprint with them in person or over a
call you trust, to be sure nobody swapped the key on the way.

With --qr it also draws the key as a QR code, for a friend to scan from your
screen with a phone (it works over SSH: it is made of text characters). The
code holds the key in upper case, which 'dhtchat add-friend' accepts as well.

Examples:
  dhtchat whoami
  dhtchat whoami --qr
  dhtchat whoami --json | jq -r .public_key`,
	nargs: exactly(0),
	setup: func(fs *flag.FlagSet) runFunc {
		qr := fs.Bool("qr", false, "also draw the public key as a QR code")
		return func(ctx context.Context, e *env, args []string) error {
			if *qr && e.json {
				return userr.Usagef("whoami: --qr draws for people and cannot be combined with --json")
			}
			return runWhoami(ctx, e, *qr)
		}
	},
}

// qrQuietZone is the light margin around the QR code, in modules. The
// standard asks for 4; with half blocks that is 2 lines above and below,
// and the code of a key (33×33 modules) then takes 21 lines and 41 columns,
// which leaves room for the key and fingerprint lines on a 80×24 terminal.
const qrQuietZone = 4

// keyQRText is what the QR code of pk holds: the key in upper case, which
// ParsePublicKey accepts as well. Bech32 in upper case uses only QR's
// alphanumeric characters, which makes the code a size smaller (version 4
// at level M instead of 5), easier to scan from a small terminal.
func keyQRText(pk keyring.PublicKey) string { return strings.ToUpper(pk.String()) }

// writeKeyQR draws pk's QR code with half blocks: two modules per
// character cell, so that it is square in a terminal font and needs nothing
// but text (SSH, tmux, any terminal). Light modules are drawn in the
// foreground colour, dark ones are left as background: on the usual dark
// terminal that gives dark-on-light, as scanners expect.
func writeKeyQR(w io.Writer, pk keyring.PublicKey) {
	qrterminal.GenerateWithConfig(keyQRText(pk), qrterminal.Config{
		Level:          qrterminal.M,
		Writer:         w,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      qrQuietZone,
	})
}

func runWhoami(_ context.Context, e *env, qr bool) error {
	k, err := e.loadKeyring()
	if err != nil {
		return err
	}
	pk := k.Identity.Public()
	if e.json {
		return e.printJSON(struct {
			PublicKey   string `json:"public_key"`
			Fingerprint string `json:"fingerprint"`
		}{pk.String(), pk.Fingerprint()})
	}
	e.printf("%s\nfingerprint: %s\n", pk, pk.Fingerprint())
	if qr {
		writeKeyQR(e.stdout, pk)
	}
	return nil
}
