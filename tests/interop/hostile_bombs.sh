#!/bin/bash
# Hostile requests against `synfin serve` over TUN, each while a legitimate
# curl must still be answered within 1 s:
#   - header bomb (2 MB of header lines): 431; URL bomb (a 1 MB target): 414,
#     and the connection closes;
#   - a pipelining flood: 20,000 GETs written on one connection that never
#     reads; the server buffers one response, not 20,000;
#   - traversal and special files under --dir: a FIFO (which froze the whole
#     server when it was opened blocking), a device node, symbolic links out
#     of the root, ".." in all spellings: refused at once (403/400/404);
#   - a zero-window reader holding a 20 MB response: the others are served
#     meanwhile, and --send-timeout aborts it.
. "$(dirname "$0")/common.bash"

HOSTILE="$PY $HERE/hostile.py"
mkdir -p "$WORK/www/sub"
echo "legit" >"$WORK/www/a.txt"
head -c 20000000 /dev/zero >"$WORK/www/big"
echo "TOP-SECRET" >"$WORK/secret.txt"
mkfifo "$WORK/www/fifo"
mknod "$WORK/www/zero" c 1 5 || fail "mknod"
ln -s "$WORK/secret.txt" "$WORK/www/escape.txt"
ln -s /etc "$WORK/www/etc"
ln -s a.txt "$WORK/www/inside.txt"

serve_www serve --send-timeout 4

metric() { $HOSTILE metrics http://$SF/metrics | grep -F "$1 " | awk '{print $2}'; }

for kind in header url; do
	note "$kind bomb, 20 connections"
	bg bomb_$kind $HOSTILE bomb $SF 80 --kind $kind --conns 20 --seconds 3
	pid=$LAST_PID
	sleep 0.5
	legit "$kind bomb"
	wait $pid || fail "$kind bomb client failed: $(cat "$WORK/bomb_$kind.out")"
	cat "$WORK/bomb_$kind.out"
	want=431=20
	[ $kind = url ] && want=414=20 # RFC 9110 §15.5.15: URI Too Long
	expect_eq "$kind bomb answers" "$(kv statuses "$WORK/bomb_$kind.out")" "$want"
	expect_eq "$kind bomb connections left open" "$(kv open "$WORK/bomb_$kind.out")" 0
done

note "pipelining flood: 20,000 requests, never read, 3 connections"
bg flood $HOSTILE bomb $SF 80 --kind pipeline --conns 3 --seconds 3
pid=$LAST_PID
sleep 1
legit "pipelining flood"
bytes=$($PY -c 'import json,sys; print(json.load(sys.stdin)["stack"]["bytes_allocated"])' \
	< <(curl -sS --max-time 1 http://$SF/_synfin/stats))
note "stack memory during the flood: $bytes bytes"
[ "$bytes" -lt 50000000 ] || fail "the flood made the stack hold $bytes bytes"
wait $pid || fail "flood client failed"
cat "$WORK/flood.out"

note "special files and traversal"
for path in fifo zero escape.txt etc/passwd ../secret.txt %2e%2e/secret.txt \
	sub/%2e%2e/%2e%2e/secret.txt ..%2fsecret.txt; do
	code=$(curl -sS --max-time 1 --path-as-is -o "$WORK/sp.out" -w '%{http_code}' \
		"http://$SF/$path") || fail "/$path: not answered within 1 s (blocked?)"
	case $code in 400 | 403 | 404) ;; *) fail "/$path: got $code" ;; esac
	grep -q TOP-SECRET "$WORK/sp.out" && fail "/$path leaked the secret"
	grep -q "root:" "$WORK/sp.out" && fail "/$path leaked /etc/passwd"
	note "/$path: $code"
done
expect_eq "a link inside the root" "$(curl -sS --max-time 1 http://$SF/inside.txt)" legit
legit "after the special files"
refused=$(metric 'synfin_http_files_refused_total{}')
[ "${refused%.*}" -ge 4 ] || fail "files refused counted: $refused"

note "a zero-window reader holds a 20 MB response"
bg zw $HOSTILE zerowin $SF 80 /big --seconds 7 --ready "$WORK/zwready"
pid=$LAST_PID
wait_for "$WORK/zwready" ready 5
sleep 0.5
for i in 1 2 3; do
	legit "zero-window reader ($i)"
done
wait $pid || fail "zero-window client failed"
cat "$WORK/zw.out"
[ "$(kv read "$WORK/zw.out")" -lt 20000000 ] || fail "the zero-window reader got everything?"
expect_eq "the stalled response aborted (RST)" "$(kv reset "$WORK/zw.out")" 1
sent=$(metric 'synfin_http_timeouts_total{kind="send"}')
[ "${sent%.*}" -ge 1 ] || fail "send timeouts counted: $sent"
legit "at the end"
stop_serve serve
note "PASS"
