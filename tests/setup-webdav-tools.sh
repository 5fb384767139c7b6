#!/usr/bin/env bash
# Installs the WebDAV clients the webdav tests drive (Debian packages):
# litmus (RFC 4918 compliance suite), davfs2, rclone, cadaver, chromium
# (headless, for the HTML listing screenshot). Idempotent; run as root.
set -euo pipefail
need=()
command -v litmus >/dev/null || need+=(litmus)
command -v mount.davfs >/dev/null || need+=(davfs2)
command -v rclone >/dev/null || need+=(rclone)
command -v cadaver >/dev/null || need+=(cadaver)
command -v chromium >/dev/null || need+=(chromium)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "setup-webdav-tools: missing ${need[*]}; run this script as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# davfs2 asks whether unprivileged users may mount; the tests run as root.
echo "davfs2 davfs2/suid_file boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
