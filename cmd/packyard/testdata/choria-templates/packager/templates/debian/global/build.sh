#!/bin/bash
# The debian/ tree travels in the tarball as dist/debian; dpkg-buildpackage
# builds the binary package from the unpacked source.
set -euo pipefail
tar -xzf {{cpkg_tarball}}
cd {{cpkg_source_dir}}
cp -a dist/debian debian
chmod 0755 debian/rules
dpkg-buildpackage -b -us -uc --host-arch {{cpkg_deb_arch}} -d
