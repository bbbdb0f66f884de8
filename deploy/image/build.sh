#!/usr/bin/env bash
# Build the diagnoser image with no registry pull, the way the fault lab builds its images: a Debian
# bookworm minbase rootfs made by debootstrap, Debian's python3, a venv holding diagnoser and its
# dependencies as wheels built here from this checkout, then `docker import` (or a tarball).
#
#   deploy/image/build.sh [TAG]             # imports into the docker engine of DOCKER_HOST
#   IMAGE_TAR=img.tar deploy/image/build.sh # writes the rootfs tarball instead, for `docker import`
#
# Needs root (debootstrap, chroot), debootstrap, and a Debian mirror (DEBIAN_MIRROR) and the Python
# package index that pip on this machine uses. The image runs as user 65532 with diagnose on PATH:
# deploy/cronjob.yaml runs it with a read-only root file system and /tmp on a volume.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAG=${1:-diagnoser:0.1.0}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
rootfs=$WORK/rootfs

# Wheels first, here: a failure in them costs seconds, not a debootstrap. Debian bookworm's python3
# is 3.11, so the wheels are built (or downloaded) for CPython 3.11 on this machine's platform.
python3 -m pip wheel --quiet --disable-pip-version-check -w "$WORK/wheels" "$ROOT" >"$WORK/pip.log" 2>&1 \
  || { tail -20 "$WORK/pip.log" >&2; exit 1; }

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$MIRROR" \
  >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
"$rootfs/usr/bin/python3" --version >/dev/null  # the rootfs' own interpreter runs on this kernel

mkdir -p "$rootfs/wheels"
cp "$WORK"/wheels/*.whl "$rootfs/wheels/"
chroot "$rootfs" python3 -m venv /opt/diagnoser
chroot "$rootfs" /opt/diagnoser/bin/pip install --quiet --no-index --no-cache-dir \
  --disable-pip-version-check --find-links /wheels diagnoser >"$WORK/pip.log" 2>&1 \
  || { tail -20 "$WORK/pip.log" >&2; exit 1; }
rm -rf "$rootfs/wheels"
ln -s /opt/diagnoser/bin/diagnose /opt/diagnoser/bin/diagnoser "$rootfs/usr/local/bin/"
echo "diagnoser:x:65532:65532:diagnoser:/tmp:/usr/sbin/nologin" >>"$rootfs/etc/passwd"
echo "diagnoser:x:65532:" >>"$rootfs/etc/group"
# What a scanner never needs: package lists and caches, documentation, locales.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
chroot "$rootfs" diagnose --version

if [[ -n ${IMAGE_TAR:-} ]]; then
  tar -C "$rootfs" -cf "$IMAGE_TAR" .
  echo "wrote $IMAGE_TAR" >&2
else
  tar -C "$rootfs" -c . | docker import \
    -c 'USER 65532:65532' \
    -c 'ENV PATH=/opt/diagnoser/bin:/usr/local/bin:/usr/bin:/bin HOME=/tmp XDG_CACHE_HOME=/tmp/cache' \
    -c 'WORKDIR /tmp' \
    -c 'ENTRYPOINT ["/opt/diagnoser/bin/diagnose"]' \
    - "$TAG" >/dev/null
  echo "imported $TAG" >&2
fi
