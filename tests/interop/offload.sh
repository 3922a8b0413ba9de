#!/bin/bash
# Interop: the TUN's virtio-net header offloads, on and off (SYNFIN_OFFLOAD).
#
# The kernel sends 20 MB to echo_server and reads it back, once with the
# offloads (the default) and once on a plain TUN:
#   - with them, synfin's pcap holds super-segments (datagrams over the
#     1500-byte MTU) both ways: the kernel's GRO/GSO ones synfin received
#     and synfin's TSO ones the kernel cut; without them, none;
#   - either way the bytes come back exact, the capture verifies (every
#     checksum, SYN ... FIN), and the server exits cleanly.
NEED_BINS="examples/echo_server"
. "$(dirname "$0")/common.bash"

head -c 20000000 /dev/urandom >"$WORK/data"

# big_frames PCAP SRC: datagrams longer than the MTU sent by SRC.
big_frames() {
	tshark -n -r "$1" -Y "ip.src == $2 && ip.len > 1500" -T fields -e frame.number 2>/dev/null |
		wc -l
}

for mode in on off; do
	note "offloads $mode: nc -> echo_server, 20 MB through and back"
	SYNFIN_OFFLOAD=$mode bg "server_$mode" "$ECHO_SERVER" 7 "$WORK/$mode.pcap"
	SERVER=$LAST_PID
	wait_for "$WORK/server_$mode.out" "echo server on"
	timeout 60 nc -N $SF 7 <"$WORK/data" >"$WORK/echo_$mode" || fail "nc ($mode)"
	cmp -s "$WORK/data" "$WORK/echo_$mode" || fail "20 MB echoed differ (offloads $mode)"
	stop $SERVER 10 || fail "echo_server exited with $? (offloads $mode)"
	pcapcheck "$WORK/$mode.pcap" --streams 1 --closer kernel
	from_kernel=$(big_frames "$WORK/$mode.pcap" $KN)
	from_synfin=$(big_frames "$WORK/$mode.pcap" $SF)
	note "super-segments: $from_kernel from the kernel, $from_synfin from synfin"
	if [ $mode = on ]; then
		[ "$from_kernel" -gt 0 ] || fail "offloads on: no super-segment from the kernel"
		[ "$from_synfin" -gt 0 ] || fail "offloads on: no super-segment from synfin"
	else
		expect_eq "offloads off: super-segments from the kernel" "$from_kernel" 0
		expect_eq "offloads off: super-segments from synfin" "$from_synfin" 0
	fi
done
note "OK"
