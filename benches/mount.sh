#!/usr/bin/env bash
# Benchmark of `cmisfs mount` (issue 4), not a test: prints a table.
#
#   benches/mount.sh                 # builds the release binary, then measures
#   CMISFS_BIN=path/to/cmisfs benches/mount.sh   # skip the build
#   BIG_MIB=64 LS_DOCS=1000 RSYNC_FILES=500 benches/mount.sh   # a quick look
#   LINK=2gbit benches/mount.sh      # the repository behind a 2 Gbit/s link
#                                    # (tc htb on lo, see benches/link.sh)
#
# One run, on loopback, against the embedded repository (`cmisfs repo`, run
# as its own process so curl and the mount talk to the same server):
#   1. cold sequential read of a BIG_MIB (512) MiB document through the mount
#      vs `curl` of its content stream;
#   2. sequential write of BIG_MIB MiB + fsync through the mount vs `curl`
#      upload (multipart createDocument);
#   3. warm re-read through the mount vs reading a local file (warm);
#   4. `ls -l` of a LS_DOCS (10,000) document folder through a second mount
#      behind a counting proxy: CMIS requests, against ceil(N/pageSize)+2
#      (pageSize = the largest maxItems the mount asked for, else the
#      server's default of 100);
#   5. second `rsync -a` of RSYNC_FILES (5,000) files into the mount vs the
#      same between two local directories;
#   6. peak RSS (VmHWM) of the mount daemons.
# Throughputs (1-3) are the best of TRIALS (3) runs, curl's and the mount's
# alike; every run's seconds go to stderr.
# Everything lives in a temp dir that is removed at exit; processes are
# stopped by PID and mounts unmounted (trap), also on failure. Nothing is
# written into the repository checkout except cargo's target/.
set -uo pipefail

BIG_MIB=${BIG_MIB:-512}
LS_DOCS=${LS_DOCS:-10000}
RSYNC_FILES=${RSYNC_FILES:-5000}
TRIALS=${TRIALS:-3}
MOUNT_ARGS=${MOUNT_ARGS:-}

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/link.sh
. "$here/benches/link.sh"
need() { command -v "$1" >/dev/null 2>&1 || { echo "mount.sh: needs $1 (run tests/setup-fuse-tools.sh)" >&2; exit 1; }; }
for t in curl rsync fusermount3 python3 dd; do need "$t"; done

if [ -z "${CMISFS_BIN:-}" ]; then
    (cd "$here" && cargo build --release --quiet) || { echo "mount.sh: release build failed" >&2; exit 1; }
    CMISFS_BIN="$here/target/release/cmisfs"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cmisfs-bench-mount.XXXXXX")
