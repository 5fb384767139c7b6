#!/usr/bin/env bash
# Runs every test of cmisfs on a fresh machine: installs what is missing,
# then runs each step and prints one summary line per step.
#
#   ./test.sh
#
# Steps (docs/testing.md explains each and how to run one alone):
#   setup             Debian packages (also the WebDAV clients and FUSE tools, via
#                     tests/setup-{webdav,fuse}-tools.sh), Rust components, the OpenCMIS war and
#                     the TCK (mvn, into ~/.m2), cmislib (venv in .cache/venv)
#   fmt               cargo fmt --check
#   build             cargo build --all-targets (once; tests reuse it)
#   clippy            cargo clippy --all-targets -- -D warnings
#   cargo-test        cargo test, with OpenCMIS InMemory running
#                     (CMISFS_OPENCMIS_URL set for the contract suites)
#   cmislib-opencmis  the cmislib client check against OpenCMIS InMemory
#   cmislib-embedded  the cmislib client check against `cmisfs repo`
#   tck-embedded      the OpenCMIS TCK against `cmisfs repo`
#
# Exit status 0 only if every step passed. A failed step is named in a line
# "test.sh: step NAME failed"; steps that need it are then not run (and say
# so). Every server this script starts is stopped by PID on exit, also on
# failure or Ctrl-C.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$PWD
CACHE=$ROOT/.cache
LOGS=$CACHE/test-logs
VENV=$CACHE/venv
BIN=$ROOT/target/debug/cmisfs
# The embedded repository's default account (no --users file).
REPO_USER="admin"
REPO_PASSWORD="admin"

mkdir -p "$LOGS"
# Our own OpenCMIS instance, not the machine-wide one other checkouts may
# share: a clean repository for every run, and stopping it harms no one.
export CMISFS_OPENCMIS_STATE=${CMISFS_OPENCMIS_STATE:-$CACHE/opencmis}
export CARGO_TERM_COLOR=never
[[ -d $HOME/.cargo/bin ]] && PATH=$HOME/.cargo/bin:$PATH

# ---------------------------------------------------------------- helpers

say() { echo "test.sh: $*"; }

# Runs a command with its output in a log file; shows the log if it fails.
quietly() {
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        say "command failed: $* (full log: $log)" >&2
        return 1
    fi
}

SUMMARY=()
FAILED=()
PASSED=0
STEP_OK=no

# run_step NAME FUNCTION: runs one step in a subshell with `set -e` and
# records the result in STEP_OK and the summary. Never call it as a
# condition (`if run_step`, `run_step || ...`): bash then ignores set -e in
# everything it runs.
run_step() {
    local name=$1 fn=$2 start rc
    echo
    say "=== $name"
    start=$SECONDS
    set +e
    (
        set -e
        trap stop_repos EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        "$fn"
    )
    rc=$?
    set -e
    record "$name" "$rc" $((SECONDS - start))
}

record() {
    local name=$1 rc=$2 took=$3
    if (($2 == 0)); then
        SUMMARY+=("PASS     $name (${took}s)")
        PASSED=$((PASSED + 1))
        STEP_OK=yes
    else
        SUMMARY+=("FAIL     $name (${took}s)")
        FAILED+=("$name")
        STEP_OK=no
        say "step $name failed"
    fi
}

