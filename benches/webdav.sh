#!/usr/bin/env bash
# WebDAV endpoint benchmark (not a test): one run on loopback against
# `cmisfs repo`, printing a table (markdown) of
#   - GET and PUT of a SIZE MiB document through the endpoint vs curl of the
#     CMIS content stream directly (targets: GET >= 0.9x, PUT >= 0.85x), the
#     best of three trials on each side, run side by side;
#   - PROPFIND depth 1 on a folder of N documents;
#   - the same read, write and listing through davfs2 and `rclone mount`
#     (webdav backend) on our endpoint vs our own FUSE mount.
# The endpoint and the FUSE mount are one process (`cmisfs mount --webdav`).
#
#   benches/webdav.sh [SIZE_MIB (512)] [N (10000)]
#   LINK=2gbit benches/webdav.sh     # the repository behind a 2 Gbit/s link
#                                    # (tc htb on lo, see benches/link.sh)
#
# Needs root (FUSE, davfs2), curl, davfs2, rclone (tests/setup-webdav-tools.sh).
# Uses target/debug/cmisfs unless CMISFS_BIN is set; `cargo build` first.
set -euo pipefail
SIZE=${1:-512}
N=${2:-10000}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${CMISFS_BIN:-$ROOT/target/debug/cmisfs}
W=$(mktemp -d /tmp/cmisfs-webdav-bench.XXXXXX)
# shellcheck source=benches/link.sh
. "$ROOT/benches/link.sh"
PIDS=()
MOUNTS=()
cleanup() {
    link_unshape
    for m in "${MOUNTS[@]}"; do
        umount "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    sleep 1
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    rm -rf "$W"
}
trap cleanup EXIT

wait_line() { # FILE PATTERN -> the rest of the first line matching
    for _ in $(seq 600); do
        if grep -q "$2" "$1" 2>/dev/null; then
            grep -m1 "$2" "$1" | sed "s|.*$2||"
            return
        fi
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1" >&2
    cat "$1" >&2
    exit 1
}
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
ROWS=()
row() { # NAME SECONDS BYTES BASELINE_SECONDS
    local mibs ratio=""
    mibs=$(echo "scale=1; $3 / 1048576 / $2" | bc -l)
    if [[ -n ${4:-} ]]; then ratio=$(echo "scale=2; $4 / $2" | bc -l)x; fi
    ROWS+=("| $1 | $(printf %.2f "$2") | $mibs | $ratio |")
}
lrow() { # NAME SECONDS BASELINE_SECONDS
    local ratio=""
    if [[ -n ${3:-} ]]; then ratio=$(echo "scale=2; $3 / $2" | bc -l)x; fi
    ROWS+=("| $1 | $(printf %.2f "$2") | | $ratio |")
}

