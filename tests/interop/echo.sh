#!/bin/bash
# Interop: the two examples (examples/echo_server.c, examples/echo_client.c)
# against the Linux kernel's TCP over a TUN device, inside a network
# namespace of its own.
#
#   - kernel nc -> synfin echo_server: a line, 1 MB, then 100 MB streamed
#     through and back (sha256); nc half-closes after its input (-N) and
#     keeps reading the echo: data flows after the kernel's FIN;
#   - synfin echo_client -> kernel echo server: a line; then 20 MB to a
#     kernel server that answers only after the client's FIN (half-close by
#     synfin: it receives 20 MB in FIN-WAIT-2);
#   - a SYN to a closed port: refused both ways;
#   - the pcaps both examples wrote read back in tshark without errors;
#   - the TUN the library opened has a 10,000-frame kernel transmit queue.
NEED_BINS="examples/echo_server examples/echo_client"
. "$(dirname "$0")/common.bash"

head -c 100000000 /dev/urandom >"$WORK/big"
head -c 20000000 "$WORK/big" >"$WORK/mid"

note "nc -> echo_server: a line, 1 MB with half-close, a closed port"
bg echo_server "$ECHO_SERVER" 7 "$WORK/server.pcap"
SERVER=$LAST_PID
wait_for "$WORK/echo_server.out" "echo server on"
# The library raises the kernel's queue toward the TUN (500 frames overflow
# under a thousand clients; sf_tun_open).
expect_eq "the TUN's transmit queue" "$(ip -o link show type tun | grep -o 'qlen [0-9]*')" "qlen 10000"
expect_eq "echoed line" "$(echo hello synfin | timeout 10 nc -N $SF 7)" "hello synfin"
head -c 1000000 "$WORK/big" >"$WORK/small"
timeout 20 nc -N $SF 7 <"$WORK/small" >"$WORK/small.echo" || fail "nc 1 MB"
cmp -s "$WORK/small" "$WORK/small.echo" || fail "1 MB echoed differs"
nc -z -w 3 $SF 8 && fail "nc connected to a closed port"
expect_eq "kernel TIME-WAITs (the kernel closed first)" "$(tw_count '( dport = :7 )')" 2
stop $SERVER 10 || fail "echo_server exited with $? (leak or crash)"
pcapcheck "$WORK/server.pcap" --streams 3 --refused 1 --closer kernel --halfclose

note "nc -> echo_server: 100 MB through and back (no pcap: the HTTP tests check big captures)"
bg echo_server2 "$ECHO_SERVER" 7
SERVER=$LAST_PID
wait_for "$WORK/echo_server2.out" "echo server on"
t0=$(date +%s.%N)
timeout 120 nc -N $SF 7 <"$WORK/big" >"$WORK/big.echo" || fail "nc 100 MB"
t1=$(date +%s.%N)
expect_eq "sha256 of 100 MB echoed" "$(sha "$WORK/big.echo")" "$(sha "$WORK/big")"
rm -f "$WORK/big.echo"
note "100 MB each way in $(echo "$t1 - $t0" | bc) s"
stop $SERVER 10 || fail "echo_server exited with $? (leak or crash)"

note "echo_client -> kernel echo server"
bg kecho $KPEER echo 7000
bg kreply $KPEER reply 7001
wait_for "$WORK/kecho.out" ready
wait_for "$WORK/kreply.out" ready
expect_eq "echoed line" "$(echo hello kernel | timeout 20 "$ECHO_CLIENT" $KN 7000 "$WORK/c1.pcap")" \
	"hello kernel"
pcapcheck "$WORK/c1.pcap" --streams 1 --closer synfin

note "echo_client -> kernel server answering after synfin's FIN: 20 MB each way"
t0=$(date +%s.%N)
timeout 120 "$ECHO_CLIENT" $KN 7001 "$WORK/c2.pcap" <"$WORK/mid" >"$WORK/mid.echo" ||
	fail "echo_client 20 MB"
t1=$(date +%s.%N)
expect_eq "sha256 of 20 MB sent back after synfin's FIN" "$(sha "$WORK/mid.echo")" "$(sha "$WORK/mid")"
note "20 MB each way in $(echo "$t1 - $t0" | bc) s"
pcapcheck "$WORK/c2.pcap" --streams 1 --closer synfin --halfclose

note "echo_client to a closed kernel port"
timeout 20 "$ECHO_CLIENT" $KN 9 </dev/null 2>"$WORK/refused" && fail "connected to a closed port"
grep -q "connection refused" "$WORK/refused" || fail "no 'connection refused': $(cat "$WORK/refused")"
note "PASS"
