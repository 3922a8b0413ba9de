#!/bin/bash
# Interop: the promises `synfin serve` and `synfin get` make on the command
# line, inside a network namespace of its own.
#
#   - serve prints exactly how to reach it, and that works: with --netns the
#     printed `nsenter ... curl http://192.0.2.2/` fetches the page from the
#     nested namespace serve created for itself;
#   - --duration ends serve by itself (exit 0, no leak);
#   - one-line errors: not root, /dev/net/tun missing, a bad URL, --addr and
#     --peer in different subnets, a bad --lang (demo, ladder, get), a view
#     file that cannot be created; and ones that named the wrong cause
#     before: an invalid --tun name, --tap with what a TAP cannot do, an
#     address no host can have, --dir naming a file, a pcap that cannot be
#     written, get of synfin's own address, a second serve on a subnet
#     already routed, ladder of a capture with more connections than the
#     one drawn, ladder of a capture of TCP over IPv6 ("no TCP");
#   - get stopped with Ctrl-C says "interrupted", and get whose reader goes
#     away (| head) says so; both reset their connection, so the kernel's
#     server is not left sending into a vanished device.
. "$(dirname "$0")/common.bash"

note "serve --netns prints a command that reaches it"
bg netns "$SYNFIN" serve --netns --duration 20
NETNS=$LAST_PID
wait_for "$WORK/netns.out" "reach it with: "
hint=$(sed -n 's/^reach it with: *//p' "$WORK/netns.out")
case "$hint" in
"nsenter --net=/proc/$NETNS/ns/net curl http://$SF/") ;;
*) fail "unexpected hint '$hint'" ;;
esac
timeout 20 $hint -sS --max-time 10 -o "$WORK/page.html" || fail "the printed command failed"
grep -q "(your connection)" "$WORK/page.html" || fail "no page from the nested namespace"
ip link show | grep -q tun && fail "serve --netns created its TUN in the caller's namespace"
stop $NETNS 5 || fail "serve --netns exited with $?"

note "--duration: serve stops by itself"
timeout 20 "$SYNFIN" serve --duration 0.5 --port 8080 >"$WORK/dur.out" 2>&1 ||
	fail "serve --duration exited with $?: $(cat "$WORK/dur.out")"
grep -q "reach it with:  curl http://$SF:8080/" "$WORK/dur.out" ||
	fail "no reach-it line with the port: $(cat "$WORK/dur.out")"

# expect_error WHAT WANT_STATUS WANT_TEXT CMD...: exactly one line on stderr.
expect_error() {
	local what=$1 want_rc=$2 want=$3 rc
	shift 3
	"$@" >/dev/null 2>"$WORK/err"
	rc=$?
	[ $rc = "$want_rc" ] || fail "$what: exit status $rc, expected $want_rc"
	[ "$(wc -l <"$WORK/err")" = 1 ] || fail "$what: not one line: $(cat "$WORK/err")"
	grep -qF -- "$want" "$WORK/err" || fail "$what: '$(cat "$WORK/err")' lacks '$want'"
}

note "one-line errors"
if command -v setpriv >/dev/null; then
	expect_error "serve as nobody" 1 "needs root" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$SYNFIN" serve
	expect_error "serve --netns as nobody" 1 "needs root" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$SYNFIN" serve --netns
fi
expect_error "no /dev/net/tun" 1 "/dev/net/tun is not available" \
	unshare -m sh -c "mount -t tmpfs none /dev/net && exec \"$SYNFIN\" get http://$KN/"
expect_error "bad URL" 2 "only http://A.B.C.D" "$SYNFIN" get https://example.org/
expect_error "different subnets" 1 "one subnet" "$SYNFIN" serve --addr 192.0.2.2/24 --peer 198.51.100.1
expect_error "unknown option" 2 "unknown option" "$SYNFIN" serve --bogus
for cmd in demo "ladder $SYNFIN_SRC/tests/data/kernel-http.pcap" "get http://$KN/"; do
	expect_error "$cmd --lang fr" 2 "--lang: 'fr' is not en or zh" "$SYNFIN" $cmd --lang fr
