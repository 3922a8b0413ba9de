#!/bin/bash
# Interop over Ethernet: `synfin serve --tap` and `synfin get --tap` against
# the Linux kernel over a TAP device, inside a network namespace of its own.
# synfin frames its datagrams itself and resolves the kernel's MAC with ARP
# (RFC 826); the kernel resolves synfin's.
#
#   - ping: the kernel ARPs for synfin, gets the reply, and its echo
#     requests are answered; the kernel's neighbour table then holds
#     synfin's locally administered MAC as REACHABLE;
#   - curl: a small file, then 100 MB byte-exact (sha256);
#   - the pcap synfin wrote (LINKTYPE_ETHERNET) reads back in tshark with no
#     malformed frame or checksum error, with synfin's gratuitous ARP and
#     its ARP replies, every connection complete;
#   - `synfin get --tap`: synfin asks for the kernel's MAC itself (its SYN
#     waits for the reply) and fetches a file from a kernel HTTP server.
. "$(dirname "$0")/common.bash"

mkdir -p "$WORK/www"
echo "over ethernet" >"$WORK/www/a.txt"
head -c 100000000 /dev/urandom >"$WORK/www/big"

bg serve "$SYNFIN" serve --tap --dir "$WORK/www" --pcap "$WORK/serve.pcap"
SERVE=$LAST_PID
wait_for "$WORK/serve.out" "curl http://$SF/"
grep -q " over tap" "$WORK/serve.out" || fail "serve did not open a TAP device: $(cat "$WORK/serve.out")"
CURL="curl -sS --max-time 20"

note "ping (the kernel resolves synfin with ARP first)"
ping -c 3 -i 0.2 -W 2 $SF >"$WORK/ping" || fail "no ping replies: $(cat "$WORK/ping")"
ip neigh show $SF >"$WORK/neigh"
grep -Eq "lladdr 02:([0-9a-f]{2}:){4}[0-9a-f]{2} (REACHABLE|STALE|DELAY)" "$WORK/neigh" ||
	fail "the kernel has no MAC for synfin: $(cat "$WORK/neigh")"

note "curl a small file"
$CURL http://$SF/a.txt >"$WORK/a.out" || fail "curl a.txt"
cmp -s "$WORK/a.out" "$WORK/www/a.txt" || fail "a.txt differs"

note "100 MB download"
t0=$(date +%s.%N)
$CURL --max-time 120 -o "$WORK/big.out" http://$SF/big || fail "curl 100 MB"
t1=$(date +%s.%N)
expect_eq "sha256 of 100 MB" "$(sha "$WORK/big.out")" "$(sha "$WORK/www/big")"
rm -f "$WORK/big.out"
note "100 MB in $(echo "$t1 - $t0" | bc) s"

stop $SERVE 10 || fail "synfin serve exited with $? (leak or crash): $(tail -5 "$WORK/serve.out")"
pcapcheck "$WORK/serve.pcap" --streams 2 --icmp-replies 3 --arp-replies 1 --arp-announces 1
rm -f "$WORK/serve.pcap"

note "synfin get --tap from a kernel HTTP server"
bg http11 $KPEER http 8001 "$WORK/www" --http11
wait_for "$WORK/http11.out" ready
"$SYNFIN" get --tap --timeout 20 http://$KN:8001/a.txt --pcap "$WORK/get.pcap" >"$WORK/g1" ||
	fail "get --tap"
cmp -s "$WORK/g1" "$WORK/www/a.txt" || fail "get --tap: body differs"
pcapcheck "$WORK/get.pcap" --streams 1 --closer synfin --arp-announces 1
tshark -n -r "$WORK/get.pcap" -Y "arp.opcode == 1 && arp.dst.proto_ipv4 == $KN" 2>/dev/null |
	grep -q . || fail "synfin never asked for the kernel's MAC"
note "PASS"
