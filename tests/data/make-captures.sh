#!/usr/bin/env bash
# make-captures.sh: records small packet captures of the Linux kernel's own TCP
# and ICMP, for tests/unit/test_pcap_decode.c and the seed corpora in
# fuzz/corpus/.
#
# Needs root, iproute2, tcpdump, curl, python3, ethtool and ping. It makes two
# network namespaces of its own joined by a veth pair -- client 192.0.2.1 and
# server 192.0.2.2 (TEST-NET-1, RFC 5737) -- captures on the client's end, and
# deletes both namespaces when it exits. Nothing else is touched.
#
# Why not lo: the kernel leaves TCP checksums of packets sent over lo
# uncomputed (CHECKSUM_PARTIAL) and on recent kernels lo's tx checksum
# offload is "[fixed]", so `ethtool -K lo tx off` cannot help and every TCP
# packet in a lo capture has a bad checksum. On veth, `ethtool -K ... tx off`
# works, so every packet in these captures carries a correct checksum and the
# test parses them with verify=true.
#
# It writes, into the directory given (default: next to itself):
#   kernel-http.pcap              curl GET against `python3 -m http.server -p
#                                 HTTP/1.1`, which keeps the connection open
#                                 (Content-Length): curl closes first.
#   kernel-http-server-close.pcap curl GET against a one-shot server that
#                                 answers without Content-Length and closes:
#                                 the server closes first (curl reads to EOF).
#   kernel-refused.pcap           a connection to a closed port (SYN, RST+ACK).
#   kernel-ping.pcap              three ICMP echo requests and replies.
#   kernel-frag.pcap              one 2000-byte ping: echo request and reply
#                                 each in two IPv4 fragments (MTU 1500).
#   kernel-unreach.pcap           a UDP datagram to a closed port and the ICMP
#                                 port-unreachable that quotes it.
#
# Usage: sudo tests/data/make-captures.sh [outdir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)

if [[ $(id -u) != 0 ]]; then
	echo "make-captures.sh: needs root (ip netns)" >&2
	exit 77
fi
for tool in tcpdump curl python3 ethtool ping ip timeout; do
	command -v "$tool" >/dev/null || {
		echo "make-captures.sh: $tool not found" >&2
		exit 77
	}
done

cli=synfin-cap-c-$$
srv=synfin-cap-s-$$
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	ip netns del "$cli" 2>/dev/null || true
	ip netns del "$srv" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$cli"
ip netns add "$srv"
C() { ip netns exec "$cli" "$@"; }
S() { ip netns exec "$srv" "$@"; }
C ip link add veth-c type veth peer name veth-s
C ip link set veth-s netns "$srv"
C ip addr add 192.0.2.1/24 dev veth-c
S ip addr add 192.0.2.2/24 dev veth-s
for ns in "$cli" "$srv"; do
	ip netns exec "$ns" ip link set lo up
done
C ip link set veth-c up
S ip link set veth-s up
# Compute checksums in software on both sides (see above).
C ethtool -K veth-c tx off >/dev/null
S ethtool -K veth-s tx off >/dev/null

# A small site: one short text file keeps each capture a few KB.
mkdir -p "$work/site"
printf 'hello from the kernel capture\n' >"$work/site/hello.txt"

# start_capture FILE FILTER: starts tcpdump on the client's veth, waits until
# it listens. --immediate-mode: deliver each packet at once, so none is left
# in the kernel's buffer when tcpdump is stopped.
start_capture() {
	local file=$1 filter=$2
	# Not through C(): `$!` of a backgrounded shell function is a subshell, and
	# killing it would leave tcpdump running. ip netns exec execs its command.
	ip netns exec "$cli" timeout 60 \
		tcpdump -i veth-c -s 0 --immediate-mode -U -n -Z root -w "$file" "$filter" \
		2>"$work/tcpdump.log" &
	cap_pid=$!
	for _ in $(seq 1 50); do
		grep -q "listening on" "$work/tcpdump.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "tcpdump did not start" >&2
	cat "$work/tcpdump.log" >&2
	exit 1
}

# stop_capture: lets the last packets land, then stops tcpdump.
stop_capture() {
	sleep 1
	kill -TERM "$cap_pid" # (SIGINT is ignored by background jobs)
	wait "$cap_pid" 2>/dev/null || true
}

# wait_port PORT: waits until the server listens on 192.0.2.2:PORT.
wait_port() {
	for _ in $(seq 1 50); do
		if C curl -s --max-time 1 -o /dev/null "http://192.0.2.2:$1/hello.txt"; then
			return 0
		fi
		sleep 0.1
	done
	echo "nothing listens on port $1" >&2
	exit 1
}

# HTTP/1.1 server: keeps the connection; curl closes it when done (client FIN first).
ip netns exec "$srv" timeout 100 \
	python3 -m http.server -b 192.0.2.2 -d "$work/site" -p HTTP/1.1 8080 >/dev/null 2>&1 &
pids+=($!)
wait_port 8080
sleep 0.5 # let the probe connection finish before capturing

start_capture "$out/kernel-http.pcap" "tcp port 8080"
C curl -sS --max-time 5 -o /dev/null http://192.0.2.2:8080/hello.txt
stop_capture

# One-shot server: reads the request, answers without Content-Length and
# closes at once, so its FIN comes first and curl (reading to EOF) follows.
cat >"$work/oneshot.py" <<'EOF'
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("192.0.2.2", 8081))
ls.listen(1)
open(sys.argv[1], "w").close()  # tell the script we listen
ls.settimeout(30)
c, _ = ls.accept()
req = b""
while b"\r\n\r\n" not in req:
    chunk = c.recv(4096)
    if not chunk:
        break
    req += chunk
c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from the kernel capture\n")
c.close()
ls.close()
EOF
ip netns exec "$srv" timeout 60 python3 "$work/oneshot.py" "$work/oneshot.ready" &
pids+=($!)
# The one-shot server takes a single connection, so no probe: wait for its file.
for _ in $(seq 1 100); do
	[[ -e $work/oneshot.ready ]] && break
	sleep 0.1
done
start_capture "$out/kernel-http-server-close.pcap" "tcp port 8081"
C curl -sS --max-time 5 -o /dev/null http://192.0.2.2:8081/
stop_capture

start_capture "$out/kernel-refused.pcap" "tcp port 8099"
C curl -sS --max-time 5 -o /dev/null http://192.0.2.2:8099/ 2>/dev/null || true
stop_capture

start_capture "$out/kernel-ping.pcap" "icmp"
C ping -n -c 3 -i 0.2 -W 1 192.0.2.2 >/dev/null
stop_capture

start_capture "$out/kernel-frag.pcap" "icmp or (ip[6:2] & 0x3fff != 0)"
C ping -n -c 1 -s 2000 -W 1 192.0.2.2 >/dev/null
stop_capture

start_capture "$out/kernel-unreach.pcap" "icmp or udp port 9"
C python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"synfin", ("192.0.2.2", 9))'
stop_capture

ls -l "$out"/kernel-*.pcap