not_run() {
    SUMMARY+=("NOT RUN  $1 ($2)")
    FAILED+=("$1")
    say "step $1 not run: $2"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- cleanup

OPENCMIS_STARTED=no
# PIDs of the `cmisfs repo` servers, one per line: steps run in subshells,
# so the list lives in a file that every shell's cleanup reads.
REPO_PIDS_FILE=$CACHE/test-repo-pids.$$
: >"$REPO_PIDS_FILE"

stop_pid() {
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.25
    done
    kill -9 "$pid" 2>/dev/null || true
}

stop_repos() {
    local pid
    [[ -f $REPO_PIDS_FILE ]] || return 0
    while read -r pid; do
        [[ -n $pid ]] && stop_pid "$pid"
    done <"$REPO_PIDS_FILE"
    : >"$REPO_PIDS_FILE"
}

cleanup() {
    stop_repos
    rm -f "$REPO_PIDS_FILE"
    if [[ $OPENCMIS_STARTED == yes ]]; then
        tests/opencmis-server.sh stop >/dev/null 2>&1 || say "could not stop OpenCMIS InMemory" >&2
    fi
    rm -rf "${TMPDIR:-/tmp}"/cmisfs-test-$$-* 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- setup

APT_UPDATED=no
apt_install() {
    local sudo=()
    if [[ $(id -u) != 0 ]]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo=(sudo)
        else
            say "missing Debian packages: $*; install them as root: apt-get install $*" >&2
            return 1
        fi
    fi
    if [[ $APT_UPDATED == no ]]; then
        quietly "$LOGS/apt-update.log" "${sudo[@]}" apt-get update -q
        APT_UPDATED=yes
    fi
    say "installing: $*"
    quietly "$LOGS/apt-install.log" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "$@"
}

setup_system() {
    local missing=()
    command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null || missing+=(maven)
    [[ -f /usr/share/jetty9/start.jar ]] || missing+=(jetty9)
    command -v fusermount3 >/dev/null || missing+=(fuse3)
    command -v rsync >/dev/null || missing+=(rsync)
    command -v curl >/dev/null || missing+=(curl)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v unzip >/dev/null || command -v jar >/dev/null || missing+=(unzip)
    command -v python3 >/dev/null || missing+=(python3)
    # A python3 without venv support (Debian's, before python3-venv).
    if command -v python3 >/dev/null && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        missing+=(python3-venv)
    fi
    if ((${#missing[@]})); then
        apt_install "${missing[@]}"
    fi
    # Check again: a package that installed but gave no tool is a failure too.
    command -v java >/dev/null || { say "java is missing and could not be installed" >&2; return 1; }
    command -v mvn >/dev/null || { say "mvn is missing and could not be installed" >&2; return 1; }
    [[ -f /usr/share/jetty9/start.jar ]] || { say "jetty9 is missing and could not be installed" >&2; return 1; }
}

setup_rust() {
    command -v cargo >/dev/null || {
        say "cargo is missing: install Rust (rustup, stable toolchain >= 1.85)" >&2
        return 1
    }
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
        command -v rustup >/dev/null || { say "rustfmt/clippy missing and no rustup to add them" >&2; return 1; }
        quietly "$LOGS/rustup.log" rustup component add rustfmt clippy
    fi
}

setup_java_artifacts() {
    local war=$HOME/.m2/repository/org/apache/chemistry/opencmis/chemistry-opencmis-server-inmemory/1.1.0/chemistry-opencmis-server-inmemory-1.1.0.war
    if [[ ! -f $war ]]; then
        say "fetching the OpenCMIS InMemory war (mvn)"
        quietly "$LOGS/mvn-war.log" mvn -q -B -Dstyle.color=never dependency:get \
            -Dartifact=org.apache.chemistry.opencmis:chemistry-opencmis-server-inmemory:1.1.0:war
    fi
    tests/tck.sh --fetch
}

setup_python() {
    local req=tests/cmislib/requirements.txt stamp=$VENV/.requirements.sha256 want
    want=$(sha256sum "$req" | cut -d' ' -f1)
    if [[ -x $VENV/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
        return
    fi
    rm -rf "$VENV"
    quietly "$LOGS/venv.log" python3 -m venv "$VENV"
    quietly "$LOGS/pip.log" "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
}

# litmus, davfs2, rclone, cadaver, chromium for the WebDAV tests.
setup_webdav_tools() {
    local sudo=()
    if [[ $(id -u) != 0 ]] && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo)
    fi
    quietly "$LOGS/webdav-tools.log" "${sudo[@]}" tests/setup-webdav-tools.sh
}

# fuse3, pjdfstest, fsx (cargo install), the tests user: the FUSE tests.
setup_fuse_tools() {
    quietly "$LOGS/fuse-tools.log" tests/setup-fuse-tools.sh
}

step_setup() {
    setup_system
    setup_webdav_tools
    setup_rust
    setup_fuse_tools
    setup_java_artifacts
    setup_python
    say "java: $(java -version 2>&1 | head -n 1); mvn: $(mvn -v 2>/dev/null | head -n 1 | sed 's/\x1b\[[0-9;]*m//g'); $(cargo --version)"
}

# ---------------------------------------------------------------- Rust

step_fmt() { cargo fmt --check; }
step_build() { cargo build --locked --all-targets; }
step_clippy() { cargo clippy --locked --all-targets -- -D warnings; }

# Runs in this shell, not a subshell: the URL and whether we started the
# server (and so must stop it) are needed later. Hence explicit returns.
start_opencmis() {
    local out
    echo
    say "=== opencmis-start"
    out=$(tests/opencmis-server.sh start) || return 1
    # Stop it at the end only if we started it (it may be shared when
    # CMISFS_OPENCMIS_STATE was given).
    if grep -q '^CMISFS_OPENCMIS_STARTED=yes' <<<"$out"; then
        OPENCMIS_STARTED=yes
    fi
    CMISFS_OPENCMIS_URL=$(sed -n 's/^CMISFS_OPENCMIS_URL=//p' <<<"$out")
    [[ -n $CMISFS_OPENCMIS_URL ]] || { say "opencmis-server.sh printed no URL" >&2; return 1; }
    export CMISFS_OPENCMIS_URL
    say "OpenCMIS InMemory at $CMISFS_OPENCMIS_URL"
}

# --no-fail-fast: one failing test binary must not hide the others.
step_cargo_test() { cargo test --locked --no-fail-fast; }

# ---------------------------------------------------------------- cmislib, TCK

step_cmislib_opencmis() {
    CMISFS_CMIS_URL=$CMISFS_OPENCMIS_URL/browser CMISFS_CMIS_USER=test CMISFS_CMIS_PASSWORD=test \
        CMISFS_CMIS_REPOSITORY=A1 CMISFS_CMIS_VERSIONABLE_TYPE=VersionableType \
        "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/cmislib
}

# Starts `cmisfs repo` on a fresh data directory and waits until it answers;
# sets REPO_URL. Its PID is recorded at once, so cleanup stops it whatever
# happens next.
start_embedded_repo() {
    local name=$1 data port pid log=$LOGS/repo-$1.log
    [[ -x $BIN ]] || { say "$BIN is missing (the build step makes it)" >&2; return 1; }
    data=$(mktemp -d "${TMPDIR:-/tmp}/cmisfs-test-$$-$name.XXXXXX")
    port=$(free_port)
    "$BIN" repo --data "$data" --listen "127.0.0.1:$port" >"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >>"$REPO_PIDS_FILE"
    REPO_URL=http://127.0.0.1:$port/browser
    for _ in $(seq 1 120); do
        if curl -fsS -o /dev/null --max-time 2 -u "$REPO_USER:$REPO_PASSWORD" "$REPO_URL" 2>/dev/null; then
            say "cmisfs repo (PID $pid) at $REPO_URL"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$log" >&2
            if grep -qiE 'not (built|implemented)' "$log"; then
                say "cmisfs repo is not implemented (it exited at start; see above)" >&2
            else
                say "cmisfs repo exited at start (log: $log)" >&2
            fi
            return 1
        fi
        sleep 0.25
    done
    tail -n 20 "$log" >&2
    say "cmisfs repo did not answer at $REPO_URL within 30s (log: $log)" >&2
    return 1
}

step_cmislib_embedded() {
    start_embedded_repo cmislib
    CMISFS_CMIS_URL=$REPO_URL CMISFS_CMIS_USER=$REPO_USER CMISFS_CMIS_PASSWORD=$REPO_PASSWORD \
        CMISFS_CMIS_VERSIONABLE_TYPE=cmis:document \
        "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/cmislib
}

step_tck_embedded() {
    start_embedded_repo tck
    CMISFS_TCK_REPORT=$LOGS/tck-embedded-report.txt CMISFS_TCK_DOCUMENT_TYPE=cmis:document \
        tests/tck.sh "$REPO_URL" "$REPO_USER" "$REPO_PASSWORD"
}

# ---------------------------------------------------------------- main

main() {
    local total_start=$SECONDS step
    run_step setup step_setup
    if [[ $STEP_OK == no ]]; then
        finish "$total_start"
        return 1
    fi
    run_step fmt step_fmt
    run_step build step_build
    if [[ $STEP_OK == no ]]; then
        for step in clippy opencmis-start cargo-test cmislib-opencmis cmislib-embedded tck-embedded; do
            not_run "$step" "the build failed"
        done
        finish "$total_start"
        return 1
    fi
    run_step clippy step_clippy

    local start=$SECONDS rc=0
    start_opencmis || rc=$?
    record opencmis-start "$rc" $((SECONDS - start))
    if [[ $STEP_OK == yes ]]; then
        run_step cargo-test step_cargo_test
        run_step cmislib-opencmis step_cmislib_opencmis
    else
        not_run cargo-test "OpenCMIS InMemory did not start"
        not_run cmislib-opencmis "OpenCMIS InMemory did not start"
    fi
    # Each of these starts its own `cmisfs repo` and stops it when it ends.
    run_step cmislib-embedded step_cmislib_embedded
    run_step tck-embedded step_tck_embedded
    finish "$total_start"
}

finish() {
    local took=$((SECONDS - $1))
    echo
    say "summary (total ${took}s):"
    local line
    for line in "${SUMMARY[@]}"; do
        echo "  $line"
    done
    if ((${#FAILED[@]})); then
        say "FAILED: ${FAILED[*]}"
    fi
    echo "steps: $PASSED passed, ${#FAILED[@]} failed"
    ((${#FAILED[@]} == 0))
}

main
