package sign

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestVerify checks Verify and VerifyClearsigned on good signatures and
// on the ways a remote signature goes stale or wrong: other data, another
// key, not a signature at all.
func TestVerify(t *testing.T) {
	load := func() *Key {
		t.Helper()
		k, err := Load(bytes.NewReader(privateBytes(t, newEntity(t), "", true)), nil, "")
		if err != nil {
			t.Fatal(err)
		}
		return k.WithTime(time.Now())
	}
	k, other := load(), load()
	data := []byte("Origin: acme\nSuite: bookworm\n")
	sign := func(k *Key, clear bool, data []byte) []byte {
		t.Helper()
		var b bytes.Buffer
		f := k.DetachArmored
		if clear {
			f = k.Clearsign
		}
		if err := f(bytes.NewReader(data), &b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	tests := []struct {
		name  string
		clear bool
		sig   []byte
		ok    bool
	}{
		{"detached", false, sign(k, false, data), true},
		{"detached, other data", false, sign(k, false, []byte("Suite: trixie\n")), false},
		{"detached, other key", false, sign(other, false, data), false},
		{"detached, garbage", false, []byte("not a signature"), false},
		{"detached, empty", false, nil, false},
		{"clear", true, sign(k, true, data), true},
		{"clear, other text", true, sign(k, true, []byte("Suite: trixie\n")), false},
		{"clear, other key", true, sign(other, true, data), false},
		{"clear, garbage", true, []byte("-----BEGIN PGP SIGNED MESSAGE-----\nnonsense"), false},
		{"clear, tampered", true, bytes.Replace(sign(k, true, data), []byte("bookworm"), []byte("bullseye"), 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.clear {
				err = k.VerifyClearsigned(tt.sig, data)
			} else {
				err = k.Verify(data, tt.sig)
			}
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadSignature)) {
				t.Errorf("err = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), k.KeyID()) {
				t.Errorf("the error does not name the key: %v", err)
			}
		})
	}
}
