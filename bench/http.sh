#!/usr/bin/env bash
# One round of the HTTP benchmark (part "http" of bench/run.sh): `synfin
# serve` over TUN against nginx over veth, both serving the same directory,
# loaded by the same wrk from the kernel side at each concurrency. Prints
# RESULT lines for run.sh:
#   RESULT http_cN <peer> req_per_s|p99_ms|errors VALUE UNIT
# with peer synfin-tun or nginx-veth. errors counts wrk's socket errors
# (connect, read, write, timeout) plus non-2xx answers: a request that was
# not answered.
#
# Then the same under attack (row http_attack): 5,000 idle connections and
# 100 slowloris ones (tests/interop/hostile.py hold) held open against each
# server while wrk -c1 asks for the file: the latency a legitimate client
# sees while cheap attacks hold thousands of slots.
#
# Usage: bench/http.sh BUILD_DIR SECONDS "1 50 1000"
# Needs root (namespaces), wrk and nginx (scripts/deps.sh bench).
# Both servers run one event loop on one core: synfin serve is one thread,
# nginx gets worker_processes 1 (the same shape; its default "auto" would
# take both cores of this 2-core machine and leave none to wrk).
set -uo pipefail
build=$1 secs=$2 conc=$3
synfin=$build/synfin
for t in wrk nginx; do
	command -v $t >/dev/null || { echo "bench http: $t is not installed" >&2; exit 77; }
done
[ -x "$synfin" ] || { echo "bench http: $synfin not built" >&2; exit 77; }

hostile=$(cd "$(dirname "$0")/.." && pwd)/tests/interop/hostile.py
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
work=$(mktemp -d /tmp/synfin-bench-http.XXXXXX)
nsa=sfhttp-$$-a nsb=sfhttp-$$-b
cleanup() {
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
	ip netns del $nsa 2>/dev/null
	ip netns del $nsb 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www"
chmod 755 "$work" "$work/www" # nginx workers run as nobody
head -c 1024 /dev/urandom >"$work/www/1k.bin"
chmod 644 "$work/www/1k.bin"

# wrk_report PEER ROW FILE: wrk's report in FILE as RESULT lines of bench
# http_ROW (c1, c50, ..., attack).
wrk_report() {
	local peer=$1 c=$2 f=$3
	awk -v peer="$peer" -v c="$c" '
	function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
	/Requests\/sec:/ { rps = $2 }
	$1 == "99%" { p99 = ms($2) }
	/Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
	/Non-2xx or 3xx responses:/ { err += $5 }
	END {
		printf("RESULT http_%s %s req_per_s %s /s\n", c, peer, rps)
		printf("RESULT http_%s %s p99_ms %s ms\n", c, peer, p99)
		printf("RESULT http_%s %s errors %d n\n", c, peer, err)
	}' "$f"
}
threads() { [ "$1" -ge 2 ] && echo 2 || echo 1; }

# ---- synfin serve over TUN (wrk on the kernel side, same namespace) ----
unshare -n bash -c '
	ip link set lo up
	ulimit -n "$(ulimit -Hn)"
	sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
	"$1" serve --dir "$2/www" --max-conns 20000 >"$2/serve.out" 2>&1 &
	pid=$!
	for i in $(seq 50); do grep -q "curl http" "$2/serve.out" && break; sleep 0.1; done
	shift 2
	secs=$1
	shift
	for c in "$@"; do
		t=1; [ "$c" -ge 2 ] && t=2
		wrk -t$t -c$c -d${secs}s --latency http://192.0.2.2/1k.bin >"'"$work"'/synfin-$c.txt" 2>&1
	done
	"'"$py"'" "'"$hostile"'" hold 192.0.2.2 80 --idle 5000 --slow 100 --seconds $((secs + 30)) \
		--ready "'"$work"'/synfin-ready" >"'"$work"'/synfin-hold.txt" 2>&1 &
	hold=$!
	for i in $(seq 300); do [ -s "'"$work"'/synfin-ready" ] && break; sleep 0.1; done
	wrk -t1 -c1 -d${secs}s --latency http://192.0.2.2/1k.bin >"'"$work"'/synfin-attack.txt" 2>&1
	kill $hold; wait $hold
	kill $pid; wait $pid
' _ "$synfin" "$work" "$secs" $conc || exit 1
for c in $conc; do
	wrk_report synfin-tun c$c "$work/synfin-$c.txt"
done
wrk_report synfin-tun attack "$work/synfin-attack.txt"

# ---- nginx over veth ----
ip netns add $nsa && ip netns add $nsb &&
	ip link add name sfhva netns $nsa type veth peer name sfhvb netns $nsb &&
	ip -n $nsa addr add 192.0.2.1/24 dev sfhva && ip -n $nsb addr add 192.0.2.2/24 dev sfhvb &&
	ip -n $nsa link set lo up && ip -n $nsb link set lo up &&
	ip -n $nsa link set sfhva up && ip -n $nsb link set sfhvb up &&
	ip netns exec $nsa sysctl -qw net.ipv4.ip_local_port_range="1024 65535" || exit 1
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 65536;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
daemon on;
events { worker_connections 20000; }
http {
	access_log off;
	keepalive_requests 1000000;
	server {
		listen 192.0.2.2:80 backlog=1024;
		root $work/www;
	}
}
EOF
ip netns exec $nsb nginx -c "$work/nginx.conf" -p "$work" || exit 1
for i in $(seq 50); do [ -s "$work/nginx.pid" ] && break; sleep 0.1; done
for c in $conc; do
	ip netns exec $nsa bash -c "ulimit -n \$(ulimit -Hn); exec wrk -t$(threads $c) -c$c -d${secs}s --latency http://192.0.2.2/1k.bin" \
		>"$work/nginx-$c.txt" 2>&1
	wrk_report nginx-veth c$c "$work/nginx-$c.txt"
done
ip netns exec $nsa bash -c "ulimit -n \$(ulimit -Hn); exec $py $hostile hold 192.0.2.2 80 --idle 5000 --slow 100 --seconds $((secs + 30)) --ready $work/nginx-ready" \
	>"$work/nginx-hold.txt" 2>&1 &
hold=$!
for i in $(seq 300); do [ -s "$work/nginx-ready" ] && break; sleep 0.1; done
ip netns exec $nsa wrk -t1 -c1 -d${secs}s --latency http://192.0.2.2/1k.bin >"$work/nginx-attack.txt" 2>&1
kill $hold 2>/dev/null
wait $hold
wrk_report nginx-veth attack "$work/nginx-attack.txt"
echo "INFO http_attack synfin-tun setup $(cat "$work/synfin-ready" 2>/dev/null | tr -d '\n') connections held (5,000 idle + 100 slowloris, hostile.py hold) during wrk -c1; serve with default limits"
echo "INFO http_attack nginx-veth setup $(cat "$work/nginx-ready" 2>/dev/null | tr -d '\n') connections held the same way; nginx defaults (client_header_timeout 60 s), worker_connections 20000"
echo "INFO http_c1 synfin-tun setup synfin serve (one thread) over TUN, default limits but --max-conns 20000; wrk -t1/-t2 on the kernel side, 1 KiB file, keep-alive, ${secs} s"
echo "INFO http_c1 nginx-veth setup nginx $(nginx -v 2>&1 | sed 's/.*\///'), worker_processes 1, access_log off, over veth between two namespaces; same wrk"
