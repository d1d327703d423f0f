package sign

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestClearsignVerifiedByGPG checks an InRelease-style clear-signed
// message with gpg --verify, and that a tampered one fails.
func TestClearsignVerifiedByGPG(t *testing.T) {
	e := newEntity(t)
	k, err := Load(bytes.NewReader(privateBytes(t, e, "", true)), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	data := "Origin: acme\nSuite: bookworm\n-- a line starting with a dash\n"
	var signed, pub bytes.Buffer
	if err := k.Clearsign(strings.NewReader(data), &signed); err != nil {
		t.Fatal(err)
	}
	if err := k.ExportPublic(&pub); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, pubFile := filepath.Join(dir, "InRelease"), filepath.Join(dir, "pub.asc")
	os.WriteFile(in, signed.Bytes(), 0o644)
	os.WriteFile(pubFile, pub.Bytes(), 0o644)
	home := gpgHome(t)
	run(t, "gpg", "--batch", "--homedir", home, "--import", pubFile)
	out := run(t, "gpg", "--batch", "--homedir", home, "--status-fd", "1", "--output", filepath.Join(dir, "plain"), "--decrypt", in)
	if !strings.Contains(out, "[GNUPG:] GOODSIG "+k.KeyID()) {
		t.Errorf("gpg did not report a good signature by %s:\n%s", k.KeyID(), out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "plain")); string(b) != data {
		t.Errorf("signed text %q, want %q", b, data)
	}
	os.WriteFile(in, bytes.Replace(signed.Bytes(), []byte("bookworm"), []byte("trixie"), 1), 0o644)
	if out, err := exec.Command("gpg", "--batch", "--homedir", home, "--verify", in).CombinedOutput(); err == nil {
		t.Errorf("gpg accepted a tampered message:\n%s", out)
	}
}
