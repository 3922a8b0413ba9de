#!/bin/bash
# Interop: `synfin get` as the client against HTTP servers on the Linux
# kernel's TCP (python3 http.server) over a TUN device, inside a network
# namespace of its own.
#
#   - HTTP/1.0 server (its body ends with the close, no Content-Length): the
#     kernel closes first (its side goes through TIME-WAIT); HTTP/1.1
#     server: synfin closes first after the response
#     (the kernel's side ends CLOSED, no TIME-WAIT);
#   - --ladder draws synfin's own connection, handshake to TIME-WAIT;
#   - a 100 MB file arrives byte-exact (sha256);
#   - 1,000 short connections, 16 at a time, half closed by each side;
#   - a SYN to a closed kernel port: RST, reported as "connection refused";
#   - --timeout is about silence, not the whole download: a slow transfer
#     that keeps receiving (400 ms RTT, 8 KiB window) runs past
#     --timeout + 5 s and completes;
#   - every pcap synfin wrote reads back in tshark without errors, with the
#     expected SYN, SYN+ACK, ACK ... FIN sequences.
. "$(dirname "$0")/common.bash"

mkdir -p "$WORK/www"
echo "kernel file" >"$WORK/www/a.txt"
head -c 100000000 /dev/urandom >"$WORK/www/big"
head -c 150000 /dev/urandom >"$WORK/www/slow"
bg http10 $KPEER http 8000 "$WORK/www"
bg http11 $KPEER http 8001 "$WORK/www" --http11
wait_for "$WORK/http10.out" ready
wait_for "$WORK/http11.out" ready
GET="$SYNFIN get --timeout 20"

note "HTTP/1.0: the kernel closes first"
$GET http://$KN:8000/a.txt --pcap "$WORK/g1.pcap" >"$WORK/g1" || fail "get from HTTP/1.0"
cmp -s "$WORK/g1" "$WORK/www/a.txt" || fail "body differs"
expect_eq "kernel TIME-WAIT on :8000" "$(tw_count '( sport = :8000 )')" 1
pcapcheck "$WORK/g1.pcap" --streams 1 --closer kernel

note "HTTP/1.1: synfin closes first"
$GET http://$KN:8001/a.txt --pcap "$WORK/g2.pcap" >"$WORK/g2" || fail "get from HTTP/1.1"
cmp -s "$WORK/g2" "$WORK/www/a.txt" || fail "body differs"
settle 10 "( sport = :8001 )"
expect_eq "kernel TIME-WAIT on :8001" "$(tw_count '( sport = :8001 )')" 0
expect_eq "kernel connections left on :8001" "$(ss -Htan exclude listening '( sport = :8001 )' | wc -l)" 0
pcapcheck "$WORK/g2.pcap" --streams 1 --closer synfin

note "--ladder: synfin's own connection"
$GET http://$KN:8001/a.txt --ladder >"$WORK/ladder" || fail "get --ladder"
for word in SYN-SENT ESTABLISHED FIN-WAIT-1 TIME-WAIT "SYN+ACK" "three-way handshake"; do
	grep -q -- "$word" "$WORK/ladder" || fail "the ladder lacks '$word': $(cat "$WORK/ladder")"
done

note "100 MB download"
t0=$(date +%s.%N)
$GET --timeout 60 http://$KN:8001/big -o "$WORK/big.out" --pcap "$WORK/big.pcap" ||
	fail "get 100 MB"
t1=$(date +%s.%N)
expect_eq "sha256 of 100 MB" "$(sha "$WORK/big.out")" "$(sha "$WORK/www/big")"
rm -f "$WORK/big.out"
note "100 MB in $(echo "$t1 - $t0" | bc) s"
pcapcheck "$WORK/big.pcap" --streams 1 --closer synfin

note "1,000 short connections, 16 at a time: 500 closed by the kernel, 500 by synfin"
tw0=$(tw_count '( sport = :8000 )')
t0=$(date +%s.%N)
$GET http://$KN:8000/a.txt --repeat 500 --parallel 16 --pcap "$WORK/r1.pcap" \
	2>"$WORK/r1" || fail "kernel-closed connections: $(cat "$WORK/r1")"
$GET http://$KN:8001/a.txt --repeat 500 --parallel 16 --pcap "$WORK/r2.pcap" \
	2>"$WORK/r2" || fail "synfin-closed connections: $(cat "$WORK/r2")"
t1=$(date +%s.%N)
cat "$WORK/r1" "$WORK/r2"
note "1,000 connections in $(echo "$t1 - $t0" | bc) s"
# The kernel closed the 500 to :8000 first: each is in TIME-WAIT there. A new
# SYN may reuse the 4-tuple of one of the $tw0 earlier TIME-WAITs there
# (synfin picks its ports afresh in each process; the kernel accepts such a
# SYN, RFC 6191), which then ends in TIME-WAIT again. None on :8001.
# (Counted once every close under way has finished.)
settle 10 "( sport = :8000 or sport = :8001 )"
tw1=$(tw_count '( sport = :8000 )')
[ "$tw1" -ge 500 ] && [ "$tw1" -le $((500 + tw0)) ] ||
	fail "kernel TIME-WAITs on :8000: $tw1, expected 500..$((500 + tw0))"
expect_eq "kernel TIME-WAITs on :8001 (synfin closed first)" "$(tw_count '( sport = :8001 )')" 0
pcapcheck "$WORK/r1.pcap" --streams 500 --closer kernel
pcapcheck "$WORK/r2.pcap" --streams 500 --closer synfin

note "a SYN to a closed kernel port: RST, connection refused"
$GET http://$KN:9/ --pcap "$WORK/refused.pcap" 2>"$WORK/refused" &&
	fail "get from a closed port succeeded"
grep -q "connection refused" "$WORK/refused" || fail "no 'connection refused': $(cat "$WORK/refused")"
pcapcheck "$WORK/refused.pcap" --streams 1 --refused 1
note "--timeout 1: a download that keeps receiving for about 7 s"
t0=$(date +%s.%N)
"$SYNFIN" get --timeout 1 --delay-ms 200 --rcvbuf 8192 http://$KN:8001/slow >"$WORK/slow.got" \
	2>"$WORK/slow.err" || fail "slow download: $(cat "$WORK/slow.err")"
t1=$(date +%s.%N)
cmp -s "$WORK/slow.got" "$WORK/www/slow" || fail "slow download differs"
secs=$(echo "$t1 - $t0" | bc)
note "150,000 bytes in $secs s"
[ "$(echo "$secs > 6" | bc)" = 1 ] || fail "the slow download took $secs s: it does not test the backstop"
note "PASS"
