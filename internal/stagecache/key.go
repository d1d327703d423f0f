package stagecache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
)

// Key accumulates a stage's inputs into a cache key: the sha256 of a
// canonical encoding in which every value is named and length-prefixed,
// so that no two different lists of inputs encode alike.
type Key struct {
	h   hash.Hash
	err error
}

// NewKey starts the key of a stage kind (source, compile, …).
func NewKey(kind string) *Key {
	k := &Key{h: sha256.New()}
	k.String("kind", kind)
	return k
}

func (k *Key) write(name string, b []byte) {
	var n [8]byte
	for _, part := range [][]byte{[]byte(name), b} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		k.h.Write(n[:])
		k.h.Write(part)
	}
}

// String adds a named string.
func (k *Key) String(name, value string) { k.write(name, []byte(value)) }

// Strings adds a named list of strings, in the order given.
func (k *Key) Strings(name string, values []string) {
	k.String(name+"#", fmt.Sprint(len(values)))
	for _, v := range values {
		k.String(name+"[]", v)
	}
}

// JSON adds a value by its JSON encoding (maps encode with sorted keys).
func (k *Key) JSON(name string, v any) {
	b, err := json.Marshal(v)
	if err != nil && k.err == nil {
		k.err = fmt.Errorf("cache key %s: %w", name, err)
	}
	k.write(name, b)
}

// File adds the bytes of a file, by their sha256.
func (k *Key) File(name, path string) {
	sum, err := FileSHA256(path)
	k.FileSum(name, sum, err)
}

// FileSum is File for a file whose sha256 (hex) the caller already has,
// or failed to get (err): the key is the same as File's.
func (k *Key) FileSum(name, sum string, err error) {
	if err != nil && k.err == nil {
		k.err = fmt.Errorf("cache key %s: %w", name, err)
	}
	k.String(name, sum)
}

// Sum is the key in hex, or the first error met adding to it.
func (k *Key) Sum() (string, error) {
	if k.err != nil {
		return "", k.err
	}
	return hex.EncodeToString(k.h.Sum(nil)), nil
}

// FileSHA256 is the sha256 of the file at path, in hex.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
