package sign

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
)

// ErrBadSignature is what Verify and VerifyClearsigned return for a
// signature that is not a valid one of the data by the key.
var ErrBadSignature = errors.New("not a valid signature by the key")

// Verify checks that sig (armored, as DetachArmored writes it) is a valid
// signature of data by k. It lets a publisher tell a stale signature
// beside a changed index from a good one without re-signing everything.
func (k *Key) Verify(data, sig []byte) error {
	keyring := openpgp.EntityList{k.entity}
	if _, err := openpgp.CheckArmoredDetachedSignature(keyring, bytes.NewReader(data), bytes.NewReader(sig), nil); err != nil {
		return fmt.Errorf("%w (%s): %v", ErrBadSignature, k.KeyID(), err)
	}
	return nil
}

// VerifyClearsigned checks that msg is text clear-signed by k, as
// Clearsign writes it (InRelease from Release).
func (k *Key) VerifyClearsigned(msg, text []byte) error {
	b, _ := clearsign.Decode(msg)
	if b == nil {
		return fmt.Errorf("%w (%s): not a clear-signed message", ErrBadSignature, k.KeyID())
	}
	if !bytes.Equal(b.Plaintext, bytes.TrimSuffix(text, []byte("\n"))) {
		return fmt.Errorf("%w (%s): it signs another text", ErrBadSignature, k.KeyID())
	}
	if _, err := b.VerifySignature(openpgp.EntityList{k.entity}, nil); err != nil {
		return fmt.Errorf("%w (%s): %v", ErrBadSignature, k.KeyID(), err)
	}
	return nil
}
