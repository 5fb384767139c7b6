#!/usr/bin/env bash
# What FUSE and an HTTP relay allow on this machine (a benchmark, not a
# test): prints a table. It answers "is 0.9x of curl reachable for any
# FUSE mount, or any WebDAV gateway in front of the repository, here?"
#
#   benches/fuse-ceiling.sh                        # builds the release binary
#   CMISFS_BIN=path/to/cmisfs BIG_MIB=256 benches/fuse-ceiling.sh
#
# Side by side, TRIALS (3) times, best of each:
#   - curl GET / multipart createDocument of a BIG_MIB (512) MiB document
#     against `cmisfs repo` on loopback (the baselines of benches/mount.sh);
#   - cold read and write + fsync of the same size through `cmisfs mount`
#     of that repository;
#   - the same read and write through two mature FUSE file systems over a
#     local directory, no network at all: bindfs (libfuse passthrough) and
#     `rclone mount` of a local path (--vfs-cache-mode off); the file they
#     read is in the page cache, as the repository's store is for curl;
#   - GET and createDocument through nginx as a plain reverse proxy of the
#     repository (large buffers: unbuffered it is slower still), next to
#     cmisfs's WebDAV GET (cold) and PUT: any gateway relays the bytes once
#     more, as cmisfs webdav does.
# Root only (FUSE mounts, /dev/fuse); needs bindfs, rclone and nginx-light
# (apt-get).
# Processes are stopped by PID and mounts unmounted at exit, also on failure.
set -uo pipefail

