// Package sign loads an OpenPGP private key and makes the signatures a
// release needs: armored detached signatures (SHA256SUMS.asc), the armored
// public key users import, and rpm header signatures through rpmsign.
//
// Key material and passphrases never appear in errors or in the output of
// fmt verbs: a Key formats as its key id only.
package sign

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/packyard/packyard/pack"
)

// The environment variables that may carry a key, per docs/cli.md.
const (
	EnvKey        = "PACKYARD_GPG_KEY"
	EnvPassphrase = "PACKYARD_GPG_PASSPHRASE"
)

// maxKeySize bounds what is read as a key: real keys are a few KiB, and a
// bound keeps a wrong path (a disk image, /dev/zero) from exhausting memory.
const maxKeySize = 1 << 20

// Key is an unlocked OpenPGP private key ready to sign.
type Key struct {
	entity *openpgp.Entity
	// signer is the (sub)key that makes signatures; 0 lets go-crypto pick
	// the newest valid signing key.
	signer uint64
	// now is the signature creation time; zero means the current time.
	now time.Time
}

// ErrNoKey is returned by FromEnv when no key is configured.
var ErrNoKey = errors.New("no signing key configured")

// Load reads one private key, armored or binary, and unlocks it with
// passphrase when it is encrypted. keyID, when not empty, selects the
// signing (sub)key by its long hex id (with or without 0x).
func Load(r io.Reader, passphrase []byte, keyID string) (*Key, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	if len(raw) > maxKeySize {
		return nil, fmt.Errorf("read key: larger than %d bytes, not a key", maxKeySize)
	}
	var list openpgp.EntityList
	if bytes.Contains(raw, []byte("-----BEGIN PGP")) {
		list, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(raw))
	} else {
		list, err = openpgp.ReadKeyRing(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	if len(list) != 1 {
		return nil, fmt.Errorf("parse key: want exactly one key, found %d", len(list))
	}
	e := list[0]
	if e.PrivateKey == nil {
		return nil, errors.New("parse key: a public key was given, a private key is needed")
	}
	if err := decrypt(e, passphrase); err != nil {
		return nil, err
	}
	k := &Key{entity: e}
	if keyID != "" {
		id, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(keyID), "0x"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("key id %q: not a hex key id", keyID)
		}
		if _, ok := e.SigningKeyById(time.Now(), id); !ok {
			return nil, fmt.Errorf("key id %q: no valid signing key with this id in the key", keyID)
		}
		k.signer = id
	} else if _, ok := e.SigningKey(time.Now()); !ok {
		return nil, errors.New("parse key: the key has no valid signing key")
	}
	return k, nil
}

// decrypt unlocks every encrypted private (sub)key. The passphrase is never
// part of the error.
func decrypt(e *openpgp.Entity, passphrase []byte) error {
	encrypted := e.PrivateKey.Encrypted
	for _, s := range e.Subkeys {
		if s.PrivateKey != nil && s.PrivateKey.Encrypted {
			encrypted = true
		}
	}
	if !encrypted {
		return nil
	}
	if len(passphrase) == 0 {
		return errors.New("unlock key: the key is encrypted and no passphrase was given")
	}
	if err := e.DecryptPrivateKeys(passphrase); err != nil {
		// go-crypto's message says only that decryption failed; keep it
		// but never echo the input.
		return fmt.Errorf("unlock key: wrong passphrase or damaged key: %w", err)
	}
	return nil
}

// LoadFile reads the private key in path (armored or binary).
func LoadFile(path, passphrase, keyID string) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	defer f.Close()
	k, err := Load(f, []byte(passphrase), keyID)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// FromSigning loads the key a pack.Signing names.
func FromSigning(s *pack.Signing) (*Key, error) {
	if s == nil || s.KeyFile == "" {
		return nil, ErrNoKey
	}
	return LoadFile(s.KeyFile, s.Passphrase, s.KeyID)
}

// FromEnv loads the armored key in $PACKYARD_GPG_KEY, unlocked with
// $PACKYARD_GPG_PASSPHRASE. getenv is passed in (usually os.Getenv) so the
// caller decides what the environment is. It returns ErrNoKey when the
// variable is empty.
func FromEnv(getenv func(string) string) (*Key, error) {
	v := getenv(EnvKey)
	if strings.TrimSpace(v) == "" {
		return nil, ErrNoKey
	}
	k, err := Load(strings.NewReader(v), []byte(getenv(EnvPassphrase)), "")
	if err != nil {
		return nil, fmt.Errorf("signing key from $%s: %w", EnvKey, err)
	}
	return k, nil
}

