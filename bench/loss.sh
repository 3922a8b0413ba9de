#!/usr/bin/env bash
# The loss benchmark: synfin <-> kernel against kernel <-> kernel through the
# same impairing relay (bench_relay: synfin's impairment engine forwarding
# between two TUN devices, one in each of two network namespaces made here;
# the kernel's netem is not available on these machines).
#
#   bench/loss.sh BUILD_DIR [SIZE_BYTES] [RUNS] [REQUESTS]
#
# Namespace A holds synfin (serve and get, each on its own TUN, forwarded
# by A's kernel); namespace C, behind a veth pair, holds the kernel HTTP
# server and curl that synfin is compared with, forwarded by A's kernel
# too, so both peers sit one hop before the relay's queue (a sender on A
# itself would get backpressure from that queue, TCP Small Queues, that no
# remote sender gets: the kernel on A met no drops where synfin, one hop
# away, lost hundreds of packets per transfer to the TUN's 500-packet queue);
# namespace B holds a kernel HTTP server and curl. For
# each relay setting (1 % loss, 5 % loss, 1 % loss + 2 % of frames held
# back 2 ms) and each direction it times a SIZE_BYTES download (default
# 20 MB): synfin sending (curl in B from `synfin serve` in A) against the
# kernel sending (curl in B from the kernel in C), and synfin receiving
# (`synfin get` in A from the kernel in B) against the kernel receiving
# (curl in C from the kernel in B). Then, at 2 % loss, REQUESTS (default
# 100) 100 KB request/responses, one connection each, from B to synfin and
# to the kernel: p50 and p99 completion times. RUNS rounds (default 3)
# alternate synfin and the kernel; the table shows medians and the ratio
# synfin/kernel of the same rounds (goodput: > 1 is synfin faster;
# completion time: < 1 is synfin faster). synfin's buffers are
# BENCH_LOSS_BUF bytes (default 4 MiB, as the kernel's autotuning reaches).
# A receiver's time excludes its startup (synfin get opens a TUN device),
# measured once on a loss-free relay.
# The kernel's congestion control is the host's default (bbr on these
# machines: model-based, it does not cut its window per loss) unless
# BENCH_LOSS_CC names another for the kernel's servers (cubic, reno: the
# loss-based response synfin's CUBIC shares); it is printed on stderr.
# Prints RESULT lines like the other benchmarks, and the table on stderr.
set -uo pipefail

build=$(cd "$1" && pwd)
size=${2:-20000000}
runs=${3:-3}
nreq=${4:-100}
# synfin's buffers per connection (serve --sndbuf, get --rcvbuf): the
# kernel here autotunes up to 4 MiB (tcp_wmem) and 32 MiB (tcp_rmem); its
# receive window reached about 3.7 MB in these runs.
buf=${BENCH_LOSS_BUF:-4194304}
kcc=${BENCH_LOSS_CC:-}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${SF_LOSS_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "loss.sh: needs root (namespaces, TUN)" >&2; exit 77; }
	exec env SF_LOSS_NS=1 unshare -n bash "$0" "$@"