pids=()
mounts=()
cleanup() {
    link_unshape
    for mp in "${mounts[@]}"; do
        if grep -q " $mp " /proc/self/mountinfo 2>/dev/null; then
            fusermount3 -u "$mp" 2>/dev/null || fusermount3 -uz "$mp" 2>/dev/null
        fi
    done
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    sleep 1
    for p in "${pids[@]}"; do
        kill -9 "$p" 2>/dev/null
    done
    for mp in "${mounts[@]}"; do
        grep -q " $mp " /proc/self/mountinfo 2>/dev/null && fusermount3 -uz "$mp" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
calc() { python3 -c "import sys, math; print($1)"; }
log() { echo "mount.sh: $*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- the repository --------------------------------------------------------------
port=$(free_port)
"$CMISFS_BIN" repo --data "$work/repo" --listen "127.0.0.1:$port" >"$work/repo.log" 2>&1 &
pids+=($!)
base="http://127.0.0.1:$port"
link_shape "$port"
for _ in $(seq 100); do curl -sf -u admin:admin "$base/browser" >/dev/null && break; sleep 0.1; done
echo admin >"$work/password"
root_url=$(curl -sf -u admin:admin "$base/browser" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(next(iter(d.values()))["rootFolderUrl"])') \
    || { log "repository did not start:"; cat "$work/repo.log" >&2; exit 1; }
log "repository at $base (root $root_url)"

# --- mounts -------------------------------------------------------------------------
# start_mount MOUNTPOINT URL CACHE -> sets mount_pid
start_mount() {
    local mp=$1 url=$2 cache=$3
    mkdir -p "$mp" "$cache"
    # shellcheck disable=SC2086
    "$CMISFS_BIN" mount "$mp" --url "$url" --user admin --password-file "$work/password" \
        --cache-dir "$cache" $MOUNT_ARGS \
        >"$work/$(basename "$mp").log" 2>&1 &
    mount_pid=$!
    pids+=("$mount_pid")
    mounts+=("$mp")
    for _ in $(seq 300); do
        if grep -q " $mp " /proc/self/mountinfo && stat "$mp" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$mount_pid" 2>/dev/null || break
        sleep 0.1
    done
    log "mount at $mp did not come up; log:"
    tail -20 "$work/$(basename "$mp").log" >&2
    return 1
}
stop_mount() { # MOUNTPOINT PID: clean unmount (flush), wait for the daemon
    fusermount3 -u "$1" 2>/dev/null
    for _ in $(seq 600); do kill -0 "$2" 2>/dev/null || return 0; sleep 0.1; done
    kill "$2" 2>/dev/null
}
peak_rss_kib() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null; }

# Results: name|mount|baseline|unit|ratio|target|ok
results=()
add() { results+=("$1|$2|$3|$4|$5|$6|$7"); }
ok_ge() { calc "'yes' if $1 >= $2 else 'NO'"; }
ok_le() { calc "'yes' if $1 <= $2 else 'NO'"; }
mibs() { calc "$1 / $2"; } # MiB, seconds -> MiB/s
ratio() { calc "f'{$1:.2f}×'"; }

# --- 1-3: big file ------------------------------------------------------------------
# Each throughput is the best of TRIALS runs, on both sides alike, and each
# trial runs the baselines and the mount's measures back to back: on this
# kind of VM a run swings by +-30%, mostly with the host's cost of the first
# touch of memory the guest has not used lately (which grows as the page
# cache fills), so a baseline measured minutes before the mount is not a fair
# comparison.
big="$work/big.bin"
head -c $((BIG_MIB * 1024 * 1024)) /dev/urandom >"$big"
cat "$big" >/dev/null
best_of() { calc "min($*)"; } # seconds...
best_mibs() { mibs "$BIG_MIB" "$(best_of "${@/%/,}" 1e9)"; }

mnt="$work/mnt"
rss_max=0
if start_mount "$mnt" "$base/browser" "$work/cache"; then
    main_pid=$mount_pid
    up_s=(); down_s=(); local_s=(); cold_s=(); warm_s=(); write_s=(); failed=""
    for k in $(seq "$TRIALS"); do
        t0=$(now)
        up=$(curl -sf -u admin:admin -F cmisaction=createDocument \
            -F 'propertyId[0]=cmis:name' -F "propertyValue[0]=curl$k.bin" \
            -F 'propertyId[1]=cmis:objectTypeId' -F 'propertyValue[1]=cmis:document' \
            -F "content=@$big;type=application/octet-stream" -F succinct=true "$root_url")
        t1=$(now)
        up_s+=("$(elapsed "$t0" "$t1")")
        id=$(echo "$up" | python3 -c 'import json,sys; print(json.load(sys.stdin)["succinctProperties"]["cmis:objectId"])')
        t0=$(now); curl -sf -u admin:admin -o /dev/null "$root_url?objectId=$id&cmisselector=content"; t1=$(now)
        down_s+=("$(elapsed "$t0" "$t1")")
        t0=$(now); cat "$big" >/dev/null; t1=$(now)
        local_s+=("$(elapsed "$t0" "$t1")")
        # Cold: a document the mount has never read.
        t0=$(now); dd if="$mnt/curl$k.bin" of=/dev/null bs=1M status=none || failed=1; t1=$(now)
        cold_s+=("$(elapsed "$t0" "$t1")")
        t0=$(now); dd if="$mnt/curl$k.bin" of=/dev/null bs=1M status=none || failed=1; t1=$(now)
        warm_s+=("$(elapsed "$t0" "$t1")")
        t0=$(now); dd if="$big" of="$mnt/written$k.bin" bs=1M conv=fsync status=none || failed=w; t1=$(now)
        write_s+=("$(elapsed "$t0" "$t1")")
    done
    log "seconds per trial: curl up ${up_s[*]}; curl down ${down_s[*]}; local read ${local_s[*]}; cold ${cold_s[*]}; warm ${warm_s[*]}; write ${write_s[*]}"
    curl_up=$(best_mibs "${up_s[@]}"); curl_down=$(best_mibs "${down_s[@]}")
    local_read=$(best_mibs "${local_s[@]}")
    if [ "$failed" != 1 ]; then
        cold=$(best_mibs "${cold_s[@]}"); warm=$(best_mibs "${warm_s[@]}")
        add "cold sequential read ${BIG_MIB} MiB (best of $TRIALS)" "$cold" "$curl_down" "MiB/s (vs curl GET)" "$(ratio "$cold / $curl_down")" "≥ 0.9×" "$(ok_ge "$cold / $curl_down" 0.9)"
        add "warm re-read ${BIG_MIB} MiB (best of $TRIALS)" "$warm" "$local_read" "MiB/s (vs local file)" "$(ratio "$warm / $local_read")" "≥ 0.7×" "$(ok_ge "$warm / $local_read" 0.7)"
    else
        add "cold sequential read ${BIG_MIB} MiB" "failed" "$curl_down" "MiB/s" "-" "≥ 0.9×" "NO"
        add "warm re-read ${BIG_MIB} MiB" "failed" "$local_read" "MiB/s" "-" "≥ 0.7×" "NO"
    fi
    if [ "$failed" != w ]; then
        wr=$(best_mibs "${write_s[@]}")
        add "write ${BIG_MIB} MiB + fsync (best of $TRIALS)" "$wr" "$curl_up" "MiB/s (vs curl upload)" "$(ratio "$wr / $curl_up")" "≥ 0.85×" "$(ok_ge "$wr / $curl_up" 0.85)"
    else
        add "write ${BIG_MIB} MiB + fsync" "failed" "$curl_up" "MiB/s" "-" "≥ 0.85×" "NO"
    fi

    # --- 5: rsync no-op -------------------------------------------------------------
    src="$work/src5k"
    python3 - "$src" "$RSYNC_FILES" <<'EOF'
import os, sys, random
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(5)
for i in range(n):
    d = os.path.join(root, f"d{i % 50:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.txt"), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(100, 4096)))