done
expect_error "demo --svg into a missing directory" 1 "/nonexistent/a.svg: No such file" \
	"$SYNFIN" demo --svg /nonexistent/a.svg
expect_error "ladder --graph into a missing directory" 1 "/nonexistent/g.svg: No such file" \
	"$SYNFIN" ladder "$SYNFIN_SRC/tests/data/kernel-http.pcap" --graph /nonexistent/g.svg

note "one-line errors that named the wrong cause"
# Each was a misleading line: the kernel's EINVAL read as "exists and is not
# a TUN device", errno 0 as "Success", a file as "Permission denied"...
expect_error "--tun a/b" 2 "'a/b' is not an interface name" "$SYNFIN" serve --tun a/b
expect_error "--tap --tun lo" 1 "lo exists and is not a TAP device" "$SYNFIN" serve --tap --tun lo
expect_error "--tap --threads 2" 1 "--tap: a TAP device has one queue" \
	"$SYNFIN" serve --tap --threads 2
expect_error "--tap --mtu 65535" 1 "--mtu: a TAP device takes at most 65521" \
	"$SYNFIN" serve --tap --mtu 65535
expect_error "--addr multicast" 1 "--addr 224.0.0.1/8: a multicast address" \
	"$SYNFIN" serve --addr 224.0.0.1/8 --peer 224.0.0.2
expect_error "--addr loopback" 1 "--addr 127.0.0.2/8: 127.0.0.0/8 is the loopback" \
	"$SYNFIN" get --addr 127.0.0.2/8 --peer 127.0.0.3 http://127.0.0.3/
expect_error "--peer broadcast" 1 "--peer 192.0.2.255/24: the subnet's broadcast address" \
	"$SYNFIN" serve --peer 192.0.2.255
expect_error "--addr network" 1 "--addr 192.0.2.0/24: the subnet's own address" \
	"$SYNFIN" serve --addr 192.0.2.0/24
expect_error "--addr /7" 2 "--addr prefix: '7' is not a whole number in [8, 30]" \
	"$SYNFIN" serve --addr 10.0.0.1/7
expect_error "--trace -" 2 "--trace -: give a file" "$SYNFIN" serve --trace -
[ -e ./- ] && fail "serve --trace - wrote a file named '-'"
expect_error "--dir FILE" 2 "--dir /etc/passwd: not a directory" "$SYNFIN" serve --dir /etc/passwd
expect_error "--pcap into a missing directory" 1 \
	"cannot write pcap file '/nonexistent/s.pcap': No such file" \
	"$SYNFIN" serve --pcap /nonexistent/s.pcap
expect_error "get synfin's own address" 2 "192.0.2.2 is synfin's own address (--addr)" \
	"$SYNFIN" get http://$SF/
ip link show | grep -q "tun\|tap" && fail "a refused serve left a TUN or TAP device behind"

note "ladder of a capture of TCP over IPv6 says why it draws nothing"
# curl http://localhost/ goes to ::1: its capture read "no TCP connection".
$PY -c '
import struct, sys
f = open(sys.argv[1], "wb")
f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))  # Ethernet
ip6 = bytes([0x60, 0, 0, 0, 0, 20, 6, 64]) + bytes(15) + b"\x01" + bytes(15) + b"\x01"
frame = bytes(12) + b"\x86\xdd" + ip6 + bytes(20)
for _ in range(2):
    f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)
' "$WORK/v6.pcap"
expect_error "ladder of TCP over IPv6" 1 "its 2 TCP segments over IPv6 are not read (synfin is IPv4 only" \
	"$SYNFIN" ladder "$WORK/v6.pcap"

