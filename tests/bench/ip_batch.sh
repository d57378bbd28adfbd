#!/bin/bash
# Benchmark baseline "ip-batch": a chain of N named network namespaces
# v6b-<runid>-<i>, N-1 veth links (node i-1 eth1 <-> node i eth0), link k
# carrying 2001:db8:<k hex>::1/64 (node k-1) and ::2/64 (node k), lo and
# every veth up, IPv6 forwarding on in every node; then teardown and settle.
#
#   tests/bench/ip_batch.sh N
#
# prints one JSON line:
#   {"variant": "ip-batch", "n": N, "build_s": .., "teardown_s": .., "settle_s": ..}
#
# Written the way a competent admin would do it fast:
# * ONE `ip -batch` file for everything that can be done from the host:
#   `netns add` for all nodes, then `link add eth1 netns A type veth peer
#   name eth0 netns B` (both ends are created directly in their namespaces;
#   nothing ever appears in the host namespace);
# * per node ONE process chain `nsenter --net=/run/netns/NS sh -c 'echo 1 >
#   .../forwarding; exec ip -batch FILE'` for what must happen inside the
#   namespace (sysctl, links up, addresses). nsenter only does setns();
#   `ip -n NS` / `ip netns exec` instead unshare a mount namespace and copy
#   every /run/netns mount, a cost that grows with the number of namespaces;
# * teardown: ONE `ip -batch` file of `netns del`.
# Batch files are generated inside the timed build (that is part of the work).
# Addresses are added without `nodad`, like the v6lab core does.
#
# settle_s: see nsid_settle.py in this directory (it is started after the
# build, outside the timed part; it assigns root nsids to the run's
# namespaces, closes its fds, and after teardown waits for the kernel to
# delete those nsids and then flushes the netns cleanup work with one
# sentinel namespace).
#
# Everything made here carries the unique run id; an EXIT/INT/TERM/HUP trap
# deletes whatever of it is left (namespaces, temp files, the helper).
set -euo pipefail

usage() { echo "usage: $0 N   (N >= 2)" >&2; exit 2; }
[[ $# -eq 1 && $1 =~ ^[0-9]+$ ]] || usage
N=$((10#$1))
(( N >= 2 )) || usage
[[ $EUID -eq 0 ]] || { echo "$0: needs root" >&2; exit 1; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
# Run id: pid plus 16 random bits, so that two concurrent runs never share
# a name (and a name is never re-used right away, see platform notes).
RUN=$(printf '%x%04x' $$ $(( (RANDOM << 1 ^ RANDOM) & 0xffff )))
PFX="v6b-$RUN-"
TMP=$(mktemp -d "/tmp/v6b-$RUN.XXXXXX")
HELPER_PID=

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM HUP
    if [[ -n $HELPER_PID ]]; then
        kill "$HELPER_PID" 2>/dev/null
        wait "$HELPER_PID" 2>/dev/null
    fi
    local f left=()
    for f in /run/netns/"$PFX"*; do
        [[ -e $f ]] && left+=("netns del ${f##*/}")
    done
    if ((${#left[@]})); then
        printf '%s\n' "${left[@]}" > "$TMP/cleanup.batch"
        ip -force -batch "$TMP/cleanup.batch" 2>/dev/null
        # Only if `ip` itself failed: remove the (unmounted) placeholders.
        for f in /run/netns/"$PFX"*; do
            [[ -e $f ]] && { umount -l "$f" 2>/dev/null; rm -f "$f"; }
        done
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Microsecond timestamps read without a subshell (a fork costs ms here).
secs() { printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)); }

# ------------------------------------------------------------------ build
t0=${EPOCHREALTIME/./}
{
    for ((i = 0; i < N; i++)); do echo "netns add $PFX$i"; done
    for ((i = 1; i < N; i++)); do
        echo "link add eth1 netns $PFX$((i - 1)) type veth peer name eth0 netns $PFX$i"
    done
} > "$TMP/host.batch"
for ((i = 0; i < N; i++)); do
    {
        echo "link set lo up"
        if ((i > 0)); then
            echo "link set eth0 up"
            printf 'addr add 2001:db8:%x::2/64 dev eth0\n' "$i"
        fi
        if ((i < N - 1)); then
            echo "link set eth1 up"
            printf 'addr add 2001:db8:%x::1/64 dev eth1\n' "$((i + 1))"
        fi
    } > "$TMP/n$i.batch"
done
ip -batch "$TMP/host.batch"
for ((i = 0; i < N; i++)); do
    nsenter --net="/run/netns/$PFX$i" sh -c \
        'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding && exec ip -batch "$1"' \
        sh "$TMP/n$i.batch"
done
t1=${EPOCHREALTIME/./}

# ------------------------------------------- settle watcher (not timed)
coproc SETTLE { exec "$PY" "$HERE/nsid_settle.py" watch "$PFX"; }
HELPER_PID=$SETTLE_PID SETTLE_IN=${SETTLE[1]} SETTLE_OUT=${SETTLE[0]}
read -r -t 60 -u "$SETTLE_OUT" ready count || { echo "$0: settle helper did not start" >&2; exit 1; }
[[ $ready == ready && $count == "$N" ]] || { echo "$0: settle helper: '$ready $count'" >&2; exit 1; }

# --------------------------------------------------------------- teardown
for ((i = 0; i < N; i++)); do echo "netns del $PFX$i"; done > "$TMP/del.batch"
t2=${EPOCHREALTIME/./}
ip -batch "$TMP/del.batch"
t3=${EPOCHREALTIME/./}

# ----------------------------------------------------------------- settle
echo go >&"$SETTLE_IN"
read -r -t 300 -u "$SETTLE_OUT" word value || { echo "$0: settle helper gave no answer" >&2; exit 1; }
t4=${EPOCHREALTIME/./}
[[ $word == settled ]] || { echo "$0: settle: $word $value" >&2; exit 1; }
wait "$HELPER_PID" 2>/dev/null || true
HELPER_PID=

printf '{"variant": "ip-batch", "n": %d, "build_s": %s, "teardown_s": %s, "settle_s": %s}\n' \
    "$N" "$(secs $((t1 - t0)))" "$(secs $((t3 - t2)))" "$(secs $((t4 - t3)))"