BIG_MIB=${BIG_MIB:-512}
TRIALS=${TRIALS:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
need() { command -v "$1" >/dev/null 2>&1 || { echo "fuse-ceiling.sh: needs $1 (apt-get install bindfs rclone fuse3 nginx-light)" >&2; exit 1; }; }
for t in bindfs rclone fusermount3 curl python3 nginx; do need "$t"; done
if [ -z "${CMISFS_BIN:-}" ]; then
    (cd "$here" && cargo build --release --quiet) || exit 1
    CMISFS_BIN=$here/target/release/cmisfs
fi

W=$(mktemp -d /tmp/cmisfs-fuse-ceiling.XXXXXX)
PIDS=()
MOUNTS=("$W/m-cmisfs" "$W/m-rclone" "$W/m-bindfs")
cleanup() {
    for m in "${MOUNTS[@]}"; do fusermount3 -u "$m" 2>/dev/null; done
    [ -s "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for m in "${MOUNTS[@]}"; do
        grep -q " $m " /proc/self/mountinfo && fusermount3 -uz "$m"
    done
    rm -rf "$W"
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { python3 -c "print(round($2 - $1, 3))"; }
best() { printf '%s\n' "$@" | sort -g | head -n 1; }
mibs() { python3 -c "print(round($BIG_MIB / $1))"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CMISFS_BIN" repo --data "$W/repo" --listen "127.0.0.1:$port" >"$W/repo.log" 2>&1 &
PIDS+=($!)
BASE=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf -u admin:admin "$BASE/browser" >/dev/null && break; sleep 0.1; done
ROOT=$(curl -sf -u admin:admin "$BASE/browser" \
    | python3 -c 'import json,sys; print(next(iter(json.load(sys.stdin).values()))["rootFolderUrl"])') \
    || { echo "fuse-ceiling.sh: the repository did not start (see $W/repo.log)" >&2; exit 1; }
head -c $((BIG_MIB << 20)) /dev/urandom >"$W/big"
echo admin >"$W/pw"
mkdir -p "$W/local" "${MOUNTS[@]}"
upload() { # NAME [ROOT URL]
    curl -sf -u admin:admin -F cmisaction=createDocument \
        -F 'propertyId[0]=cmis:name' -F "propertyValue[0]=$1" \
        -F 'propertyId[1]=cmis:objectTypeId' -F 'propertyValue[1]=cmis:document' \
        -F "content=@$W/big;type=application/octet-stream" -F succinct=true "${2:-$ROOT}" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["succinctProperties"]["cmis:objectId"])'
}

# nginx as a plain reverse proxy of the repository, on the next free port.
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$W/nginx"
cat >"$W/nginx.conf" <<NGINX
worker_processes 1;
pid $W/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_max_body_size 0;
    client_body_temp_path $W/nginx;
    proxy_temp_path $W/nginx;
    server {
        listen 127.0.0.1:$nport;
        location / {
            proxy_pass http://127.0.0.1:$port;
            proxy_http_version 1.1;
            proxy_request_buffering off;
            proxy_buffering on;
            proxy_buffers 16 1m;
            proxy_buffer_size 1m;
            proxy_busy_buffers_size 8m;
            proxy_max_temp_file_size 0;
        }
    }
}
NGINX
nginx -c "$W/nginx.conf" || { echo "fuse-ceiling.sh: nginx did not start" >&2; exit 1; }
RELAY_ROOT=${ROOT/127.0.0.1:$port/127.0.0.1:$nport}

RUST_LOG=warn "$CMISFS_BIN" mount "$W/m-cmisfs" --url "$BASE/browser" --user admin \
    --password-file "$W/pw" --cache-dir "$W/cache" --webdav 127.0.0.1:0 --webdav-auth none \
    >"$W/mount.log" 2>&1 &
PIDS+=($!)
rclone mount "$W/local" "$W/m-rclone" --vfs-cache-mode off --dir-cache-time 0s \
    --max-read-ahead 1M >"$W/rclone.log" 2>&1 &
PIDS+=($!)
bindfs "$W/local" "$W/m-bindfs" || exit 1
for m in "${MOUNTS[@]}"; do
    for _ in $(seq 100); do grep -q " $m " /proc/self/mountinfo && break; sleep 0.1; done
    grep -q " $m " /proc/self/mountinfo || { echo "fuse-ceiling.sh: $m did not mount" >&2; exit 1; }
done

for _ in $(seq 100); do grep -q "WebDAV endpoint on " "$W/mount.log" && break; sleep 0.1; done
DAV=$(grep -m1 -o "WebDAV endpoint on [^ ]*" "$W/mount.log" | sed 's/WebDAV endpoint on //; s|/$||')
[ -n "$DAV" ] || { echo "fuse-ceiling.sh: no WebDAV endpoint (see $W/mount.log)" >&2; exit 1; }

declare -A S
add() { S[$1]="${S[$1]:-} $2"; }
timed() { local t0 t1; t0=$(now); "${@:2}" || return 1; t1=$(now); add "$1" "$(secs "$t0" "$t1")"; }
read_through() { dd if="$1" of=/dev/null bs=1M status=none; }
write_through() { dd if="$W/big" of="$1" bs=1M conv=fsync status=none; }
for k in $(seq "$TRIALS"); do
    t0=$(now); id=$(upload "c$k.bin"); t1=$(now); add curl_up "$(secs "$t0" "$t1")"
    timed curl_down curl -sf -u admin:admin -o /dev/null "$ROOT?objectId=$id&cmisselector=content"
    timed relay_down curl -sf -u admin:admin -o /dev/null "$RELAY_ROOT?objectId=$id&cmisselector=content"
    t0=$(now); upload "n$k.bin" "$RELAY_ROOT" >/dev/null; t1=$(now); add relay_up "$(secs "$t0" "$t1")"
    upload "r$k.bin" >/dev/null
    upload "d$k.bin" >/dev/null
    sleep 3 # past the mount's negative-lookup and listing TTLs
    timed dav_get curl -sf -o /dev/null "$DAV/d$k.bin"
    timed dav_put curl -sf -o /dev/null -T "$W/big" "$DAV/p$k.bin"
    timed cmisfs_read read_through "$W/m-cmisfs/r$k.bin"
    cp "$W/big" "$W/local/r$k.bin"
    timed rclone_read read_through "$W/m-rclone/r$k.bin"
    timed bindfs_read read_through "$W/m-bindfs/r$k.bin"
    timed cmisfs_write write_through "$W/m-cmisfs/w$k.bin"
    timed rclone_write write_through "$W/m-rclone/w$k.bin"
    timed bindfs_write write_through "$W/m-bindfs/x$k.bin"
    timed local_write write_through "$W/local/y$k.bin"
    rm -f "$W"/local/*.bin
done
for key in "${!S[@]}"; do echo "seconds per trial: $key${S[$key]}" >&2; done

b() { best ${S[$1]}; }
row() { # label, key, baseline key
    local s bs
    s=$(b "$2"); bs=$(b "$3")
    printf '| %s | %s | %s | %s |\n' "$1" "$s" "$(mibs "$s")" \
        "$(python3 -c "print(f'{$bs / $s:.2f}x')")"
}
echo
echo "FUSE and relay ceiling: $BIG_MIB MiB, best of $TRIALS, loopback, $(nproc) cores"
echo
echo "| operation | seconds | MiB/s | vs curl |"
echo "|---|---:|---:|---:|"
row "curl GET of the content stream (cmisfs repo)" curl_down curl_down
row "cmisfs mount: cold read (over HTTP)" cmisfs_read curl_down
row "bindfs over a local directory: read" bindfs_read curl_down
row "rclone mount of a local directory: read" rclone_read curl_down
row "curl createDocument upload (cmisfs repo)" curl_up curl_up
row "cmisfs mount: write + fsync (over HTTP)" cmisfs_write curl_up
row "bindfs over a local directory: write + fsync" bindfs_write curl_up
row "rclone mount of a local directory: write + fsync" rclone_write curl_up
row "local file (no FUSE): write + fsync" local_write curl_up
row "nginx reverse proxy: GET of the content stream" relay_down curl_down
row "cmisfs webdav: GET (cold)" dav_get curl_down
row "nginx reverse proxy: createDocument upload" relay_up curl_up
row "cmisfs webdav: PUT (committed)" dav_put curl_up