// WithTime returns a copy of k whose signatures carry t as their creation
// time (or the key's creation time when t predates it). RSA signatures are
// deterministic, so a fixed time (SOURCE_DATE_EPOCH) makes the signature
// bytes reproducible.
func (k *Key) WithTime(t time.Time) *Key {
	c := *k
	c.now = t
	return &c
}

func (k *Key) config() *packet.Config {
	c := &packet.Config{SigningKeyId: k.signer}
	if !k.now.IsZero() {
		now := k.signTime()
		c.Time = func() time.Time { return now }
		// go-crypto salts v4 signatures by default, which defeats
		// reproducibility. The salt guards EdDSA against fault attacks;
		// RSA PKCS#1 v1.5 is deterministic and Go's implementation checks
		// its result, so a reproducible release drops it for RSA only.
		if isRSA(k.entity.PrimaryKey.PubKeyAlgo) {
			off := false
			c.NonDeterministicSignaturesViaNotation = &off
		}
	}
	return c
}

func isRSA(a packet.PublicKeyAlgorithm) bool {
	return a == packet.PubKeyAlgoRSA || a == packet.PubKeyAlgoRSASignOnly
}

// KeyID is the long id (16 upper-case hex digits) of the key that signs.
func (k *Key) KeyID() string {
	if k.signer != 0 {
		return fmt.Sprintf("%016X", k.signer)
	}
	if sk, ok := k.entity.SigningKey(k.signTime()); ok {
		return fmt.Sprintf("%016X", sk.PublicKey.KeyId)
	}
	return fmt.Sprintf("%016X", k.entity.PrimaryKey.KeyId)
}

// Fingerprint is the primary key's fingerprint in upper-case hex.
func (k *Key) Fingerprint() string {
	return fmt.Sprintf("%X", k.entity.PrimaryKey.Fingerprint)
}

// signTime is the fixed time, or now. A signature cannot predate its key,
// and SOURCE_DATE_EPOCH (a commit time) often predates the release key:
// then the key's creation time is used, which is still fixed.
func (k *Key) signTime() time.Time {
	if k.now.IsZero() {
		return time.Now()
	}
	created := k.entity.PrimaryKey.CreationTime
	for _, s := range k.entity.Subkeys {
		if s.PublicKey.KeyId == k.signer && s.PublicKey.CreationTime.After(created) {
			created = s.PublicKey.CreationTime
		}
	}
	if k.now.Before(created) {
		return created
	}
	return k.now
}

// String names the key by id only, so that printing a Key by mistake
// leaks nothing.
func (k *Key) String() string { return "openpgp key " + k.KeyID() }

// GoString is String, for %#v.
func (k *Key) GoString() string { return k.String() }

// Detach writes a binary detached signature of data to out: the OpenPGP
// packet an rpm header signature holds.
func (k *Key) Detach(data io.Reader, out io.Writer) error {
	if err := openpgp.DetachSign(out, k.entity, data, k.config()); err != nil {
		return fmt.Errorf("sign with %s: %w", k.KeyID(), err)
	}
	return nil
}

// DetachArmored writes an armored detached signature of data to out.
func (k *Key) DetachArmored(data io.Reader, out io.Writer) error {
	if err := openpgp.ArmoredDetachSign(out, k.entity, data, k.config()); err != nil {
		return fmt.Errorf("sign with %s: %w", k.KeyID(), err)
	}
	// The armor ends without a newline; files people cat should end with one.
	if _, err := io.WriteString(out, "\n"); err != nil {
		return fmt.Errorf("sign with %s: %w", k.KeyID(), err)
	}
	return nil
}

// DetachArmored writes an armored detached signature of data made with key
// to out, e.g. SHA256SUMS.asc.
func DetachArmored(key *Key, data io.Reader, out io.Writer) error {
	if key == nil {
		return ErrNoKey
	}
	return key.DetachArmored(data, out)
}

// ExportPublic writes the armored public key, for `rpm --import` and
// `gpg --import`.
func (k *Key) ExportPublic(w io.Writer) error {
	aw, err := armor.Encode(w, openpgp.PublicKeyType, nil)
	if err != nil {
		return fmt.Errorf("export public key %s: %w", k.KeyID(), err)
	}
	if err := k.entity.Serialize(aw); err != nil {
		return fmt.Errorf("export public key %s: %w", k.KeyID(), err)
	}
	if err := aw.Close(); err != nil {
		return fmt.Errorf("export public key %s: %w", k.KeyID(), err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("export public key %s: %w", k.KeyID(), err)
	}
	return nil
}

// writeSecret writes the unlocked private key, unencrypted and binary, for
// a throwaway GNUPGHOME. It is unexported so that nothing else can leak it.
func (k *Key) writeSecret(w io.Writer) error {
	return k.entity.SerializePrivateWithoutSigning(w, nil)
}
