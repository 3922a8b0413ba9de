#!/bin/bash
# Stopping `synfin serve` lets the closes under way finish (RFC 9293 §3.6:
# a FIN is retransmitted until acknowledged). With a 300 ms one-way delay on
# synfin's link, the server is stopped (TERM) the moment the kernel's side of
# a finished download reaches TIME-WAIT: synfin is then in LAST-ACK and the
# kernel's ACK of its FIN is still on the way. The server must stay for it,
# so its capture shows every FIN acknowledged, and exit cleanly; stopped with
# nothing closing, it must not wait out its 5 s grace. Stopped (Ctrl-C:
# INT) with connections still open, an idle kept-alive one and a download
# nobody reads, it resets them on its way out: a TUN device that vanishes
# tells the kernel nothing, so without the RSTs both clients would wait
# for their own timeouts. SIGHUP (the terminal closed) does the same.
. "$(dirname "$0")/common.bash"

mkdir -p "$WORK/www"
head -c 5000 /dev/urandom >"$WORK/www/a.bin"
serve_www serve --delay-ms 300 --pcap "$WORK/serve.pcap"
curl -sS --max-time 10 -o "$WORK/got" http://$SF/a.bin || fail "the download failed"
cmp -s "$WORK/got" "$WORK/www/a.bin" || fail "the download differs"
for _ in $(seq 100); do
	[ "$(tw_count '( dport = :80 )')" = 1 ] && break
	sleep 0.02
done
expect_eq "kernel connections in TIME-WAIT" "$(tw_count '( dport = :80 )')" 1
t0=$(date +%s.%N)
stop $SERVE 10 || fail "synfin serve exited with $? on TERM: $(tail -3 "$WORK/serve.out")"
note "stopped during synfin's LAST-ACK: exited after $(echo "$(date +%s.%N) - $t0" | bc) s"
pcapcheck "$WORK/serve.pcap" --streams 1 --closer kernel

serve_www idle
t0=$(date +%s.%N)
stop $SERVE 10 || fail "an idle synfin serve exited with $? on TERM"
t=$(echo "$(date +%s.%N) - $t0" | bc)
note "stopped with nothing closing: exited after $t s"
[ "$(echo "$t < 4" | bc)" = 1 ] || fail "an idle server took $t s to stop (it has nothing to wait for)"
head -c 4000000 /dev/urandom >"$WORK/www/big.bin"
serve_www open
exec 3<>/dev/tcp/$SF/80 # kept alive, idle after its answer
printf 'GET /a.bin HTTP/1.1\r\nHost: x\r\n\r\n' >&3
exec 4<>/dev/tcp/$SF/80 # a download nobody reads: synfin still has to send
printf 'GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n' >&4
open_conns() { ss -Htn state established '( dport = :80 )' | wc -l; }
expect_eq "open kernel connections" "$(open_conns)" 2
kill -INT $SERVE
stop $SERVE 10 || fail "synfin serve exited with $? on INT: $(tail -3 "$WORK/open.out")"
expect_eq "kernel connections still open after synfin serve exited" "$(open_conns)" 0
# What was received can still be read; then the reset is reported.
timeout 5 cat <&4 >/dev/null 2>"$WORK/read.err" && fail "the unread download ended without an error"
grep -q "reset by peer" "$WORK/read.err" || fail "no reset after the download's data: $(cat "$WORK/read.err")"
exec 3<&- 4<&-

# The terminal closing (SIGHUP) stops it the same way; it killed it, status
# 129, leaving the clients open.
serve_www hup
exec 3<>/dev/tcp/$SF/80
kill -HUP $SERVE
for _ in $(seq 50); do
	kill -0 $SERVE 2>/dev/null || break
	sleep 0.1
done
wait $SERVE
expect_eq "synfin serve's exit status on HUP" $? 0
expect_eq "kernel connections still open after HUP" "$(open_conns)" 0
exec 3<&-
note "PASS"
