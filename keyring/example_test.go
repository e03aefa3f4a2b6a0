package keyring_test

import (
	"fmt"
	"log"
	"os"

	"github.com/dhtchat/dhtchat/keyring"
)

func ExampleGenerateSecretKey() {
	sk, err := keyring.GenerateSecretKey()
	if err != nil {
		log.Fatal(err)
	}
	// The public key is what you give your friends; the secret key prints
	// as "SecretKey(redacted)" wherever it ends up.
	pub := sk.Public()
	fmt.Println(len(pub.String()), pub.String()[:8], sk)
	// Output: 66 dhtchat1 SecretKey(redacted)
}

func ExampleParsePublicKey() {
	pub, err := keyring.ParsePublicKey("  dhtchat1q73he0q5yzfu3d64msd3p6rvksnrwjk3d2598mgtmlqt9wrdr37qpnnete\n")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pub)
	fmt.Println(pub.Fingerprint())

	_, err = keyring.ParsePublicKey("dhtchat1q73he0q5yzfu3d64msd3p6rvksnrwjk3d2598mgtmlqt9wrdr37qpnnetx")
	fmt.Println(err)
	_, err = keyring.ParsePublicKey("DHTCHAT-SECRET-KEY-1QYPQXPQ9QCRSSZG2PVXQ6RS0ZQG3YYC5Z5TPWXQERGD3C8G7RUSQ7WNF23")
	fmt.Println(err)
	// Output:
	// dhtchat1q73he0q5yzfu3d64msd3p6rvksnrwjk3d2598mgtmlqt9wrdr37qpnnete
	// 61bb af10 fcef 34d6 b191
	// keyring: invalid public key: checksum mismatch; check for a typo
	// keyring: invalid public key: this is a secret key, not a public key; never share it
}

func ExampleFile_Update() {
	dir, err := os.MkdirTemp("", "dhtchat-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	f := keyring.NewFile(dir, nil) // nil: no way to ask for a passphrase
	k, err := keyring.New()
	if err != nil {
		log.Fatal(err)
	}
	if err := f.Create(k, false, nil); err != nil {
		log.Fatal(err)
	}

	alice, _ := keyring.ParsePublicKey("dhtchat1q73he0q5yzfu3d64msd3p6rvksnrwjk3d2598mgtmlqt9wrdr37qpnnete")
	err = f.Update(func(k *keyring.Keyring) error {
		_, err := k.AddFriend("alice", alice)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}

	k, err = f.Load()
	if err != nil {
		log.Fatal(err)
	}
	for _, fr := range k.Friends {
		fmt.Println(fr.Name, fr.Key.Fingerprint())
	}
	// Output: alice 61bb af10 fcef 34d6 b191
}
