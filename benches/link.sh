# Sourced by benches/mount.sh and benches/webdav.sh (root only).
#
# LINK=RATE (tc syntax: 1gbit, 2500mbit, ...) makes the loopback traffic to
# and from the repository's port go through an HTB class of that rate, as a
# network link to a remote repository would: then the link, not the 2 CPU
# cores that the server, the mount and the reader share, is the limit, for
# curl's baselines and the mount alike. Without LINK nothing is changed.
#
# link_shape PORT   installs the qdisc (refuses if lo already has one);
# link_unshape      removes it (call it from the script's cleanup).

link_shape() {
    [ -n "${LINK:-}" ] || return 0
    command -v tc >/dev/null 2>&1 || { echo "LINK=$LINK needs tc (apt-get install iproute2)" >&2; exit 1; }
    if tc qdisc show dev lo | grep -q "qdisc htb"; then
        echo "LINK: lo already has an htb qdisc; not touching it" >&2
        exit 1
    fi
    tc qdisc add dev lo root handle 1: htb default 10 ||
        { echo "LINK: cannot add an htb qdisc to lo" >&2; exit 1; }
    LINK_SHAPED=1
    # Everything else on lo: unlimited in practice.
    tc class add dev lo parent 1: classid 1:10 htb rate 400gbit quantum 200000 &&
        tc class add dev lo parent 1: classid 1:20 htb rate "$LINK" quantum 200000 &&
        tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip sport "$1" 0xffff flowid 1:20 &&
        tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip dport "$1" 0xffff flowid 1:20 ||
        { echo "LINK: cannot shape port $1 to $LINK" >&2; exit 1; }
    echo "LINK: traffic of port $1 on lo limited to $LINK" >&2
}

link_unshape() {
    if [ -n "${LINK_SHAPED:-}" ]; then
        tc qdisc del dev lo root 2>/dev/null
        LINK_SHAPED=
    fi
}
