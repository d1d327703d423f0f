#!/bin/bash
# Run in the directory holding {{cpkg_tarball}} (whose
# {{cpkg_name}}-{{cpkg_version}}/dist/ holds this file): rpmbuild -ta finds
# dist/choria.spec in the tarball. The artifacts are found from here.
set -euo pipefail
# Times and host from the build, not the clock: reproducible rpms.
rpmbuild --define "_topdir ${PWD}/rpmbuild" --define "dist .{{cpkg_dist}}" \
  --define "use_source_date_epoch_as_buildtime 1" --define "_buildhost packyard" \
  --define "clamp_mtime_to_source_date_epoch 1" \
  --target {{cpkg_rpm_arch}} -ta {{cpkg_tarball}}
