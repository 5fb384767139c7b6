#!/usr/bin/env bash
# Installs what the FUSE end-to-end suite (tests/mount_tools.rs) and
# benches/mount.sh need. Idempotent: each step runs only when its result is
# missing, so ./test.sh can call it on every run.
#   - Debian packages: fuse3 (fusermount3), rsync, git, curl, attr (getfattr), gcc (cc),
#     libreoffice-writer-nogui (soffice: the office worker's save)
#   - crates.io tools, pinned: pjdfstest, fsx (into ~/.cargo/bin)
#   - the `tests` user and `pjdfstest` group pjdfstest switches to
set -euo pipefail

PJDFSTEST_VERSION=0.2.2
FSX_VERSION=0.3.2

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Debian packages -------------------------------------------------------
missing=()
command -v fusermount3 >/dev/null 2>&1 || missing+=(fuse3)
command -v rsync >/dev/null 2>&1 || missing+=(rsync)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v getfattr >/dev/null 2>&1 || missing+=(attr)
command -v cc >/dev/null 2>&1 || missing+=(gcc) # builds pjdfstest's reference-run shim
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-fuse-tools: installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}"
fi
# LibreOffice without its recommends (fonts, Java, help: hundreds of MiB).
if ! command -v soffice >/dev/null 2>&1; then
    echo "setup-fuse-tools: installing libreoffice-writer-nogui"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui
fi
if [ ! -e /dev/fuse ]; then
    echo "setup-fuse-tools: /dev/fuse is missing; FUSE mounts cannot work here" >&2
    exit 1
fi

# --- crates.io tools --------------------------------------------------------
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
installed_version() { # NAME -> version from `cargo install --list`, or empty
    cargo install --list 2>/dev/null | sed -n "s/^$1 v\([0-9.]*\):\$/\1/p"
}
for spec in "pjdfstest:$PJDFSTEST_VERSION" "fsx:$FSX_VERSION"; do
    name=${spec%%:*}
    version=${spec#*:}
    if [ -x "$cargo_bin/$name" ] && [ "$(installed_version "$name")" = "$version" ]; then
        continue
    fi
    echo "setup-fuse-tools: cargo install $name $version"
    cargo install --locked --quiet "$name" --version "$version"
done

# --- users and groups for pjdfstest ------------------------------------------
# pjdfstest's default dummy_auth: `nobody` (with its primary group) and
# `tests` (with its primary group); tests/mount_tools.rs also names a
# `pjdfstest` group, so make both.
getent group tests >/dev/null || as_root groupadd tests
getent passwd tests >/dev/null || as_root useradd -M -N -g tests -s /usr/sbin/nologin tests
getent group pjdfstest >/dev/null || as_root groupadd pjdfstest
getent passwd nobody >/dev/null || as_root useradd -M -s /usr/sbin/nologin nobody

echo "setup-fuse-tools: ok (fusermount3 rsync git curl getfattr soffice pjdfstest fsx, user tests, group pjdfstest)"