EOF
    rsync -a "$src/" "$work/local5k/"
    best_local=999999
    for _ in 1 2 3; do
        t0=$(now); rsync -a "$src/" "$work/local5k/"; t1=$(now)
        best_local=$(calc "min($best_local, $(elapsed "$t0" "$t1"))")
    done
    t0=$(now); rsync -a "$src/" "$mnt/r5k/"; rc=$?; t1=$(now)
    first_mount=$(elapsed "$t0" "$t1")
    if [ $rc -eq 0 ]; then
        best_mount=999999
        transferred=0
        for _ in 1 2 3; do
            t0=$(now); st=$(rsync -a --stats "$src/" "$mnt/r5k/"); t1=$(now)
            best_mount=$(calc "min($best_mount, $(elapsed "$t0" "$t1"))")
            n=$(echo "$st" | sed -n 's/^Number of regular files transferred: \([0-9,]*\)/\1/p' | tr -d ,)
            transferred=$(calc "max($transferred, ${n:-0})")
        done
        add "second rsync -a, ${RSYNC_FILES} files (first: ${first_mount}s; max re-sent: $transferred)" "$best_mount" "$best_local" "s (vs local→local)" "$(ratio "$best_mount / max($best_local, 0.001)")" "≤ 1.5×" "$(ok_le "$best_mount / max($best_local, 0.001)" 1.5)"
    else
        add "second rsync -a, ${RSYNC_FILES} files" "failed" "$best_local" "s" "-" "≤ 1.5×" "NO"
    fi
    rss_io=$(peak_rss_kib "$main_pid"); rss_max=$(calc "max($rss_max, ${rss_io:-0})")
    stop_mount "$mnt" "$main_pid"
else
    for m in "cold sequential read" "warm re-read" "write + fsync" "second rsync -a"; do
        add "$m" "mount failed" "-" "" "-" "" "NO"
    done
fi

