package packtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Key is a throwaway OpenPGP signing key made by GPGKey.
type Key struct {
	// Home is the GNUPGHOME that holds the key.
	Home string
	// Private and Public are the armored secret and public key files.
	Private, Public string
	// PassphraseFile holds the passphrase, as packyard's --passphrase-file
	// reads it.
	PassphraseFile string
}

// Env returns the environment that makes gpg use the key's home.
func (k Key) Env() []string { return []string{"GNUPGHOME=" + k.Home} }

// GPGKey makes an RSA signing key protected by passphrase in a
// throwaway GNUPGHOME. gpg reads the passphrase from a file, so that no
// command line, and no failure message quoting one, shows it.
func GPGKey(t testing.TB, passphrase string) Key {
	t.Helper()
	Need(t, "gpg")
	home := t.TempDir()
	// gpg warns about a home that others may read.
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	k := Key{
		Home:           home,
		Private:        filepath.Join(home, "key.asc"),
		Public:         filepath.Join(home, "pub.asc"),
		PassphraseFile: filepath.Join(home, "passphrase"),
	}
	if err := os.WriteFile(k.PassphraseFile, []byte(passphrase+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gpg := func(args ...string) {
		t.Helper()
		Output(t, k.Env(), "gpg", append([]string{"--batch", "--pinentry-mode", "loopback", "--passphrase-file", k.PassphraseFile}, args...)...)
	}
	gpg("--quick-gen-key", "Packyard Test <test@packyard.example>", "rsa2048", "sign", "never")
	gpg("--armor", "--output", k.Private, "--export-secret-keys")
	gpg("--armor", "--output", k.Public, "--export")
	return k
}

// VerifyRPMSignatures checks each rpm with rpm -K against a throwaway rpm
// database that trusts the public key file pub alone: its digests and
// signatures must be OK.
func VerifyRPMSignatures(t testing.TB, pub string, rpms ...string) {
	t.Helper()
	Need(t, "rpm")
	db := t.TempDir()
	Output(t, nil, "rpm", "--dbpath", db, "--initdb")
	Output(t, nil, "rpm", "--dbpath", db, "--import", pub)
	for _, p := range rpms {
		k := Exec(t, "", nil, "rpm", "--dbpath", db, "-K", p)
		if k.Code != 0 || !strings.Contains(k.Stdout, ": digests signatures OK\n") {
			v := Exec(t, "", nil, "rpm", "--dbpath", db, "-Kv", p)
			t.Errorf("rpm -K %s: exit %d\n%s%s", p, k.Code, v.Stdout, v.Stderr)
		}
	}
}

// VerifyDebSignature checks a deb the way debsig-verify does, with ar and
// gpg: its _gpgorigin member must be a good detached signature, by a key
// of the GNUPGHOME in env, of debian-binary, control and data
// concatenated in the ar order.
func VerifyDebSignature(t testing.TB, env []string, deb string) {
	t.Helper()
	Need(t, "ar", "gpg")
	members := strings.Fields(Output(t, nil, "ar", "t", deb))
	if len(members) != 4 || members[0] != "debian-binary" || members[3] != "_gpgorigin" {
		t.Fatalf("%s: members %v, want debian-binary, control, data, _gpgorigin", deb, members)
	}
	var signed []byte
	for _, m := range members[:3] {
		signed = append(signed, Output(t, nil, "ar", "p", deb, m)...)
	}
	x := t.TempDir()
	sig, data := filepath.Join(x, "_gpgorigin"), filepath.Join(x, "signed")
	if err := os.WriteFile(data, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sig, []byte(Output(t, nil, "ar", "p", deb, "_gpgorigin")), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := Exec(t, "", env, "gpg", "--batch", "--verify", sig, data); v.Code != 0 || !strings.Contains(v.Stderr, "Good signature") {
		t.Errorf("gpg --verify of %s's _gpgorigin: exit %d\n%s", deb, v.Code, v.Stderr)
	}
}