fi
ip link set lo up
relay=$build/bench/bench_relay
synfin=$build/synfin
[ -x "$relay" ] && [ -x "$synfin" ] || { echo "loss.sh: $relay or $synfin is not built" >&2; exit 1; }
kpeer="python3 $here/../tests/interop/kpeer.py"
W=$(mktemp -d /tmp/synfin-loss.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

unshare -n sleep 100000 &
NA=$!
unshare -n sleep 100000 &
NB=$!
unshare -n sleep 100000 &
NC=$!
PIDS+=($NA $NB $NC)
# nsenter -t PID enters whatever namespace PID is in: until unshare has made
# its own, that is this one (a fixed sleep here was a guess).
self=$(readlink /proc/self/ns/net)
for _ in $(seq 100); do
	[ "$(readlink /proc/$NA/ns/net)" != "$self" ] && [ "$(readlink /proc/$NB/ns/net)" != "$self" ] &&
		[ "$(readlink /proc/$NC/ns/net)" != "$self" ] && break
	sleep 0.05
done
inA() { nsenter -t $NA -n "$@"; }
inB() { nsenter -t $NB -n "$@"; }
inC() { nsenter -t $NC -n "$@"; }
# In the background, $! the program itself (nsenter -n execs it).
bgA() { nsenter -t $NA -n "$@" & }
bgB() { nsenter -t $NB -n "$@" & }
bgC() { nsenter -t $NC -n "$@" & }
inA ip link set lo up
inB ip link set lo up
inA sysctl -qw net.ipv4.ip_forward=1
A=198.51.100.1 B=198.51.100.2 SF=192.0.2.2 KC=198.18.0.2
# C hangs off A by a veth pair (198.18.0.0/24, RFC 2544's benchmarking
# range), as synfin's TUN devices do.
ip link add lossA type veth peer name lossC
ip link set lossA netns $NA && ip link set lossC netns $NC
inA ip addr add 198.18.0.1/24 dev lossA && inA ip link set lossA up
inC ip link set lo up && inC ip addr add $KC/24 dev lossC && inC ip link set lossC up
inC ip route add default via 198.18.0.1

mkdir -p "$W/www"
head -c "$size" /dev/urandom >"$W/www/big"
head -c 100000 /dev/urandom >"$W/www/small"
echo . >"$W/www/tiny"

wait_for() { # FILE PATTERN
	for _ in $(seq 100); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "loss.sh: timed out waiting for '$2' in $1" >&2
	cat "$1" >&2
	return 1
}

# Each relay gets TUN names of its own (rla1/rlb1, rla2/rlb2, ...): the
# devices of the one before go away with its process, asynchronously, and a
# reused name once raced with that (ip: Cannot find device "rla").
NRELAY=0
start_relay() { # LOSS REORDER SEED
	NRELAY=$((NRELAY + 1))
	local la=rla$NRELAY lb=rlb$NRELAY
	"$relay" --a $la --b $lb --loss "$1" --reorder "$2" --reorder-ms 2 --seed "$3" >"$W/relay.out" 2>&1 &
	RELAY=$!
	PIDS+=($RELAY)
	wait_for "$W/relay.out" ready || return 1
	ip link set $la netns $NA && ip link set $lb netns $NB || return 1
	inA ip addr add $A peer $B dev $la && inA ip link set $la up
	inB ip addr add $B peer $A dev $lb && inB ip link set $lb up
	inB ip route add 192.0.2.0/24 dev $lb
	inB ip route add 203.0.113.0/24 dev $lb
	inB ip route add 198.18.0.0/24 dev $lb
}
stop_relay() {
	kill -TERM $RELAY 2>/dev/null
	wait $RELAY 2>/dev/null
}

# Servers: kernel HTTP in C and B, synfin serve in A (its TUN, forwarded).
start_servers() {
	bgC $kpeer http 8000 "$W/www" --http11 ${kcc:+--cc "$kcc"} >"$W/ka.out" 2>&1
	KA=$!
	bgB $kpeer http 8000 "$W/www" --http11 ${kcc:+--cc "$kcc"} >"$W/kb.out" 2>&1
	KB=$!
	bgA "$synfin" serve --dir "$W/www" --sndbuf "$buf" >"$W/serve.out" 2>&1
	SERVE=$!
	PIDS+=($KA $KB $SERVE)
	wait_for "$W/ka.out" ready && wait_for "$W/kb.out" ready && wait_for "$W/serve.out" "curl http"
}

secs() { # command...: wall time of a successful run, or "fail"
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>>"$W/err" || { echo fail; return; }
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}
result() { # BENCH PEER METRIC VALUE UNIT
	echo "RESULT $1 $2 $3 $4 $5"
	echo "$1 $2 $3 $4" >>"$W/results"
}
mbps() { [ "$1" = fail ] && echo 0 || echo "scale=2; $size * 8 / $1 / 1000000" | bc; }

start_servers || exit 1
echo "loss.sh: the kernel's congestion control: ${kcc:-$(inC sysctl -n net.ipv4.tcp_congestion_control) (the default)}" >&2
# What a download costs besides the transfer: `synfin get` opens and
# configures its TUN device first, curl only a socket. Measured on a
# loss-free relay (the least of 3 fetches of a 2-byte file) and taken off
# each receiver's times below, so "recv" compares transfers, not startups.
get_sf() { inA "$synfin" get --addr 203.0.113.2/24 --peer 203.0.113.1 --rcvbuf "$buf" --timeout 300 "$@"; }
start_relay 0 0 1 || exit 1
setup_sf=9 setup_k=9
for _ in 1 2 3; do
	t=$(secs get_sf http://$B:8000/tiny)
	[ "$t" != fail ] && setup_sf=$(echo "if ($t < $setup_sf) $t else $setup_sf" | bc)
	t=$(secs inC curl -sS --max-time 30 -o /dev/null http://$B:8000/tiny)
	[ "$t" != fail ] && setup_k=$(echo "if ($t < $setup_k) $t else $setup_k" | bc)
done
stop_relay
echo "loss.sh: startup of a download: synfin get ${setup_sf} s, curl ${setup_k} s" >&2
minus() { [ "$1" = fail ] && echo fail || echo "$1 - $2" | bc; }
settings=("loss1 0.01 0" "loss5 0.05 0" "loss1-reorder 0.01 0.02")
for ((r = 1; r <= runs; r++)); do
	for s in "${settings[@]}"; do
		set -- $s
		name=$1
		start_relay "$2" "$3" $((r * 10 + ${#name})) || exit 1
		# synfin sending vs the kernel sending, curl in B receiving
		t=$(secs inB curl -sS --max-time 300 -o /dev/null http://$SF/big)
		result "loss-$name-send" synfin goodput "$(mbps "$t")" Mbit/s
		t=$(secs inB curl -sS --max-time 300 -o /dev/null http://$KC:8000/big)
		result "loss-$name-send" kernel goodput "$(mbps "$t")" Mbit/s
		# synfin receiving vs the kernel receiving, the kernel in B sending
		t=$(secs get_sf http://$B:8000/big)
		result "loss-$name-recv" synfin goodput "$(mbps "$(minus "$t" "$setup_sf")")" Mbit/s
		t=$(secs inC curl -sS --max-time 300 -o /dev/null http://$B:8000/big)
		result "loss-$name-recv" kernel goodput "$(mbps "$(minus "$t" "$setup_k")")" Mbit/s
		stop_relay
	done
	# 100 KB request/response at 2 % loss, one connection each.
	start_relay 0.02 0 $((r * 100)) || exit 1
	for peer in synfin kernel; do
		url=http://$SF/small
		[ $peer = kernel ] && url=http://$KC:8000/small
		: >"$W/crr-$peer"
		for ((k = 0; k < nreq; k++)); do
			inB curl -sS --max-time 60 -o /dev/null -w '%{time_total}\n' "$url" >>"$W/crr-$peer" 2>>"$W/err"
		done
		sort -n "$W/crr-$peer" >"$W/crr-$peer.s"
		n=$(wc -l <"$W/crr-$peer.s")
		p50=$(sed -n "$(((n + 1) / 2))p" "$W/crr-$peer.s")
		p99=$(sed -n "$(((n * 99 + 99) / 100))p" "$W/crr-$peer.s")
		result loss-rr100k-2pct $peer p50_ms "$(echo "$p50 * 1000" | bc)" ms
		result loss-rr100k-2pct $peer p99_ms "$(echo "$p99 * 1000" | bc)" ms
	done
	stop_relay
done

# Medians per (bench, peer, metric) and the ratio synfin/kernel.
printf "%-28s %-8s %10s %10s %7s\n" "loss benchmark" metric synfin kernel ratio >&2
awk '
{ k = $1 " " $3; v[k, $2] = v[k, $2] " " $4; keys[k] = 1 }
function med(s,   n, a, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	for (key in keys) {
		split(key, p, " ")
		s = med(v[key, "synfin"]); k = med(v[key, "kernel"])
		printf "%-28s %-8s %10.2f %10.2f %7.2f\n", p[1], p[2], s, k, (k > 0 ? s / k : 0)
	}
}' "$W/results" | sort >&2
[ -s "$W/err" ] && { echo "loss.sh: errors:" >&2; head -5 "$W/err" >&2; }
exit 0
