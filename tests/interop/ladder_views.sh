#!/bin/bash
# Interop: every view of a connection between synfin and the kernel shows
# the kernel's states, inferred from the segments (marked "(inferred)"), the
# same way in every view, and never a false CLOSED:
#
#   - a kernel curl against `synfin serve`: the kernel closes first (curl
#     ends its kept-alive connection): /_synfin/ladder/N.txt and `synfin
#     ladder` on serve's pcap show the kernel SYN-SENT, ESTABLISHED,
#     FIN-WAIT-1, FIN-WAIT-2 and ending in TIME-WAIT, as ss shows it;
#   - Connection: close (synfin closes first): CLOSE-WAIT, LAST-ACK, CLOSED;
#   - a connection still open (the ladder of the very connection asking
#     for it): the kernel still ESTABLISHED, not CLOSED;
#   - the page at / draws the kernel's side marked as inferred;
#   - `synfin get --ladder` against a kernel server: the server starts in
#     LISTEN and goes SYN-RECEIVED, ESTABLISHED.
. "$(dirname "$0")/common.bash"

mkdir -p "$WORK/www"
echo "first file" >"$WORK/www/a.txt"

# The states of one side (0 left, 1 right) of a text ladder, in order,
# repeats folded; the header row (no lifelines) is not a state.
states() { # file side
	$PY - "$1" "$2" <<'EOF'
import re, sys
STATE = re.compile(r'^(\?|CLOSED|LISTEN|SYN-SENT|SYN-RECEIVED|ESTABLISHED|FIN-WAIT-1|'
                   r'FIN-WAIT-2|CLOSE-WAIT|CLOSING|LAST-ACK|TIME-WAIT)$')
side = int(sys.argv[2])
seq = []
for line in open(sys.argv[1], encoding='utf-8'):
    line = line.rstrip('\n')
    if line.count('|') < 2:
        continue
    words = (line[:line.index('|')] if side == 0 else line[line.rindex('|') + 1:]).split()
    if words and STATE.match(words[-1]) and (not seq or seq[-1] != words[-1]):
        seq.append(words[-1])
print(' '.join(seq))
EOF
}

bg serve "$SYNFIN" serve --dir "$WORK/www" --pcap "$WORK/serve.pcap"
SERVE=$LAST_PID
wait_for "$WORK/serve.out" "curl http://$SF/"
CURL="curl -sS --max-time 10"

note "the kernel closes first (curl ends its kept-alive connection)"
$CURL --local-port 41101 -o /dev/null http://$SF/a.txt || fail "curl a.txt"
note "synfin closes first (Connection: close)"
$CURL --local-port 41102 -H 'Connection: close' -o /dev/null http://$SF/a.txt || fail "curl close"
# Both closes end after curl has exited (synfin's FIN to 41101, its ACK of the
# kernel's FIN from 41102).
settle 10 "( sport = :41101 or sport = :41102 )"
expect_eq "kernel TIME-WAIT on 41101 (ss)" "$(tw_count '( sport = :41101 )')" 1
expect_eq "kernel connections left on 41102 (ss)" "$(ss -Htan '( sport = :41102 )' | wc -l)" 0

note "/_synfin/ladder/1.txt: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT"
$CURL -o "$WORK/l1.txt" http://$SF/_synfin/ladder/1.txt || fail "curl ladder 1"
grep -q "client (inferred)" "$WORK/l1.txt" || fail "the kernel's side is not marked inferred: $(cat "$WORK/l1.txt")"
grep -q "192.0.2.1:41101" "$WORK/l1.txt" || fail "ladder 1 is not the connection from 41101"
expect_eq "kernel states in /_synfin/ladder/1.txt" "$(states "$WORK/l1.txt" 0)" \
	"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT"
expect_eq "synfin states in /_synfin/ladder/1.txt" "$(states "$WORK/l1.txt" 1)" \
	"LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"

note "/_synfin/ladder/2.txt: CLOSE-WAIT, LAST-ACK, CLOSED"
$CURL -o "$WORK/l2.txt" http://$SF/_synfin/ladder/2.txt || fail "curl ladder 2"
grep -q "192.0.2.1:41102" "$WORK/l2.txt" || fail "ladder 2 is not the connection from 41102"
expect_eq "kernel states in /_synfin/ladder/2.txt" "$(states "$WORK/l2.txt" 0)" \
	"CLOSED SYN-SENT ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"

note "a connection still open: the kernel is ESTABLISHED, not CLOSED"
# Connections 3 and 4 fetched the ladders above; 5 asks for its own.
$CURL --local-port 41105 -o "$WORK/l5.txt" http://$SF/_synfin/ladder/5.txt || fail "curl ladder 5"
grep -q "192.0.2.1:41105" "$WORK/l5.txt" || fail "ladder 5 is not the asking connection: $(cat "$WORK/l5.txt")"
expect_eq "kernel states of an open connection" "$(states "$WORK/l5.txt" 0)" \
	"CLOSED SYN-SENT ESTABLISHED"
grep -E '^ *end ' "$WORK/l5.txt" | grep -q "CLOSED" &&
	fail "an open connection is drawn ending CLOSED: $(cat "$WORK/l5.txt")"

