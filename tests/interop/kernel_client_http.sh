#!/bin/bash
# Interop: the Linux kernel's TCP as the client (curl, nc, ping) against
# `synfin serve` over a TUN device, inside a network namespace of its own.
#
#   - keep-alive: several URLs in one curl invocation share one connection;
#   - Connection: close makes synfin close first (the kernel then has no
#     TIME-WAIT); curl closing its kept-alive connection makes the kernel
#     close first (the kernel's side goes through TIME-WAIT);
#   - the built-in page draws the visitor's own connection (its handshake);
#   - a 100 MB file arrives byte-exact (sha256);
#   - 1,000 short connections, 16 at a time, half closed by each side
#     (kpeer.py load: one python process; 1,000 curl processes take a minute);
#   - a SYN to a port where nothing listens gets RST (curl: refused);
#   - ping gets echo replies;
#   - synfin's pcap of all of it reads back in tshark without a checksum
#     error or a malformed packet, each connection SYN, SYN+ACK, ACK ... FIN.
. "$(dirname "$0")/common.bash"

mkdir -p "$WORK/www"
echo "first file" >"$WORK/www/a.txt"
seq 1 2000 >"$WORK/www/b.txt"
printf '<html><body>c</body></html>\n' >"$WORK/www/c.html"
head -c 100000000 /dev/urandom >"$WORK/www/big"

bg serve "$SYNFIN" serve --dir "$WORK/www" --pcap "$WORK/serve.pcap"
SERVE=$LAST_PID
wait_for "$WORK/serve.out" "curl http://$SF/"
CURL="curl -sS --max-time 20"

note "keep-alive: three URLs, one connection (the kernel closes it)"
$CURL --local-port 41001 -o "$WORK/k1" http://$SF/a.txt -o "$WORK/k2" http://$SF/b.txt \
	-o "$WORK/k3" http://$SF/c.html -w '%{num_connects}\n' >"$WORK/conns" || fail "curl keep-alive"
cmp -s "$WORK/k1" "$WORK/www/a.txt" && cmp -s "$WORK/k2" "$WORK/www/b.txt" &&
	cmp -s "$WORK/k3" "$WORK/www/c.html" || fail "keep-alive bodies differ"
expect_eq "connections opened by curl" "$(paste -sd+ "$WORK/conns" | bc)" 1
# curl's exit sends the kernel's FIN; synfin's FIN answers it a moment later.
settle 10 "( sport = :41001 )"
expect_eq "kernel TIME-WAIT after the kernel closed" "$(tw_count '( sport = :41001 )')" 1

note "Connection: close (synfin closes first)"
$CURL --local-port 41002 -H 'Connection: close' http://$SF/a.txt >"$WORK/c1" || fail "curl close"
cmp -s "$WORK/c1" "$WORK/www/a.txt" || fail "Connection: close body differs"
settle 10 "( sport = :41002 )"
expect_eq "kernel TIME-WAIT after synfin closed" "$(tw_count '( sport = :41002 )')" 0
expect_eq "kernel connections left on port 41002" "$(ss -Htan '( sport = :41002 )' | wc -l)" 0

note "the built-in page draws the visitor's own connection"
$CURL --local-port 41003 http://$SF/ >"$WORK/page.html" || fail "curl /"
grep -q "192.0.2.1:41003</td>" "$WORK/page.html" || fail "the page does not list the visitor"
grep -q "(your connection)" "$WORK/page.html" || fail "the page does not mark the visitor"
grep -q "<svg" "$WORK/page.html" && grep -q "SYN+ACK" "$WORK/page.html" ||
	fail "the page has no ladder with the handshake"
$CURL http://$SF/_synfin/ladder/1.txt >"$WORK/ladder1.txt" || fail "curl ladder"
grep -q "SYN-RECEIVED" "$WORK/ladder1.txt" && grep -q "LAST-ACK" "$WORK/ladder1.txt" ||
	fail "the ladder of connection 1 lacks its states"
expect_eq "404 for a missing file" "$($CURL -o /dev/null -w '%{http_code}' http://$SF/nope)" 404

note "100 MB download"
t0=$(date +%s.%N)
$CURL --max-time 120 -o "$WORK/big.out" http://$SF/big || fail "curl 100 MB"
t1=$(date +%s.%N)
expect_eq "sha256 of 100 MB" "$(sha "$WORK/big.out")" "$(sha "$WORK/www/big")"
rm -f "$WORK/big.out"
note "100 MB in $(echo "$t1 - $t0" | bc) s"

note "1,000 short connections, 16 at a time: 500 closed by the kernel, 500 by synfin"
# Every earlier close finished (the 100 MB one's TIME-WAIT counted in tw0).
settle 10 "( dport = :80 )"
tw0=$(tw_count)
t0=$(date +%s.%N)
$KPEER load $SF 80 /a.txt --count 500 --parallel 16 >"$WORK/load1" ||
	fail "kernel-closed connections: $(cat "$WORK/load1")"
$KPEER load $SF 80 /a.txt --count 500 --parallel 16 --close >"$WORK/load2" ||
	fail "synfin-closed connections: $(cat "$WORK/load2")"
t1=$(date +%s.%N)
# Each client returns as soon as it has closed: the last FINs may still be
# on their way.
settle 10 "( dport = :80 )"
tw1=$(tw_count)
expect_eq "new kernel TIME-WAITs (only the kernel-closed 500)" $((tw1 - tw0)) 500
note "1,000 connections in $(echo "$t1 - $t0" | bc) s"

note "a SYN to a closed port is refused (RST)"
$CURL http://$SF:81/ 2>"$WORK/refused"
expect_eq "curl exit status for a refused connection" $? 7
nc -z -w 3 $SF 81 && fail "nc connected to a closed port"

note "ping"
ping -c 3 -i 0.2 -W 2 $SF >"$WORK/ping" || fail "no ping replies: $(cat "$WORK/ping")"

stop $SERVE 10 || fail "synfin serve exited with $? (leak or crash): $(tail -5 "$WORK/serve.out")"
cat "$WORK/serve.out"
# 1 (keep-alive) + 1 (close) + 1 (/) + 1 (ladder) + 1 (404) + 1 (big) + 1000 + 2 refused
pcapcheck "$WORK/serve.pcap" --streams 1008 --refused 2 --closers synfin=501,kernel=505 \
	--icmp-replies 3
note "PASS"
