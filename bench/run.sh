#!/usr/bin/env bash
# synfin benchmarks: runs every benchmark program several times, interleaving
# synfin with its peers (lwIP, the Linux kernel) so load on a shared machine
# hits all of them alike, takes medians, computes the ratios of the same run,
# prints one table and writes bench/results/latest.json.
#
# Usage: bench/run.sh [--smoke] [--runs N] [--only LIST] BUILD_DIR
#   --smoke      seconds-long run with tiny sizes (what `make check` runs);
#                writes BUILD_DIR/bench/smoke-LIST.json, never results/latest.json
#   --runs N     repetitions for medians (default 5; env BENCH_RUNS)
#   --only LIST  comma-separated parts: synfin,lwip,kernel,tun,mem,http,loss (default all)
# Sizes (env): BENCH_SIZE (bulk bytes, 1G), BENCH_SECS (connection lives, 10),
#   BENCH_RR_SECS (3), BENCH_TUN_SIZE (1G), BENCH_MEM_CONNS ("100000 1000000"),
#   BENCH_TW_COUNT (100000), BENCH_HTTP_SECS (wrk seconds per point, 5),
#   BENCH_HTTP_CONC (concurrencies, "1 50 1000"), BENCH_LOSS_SIZE (bytes per
#   lossy transfer, 20000000), BENCH_LOSS_REQS (100 KB exchanges, 100),
#   BENCH_LOSS_CC (the kernel's congestion control there; the host default).
# Kernel and TUN parts need root (network namespaces); without it they are
# skipped and say so. Every interface lives in a namespace made here.
set -uo pipefail

smoke=0
runs=${BENCH_RUNS:-5}
only=${BENCH_ONLY:-all}
while [ $# -gt 1 ]; do
	case "$1" in
	--smoke) smoke=1; shift ;;
	--runs) runs=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { sed -n '2,20p' "$0" >&2; exit 2; }
build=$1
bin=$build/bench
here=$(cd "$(dirname "$0")" && pwd)