# --- the repository, and our mount + endpoint in one process
"$BIN" repo --data "$W/repo" --listen 127.0.0.1:0 >"$W/repo.log" 2>&1 &
PIDS+=($!)
SERVICE=$(wait_line "$W/repo.log" "service URL: ")
REPOID=$(wait_line "$W/repo.log" "repository id: ")
RPORT=${SERVICE##*:}
RPORT=${RPORT%%/*}
link_shape "$RPORT"
RURL="$SERVICE/$REPOID/root"
A=(-s -u admin:admin)
echo admin >"$W/pw"
mkdir -p "$W/mnt" "$W/davfs" "$W/rclone"
"$BIN" mount "$W/mnt" --url "$SERVICE" --user admin --password-file "$W/pw" \
    --cache-dir "$W/cache" --webdav 127.0.0.1:0 --webdav-auth none \
    >"$W/mount.log" 2>&1 &
PIDS+=($!)
DAV=$(wait_line "$W/mount.log" "WebDAV endpoint on ")
DAV=${DAV%/}
MOUNTS+=("$W/mnt")

echo "making a $SIZE MiB file and $N documents..." >&2
head -c $((SIZE << 20)) /dev/urandom >"$W/big.bin"
BYTES=$((SIZE << 20))
create() { # NAME FILE [FOLDER URL]
    curl -s -u admin:admin -o /dev/null -F cmisaction=createDocument \
        -F "propertyId[0]=cmis:name" -F "propertyValue[0]=$1" \
        -F "propertyId[1]=cmis:objectTypeId" -F "propertyValue[1]=cmis:document" \
        -F "content=@$2" "${3:-$RURL}"
}
curl "${A[@]}" -o /dev/null -F cmisaction=createFolder -F "propertyId[0]=cmis:name" \
    -F "propertyValue[0]=many" -F "propertyId[1]=cmis:objectTypeId" \
    -F "propertyValue[1]=cmis:folder" "$RURL"
echo x >"$W/tiny"
export -f create
export RURL W
seq 1 "$N" | xargs -P 4 -I{} bash -c 'create "doc{}.txt" "$W/tiny" "$RURL/many"'

# --- direct CMIS and our endpoint, side by side: GET and PUT
# Three trials; each runs the direct CMIS PUT and GET and the endpoint's
# cold GET and PUT back to back, and each figure is the best trial of its
# side (as benches/mount.sh does: one run on a 2-core VM swings by +-30%).
for n in a c d; do create "read-$n.bin" "$W/big.bin"; done
best() { printf '%s\n' "$@" | sort -g | head -n 1; }
PUT_S=(); GET_S=(); DGET_S=(); DPUT_S=(); DOVER_S=()
for k in 1 2 3; do
    t0=$(now); create "direct-put-$k.bin" "$W/big.bin"; t1=$(now)
    PUT_S+=("$(secs "$t0" "$t1")")
    create "read-b$k.bin" "$W/big.bin"
    t0=$(now); curl "${A[@]}" -o /dev/null "$RURL/read-b$k.bin?cmisselector=content"; t1=$(now)
    GET_S+=("$(secs "$t0" "$t1")")
    sleep 3 # metadata TTL: the endpoint has not seen read-b$k yet either way
    t0=$(now); curl -s -o /dev/null "$DAV/read-b$k.bin"; t1=$(now)
    DGET_S+=("$(secs "$t0" "$t1")")
    t0=$(now); curl -s -o /dev/null -T "$W/big.bin" "$DAV/dav-put-$k.bin"; t1=$(now)
    DPUT_S+=("$(secs "$t0" "$t1")")
    # The same again: a new version of the document the PUT just made.
    t0=$(now); curl -s -o /dev/null -T "$W/big.bin" "$DAV/dav-put-$k.bin"; t1=$(now)
    DOVER_S+=("$(secs "$t0" "$t1")")
done
echo "seconds per trial: direct PUT ${PUT_S[*]}; direct GET ${GET_S[*]}; WebDAV GET ${DGET_S[*]}; WebDAV PUT ${DPUT_S[*]}; WebDAV PUT over it ${DOVER_S[*]}" >&2
PUT_DIRECT=$(best "${PUT_S[@]}")
GET_DIRECT=$(best "${GET_S[@]}")
row "direct CMIS GET (curl, best of 3)" "$GET_DIRECT" $BYTES
row "direct CMIS PUT (curl createDocument, best of 3)" "$PUT_DIRECT" $BYTES
row "WebDAV GET (curl, cold, best of 3)" "$(best "${DGET_S[@]}")" $BYTES "$GET_DIRECT"
row "WebDAV PUT (curl, committed, best of 3)" "$(best "${DPUT_S[@]}")" $BYTES "$PUT_DIRECT"
row "WebDAV PUT over it (a new version, best of 3)" "$(best "${DOVER_S[@]}")" $BYTES "$PUT_DIRECT"
t0=$(now); curl -s -o /dev/null -X PROPFIND -H "Depth: 1" "$DAV/many/"; t1=$(now)
PROPFIND=$(secs "$t0" "$t1")
lrow "WebDAV PROPFIND depth 1, $N documents" "$PROPFIND"

# --- our FUSE mount (same process)
sleep 3
t0=$(now); cat "$W/mnt/read-a.bin" >/dev/null; t1=$(now)
FUSE_GET=$(secs "$t0" "$t1")
row "FUSE read (cold)" "$FUSE_GET" $BYTES "$GET_DIRECT"
t0=$(now); dd if="$W/big.bin" of="$W/mnt/fuse-put.bin" bs=1M conv=fsync status=none; t1=$(now)
FUSE_PUT=$(secs "$t0" "$t1")
row "FUSE write + fsync" "$FUSE_PUT" $BYTES "$PUT_DIRECT"
t0=$(now); ls -l "$W/mnt/many" >/dev/null; t1=$(now)
FUSE_LS=$(secs "$t0" "$t1")
lrow "FUSE ls -l, $N documents" "$FUSE_LS"

# --- davfs2 on our endpoint
printf 'use_locks 0\nask_auth 0\ndelay_upload 0\n' >"$W/davfs2.conf"
mount -t davfs "$DAV/" "$W/davfs" -o "conf=$W/davfs2.conf" </dev/null
MOUNTS+=("$W/davfs")
sleep 3
t0=$(now); cat "$W/davfs/read-c.bin" >/dev/null; t1=$(now)
row "davfs2 read (cold)" "$(secs "$t0" "$t1")" $BYTES "$FUSE_GET"
t0=$(now); cp "$W/big.bin" "$W/davfs/davfs-put.bin"; umount "$W/davfs"; t1=$(now)
row "davfs2 write (cp + umount uploads)" "$(secs "$t0" "$t1")" $BYTES "$FUSE_PUT"
mount -t davfs "$DAV/" "$W/davfs" -o "conf=$W/davfs2.conf" </dev/null
sleep 3
# davfs2 1.6.1 on this kind of machine fails readdir with EINVAL against any
# server (rclone serve webdav too): the row says so instead of a time.
t0=$(now)
if ls -l "$W/davfs/many" >/dev/null 2>"$W/davfs-ls.err"; then
    t1=$(now)
    lrow "davfs2 ls -l, $N documents" "$(secs "$t0" "$t1")" "$FUSE_LS"
else
    ROWS+=("| davfs2 ls -l, $N documents | failed: $(head -c 80 "$W/davfs-ls.err") | | |")
fi
umount "$W/davfs"

# --- rclone mount on our endpoint
export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_DAV_TYPE=webdav RCLONE_CONFIG_DAV_URL="$DAV/" \
    RCLONE_CONFIG_DAV_VENDOR=owncloud
rclone mount dav: "$W/rclone" --vfs-cache-mode off >"$W/rclone.log" 2>&1 &
PIDS+=($!)
MOUNTS+=("$W/rclone")
for _ in $(seq 100); do mountpoint -q "$W/rclone" && break; sleep 0.1; done
t0=$(now); cat "$W/rclone/read-d.bin" >/dev/null; t1=$(now)
row "rclone mount read (cold)" "$(secs "$t0" "$t1")" $BYTES "$FUSE_GET"
t0=$(now); cp "$W/big.bin" "$W/rclone/rclone-put.bin"; t1=$(now)
row "rclone mount write (streamed PUT)" "$(secs "$t0" "$t1")" $BYTES "$FUSE_PUT"
t0=$(now); ls -l "$W/rclone/many" >/dev/null; t1=$(now)
lrow "rclone mount ls -l, $N documents" "$(secs "$t0" "$t1")" "$FUSE_LS"

echo
echo "WebDAV benchmark: $SIZE MiB document, $N-document folder, loopback${LINK:+ shaped to $LINK}, $(nproc) cores"
echo
echo "| operation | seconds | MiB/s | vs baseline |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Baselines: endpoint GET/PUT vs direct CMIS; davfs2 and rclone mount vs our FUSE mount."