note "the step-by-step page and its Server-Sent Events"
$CURL -o "$WORK/l1.html" http://$SF/_synfin/ladder/1.html || fail "curl ladder 1.html"
grep -q 'window.STEPS=\[' "$WORK/l1.html" || fail "1.html has no steps"
$CURL -D "$WORK/sse.h" -o "$WORK/sse" http://$SF/_synfin/ladder/1.sse || fail "curl 1.sse"
grep -qi '^content-type: text/event-stream' "$WORK/sse.h" || fail "1.sse is not an event stream: $(cat "$WORK/sse.h")"
grep -qE '^data: [0-9]+$' "$WORK/sse" && grep -q '^retry: ' "$WORK/sse" ||
	fail "1.sse carries no event: $(cat "$WORK/sse")"

note "the page draws the kernel's side as inferred"
$CURL --local-port 41106 -o "$WORK/page.html" http://$SF/ || fail "curl /"
grep -q "client (inferred)" "$WORK/page.html" || fail "the page does not mark the kernel's side inferred"
grep -q ">SYN-SENT<" "$WORK/page.html" || fail "the page draws no SYN-SENT for the kernel"

stop $SERVE 10 || fail "synfin serve exited with $? (leak or crash): $(tail -5 "$WORK/serve.out")"

note "synfin ladder on serve's pcap: the same kernel states"
"$SYNFIN" ladder "$WORK/serve.pcap" --conn 1 >"$WORK/c1.txt" 2>/dev/null || fail "synfin ladder --conn 1"
expect_eq "kernel states in the capture's ladder" "$(states "$WORK/c1.txt" 0)" \
	"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT"
"$SYNFIN" ladder "$WORK/serve.pcap" --conn 2 >"$WORK/c2.txt" 2>/dev/null || fail "synfin ladder --conn 2"
expect_eq "kernel states in the capture's ladder (synfin closed)" "$(states "$WORK/c2.txt" 0)" \
	"CLOSED SYN-SENT ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"

note "frames synfin's own impairment lost are drawn lost"
head -c 300000 /dev/urandom >"$WORK/www/big"
bg lossy "$SYNFIN" serve --dir "$WORK/www" --loss 0.05 --seed 7 --pcap "$WORK/lossy.pcap"
LOSSY=$LAST_PID
wait_for "$WORK/lossy.out" "curl http://$SF/"
$CURL --max-time 30 --local-port 41201 -o "$WORK/big.out" http://$SF/big || fail "curl through --loss"
cmp -s "$WORK/big.out" "$WORK/www/big" || fail "the body through --loss differs"
$CURL --max-time 30 -o "$WORK/lossy.txt" "http://$SF/_synfin/ladder/1.txt" ||
	fail "curl the lossy ladder"
n=$(grep -c "(lost: synfin's impairment)" "$WORK/lossy.txt")
[ "$n" -ge 1 ] || fail "no segment drawn lost by the impairment: $(head -40 "$WORK/lossy.txt")"
grep -q "(retransmission" "$WORK/lossy.txt" || fail "no retransmission drawn after the losses"
note "$n segments drawn lost by synfin's impairment"
stop $LOSSY 10 || fail "synfin serve --loss exited with $?"

note "a long transfer: collapsed by default, --full draws every row; its SVG collides nowhere"
"$SYNFIN" ladder "$WORK/lossy.pcap" --conn 1 --svg "$WORK/long.svg" >"$WORK/long.txt" 2>/dev/null ||
	fail "synfin ladder of the 300 kB transfer"
grep -qE '… [0-9]+ segments: [0-9]+ data' "$WORK/long.txt" || fail "the long transfer is not collapsed"
"$SYNFIN" ladder "$WORK/lossy.pcap" --conn 1 --full >"$WORK/long-full.txt" 2>/dev/null ||
	fail "synfin ladder --full"
grep -q '…' "$WORK/long-full.txt" && fail "--full still collapses"
[ "$(wc -l <"$WORK/long-full.txt")" -gt $(($(wc -l <"$WORK/long.txt") + 50)) ] ||
	fail "--full is not longer than the collapsed ladder"
$PY "$SYNFIN_SRC/tests/golden/svgcheck.py" "$WORK/long.svg" || fail "collisions in the long transfer's SVG"

note "synfin get --ladder: the kernel server starts in LISTEN"
bg http11 $KPEER http 8001 "$WORK/www" --http11
wait_for "$WORK/http11.out" ready
"$SYNFIN" get --timeout 10 http://$KN:8001/a.txt --ladder --explain --html "$WORK/get.html" \
	>"$WORK/get.txt" || fail "get --ladder"
grep -q "server: (inferred) LISTEN -> SYN-RECEIVED: .*RFC 9293" "$WORK/get.txt" ||
	fail "get --explain does not explain the kernel's inferred LISTEN -> SYN-RECEIVED"
grep -q 'window.STEPS=\[' "$WORK/get.html" || fail "get --html wrote no steppable page"
grep -q "server (inferred)" "$WORK/get.txt" || fail "get: the kernel's side is not marked inferred: $(cat "$WORK/get.txt")"
expect_eq "kernel server states in get --ladder" "$(states "$WORK/get.txt" 1)" \
	"LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"
# synfin's own side, from its trace: FIN-WAIT-2 only when the kernel's ACK
# of synfin's FIN came apart from its own FIN.
got=$(states "$WORK/get.txt" 0)
[[ "$got" =~ ^"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 "("FIN-WAIT-2 ")?"TIME-WAIT"$ ]] ||
	fail "synfin client states in get --ladder: $got"
note "PASS"