size=${BENCH_SIZE:-1G}
secs=${BENCH_SECS:-10}
rr_secs=${BENCH_RR_SECS:-3}
tun_size=${BENCH_TUN_SIZE:-1G}
mem_conns=${BENCH_MEM_CONNS:-100000 1000000}
tw_count=${BENCH_TW_COUNT:-100000}
http_secs=${BENCH_HTTP_SECS:-5}
http_conc=${BENCH_HTTP_CONC:-1 50 1000}
loss_size=${BENCH_LOSS_SIZE:-20000000}
loss_reqs=${BENCH_LOSS_REQS:-100}
out=$here/results/latest.json
if [ $smoke -eq 1 ]; then
	runs=1 size=4M secs=1 rr_secs=0.3 tun_size=4M mem_conns=2000 tw_count=2000
	http_secs=1 http_conc="1 50" loss_size=1000000 loss_reqs=5
	out=$bin/smoke-${only//,/-}.json
fi

want() { [ "$only" = all ] || [[ ",$only," == *",$1,"* ]]; }
raw=$(mktemp /tmp/synfin-bench.XXXXXX)
log=$(mktemp /tmp/synfin-bench-log.XXXXXX)
nsa="" nsb="" fail=0
cleanup() {
	[ -n "$nsa" ] && ip netns del "$nsa" 2>/dev/null
	[ -n "$nsb" ] && ip netns del "$nsb" 2>/dev/null
	rm -f "$raw" "$log"
}
trap cleanup EXIT

# Runs one program, keeps its RESULT/INFO lines, reports failures.
run() {
	echo "+ $*" >>"$log"
	"$@" >>"$raw" 2>>"$log"
	local rc=$?
	if [ $rc -eq 77 ]; then
		echo "bench: skipped (exit 77): $*" >&2
		tail -1 "$log" >&2
	elif [ $rc -ne 0 ]; then
		echo "bench: FAILED: $*" >&2
		tail -5 "$log" >&2
		fail=1
	fi
}

root_ok=0
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
	root_ok=1
fi
have_lwip=0
[ -x "$bin/bench_lwip" ] && have_lwip=1
if [ "$only" = lwip ] && [ $have_lwip -eq 0 ]; then
	echo "bench: bench_lwip was not built (liblwip-dev missing): skipped" >&2
	exit 77
fi

# A fresh namespace with loopback at MTU 1500; $1 = on|off for TSO/GSO.
in_lo_ns() {
	local offl=$1
	shift
	unshare -n bash -c '
		ip link set lo up && ip link set lo mtu 1500 &&
		sysctl -qw net.ipv4.ip_local_port_range="1024 65535" &&
		ethtool -K lo tso '"$offl"' gso '"$offl"' >/dev/null 2>&1
		exec "$@"' _ "$@"
}

# Two namespaces joined by a veth pair: 192.0.2.1 (client side) - 192.0.2.2.
veth_setup() {
	nsa=sfbench-$$-a nsb=sfbench-$$-b
	ip netns add "$nsa" && ip netns add "$nsb" &&
		ip link add name sfbva netns "$nsa" type veth peer name sfbvb netns "$nsb" &&
		ip -n "$nsa" addr add 192.0.2.1/24 dev sfbva && ip -n "$nsb" addr add 192.0.2.2/24 dev sfbvb &&
		ip -n "$nsa" link set lo up && ip -n "$nsb" link set lo up &&
		ip -n "$nsa" link set sfbva up && ip -n "$nsb" link set sfbvb up &&
		ip netns exec "$nsa" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
}

if [ $root_ok -eq 0 ] && [ "$only" != all ] && ! want synfin && ! want lwip && ! want mem &&
	! want http; then
	echo "bench: not root or no unshare: kernel and TUN benchmarks skipped" >&2
	exit 77
fi
if want kernel || want tun; then
	if [ $root_ok -eq 1 ]; then
		veth_setup || { echo "bench: veth setup failed" >&2; fail=1; root_ok=0; }
	else
		echo "bench: not root or no unshare: kernel and TUN benchmarks skipped" >&2
	fi
fi

veth_crr() { # [--server-threads N] $@: extra client args
	local peer=kernel-veth st=2
	if [ "${1:-}" = --server-threads ]; then
		st=$2
		shift 2
		peer=kernel-veth-${st}srv
	fi
	[[ " $* " == *" --rst "* ]] && peer=$peer-rst
	ip netns exec "$nsb" "$bin/bench_kernel" crr --role server --secs "$(awk -v s="$secs" 'BEGIN { print s + 1.5 }')" \
		--server-threads $st --peer $peer >>"$raw" 2>>"$log" &
	local spid=$!
	sleep 0.3
	run ip netns exec "$nsa" "$bin/bench_kernel" crr --role client --addr 192.0.2.2 \
		--secs "$secs" --peer $peer "$@"
	wait $spid
}

# Both ends in one process (servers' sockets made in $nsb, clients' in $nsa),
# so getrusage counts the CPU of both sides, as bench_tun's does.
veth_bulk() {
	run ip netns exec "$nsa" "$bin/bench_kernel" bulk --server-netns "$nsb" --addr 192.0.2.2 \
		--size "$tun_size" --peer kernel-veth
}

machine() {
	local cpu
	cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
	echo "nproc=$(nproc) cpu=\"$cpu\" kernel=$(uname -r) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
}
echo "bench: $(machine)" >&2
echo "bench: runs=$runs bulk=$size crr_secs=$secs rr_secs=$rr_secs tun_bulk=$tun_size" >&2
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

for ((i = 1; i <= runs; i++)); do
	echo "bench: round $i/$runs" >&2
	# 1. bulk, 5. round trips, 2. connection lives: peers back to back.
	want synfin && run "$bin/bench_synfin" bulk --size "$size" $([ $smoke -eq 1 ] && echo --verify)
	want lwip && [ $have_lwip -eq 1 ] && run "$bin/bench_lwip" bulk --size "$size" \
		$([ $smoke -eq 1 ] && echo --verify)
	if want kernel && [ $root_ok -eq 1 ]; then
		run in_lo_ns off "$bin/bench_kernel" bulk --size "$size" --peer kernel-lo-nooffload
		run in_lo_ns on "$bin/bench_kernel" bulk --size "$size" --peer kernel-lo-offload
	fi
	want synfin && run "$bin/bench_synfin" rr --secs "$rr_secs"
	want lwip && [ $have_lwip -eq 1 ] && run "$bin/bench_lwip" rr --secs "$rr_secs"
	for mode in "" --rst; do
		want synfin && run "$bin/bench_synfin" crr --secs "$secs" $mode
		want lwip && [ $have_lwip -eq 1 ] && run "$bin/bench_lwip" crr --secs "$secs" $mode
		if want kernel && [ $root_ok -eq 1 ]; then
			peer=kernel-lo
			[ -n "$mode" ] && peer=kernel-lo-rst
			run in_lo_ns off "$bin/bench_kernel" crr --secs "$secs" --peer $peer $mode
		fi
	done
	# 3. over TUN vs the kernel over veth.
	if want tun && [ $root_ok -eq 1 ]; then
		run unshare -n bash -c 'ip link set lo up; sysctl -qw net.ipv4.ip_local_port_range="1024 65535"; exec "$@"' _ \
			"$bin/bench_tun" crr --secs "$secs"
		veth_crr
		# one stack per core: 2 stacks on 2 queues vs 1, and the kernel
		# server with 1 thread vs 2 (kernel-veth above)
		run unshare -n bash -c 'ip link set lo up; sysctl -qw net.ipv4.ip_local_port_range="1024 65535"; exec "$@"' _ \
			"$bin/bench_tun" crr --secs "$secs" --stacks 2
		veth_crr --server-threads 1
		run unshare -n bash -c 'ip link set lo up; exec "$@"' _ "$bin/bench_tun" bulk --size "$tun_size"
		veth_bulk
		run unshare -n bash -c 'ip link set lo up; exec "$@"' _ "$bin/bench_tun" bulk --size "$tun_size" \
			--offload off
	fi
	# 6. HTTP: synfin serve over TUN vs nginx over veth, same wrk (bench/http.sh).
	if want http; then
		if [ $root_ok -eq 1 ]; then
			run "$here/http.sh" "$build" "$http_secs" "$http_conc"
		else
			echo "bench: not root: the HTTP benchmark is skipped" >&2
		fi
	fi
done
# 7. loss recovery: synfin <-> kernel against kernel <-> kernel through one
# impairing relay (bench/loss.sh runs its own rounds, alternating them, and
# prints its table of medians and ratios).
if want loss; then
	if [ $root_ok -eq 1 ]; then
		echo "+ loss.sh $loss_size $runs $loss_reqs" >>"$log"
		"$here/loss.sh" "$build" "$loss_size" "$runs" "$loss_reqs" >>"$raw" || fail=1
	else
		echo "bench: not root: the loss benchmark is skipped" >&2
	fi
fi
# 4. memory (deterministic: once).
if want mem || want synfin; then
	for n in $mem_conns; do
		run "$bin/bench_synfin" mem --conns "$n"
	done
	run "$bin/bench_synfin" tw --count "$tw_count"
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- medians, ratios, table, JSON ----
awk -v out="$out" -v runs="$runs" -v machine="$(machine)" -v load_start="$load_start" \
	-v load_end="$load_end" -v smoke="$smoke" -v rev="$(git -C "$here" rev-parse --short HEAD 2>/dev/null)" '
function median(k,   n, i, j, a, t) {
	n = split(vals[k], a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	if (n == 0) return ""
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function m(b, p, k) { key = b SUBSEP p SUBSEP k; return (key in vals) ? median(key) : "" }
function fmt(v, unit) {
	if (v == "") return "—"
	if (unit == "Gbit/s") return sprintf("%.2f", v)
	if (v >= 1e6) return sprintf("%.2fM", v / 1e6)
	if (v >= 1e4) return sprintf("%.0fk", v / 1e3)
	return sprintf("%.0f", v)
}
function cpu(v) { return v == "" ? "—" : sprintf("%.2f CPU-s/GB", v) }
function ratio(name, a, b, target, note,   r, met) {
	if (a == "" || b == "" || b + 0 == 0) { r = ""; met = "n/a" }
	else { r = a / b; met = (target == "" ? "" : (r >= target ? "yes" : "NO")) }
	nr++; rname[nr] = name; rval[nr] = r; rtgt[nr] = target; rmet[nr] = met
	printf("| %-52s | %9s | %7s | %-4s |\n", name, r == "" ? "—" : sprintf("%.2f×", r), target == "" ? "" : "≥" target "×", met)
}
function limit(name, v, op, target, unit,   met) {
	if (v == "") met = "n/a"; else met = ((op == "<=" ? v + 0 <= target : v + 0 >= target) ? "yes" : "NO")
	nr++; rname[nr] = name; rval[nr] = v; rtgt[nr] = op target; rmet[nr] = met
	printf("| %-52s | %9s | %7s | %-4s |\n", name, v == "" ? "—" : fmt(v, unit) " " unit, op " " fmt(target, unit), met)
}
function row(label, b, p, unit,   v, fs, ls, tw) {
	v = m(b, p, (b ~ /bulk/) ? "gbps" : (b == "rr") ? "trans_per_s" : "lives_per_s")
	if (v == "") return
	fs = m(b, p, "first_s"); ls = m(b, p, "last_s"); tw = m(b, p, "timewait_end")
	printf("| %-34s | %-22s | %10s | %9s | %9s | %10s | %s |\n", label, p, fmt(v, unit), fmt(fs, ""), fmt(ls, ""), fmt(tw, ""), nvals[b SUBSEP p SUBSEP ((b ~ /bulk/) ? "gbps" : (b == "rr") ? "trans_per_s" : "lives_per_s")])
}
$1 == "RESULT" {
	k = $2 SUBSEP $3 SUBSEP $4
	vals[k] = vals[k] " " $5; nvals[k]++; unit[k] = $6
	if (!(k in seen)) { seen[k] = 1; order[++no] = k }
}
$1 == "INFO" { ik = $2 SUBSEP $3 SUBSEP $4; line = $0; sub(/^INFO [^ ]+ [^ ]+ [^ ]+ /, "", line); info[ik] = line; if (!(ik in iseen)) { iseen[ik] = 1; iorder[++ni] = ik } }
END {
	printf("\n### synfin benchmarks (medians of %d run%s)\n\n", runs, runs > 1 ? "s" : "")
	printf("Machine: %s; load average at start %s, at end %s; git %s\n\n", machine, load_start, load_end, rev)
	printf("| benchmark                          | peer                   |     median | first 1 s |  last 1 s | TIME-WAIT  | n |\n")
	printf("|------------------------------------|------------------------|-----------:|----------:|----------:|-----------:|---|\n")
	row("1. bulk, in memory (Gbit/s)", "bulk", "synfin", "Gbit/s")
	row("1. bulk, in memory (Gbit/s)", "bulk", "lwip", "Gbit/s")
	row("1. bulk, loopback MTU 1500 (Gbit/s)", "bulk", "kernel-lo-nooffload", "Gbit/s")
	row("1. bulk, loopback MTU 1500 (Gbit/s)", "bulk", "kernel-lo-offload", "Gbit/s")
	row("2. connection lives/s, FIN close", "crr", "synfin", "")
	row("2. connection lives/s, FIN close", "crr", "lwip", "")
	row("2. connection lives/s, FIN close", "crr", "kernel-lo", "")
	row("2. connection lives/s, RST close", "crr", "synfin-rst", "")
	row("2. connection lives/s, RST close", "crr", "lwip-rst", "")
	row("2. connection lives/s, RST close", "crr", "kernel-lo-rst", "")
	row("3. lives/s, kernel client over TUN", "tun_crr", "synfin-tun", "")
	row("3. lives/s, kernel to kernel, veth", "crr", "kernel-veth", "")
	row("3. lives/s, TUN, 2 stacks on 2 queues", "tun_crr", "synfin-tun-2stacks", "")
	row("3. lives/s, veth, 1 server thread", "crr", "kernel-veth-1srv", "")
	row("3. bulk to synfin over TUN", "tun_bulk", "synfin-tun", "Gbit/s")
	row("3. bulk to synfin, plain TUN", "tun_bulk", "synfin-tun-plain", "Gbit/s")
	row("3. bulk, kernel to kernel, veth", "bulk", "kernel-veth", "Gbit/s")
	row("3. bulk from synfin over TUN", "tun_bulk_down", "synfin-tun", "Gbit/s")
	row("3. bulk from synfin, plain TUN", "tun_bulk_down", "synfin-tun-plain", "Gbit/s")
	row("3. bulk back, kernel to kernel, veth", "bulk_down", "kernel-veth", "Gbit/s")
	row("5. round trips/s, one connection", "rr", "synfin", "")
	row("5. round trips/s, one connection", "rr", "lwip", "")
	split("1 50 1000", hc, " ")
	hdr = 0
	for (i = 1; i <= 3; i++) for (pi = 1; pi <= 2; pi++) {
		p = pi == 1 ? "synfin-tun" : "nginx-veth"; b = "http_c" hc[i]
		if (m(b, p, "req_per_s") == "") continue
		if (!hdr) { printf("\n| 6. HTTP, 1 KiB file, keep-alive (wrk) | server | requests/s | p99 ms | errors | n |\n|---|---|---:|---:|---:|---|\n"); hdr = 1 }
		printf("| %s connections | %s | %s | %s | %s | %s |\n", hc[i], p, fmt(m(b, p, "req_per_s"), ""), m(b, p, "p99_ms"), m(b, p, "errors"), nvals[b SUBSEP p SUBSEP "req_per_s"])
	}
	for (pi = 1; pi <= 2; pi++) {
		p = pi == 1 ? "synfin-tun" : "nginx-veth"; b = "http_attack"
		if (m(b, p, "req_per_s") == "") continue
		printf("| 1 connection, 5,000 idle + 100 slowloris held | %s | %s | %s | %s | %s |\n", p, fmt(m(b, p, "req_per_s"), ""), m(b, p, "p99_ms"), m(b, p, "errors"), nvals[b SUBSEP p SUBSEP "req_per_s"])
	}
	printf("\n| CPU per GB on the bulk runs (getrusage, both ends) | to synfin / kernel server | from synfin / kernel server |\n|---|---:|---:|\n")
	printf("| synfin over TUN, offloads | %s | %s |\n", cpu(m("tun_bulk", "synfin-tun", "cpu_s_per_gb")), cpu(m("tun_bulk_down", "synfin-tun", "cpu_s_per_gb")))
	printf("| synfin over plain TUN | %s | %s |\n", cpu(m("tun_bulk", "synfin-tun-plain", "cpu_s_per_gb")), cpu(m("tun_bulk_down", "synfin-tun-plain", "cpu_s_per_gb")))
	printf("| kernel to kernel, veth | %s | %s |\n", cpu(m("bulk", "kernel-veth", "cpu_s_per_gb")), cpu(m("bulk_down", "kernel-veth", "cpu_s_per_gb")))
	printf("\n| memory (synfin, two stacks in one process)         | value |\n|---|---:|\n")
	for (i = 1; i <= no; i++) { split(order[i], kk, SUBSEP); if (kk[1] == "mem") printf("| %s %s | %s %s |\n", kk[2], kk[3], fmt(median(order[i]), unit[order[i]]), unit[order[i]]) }
	printf("\n| target (ratios of medians from this run)             |     value |  target | met  |\n")
	printf("|------------------------------------------------------|----------:|--------:|------|\n")
	ratio("bulk: synfin / lwIP", m("bulk", "synfin", "gbps"), m("bulk", "lwip", "gbps"), 2.0)
	ratio("bulk: synfin / kernel lo, MTU 1500, offloads off", m("bulk", "synfin", "gbps"), m("bulk", "kernel-lo-nooffload", "gbps"), 1.2)
	ratio("bulk: synfin / kernel lo, MTU 1500, offloads on", m("bulk", "synfin", "gbps"), m("bulk", "kernel-lo-offload", "gbps"), "")
	limit("lives/s, TIME-WAIT held, one core", m("crr", "synfin", "lives_per_s"), ">=", 1000000, "/s")
	ratio("lives/s: synfin / lwIP (TIME-WAIT held)", m("crr", "synfin", "lives_per_s"), m("crr", "lwip", "lives_per_s"), 50)
	ratio("lives/s: synfin / kernel lo (TIME-WAIT held)", m("crr", "synfin", "lives_per_s"), m("crr", "kernel-lo", "lives_per_s"), "")
	ratio("lives/s, last 1 s / first 1 s (no decay)", m("crr", "synfin", "last_s"), m("crr", "synfin", "first_s"), "")
	ratio("lives/s RST close: synfin / lwIP", m("crr", "synfin-rst", "lives_per_s"), m("crr", "lwip-rst", "lives_per_s"), "")
	ratio("TUN lives/s: synfin / kernel over veth", m("tun_crr", "synfin-tun", "lives_per_s"), m("crr", "kernel-veth", "lives_per_s"), 1.0)
	ratio("TUN lives/s: 2 stacks / 1 stack", m("tun_crr", "synfin-tun-2stacks", "lives_per_s"), m("tun_crr", "synfin-tun", "lives_per_s"), 1.8)
	ratio("TUN lives/s, 1 stack / veth, 1 server thread", m("tun_crr", "synfin-tun", "lives_per_s"), m("crr", "kernel-veth-1srv", "lives_per_s"), 1.0)
	ratio("TUN lives/s, 2 stacks / veth, 2 server threads", m("tun_crr", "synfin-tun-2stacks", "lives_per_s"), m("crr", "kernel-veth", "lives_per_s"), 1.0)
	ratio("TUN bulk to synfin: synfin / kernel over veth", m("tun_bulk", "synfin-tun", "gbps"), m("bulk", "kernel-veth", "gbps"), 1.0)
	ratio("TUN bulk from synfin: synfin / kernel over veth", m("tun_bulk_down", "synfin-tun", "gbps"), m("bulk_down", "kernel-veth", "gbps"), 1.0)
	ratio("TUN bulk to synfin: offloads / plain TUN", m("tun_bulk", "synfin-tun", "gbps"), m("tun_bulk", "synfin-tun-plain", "gbps"), "")
	ratio("TUN bulk from synfin: offloads / plain TUN", m("tun_bulk_down", "synfin-tun", "gbps"), m("tun_bulk_down", "synfin-tun-plain", "gbps"), "")
	ratio("CPU/GB to synfin: synfin TUN / kernel veth", m("tun_bulk", "synfin-tun", "cpu_s_per_gb"), m("bulk", "kernel-veth", "cpu_s_per_gb"), "")
	ratio("CPU/GB from synfin: synfin TUN / kernel veth", m("tun_bulk_down", "synfin-tun", "cpu_s_per_gb"), m("bulk_down", "kernel-veth", "cpu_s_per_gb"), "")
	ratio("round trips/s: synfin / lwIP", m("rr", "synfin", "trans_per_s"), m("rr", "lwip", "trans_per_s"), "")
	for (i = 1; i <= 3; i++) {
		b = "http_c" hc[i]
		if (m(b, "synfin-tun", "req_per_s") == "") continue
		ratio("HTTP req/s at " hc[i] ": synfin serve (TUN) / nginx (veth)", m(b, "synfin-tun", "req_per_s"), m(b, "nginx-veth", "req_per_s"), hc[i] == 1000 ? 1.0 : "")
		ratio("HTTP p99 at " hc[i] ": synfin serve / nginx (lower is better)", m(b, "synfin-tun", "p99_ms"), m(b, "nginx-veth", "p99_ms"), "")
		if (hc[i] == 1000) limit("HTTP requests unanswered at 1000 (synfin serve)", m(b, "synfin-tun", "errors"), "<=", 0, "")
	}
	if (m("http_attack", "synfin-tun", "req_per_s") != "") {
		ratio("HTTP under attack, req/s: synfin serve / nginx", m("http_attack", "synfin-tun", "req_per_s"), m("http_attack", "nginx-veth", "req_per_s"), "")
		ratio("HTTP under attack, p99: synfin serve / nginx (lower is better)", m("http_attack", "synfin-tun", "p99_ms"), m("http_attack", "nginx-veth", "p99_ms"), "")
		limit("HTTP requests unanswered under attack (synfin serve)", m("http_attack", "synfin-tun", "errors"), "<=", 0, "")
	}
	for (i = 1; i <= no; i++) { split(order[i], kk, SUBSEP); if (kk[1] == "mem" && kk[3] == "bytes_per_conn") limit("bytes per idle established connection (" kk[2] ")", median(order[i]), "<=", 1024, "B") }
	limit("bytes per TIME-WAIT entry", m("mem", "synfin", "bytes_per_timewait"), "<=", 128, "B")
	printf("\nSetup of each peer (from the last run):\n\n")
	for (i = 1; i <= ni; i++) { split(iorder[i], kk, SUBSEP); printf("- %s %s %s: %s\n", kk[1], kk[2], kk[3], info[iorder[i]]) }

	# JSON
	mq = machine; gsub(/"/, "\\\"", mq)
	printf("{\n  \"machine\": \"%s\",\n  \"load_start\": \"%s\",\n  \"load_end\": \"%s\",\n  \"git\": \"%s\",\n  \"runs\": %d,\n  \"smoke\": %s,\n  \"results\": [\n", mq, load_start, load_end, rev, runs, smoke ? "true" : "false") > out
	for (i = 1; i <= no; i++) {
		split(order[i], kk, SUBSEP); s = vals[order[i]]; sub(/^ /, "", s); gsub(/ /, ", ", s)
		printf("    {\"bench\": \"%s\", \"peer\": \"%s\", \"metric\": \"%s\", \"median\": %s, \"unit\": \"%s\", \"samples\": [%s]}%s\n", kk[1], kk[2], kk[3], median(order[i]), unit[order[i]], s, i < no ? "," : "") > out
	}
	printf("  ],\n  \"targets\": [\n") > out
	for (i = 1; i <= nr; i++)
		printf("    {\"name\": \"%s\", \"value\": %s, \"target\": \"%s\", \"met\": \"%s\"}%s\n", rname[i], rval[i] == "" ? "null" : rval[i], rtgt[i], rmet[i], i < nr ? "," : "") > out
	printf("  ],\n  \"info\": [\n") > out
	for (i = 1; i <= ni; i++) { split(iorder[i], kk, SUBSEP); v = info[iorder[i]]; gsub(/"/, "\\\"", v); printf("    {\"bench\": \"%s\", \"peer\": \"%s\", \"key\": \"%s\", \"text\": \"%s\"}%s\n", kk[1], kk[2], kk[3], v, i < ni ? "," : "") > out }
	printf("  ]\n}\n") > out
}' "$raw"
echo "bench: wrote $out" >&2
exit $fail
