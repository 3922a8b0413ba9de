#!/bin/bash
# Interop: every way a connection can end, synfin (tests/interop/sfpeer.c)
# against the Linux kernel's TCP over a TUN device, inside a network
# namespace of its own. synfin's side is read from its own trace (the
# states sfpeer prints), the kernel's from `ss -tan` in the namespace, the
# wire from synfin's pcap (tshark).
#
#   synfin closes first   FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT; kernel CLOSED (LAST-ACK done)
#   kernel closes first   CLOSE-WAIT LAST-ACK CLOSED; kernel in TIME-WAIT
#   simultaneous close    both FINs in flight at once (a 100 ms one-way delay on
#                         synfin's link makes it certain): FIN-WAIT-1 CLOSING
#                         TIME-WAIT on both sides (RFC 9293 §3.6, Figure 13)
#   half-close by synfin  synfin's FIN, then 200 KB from the kernel in FIN-WAIT-2
#   half-close by kernel  the kernel's FIN, then 200 KB from synfin in CLOSE-WAIT
#   refused               a SYN to a closed port gets RST, both directions
NEED_BINS="tests/interop/sfpeer"
. "$(dirname "$0")/common.bash"

# expect_states LABEL FILE WORDS: sfpeer's "states:" line is exactly WORDS.
expect_states() {
	local got
	got=$(sed -n 's/^states: //p' "$2")
	[ "$got" = "$3" ] || fail "$1: synfin went through '$got', expected '$3' ($(cat "$2"))"
}

bg kdrain $KPEER drain 7000
bg kcloser $KPEER closer 7001
bg kreply $KPEER reply 7002
wait_for "$WORK/kdrain.out" ready
wait_for "$WORK/kcloser.out" ready
wait_for "$WORK/kreply.out" ready

note "synfin closes first"
"$SFPEER" --pcap "$WORK/active.pcap" --send 10000 --close-after-ms 0 connect $KN 7000 \
	>"$WORK/active" || fail "active close: $(cat "$WORK/active")"
expect_states "active close" "$WORK/active" \
	"SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED"
expect_eq "kernel connections left on :7000" "$(ss -Htan exclude listening '( sport = :7000 )' | wc -l)" 0
pcapcheck "$WORK/active.pcap" --streams 1 --closer synfin

note "the kernel closes first"
bg passive "$SFPEER" --pcap "$WORK/passive.pcap" --send 5000 listen 7100
PASSIVE=$LAST_PID
wait_for "$WORK/passive.out" listening
$KPEER client $SF 7100 --send 3000 --recv 5000 >"$WORK/kclient" || fail "kernel client: $(cat "$WORK/kclient")"
expect_eq "kernel client" "$(cat "$WORK/kclient")" "received 5000"
wait $PASSIVE || fail "passive close: $(cat "$WORK/passive.out")"
expect_states "passive close" "$WORK/passive.out" \
	"SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"
expect_eq "kernel TIME-WAIT on :7100" "$(tw_count '( dport = :7100 )')" 1
pcapcheck "$WORK/passive.pcap" --streams 1 --closer kernel

note "simultaneous close"
"$SFPEER" --pcap "$WORK/simul.pcap" --delay-ms 100 --close-after-ms 100 connect $KN 7001 \
	>"$WORK/simul" || fail "simultaneous close: $(cat "$WORK/simul")"
expect_states "simultaneous close" "$WORK/simul" \
	"SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT CLOSED"
expect_eq "kernel TIME-WAIT on :7001" "$(tw_count '( sport = :7001 )')" 1
pcapcheck "$WORK/simul.pcap" --streams 1 --closer simultaneous

note "half-close by synfin: data from the kernel after synfin's FIN"
"$SFPEER" --pcap "$WORK/half1.pcap" --send 200000 --shutdown connect $KN 7002 \
	>"$WORK/half1" || fail "half-close: $(cat "$WORK/half1")"
grep -q "^received: 200000$" "$WORK/half1" || fail "half-close: $(cat "$WORK/half1")"
expect_states "half-close by synfin" "$WORK/half1" \
	"SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED"
pcapcheck "$WORK/half1.pcap" --streams 1 --closer synfin --halfclose

note "half-close by the kernel: data from synfin after the kernel's FIN"
bg half2 "$SFPEER" --pcap "$WORK/half2.pcap" --send 200000 listen 7101
HALF2=$LAST_PID
wait_for "$WORK/half2.out" listening
$KPEER client $SF 7101 --send 10 --shutdown >"$WORK/kclient2" || fail "kernel client"
expect_eq "kernel client after its FIN" "$(cat "$WORK/kclient2")" "received 200000"
wait $HALF2 || fail "half-close by the kernel: $(cat "$WORK/half2.out")"
expect_states "half-close by the kernel" "$WORK/half2.out" \
	"SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"
pcapcheck "$WORK/half2.pcap" --streams 1 --closer kernel --halfclose

note "refused: synfin -> a closed kernel port, the kernel -> a closed synfin port"
"$SFPEER" --pcap "$WORK/refused1.pcap" connect $KN 9 >"$WORK/refused1"
expect_eq "sfpeer exit status (3: connection refused)" $? 3
grep -q "error: connection refused" "$WORK/refused1" || fail "$(cat "$WORK/refused1")"
pcapcheck "$WORK/refused1.pcap" --streams 1 --refused 1
bg lsn "$SFPEER" --pcap "$WORK/refused2.pcap" --timeout-s 3 listen 7102
LSN=$LAST_PID
wait_for "$WORK/lsn.out" listening
$KPEER client $SF 9 >"$WORK/kclient3"
expect_eq "kernel client to a closed synfin port (exit 3)" "$?:$(cat "$WORK/kclient3")" "3:refused"
stop $LSN 5
pcapcheck "$WORK/refused2.pcap" --streams 1 --refused 1
note "PASS"
