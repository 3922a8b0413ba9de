#!/bin/bash
# Hostile clients that hold connections, against `synfin serve` over TUN:
# 100 slowloris connections (a request head one byte a second, never
# finished) and 5,000 connections that send nothing, all open at once. While
# they hold on, a legitimate curl must be answered within 1 s, every time.
# The slow ones must then be cut off by the head deadline (408, counted in
# /metrics, which must parse as Prometheus text), and a server whose table is
# full (--max-conns) must close its longest-idle connection, or with none
# idle its oldest unfinished head, to let a new client in (evictions counted).
. "$(dirname "$0")/common.bash"

ulimit -n 8192 || skip "cannot raise the fd limit to 8192 (5,100 sockets)"
HOSTILE="$PY $HERE/hostile.py"
mkdir -p "$WORK/www"
echo "legit" >"$WORK/www/a.txt"

serve_www serve --header-timeout 8

$HOSTILE metrics http://$SF/metrics >"$WORK/m0" || fail "/metrics does not parse as Prometheus text"

note "100 slowloris + 5,000 idle connections"
bg hold $HOSTILE hold $SF 80 --idle 5000 --slow 100 --seconds 14 --ready "$WORK/ready"
HOLD=$LAST_PID
wait_for "$WORK/ready" "ready 5100" 20
est=$(ss -Htn state established "( dport = :80 )" | wc -l)
[ "$est" -ge 5100 ] || fail "only $est kernel connections established"
# The last few may still wait in the accept queue for a moment.
for i in $(seq 10); do
	open=$(curl -sS --max-time 1 http://$SF/_synfin/stats |
		$PY -c 'import json,sys; print(json.load(sys.stdin)["http"]["conns_open"])') ||
		fail "/_synfin/stats not answered within 1 s"
	[ "$open" -gt 5100 ] && break
	sleep 0.2
done
[ "$open" -gt 5100 ] || fail "synfin serves only $open connections at once"
note "synfin has $open connections open"
for i in 1 2 3 4 5; do
	legit "attack running ($i)"
	sleep 0.5
done
wait $HOLD || fail "the attacking client failed: $(cat "$WORK/hold.out")"
cat "$WORK/hold.out"
slow_closed=$(kv slow_closed "$WORK/hold.out") got408=$(kv got408 "$WORK/hold.out")
[ "$slow_closed" = 100 ] || fail "the head deadline closed $slow_closed of 100 slowloris connections"
[ "$got408" = 100 ] || fail "$got408 of 100 slowloris connections got 408"
legit "after the attack"

$HOSTILE metrics http://$SF/metrics >"$WORK/m1" || fail "/metrics does not parse after the attack"
metric() { grep -F "$1 " "$2" | awk '{print $2}'; }
# evicted FILE WHAT: /metrics saved in $WORK/FILE must parse and count at
# least 3 evictions (one per legitimate request let in).
evicted() {
	$HOSTILE metrics http://$SF/metrics >"$WORK/$1" || fail "/metrics does not parse"
	local ev
	ev=$(metric 'synfin_http_conns_evicted_total{}' "$WORK/$1")
	$PY -c "import sys; sys.exit(0 if $ev >= 3 else 1)" || fail "evictions counted: $ev"
	note "$ev $2 evicted"
}
for m in 'synfin_http_timeouts_total{kind="header"}' 'synfin_http_responses_total{code="408"}' \
	'synfin_http_conns_accepted_total{}' 'synfin_stack_conns_passive_total{}'; do
	a=$(metric "$m" "$WORK/m0") b=$(metric "$m" "$WORK/m1")
	[ -n "$b" ] || fail "$m is missing from /metrics"
	$PY -c "import sys; sys.exit(0 if $b - ${a:-0} >= 100 else 1)" ||
		fail "$m moved from ${a:-0} to $b: expected +100 at least"
done
stop_serve serve

note "a full table: the longest-idle connection makes room"
# A backlog above the 300 lets every handshake finish at once: the table
# fills with 50 idle connections and 250 wait in the accept queue, so each
# client after them is served only by evicting (with backlog 16 the rest
# trickled in on SYN+ACK retransmissions and the table was sometimes not
# yet full when the legitimate requests came: no eviction was needed).
serve_www serve2 --max-conns 50 --backlog 512
bg hold2 $HOSTILE hold $SF 80 --idle 300 --seconds 8 --ready "$WORK/ready2"
wait_for "$WORK/ready2" "ready" 10
sleep 2
for i in 1 2 3; do
	legit "300 idle against 50 slots ($i)"
done
evicted m2 "idle connections"
stop_serve serve2

note "a full table of slowloris heads: the oldest head makes room"
serve_www serve3 --max-conns 50 --backlog 128
bg hold3 $HOSTILE hold $SF 80 --slow 100 --seconds 6 --ready "$WORK/ready3"
wait_for "$WORK/ready3" "ready 100" 10
sleep 2
for i in 1 2 3; do
	legit "100 slow heads against 50 slots ($i)"
done
evicted m3 "slow heads"
stop_serve serve3
note "PASS"
