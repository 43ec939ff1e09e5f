#!/bin/sh
# Example hook for `pkgos build-image --hook-script` (and the reference's
# -hs). It runs on the build host, after the tree is configured and before
# the file systems are made, with:
#   BODI_CHROOT_PATH  the image's root tree (also PKGOS_IMAGE_ROOT)
#   BODI_RELEASE      the Debian release
# Any non-zero exit fails the build, and the build removes everything.
set -eu

# Add a message of the day.
printf 'Built with openstack-pkg-tools for %s.\n' "$BODI_RELEASE" > "$BODI_CHROOT_PATH/etc/motd"

# Run a command inside the image (no network, no daemons):
# chroot "$BODI_CHROOT_PATH" apt-get -y install --no-install-recommends htop
