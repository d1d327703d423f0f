package sign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

const testPassphrase = "correct horse battery staple"

// newEntity generates an RSA key: rpm 4.18 on Debian 12 verifies RSA, and
// 2048 bits keeps the test fast.
func newEntity(t *testing.T) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity("Packyard Test", "", "test@packyard.example",
		&packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// privateBytes serializes e's private key, encrypted with passphrase when
// it is not empty, armored or binary.
func privateBytes(t *testing.T, e *openpgp.Entity, passphrase string, armored bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := &buf
	var aw interface{ Close() error }
	var out = (interface{ Write([]byte) (int, error) })(w)
	if armored {
		a, err := armor.Encode(w, openpgp.PrivateKeyType, nil)
		if err != nil {
			t.Fatal(err)
		}
		aw, out = a, a
	}
	if passphrase != "" {
		if err := e.EncryptPrivateKeys([]byte(passphrase), nil); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := e.DecryptPrivateKeys([]byte(passphrase)); err != nil {
				t.Fatal(err)
			}
		}()
	}
	if err := e.SerializePrivateWithoutSigning(out, nil); err != nil {
		t.Fatal(err)
	}
	if aw != nil {
		if err := aw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// gpgHome makes a short-pathed GNUPGHOME (gpg's socket paths are limited).
func gpgHome(t *testing.T) string {
	t.Helper()
	home, err := os.MkdirTemp("", "pyg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	return home
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestDetachArmoredVerifiedByGPG(t *testing.T) {
	e := newEntity(t)
	tests := []struct {
		name       string
		load       func(t *testing.T) (*Key, error)
		passphrase string
	}{
		{"armored", func(t *testing.T) (*Key, error) {
			return Load(bytes.NewReader(privateBytes(t, e, "", true)), nil, "")
		}, ""},
		{"binary", func(t *testing.T) (*Key, error) {
			return Load(bytes.NewReader(privateBytes(t, e, "", false)), nil, "")
		}, ""},
		{"file with passphrase", func(t *testing.T) (*Key, error) {
			p := filepath.Join(t.TempDir(), "key.asc")
			if err := os.WriteFile(p, privateBytes(t, e, testPassphrase, true), 0o600); err != nil {
				t.Fatal(err)
			}
			return LoadFile(p, testPassphrase, fmt.Sprintf("0x%016x", e.PrimaryKey.KeyId))
		}, testPassphrase},
		{"environment", func(t *testing.T) (*Key, error) {
			env := map[string]string{
				EnvKey:        string(privateBytes(t, e, testPassphrase, true)),
				EnvPassphrase: testPassphrase,
			}
			return FromEnv(func(k string) string { return env[k] })
		}, testPassphrase},
	}
	data := []byte("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.rpm\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tt.load(t)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := k.KeyID(), fmt.Sprintf("%016X", e.PrimaryKey.KeyId); got != want {
				t.Errorf("KeyID = %s, want %s", got, want)
			}
			dir := t.TempDir()
			var sig, pub bytes.Buffer
			if err := DetachArmored(k, bytes.NewReader(data), &sig); err != nil {
				t.Fatal(err)
			}
			if err := k.ExportPublic(&pub); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(pub.Bytes(), []byte("PRIVATE")) {
				t.Fatal("public export contains a private key block")
			}
			files := map[string][]byte{"SHA256SUMS": data, "SHA256SUMS.asc": sig.Bytes(), "pub.asc": pub.Bytes()}
			for n, b := range files {
				if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			home := gpgHome(t)
			run(t, "gpg", "--batch", "--homedir", home, "--import", filepath.Join(dir, "pub.asc"))
			out := run(t, "gpg", "--batch", "--homedir", home, "--status-fd", "1", "--verify",
				filepath.Join(dir, "SHA256SUMS.asc"), filepath.Join(dir, "SHA256SUMS"))
			if !strings.Contains(out, "[GNUPG:] GOODSIG "+k.KeyID()) {
				t.Errorf("gpg --verify did not report a good signature by %s:\n%s", k.KeyID(), out)
			}
			// A tampered file must fail verification.
			if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), append(data, 'x'), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := exec.Command("gpg", "--batch", "--homedir", home, "--verify",
				filepath.Join(dir, "SHA256SUMS.asc"), filepath.Join(dir, "SHA256SUMS")).Run(); err == nil {
				t.Error("gpg --verify accepted tampered data")
			}
			if s := fmt.Sprintf("%v %+v %#v %s", k, k, k, k); strings.Contains(s, "PRIVATE") || strings.Contains(s, testPassphrase) {
				t.Errorf("formatting a Key leaks material: %s", s)
			}
		})
	}
}

func TestDetachArmoredReproducible(t *testing.T) {
	e := newEntity(t)
	k, err := Load(bytes.NewReader(privateBytes(t, e, "", true)), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	k = k.WithTime(time.Unix(1700000000, 0))
	var a, b bytes.Buffer
	if err := k.DetachArmored(strings.NewReader("x"), &a); err != nil {
		t.Fatal(err)
	}
	if err := k.DetachArmored(strings.NewReader("x"), &b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two signatures of the same data at the same time differ")
	}
}

func TestLoadErrors(t *testing.T) {
	e := newEntity(t)
	encrypted := privateBytes(t, e, testPassphrase, true)
	var pub bytes.Buffer
	aw, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := e.Serialize(aw); err != nil {
		t.Fatal(err)
	}
	aw.Close()
	tests := []struct {
		name       string
		key        []byte
		passphrase string
		keyID      string
		want       string
	}{
		{"wrong passphrase", encrypted, "hunter2-wrong", "", "wrong passphrase"},
		{"missing passphrase", encrypted, "", "", "no passphrase"},
		{"public key", pub.Bytes(), "", "", "private key is needed"},
		{"garbage", []byte("not a key"), "", "", "parse key"},
		{"bad key id", privateBytes(t, e, "", true), "", "zz", "not a hex key id"},
		{"unknown key id", privateBytes(t, e, "", true), "", "0123456789ABCDEF", "no valid signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(bytes.NewReader(tt.key), []byte(tt.passphrase), tt.keyID)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if tt.passphrase != "" && strings.Contains(err.Error(), tt.passphrase) {
				t.Errorf("error %q contains the passphrase", err)
			}
		})
	}
	if _, err := FromEnv(func(string) string { return "" }); !errors.Is(err, ErrNoKey) {
		t.Errorf("FromEnv with no key: %v, want ErrNoKey", err)
	}
	if _, err := FromSigning(nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("FromSigning(nil): %v, want ErrNoKey", err)
	}
}

