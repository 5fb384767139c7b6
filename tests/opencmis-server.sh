#!/usr/bin/env bash
# Runs the Apache Chemistry OpenCMIS InMemory server 1.1.0 (the reference
# CMIS server our client is tested against) in Debian's jetty9 on loopback.
#
#   tests/opencmis-server.sh start   start it (or find it running); prints
#                                    CMISFS_OPENCMIS_URL=http://127.0.0.1:PORT/inmemory
#                                    CMISFS_OPENCMIS_PID=PID
#                                    CMISFS_OPENCMIS_STARTED=yes|no  (no: it was already running)
#   tests/opencmis-server.sh stop    stop it (by PID)
#   tests/opencmis-server.sh status  print the URL if running, exit 1 if not
#
# Endpoints under the URL: /browser, /atom11 (AtomPub 1.1), /atom (AtomPub
# 1.0); repository id A1; any user name and password are accepted.
#
# One server per machine and user (state in $CMISFS_OPENCMIS_STATE, default
# /tmp/cmisfs-opencmis-$UID), so several checkouts can share it; a caller
# that found it running (STARTED=no) should not stop it.
#
# Needs: java, mvn (fetches the war into ~/.m2 once), jetty9 (Debian).
# Java 17 cannot start the war's SOAP servlets (JAX-WS left the JDK), so
# the deployed copy's web.xml drops them; Browser and AtomPub don't need them.
set -euo pipefail

WAR_GAV=org.apache.chemistry.opencmis:chemistry-opencmis-server-inmemory:1.1.0:war
WAR="$HOME/.m2/repository/org/apache/chemistry/opencmis/chemistry-opencmis-server-inmemory/1.1.0/chemistry-opencmis-server-inmemory-1.1.0.war"
JETTY_HOME=${JETTY_HOME:-/usr/share/jetty9}
STATE=${CMISFS_OPENCMIS_STATE:-/tmp/cmisfs-opencmis-$(id -u)}
PIDFILE="$STATE/jetty.pid"
PORTFILE="$STATE/port"
LOG="$STATE/jetty.log"
START_TIMEOUT=${CMISFS_OPENCMIS_START_TIMEOUT:-240}

die() { echo "opencmis-server: $*" >&2; exit 1; }

running_pid() {
    [[ -f $PIDFILE ]] || return 1
    local pid
    pid=$(cat "$PIDFILE")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

url() { echo "http://127.0.0.1:$(cat "$PORTFILE")/inmemory"; }

# InMemory accepts any user but answers 401 without credentials.
answers() { curl -fs -o /dev/null --max-time 5 -u test:test "$(url)/browser"; }

need_tools() {
    command -v java >/dev/null || die "java is missing: install a JDK 17 (apt-get install openjdk-17-jre-headless)"
    command -v curl >/dev/null || die "curl is missing: apt-get install curl"
    [[ -f $JETTY_HOME/start.jar ]] || die "jetty9 is missing ($JETTY_HOME/start.jar): apt-get install jetty9"
    if [[ ! -f $WAR ]]; then
        command -v mvn >/dev/null || die "mvn is missing (needed once to fetch the war): apt-get install maven"
        mvn -q -B dependency:get -Dartifact="$WAR_GAV" >&2 || die "mvn could not fetch $WAR_GAV"
    fi
}

# An exploded copy of the war with the SOAP servlets removed from web.xml.
deploy() {
    local app="$STATE/base/webapps/inmemory"
    if [[ ! -f $app/WEB-INF/web.xml || $WAR -nt $app/WEB-INF/web.xml ]]; then
        rm -rf "$app"
        mkdir -p "$app"
        (cd "$app" && jar xf "$WAR" 2>/dev/null || unzip -q "$WAR")
        python3 - "$app/WEB-INF/web.xml" <<'PY'
import re, sys
path = sys.argv[1]
xml = open(path, encoding="utf-8").read()
for tag in ("servlet", "servlet-mapping"):
    xml = re.sub(r"<%s>\s*<servlet-name>cmisws1[01]</servlet-name>.*?</%s>" % (tag, tag), "", xml, flags=re.S)
open(path, "w", encoding="utf-8").write(xml)
PY
    fi
    # Uploads above the memory threshold (4 MiB) go to temp files that the
    # war encrypts with AES/CTR/PKCS5Padding, which Java 17 refuses: every
    # such upload failed with "runtime: An error occurred!". Plain temp
    # files (they live in $STATE) avoid it.
    sed -i 's/^InMemoryServer.EncryptTempFiles=true/InMemoryServer.EncryptTempFiles=false/' \
        "$app/WEB-INF/classes/repository.properties"
    mkdir -p "$STATE/base"
    cat >"$STATE/base/start.ini" <<'INI'
--module=server
--module=http
--module=deploy
INI
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    mkdir -p "$STATE"
    # Serialise concurrent starts from several checkouts.
    exec 9>"$STATE/lock"
    flock 9
    if pid=$(running_pid) && answers; then
        echo "CMISFS_OPENCMIS_URL=$(url)"
        echo "CMISFS_OPENCMIS_PID=$pid"
        echo "CMISFS_OPENCMIS_STARTED=no"
        return
    fi
    if pid=$(running_pid); then
        # Alive but not answering: a start still under way, or hung.
        wait_ready "$pid" || { stop_pid "$pid"; die "a previous server (PID $pid) never answered; stopped it, run start again"; }
        echo "CMISFS_OPENCMIS_URL=$(url)"
        echo "CMISFS_OPENCMIS_PID=$pid"
        echo "CMISFS_OPENCMIS_STARTED=no"
        return
    fi
    need_tools
    deploy
    local port
    port=$(free_port)
    echo "$port" >"$PORTFILE"
    # 9>&-: the server must not inherit the start lock, or every later
    # start would wait for it as long as the server runs.
    (
        cd "$STATE/base"
        exec java -Xmx2g -Djava.io.tmpdir="$STATE" -jar "$JETTY_HOME/start.jar" \
            jetty.home="$JETTY_HOME" jetty.base="$STATE/base" \
            jetty.http.host=127.0.0.1 jetty.http.port="$port"
    ) >"$LOG" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$PIDFILE"
    if ! wait_ready "$pid"; then
        tail -n 30 "$LOG" >&2 || true
        stop_pid "$pid"
        die "the server did not answer at $(url)/browser within ${START_TIMEOUT}s (log: $LOG)"
    fi
    echo "CMISFS_OPENCMIS_URL=$(url)"
    echo "CMISFS_OPENCMIS_PID=$pid"
    echo "CMISFS_OPENCMIS_STARTED=yes"
}

wait_ready() {
    local pid=$1 waited=0
    until answers; do
        kill -0 "$pid" 2>/dev/null || return 1
        ((waited >= START_TIMEOUT)) && return 1
        sleep 1
        waited=$((waited + 1))
    done
}

stop_pid() {
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
}

case "${1:-}" in
start) start ;;
stop)
    if pid=$(running_pid); then stop_pid "$pid"; echo "stopped OpenCMIS InMemory (PID $pid)"; fi
    rm -f "$PIDFILE"
    ;;
status)
    pid=$(running_pid) && answers || { echo "not running"; exit 1; }
    echo "CMISFS_OPENCMIS_URL=$(url)"
    echo "CMISFS_OPENCMIS_PID=$pid"
    ;;
*) die "usage: $0 start|stop|status" ;;
esac