note "ladder: a failure is the one line even when the capture has more connections"
bg two "$SYNFIN" serve --pcap "$WORK/two.pcap"
TWO=$LAST_PID
wait_for "$WORK/two.out" "reach it with: "
for _ in 1 2; do curl -sS --max-time 5 -o /dev/null http://$SF/ || fail "curl of serve --pcap"; done
# A second serve on the same subnet started on tun1 and printed "reach it
# with: curl http://192.0.2.2/", which reached the first one.
expect_error "a second serve on the subnet" 1 "already has $KN, in the subnet of --addr" \
	"$SYNFIN" serve --duration 1
# ?stack=K that names no stack is refused, "x" as much as "7" (it gave the sum).
for q in stack=x stack=-1 stack=1 stack=; do
	expect_eq "/metrics?$q" "$(curl -sS --max-time 5 -o /dev/null -w '%{http_code} %{content_type}' \
		"http://$SF/metrics?$q")" "404 text/plain; charset=utf-8"
done
expect_eq "/_synfin/stats?stack=0" "$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' \
	"http://$SF/_synfin/stats?stack=0")" 200
stop $TWO 5 || fail "serve --pcap exited with $?"
expect_error "ladder --svg into a missing directory, two connections" 1 \
	"/nonexistent/l.svg: No such file" "$SYNFIN" ladder "$WORK/two.pcap" --svg /nonexistent/l.svg
"$SYNFIN" ladder "$WORK/two.pcap" >/dev/null 2>"$WORK/two.err" || fail "ladder of two connections failed"
grep -q "^  --conn 2 " "$WORK/two.err" || fail "ladder does not list the other connection: $(cat "$WORK/two.err")"
note "get stopped with Ctrl-C says so and resets its connection"
mkdir -p "$WORK/files"
head -c 20000000 /dev/zero >"$WORK/files/big"
bg httpd $PY -m http.server 8000 --directory "$WORK/files"
for _ in $(seq 50); do ss -Htln '( sport = :8000 )' | grep -q . && break; sleep 0.1; done
# A 4 KiB window and 20 ms each way: 20 MB take minutes, so it is mid-body.
"$SYNFIN" get --delay-ms 20 --rcvbuf 4096 -o /dev/null http://$KN:8000/big 2>"$WORK/get.err" &
GET=$!
PIDS+=("$GET")
for _ in $(seq 50); do
	[ "$(ss -Htn state established '( sport = :8000 )' | wc -l)" = 1 ] && break
	sleep 0.1
done
expect_eq "kernel connections serving get" "$(ss -Htn state established '( sport = :8000 )' | wc -l)" 1
kill -INT $GET
wait $GET
expect_eq "get's exit status after Ctrl-C" $? 1
expect_eq "get's message after Ctrl-C" "$(cat "$WORK/get.err")" "synfin get: http://$KN:8000/big: interrupted"
# It was "timed out", and the kernel kept the connection, sending into a
# device that no longer existed.
expect_eq "kernel connections left by get" "$(ss -Htn state established '( sport = :8000 )' | wc -l)" 0

note "get --absolute, as synfin(1) lists it among the common options"
row=$("$SYNFIN" get --ladder --absolute http://$KN:8000/ | grep -m1 -- "- SYN seq=") ||
	fail "get --ladder --absolute: no SYN row"
seq=${row#*SYN seq=}
seq=${seq%% *}
[ "$seq" -gt 1 ] || fail "get --absolute drew the SYN with seq=$seq (relative)"

note "get | head: the reader's going away is a write error, and the connection is reset"
"$SYNFIN" get http://$KN:8000/big 2>"$WORK/pipe.err" | head -c 1000 >/dev/null
expect_eq "get's exit status when its reader went away" "${PIPESTATUS[0]}" 1
grep -q "cannot write the body: Broken pipe" "$WORK/pipe.err" ||
	fail "get | head: no write error: '$(cat "$WORK/pipe.err")'"
# SIGPIPE killed it silently (141) and the kernel's server stayed ESTABLISHED.
expect_eq "kernel connections left by get | head" "$(ss -Htn state established '( sport = :8000 )' | wc -l)" 0
note "PASS"
