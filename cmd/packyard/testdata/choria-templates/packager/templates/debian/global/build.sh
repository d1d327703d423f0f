#!/bin/bash
# The debian/ tree travels in {{cpkg_tarball}} as
# {{cpkg_name}}-{{cpkg_version}}/dist/debian; dpkg-buildpackage builds the
# binary package there, and dpkg-deb writes it to .., where this script runs
# and the artifacts glob finds it.
set -euo pipefail
tar -xzf {{cpkg_tarball}}
cd {{cpkg_name}}-{{cpkg_version}}
# The project's README, from the copy of its source tree.
cp {{cpkg_source_dir}}/README.md README.md
cp -a dist/debian debian
chmod 0755 debian/rules
dpkg-buildpackage -b -us -uc --host-arch {{cpkg_deb_arch}} -d
