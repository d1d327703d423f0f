package deb

import (
	"strings"
	"sync"
)

// systemDirs are the directories of the base system that a parent
// directory keeps root:root in, whoever owns the file placed in it: those
// of Fedora's filesystem and logrotate packages, the list nfpm v2.45.2
// used. It is kept as nfpm had it (Fedora's, not Debian's, paths) because
// the owner of every implicit directory is part of data.tar, which the
// oracle test compares with nfpm's byte for byte; TestSystemDirs checks
// that the two lists are the same. Each line is a directory, then the
// names of the listed directories under it.
const systemDirs = `
/ afs bin boot dev etc home lib lib64 media mnt opt proc root run sbin srv sys tmp usr var
/etc X11 X11/applnk X11/fontpath.d X11/xinit X11/xinit/xinitrc.d X11/xinit/xinput.d bash_completion.d keys keys/ima opt pki pm pm/config.d pm/power.d pm/sleep.d rwtab.d skel statetab.d sysconfig xdg xdg/autostart logrotate.d
/usr bin games include lib lib64 libexec local sbin share src tmp
/usr/lib debug games locale modules sysimage systemd systemd/system systemd/user sysusers.d tmpfiles.d .build-id .build-id/ae
/usr/lib/debug .dwz bin lib lib64 sbin usr usr/.dwz usr/bin usr/lib usr/lib64 usr/sbin
/usr/lib64 X11 bpf games pm-utils pm-utils/module.d pm-utils/power.d pm-utils/sleep.d
/usr/local bin etc games include lib lib64 lib64/bpf libexec sbin share share/applications share/info share/man src
/usr/local/share/man man1 man1x man2 man2x man3 man3x man4 man4x man5 man5x man6 man6x man7 man7x man8 man8x man9 man9x mann
/usr/share X11 X11/fonts aclocal appdata applications augeas augeas/lenses backgrounds bash-completion bash-completion/completions bash-completion/helpers desktop-directories dict doc empty fish fish/vendor_completions.d games gnome help icons idl info licenses licenses/logrotate locale locale/en_US locale/en_US/LC_MESSAGES man metainfo mime-info misc omf pixmaps sounds themes wayland-sessions xsessions zsh zsh/site-functions
/usr/share/man man0p man1 man1p man1x man2 man2x man3 man3p man3x man4 man4x man5 man5x man6 man6x man7 man7x man8 man8x man9 man9x mann
/usr/src debug kernels
/var adm cache db empty ftp games lib lib/games lib/misc lib/rpm-state lib/logrotate local log mail nis opt preserve run spool spool/lpd spool/mail tmp yp
`

var systemDirSet = sync.OnceValue(func() map[string]bool {
	set := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(systemDirs), "\n") {
		f := strings.Fields(line)
		for _, name := range f[1:] {
			set[strings.TrimSuffix(f[0], "/")+"/"+name] = true
		}
	}
	return set
})

// ownedBySystem says whether dir (absolute, clean) is one of systemDirs.
func ownedBySystem(dir string) bool { return systemDirSet()[dir] }
