package sign

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// SignRPMFile adds an OpenPGP signature to the rpm at path in place, with
// the host's rpmsign (the path of rpmbuild-built packages; pack/rpm signs its
// own). The key is imported, unlocked, into a throwaway GNUPGHOME that is
// removed afterwards, so no agent, keyring or pinentry of the user is used.
// When k carries a fixed time (WithTime), gpg signs as of that time so the
// signed rpm is reproducible.
func SignRPMFile(ctx context.Context, k *Key, path string) error {
	if k == nil {
		return ErrNoKey
	}
	home, err := os.MkdirTemp("", "packyard-gnupg-")
	if err != nil {
		return fmt.Errorf("rpmsign %s: %w", path, err)
	}
	defer func() {
		// The agent holds the unlocked key in memory; stop it with its home.
		_ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		_ = os.RemoveAll(home)
	}()
	if err := importSecret(ctx, k, home); err != nil {
		return fmt.Errorf("rpmsign %s: %w", path, err)
	}
	// Distros name gpg differently in %__gpg (Debian: a missing gpg2);
	// use the one on PATH, which importSecret just used.
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		return fmt.Errorf("rpmsign %s: %w", path, err)
	}
	extra := "--batch --pinentry-mode error"
	if !k.now.IsZero() {
		extra += fmt.Sprintf(" --faked-system-time %d!", k.signTime().Unix())
	}
	cmd := exec.CommandContext(ctx, "rpmsign", "--addsign",
		"--define", "__gpg "+gpg,
		"--define", "_gpg_name "+k.KeyID()+"!",
		"--define", "_gpg_path "+home,
		"--define", "_gpg_sign_cmd_extra_args "+extra,
		path)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("rpmsign %s: %w: %s", path, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// importSecret loads the unlocked key into the gpg home dir.
func importSecret(ctx context.Context, k *Key, home string) error {
	var secret bytes.Buffer
	if err := k.writeSecret(&secret); err != nil {
		return fmt.Errorf("serialize key %s: %w", k.KeyID(), err)
	}
	cmd := exec.CommandContext(ctx, "gpg", "--batch", "--homedir", home, "--import")
	cmd.Stdin = &secret
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("gpg --import of key %s: %w: %s", k.KeyID(), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// WritePublicFile writes the armored public key to path atomically, e.g.
// dist/RPM-GPG-KEY-NAME for `rpm --import`.
func (k *Key) WritePublicFile(path string) error {
	var buf bytes.Buffer
	if err := k.ExportPublic(&buf); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return fmt.Errorf("public key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("public key %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("public key %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("public key %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("public key %s: %w", path, err)
	}
	return nil
}
