package sign

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
)

// Clearsign writes data as a clear-signed message to out, as an apt
// repository's InRelease file is. It signs with the key Detach uses.
// data is read whole: it is an index, not a package.
func (k *Key) Clearsign(data io.Reader, out io.Writer) error {
	// clearsign takes the private (sub)key itself: the one go-crypto
	// would pick for a detached signature, or the one selected by id.
	sk, ok := k.entity.SigningKey(k.signTime())
	if k.signer != 0 {
		sk, ok = k.entity.SigningKeyById(k.signTime(), k.signer)
	}
	if !ok || sk.PrivateKey == nil {
		return fmt.Errorf("clearsign with %s: %w", k.KeyID(), errors.New("no valid signing key"))
	}
	text, err := io.ReadAll(data)
	if err != nil {
		return fmt.Errorf("clearsign with %s: %w", k.KeyID(), err)
	}
	// The line break before the signature belongs to the armor, not to
	// the text: without this trim a file ending in a newline would come
	// out of verification with one more, unlike gpg --clearsign's.
	text = bytes.TrimSuffix(text, []byte("\n"))
	w, err := clearsign.Encode(out, sk.PrivateKey, k.config())
	if err != nil {
		return fmt.Errorf("clearsign with %s: %w", k.KeyID(), err)
	}
	if _, err := w.Write(text); err != nil {
		w.Close()
		return fmt.Errorf("clearsign with %s: %w", k.KeyID(), err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("clearsign with %s: %w", k.KeyID(), err)
	}
	// The armor ends without a newline; files people cat should end with one.
	if _, err := io.WriteString(out, "\n"); err != nil {
		return fmt.Errorf("clearsign with %s: %w", k.KeyID(), err)
	}
	return nil
}