// buildTinyRPM builds a one-file rpm with the real rpmbuild.
func buildTinyRPM(t *testing.T) string {
	t.Helper()
	top := t.TempDir()
	spec := filepath.Join(top, "tiny.spec")
	if err := os.WriteFile(spec, []byte(`Name: tiny
Version: 1.0
Release: 1
Summary: tiny
License: MIT
BuildArch: noarch
%global debug_package %{nil}
%description
tiny
%install
mkdir -p %{buildroot}/usr/share/tiny
echo hi > %{buildroot}/usr/share/tiny/hi
%files
/usr/share/tiny/hi
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+top, spec)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	return filepath.Join(top, "RPMS", "noarch", "tiny-1.0-1.noarch.rpm")
}

func TestSignRPMFile(t *testing.T) {
	e := newEntity(t)
	k, err := Load(bytes.NewReader(privateBytes(t, e, testPassphrase, true)), []byte(testPassphrase), "")
	if err != nil {
		t.Fatal(err)
	}
	k = k.WithTime(time.Unix(1700000000, 0))
	rpm := buildTinyRPM(t)
	copy1 := filepath.Join(t.TempDir(), "copy.rpm")
	b, err := os.ReadFile(rpm)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copy1, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range []string{rpm, copy1} {
		if err := SignRPMFile(ctx, k, p); err != nil {
			t.Fatal(err)
		}
	}
	db := t.TempDir()
	pub := filepath.Join(t.TempDir(), "RPM-GPG-KEY-test")
	if err := k.WritePublicFile(pub); err != nil {
		t.Fatal(err)
	}
	run(t, "rpm", "--dbpath", db, "--import", pub)
	out := run(t, "rpm", "--dbpath", db, "-Kv", rpm)
	want := strings.ToLower(k.KeyID()[8:])
	if !strings.Contains(out, "key ID "+want+": OK") {
		t.Errorf("rpm -Kv does not show a good signature by %s:\n%s", want, out)
	}
	a, _ := os.ReadFile(rpm)
	c, _ := os.ReadFile(copy1)
	if !bytes.Equal(a, c) {
		t.Error("signing the same rpm twice at a fixed time gave different bytes")
	}
}
