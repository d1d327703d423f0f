package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/packyard/packyard/pack"
)

// signFlags name the OpenPGP key that signs packages and SHA256SUMS.
type signFlags struct {
	keyFile, passphraseFile string
}

func (s *signFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.keyFile, "key-file", "", "OpenPGP private key to sign with (default: $PACKYARD_GPG_KEY, if set)")
	cmd.Flags().StringVar(&s.passphraseFile, "passphrase-file", "", "file holding the key's passphrase (default: $PACKYARD_GPG_PASSPHRASE)")
}

// load returns the signing key, or nil when none is given. A key given in
// the environment is written to a private temporary file, removed by the
// returned cleanup, because the writers read keys from files.
func (s *signFlags) load(getenv func(string) string) (*pack.Signing, func(), error) {
	nop := func() {}
	passphrase := getenv("PACKYARD_GPG_PASSPHRASE")
	if s.passphraseFile != "" {
		b, err := os.ReadFile(s.passphraseFile)
		if err != nil {
			return nil, nop, usageError{err}
		}
		passphrase = strings.TrimRight(string(b), "\r\n")
	}
	if s.keyFile != "" {
		if _, err := os.Stat(s.keyFile); err != nil {
			return nil, nop, usageError{err}
		}
		return &pack.Signing{KeyFile: s.keyFile, Passphrase: passphrase}, nop, nil
	}
	key := getenv("PACKYARD_GPG_KEY")
	if key == "" {
		return nil, nop, nil
	}
	f, err := os.CreateTemp("", "packyard-key-*")
	if err != nil {
		return nil, nop, err
	}
	cleanup := func() { os.Remove(f.Name()) }
	if _, err := f.WriteString(key); err != nil {
		f.Close()
		cleanup()
		return nil, nop, err
	}
	if err := f.Close(); err != nil {
		cleanup()
		return nil, nop, err
	}
	return &pack.Signing{KeyFile: f.Name(), Passphrase: passphrase}, cleanup, nil
}