# --- 4: ls -l of a big folder through a counting proxy ---------------------------------
python3 - "$root_url" "$LS_DOCS" <<'EOF'
# Creates LS_DOCS small documents in a new folder ls10k, over one keep-alive connection.
import base64, http.client, json, sys, urllib.parse, uuid
root_url, n = sys.argv[1], int(sys.argv[2])
u = urllib.parse.urlsplit(root_url)
c = http.client.HTTPConnection(u.hostname, u.port)
auth = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}
def post(path, fields, content=None):
    b = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    if content is not None:
        parts.append(f'--{b}\r\nContent-Disposition: form-data; name="content"; filename="x"\r\n'
                     f'Content-Type: text/plain\r\n\r\n'.encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{b}--\r\n".encode()
    c.request("POST", path, body, {**auth, "Content-Type": f"multipart/form-data; boundary={b}"})
    r = c.getresponse(); data = r.read()
    if r.status >= 300:
        sys.exit(f"create failed: {r.status} {data[:200]!r}")
    return json.loads(data)
f = post(u.path, {"cmisaction": "createFolder", "propertyId[0]": "cmis:name", "propertyValue[0]": "ls10k",
                  "propertyId[1]": "cmis:objectTypeId", "propertyValue[1]": "cmis:folder", "succinct": "true"})
fid = f["succinctProperties"]["cmis:objectId"]
path = u.path + "?objectId=" + urllib.parse.quote(fid)
for i in range(n):
    post(path, {"cmisaction": "createDocument", "propertyId[0]": "cmis:name", "propertyValue[0]": f"doc-{i:05d}.txt",
                "propertyId[1]": "cmis:objectTypeId", "propertyValue[1]": "cmis:document", "succinct": "true"},
         f"document {i}\n".encode())
EOF
[ $? -eq 0 ] || log "creating the ls folder failed"

cat >"$work/proxy.py" <<'EOF'
# A counting HTTP reverse proxy: every request is forwarded to the upstream
# (keeping the Host header, so the server's URLs point back here), counted,
# and its method and target appended to the log file.
import http.client, http.server, sys, threading
listen_port, up_port, logfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate"}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def fwd(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        with lock, open(logfile, "a") as f:
            f.write(f"{self.command} {self.path}\n")
        c = http.client.HTTPConnection("127.0.0.1", up_port)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        c.request(self.command, self.path, body, hdrs)
        r = c.getresponse(); data = r.read(); c.close()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = fwd
http.server.ThreadingHTTPServer(("127.0.0.1", listen_port), H).serve_forever()
EOF
pport=$(free_port)
python3 "$work/proxy.py" "$pport" "$port" "$work/proxy.log" &
pids+=($!)
for _ in $(seq 50); do curl -sf -u admin:admin "http://127.0.0.1:$pport/browser" >/dev/null && break; sleep 0.1; done
mnt2="$work/mnt-ls"
if start_mount "$mnt2" "http://127.0.0.1:$pport/browser" "$work/cache-ls"; then
    ls_pid=$mount_pid
    sleep 1 # let start-up requests settle
    c0=$(wc -l <"$work/proxy.log")
    t0=$(now); entries=$(ls -l "$mnt2/ls10k" | grep -c '^-'); t1=$(now)
    c1=$(wc -l <"$work/proxy.log")
    reqs=$((c1 - c0))
    page=$(tail -n +"$((c0 + 1))" "$work/proxy.log" | grep -i 'cmisselector=children' \
        | grep -o -i 'maxItems=[0-9]*' | cut -d= -f2 | sort -n | tail -1)
    page=${page:-100}
    log "requests of ls -l, by kind:"
    tail -n +"$((c0 + 1))" "$work/proxy.log" | head -n "$reqs" \
        | sed -E 's/([?&])(objectId|skipCount|maxItems|succinct|filter|includeAllowableActions|changeLogToken)=[^&]*/\1/g; s/[?&]+/?/; s/&&+/\&/g' \
        | sort | uniq -c | sort -rn | head -20 >&2
    limit=$(calc "math.ceil($LS_DOCS / $page) + 2")
    add "ls -l of ${LS_DOCS} documents ($entries listed, $(elapsed "$t0" "$t1") s, pageSize $page)" "$reqs" "$limit" "CMIS requests (vs limit)" "-" "≤ ⌈N/pageSize⌉+2" "$(ok_le "$reqs" "$limit")$([ "$entries" -eq "$LS_DOCS" ] || echo " (listed $entries of $LS_DOCS)")"
    rss_ls=$(peak_rss_kib "$ls_pid"); rss_max=$(calc "max($rss_max, ${rss_ls:-0})")
    stop_mount "$mnt2" "$ls_pid"
else
    add "ls -l of ${LS_DOCS} documents" "mount failed" "-" "" "-" "" "NO"
fi
rss_mib=$(calc "round($rss_max / 1024, 1)")
add "peak RSS of the mount daemon (I/O mount $(calc "round(${rss_io:-0} / 1024)") MiB, ls mount $(calc "round(${rss_ls:-0} / 1024)") MiB)" "$rss_mib" "150" "MiB (vs limit)" "-" "≤ 150 MiB" "$(ok_le "$rss_mib" 150)"

# --- the table -------------------------------------------------------------------------
echo
echo "cmisfs mount benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, loopback${LINK:+ shaped to $LINK}, embedded repository"
echo
printf '| %s | %s | %s | %s | %s | %s | %s |\n' "measure" "mount" "baseline" "unit" "ratio" "target" "met"
printf '|---|---:|---:|---|---:|---|---|\n'
for r in "${results[@]}"; do
    IFS='|' read -r name m b unit ratio target ok <<<"$r"
    case "$m" in [0-9]*.*) m=$(calc "f'{$m:.2f}'" 2>/dev/null || echo "$m") ;; esac
    case "$b" in [0-9]*.*) b=$(calc "f'{$b:.2f}'" 2>/dev/null || echo "$b") ;; esac
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$m" "$b" "$unit" "$ratio" "$target" "$ok"
done
