#!/bin/bash
# `synfin serve` against curl and raw requests (nc): every HTTP finding of
# issue 14 on the server side, each checked as a client sees it.
#   RFC 9112 §3.2 Host exactly once; §5.1 no whitespace in or before a field
#   name; RFC 9110 §15.5.6 built-in pages answer GET/HEAD only (405 + Allow);
#   §6.6.1 Date; §14 single ranges (206, 416, curl resuming a download);
#   §8.8 Last-Modified/ETag and §13 conditional GET (304); media types;
#   /metrics parses (prometheus_client) and names every counter family;
#   / is --dir's index.html when there is one, synfin's page at /_synfin/,
#   which lists only the visitor unless --show-visitors; the trailing-slash
#   redirect keeps the query.
. "$(dirname "$0")/common.bash"

W=$WORK/www
mkdir -p "$W/dir"
echo '<h1>the site</h1>' >"$W/index.html"
seq 1 20000 >"$W/n.txt"
for e in pdf xml mp4 webp woff2 zip mp3 wasm svg json; do echo x >"$W/f.$e"; done
touch -d '2020-01-02 03:04:05 UTC' "$W/n.txt"

bg serve "$SYNFIN" serve --dir "$W"
SERVE=$LAST_PID
wait_for "$WORK/serve.out" "curl http://$SF/"
C="curl -sS --max-time 5"
# raw REQUEST: the status line synfin answers a hand-written request with.
raw() {
	printf "$1" | nc -q 2 -w 3 $SF 80 | head -1 | tr -d '\r'
}

note "Host: exactly one in HTTP/1.1 (RFC 9112 §3.2)"
expect_eq "no Host" "$(raw 'GET /n.txt HTTP/1.1\r\n\r\n')" "HTTP/1.1 400 Bad Request"
expect_eq "two Hosts" "$(raw 'GET /n.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')" \
	"HTTP/1.1 400 Bad Request"
expect_eq "one Host" "$(raw 'GET /n.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')" \
	"HTTP/1.1 200 OK"
expect_eq "HTTP/1.0 without Host" "$(raw 'GET /n.txt HTTP/1.0\r\n\r\n')" "HTTP/1.1 200 OK"

note "whitespace in or before a field name (RFC 9112 §5.1, §2.2)"
expect_eq "'Host : a'" "$(raw 'GET / HTTP/1.1\r\nHost : a\r\n\r\n')" "HTTP/1.1 400 Bad Request"
expect_eq "'X Y: z'" "$(raw 'GET / HTTP/1.1\r\nHost: a\r\nX Y: z\r\n\r\n')" \
	"HTTP/1.1 400 Bad Request"
expect_eq "' Host: a'" "$(raw 'GET / HTTP/1.1\r\n Host: a\r\n\r\n')" "HTTP/1.1 400 Bad Request"

note "built-in pages answer GET and HEAD only (RFC 9110 §15.5.6)"
for m in POST DELETE TRACE PUT; do
	for p in /_synfin/ /_synfin/stats /metrics /_synfin/ladder/1.txt; do
		$C -X $m -o /dev/null -D "$WORK/h" "http://$SF$p" || fail "$m $p"
		head -1 "$WORK/h" | grep -q " 405 " || fail "$m $p: $(head -1 "$WORK/h")"
		grep -qi "^Allow: GET, HEAD" "$WORK/h" || fail "$m $p: no Allow"
	done
done
expect_eq "HEAD /_synfin/stats" "$($C -I -o /dev/null -w '%{http_code}' http://$SF/_synfin/stats)" 200

note "/metrics parses and has every family issue 14 names"
$PY "$HERE/hostile.py" metrics http://$SF/metrics >"$WORK/metrics" || fail "/metrics does not parse"
for m in 'synfin_stack_drops_total{reason="tcp_syn_queue_full"}' \
	'synfin_stack_drops_total{reason="tcp_accept_queue_full"}' synfin_stack_challenge_acks_total \
	synfin_stack_replies_limited_total synfin_stack_syncookies_sent_total \
	synfin_stack_syncookies_ok_total synfin_stack_syncookies_bad_total \
	synfin_stack_retransmits_total synfin_stack_rto_timeouts_total \
	synfin_stack_fast_recoveries_total synfin_stack_rack_lost_total synfin_stack_tlp_probes_total \
	synfin_stack_timewait_open 'synfin_stack_connections{state="ESTABLISHED"}' \
	synfin_stack_bytes_allocated 'synfin_http_responses_total{code="404"}' \
	'synfin_http_timeouts_total{kind="header"}' synfin_http_conns_evicted_total; do
	case $m in *'{'*) ;; *) m="$m{}" ;; esac
	grep -qF "$m " "$WORK/metrics" || fail "/metrics has no $m"
done

note "Date (RFC 9110 §6.6.1)"
$C -o /dev/null -D "$WORK/h" http://$SF/n.txt || fail "curl"
date_hdr=$(grep -i '^Date: ' "$WORK/h" | cut -d' ' -f2- | tr -d '\r')
[ -n "$date_hdr" ] || fail "no Date header"
skew=$(($(date +%s) - $(date -d "$date_hdr" +%s)))
[ ${skew#-} -le 2 ] || fail "Date '$date_hdr' is ${skew} s off"
echo "$date_hdr" | grep -qE '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$' ||
	fail "Date is not an IMF-fixdate: $date_hdr"

note "Range (RFC 9110 §14)"
size=$(stat -c %s "$W/n.txt")
expect_eq "bytes=0-9" "$($C -r 0-9 http://$SF/n.txt | od -An -c | tr -d ' \n')" "1\n2\n3\n4\n5\n"
$C -r 100-199 -D "$WORK/h" -o "$WORK/part" http://$SF/n.txt
head -1 "$WORK/h" | grep -q " 206 " || fail "no 206: $(head -1 "$WORK/h")"
grep -qi "^Content-Range: bytes 100-199/$size" "$WORK/h" || fail "Content-Range: $(grep -i content-range "$WORK/h")"
cmp -s "$WORK/part" <(tail -c +101 "$W/n.txt" | head -c 100) || fail "range bytes differ"
expect_eq "suffix bytes=-6" "$($C -r -6 http://$SF/n.txt)" "$(tail -c 6 "$W/n.txt")"
$C -r "$((size + 10))-" -D "$WORK/h" -o /dev/null http://$SF/n.txt
head -1 "$WORK/h" | grep -q " 416 " || fail "no 416: $(head -1 "$WORK/h")"
grep -qi "^Content-Range: bytes \*/$size" "$WORK/h" || fail "416 without Content-Range */size"
expect_eq "two ranges are ignored (200)" "$($C -r 0-1,5-6 -o /dev/null -w '%{http_code}' http://$SF/n.txt)" 200
head -c 5000 "$W/n.txt" >"$WORK/resume"
$C -C - -o "$WORK/resume" http://$SF/n.txt || fail "curl -C -"
cmp -s "$WORK/resume" "$W/n.txt" || fail "a resumed download differs"

note "validators and conditional GET (RFC 9110 §8.8, §13)"
$C -o /dev/null -D "$WORK/h" http://$SF/n.txt
etag=$(grep -i '^ETag: ' "$WORK/h" | cut -d' ' -f2- | tr -d '\r')
lm=$(grep -i '^Last-Modified: ' "$WORK/h" | cut -d' ' -f2- | tr -d '\r')
expect_eq "Last-Modified" "$lm" "Thu, 02 Jan 2020 03:04:05 GMT"
[ -n "$etag" ] || fail "no ETag"
cond() { $C -o "$WORK/cond" -w '%{http_code}' "$@" http://$SF/n.txt; }
expect_eq "If-None-Match: etag" "$(cond -H "If-None-Match: $etag")" 304
[ -s "$WORK/cond" ] && fail "a 304 with a body"
expect_eq "If-None-Match: W/etag" "$(cond -H "If-None-Match: \"x\", W/$etag")" 304
expect_eq "If-None-Match: other" "$(cond -H 'If-None-Match: "other"')" 200
expect_eq "If-Modified-Since: same" "$(cond -H "If-Modified-Since: $lm")" 304
expect_eq "If-Modified-Since: before" "$(cond -H 'If-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT')" 200
expect_eq "If-None-Match wins" "$(cond -H 'If-None-Match: "other"' -H "If-Modified-Since: $lm")" 200
expect_eq "If-Range stale: whole file" "$(cond -r 0-9 -H 'If-Range: "old"')" 200
expect_eq "If-Range current: range" "$(cond -r 0-9 -H "If-Range: $etag")" 206
expect_eq "curl -z (If-Modified-Since)" "$($C -z "$W/n.txt" -o /dev/null -w '%{http_code}' http://$SF/n.txt)" 304

note "media types"
for t in pdf:application/pdf xml:application/xml mp4:video/mp4 webp:image/webp \
	woff2:font/woff2 zip:application/zip mp3:audio/mpeg wasm:application/wasm \
	svg:image/svg+xml json:application/json; do
	expect_eq "f.${t%%:*}" "$($C -o /dev/null -w '%{content_type}' http://$SF/f.${t%%:*})" "${t#*:}"
done

note "/ is the site's index; synfin's page is at /_synfin/"
expect_eq "/" "$($C http://$SF/)" "<h1>the site</h1>"
$C --local-port 42001 http://$SF/_synfin/ >"$WORK/page1" || fail "curl /_synfin/"
grep -q "192.0.2.1:42001</td>" "$WORK/page1" || fail "the page does not show the visitor"
$C --local-port 42002 http://$SF/_synfin/ >"$WORK/page2" || fail "curl /_synfin/"
grep -q "192.0.2.1:42001" "$WORK/page2" && fail "the page shows another visitor without --show-visitors"
# ...and says so, rather than "the last 1 connections synfin saw"; its
# figures read "label: count", never "1 segments dropped".
grep -q "Below is your connection (other visitors.*beside it. It is still open" "$WORK/page2" ||
	fail "the page does not say it lists only the visitor: $(grep -o 'Below [^.]*' "$WORK/page2")"
grep -Eq "Requests: [0-9]+; connections open: [0-9]+; packets dropped: [0-9]+;" "$WORK/page2" ||
	fail "the page's figures: $(grep -o '<p>Up [^<]*' "$WORK/page2")"
expect_eq "/_synfin redirect" "$($C -o /dev/null -w '%{redirect_url}' 'http://'$SF'/_synfin?a=1')" \
	"http://$SF/_synfin/?a=1"
mv "$W/index.html" "$W/site.html"
grep -q "synfin" <($C http://$SF/) || fail "without index.html, / is not synfin's page"

note "the trailing-slash redirect keeps the query"
expect_eq "/dir?x=1&y=2" "$($C -o /dev/null -w '%{http_code} %{redirect_url}' "http://$SF/dir?x=1&y=2")" \
	"301 http://$SF/dir/?x=1&y=2"
stop $SERVE 10 || fail "synfin serve exited with $?: $(tail -5 "$WORK/serve.out")"
# The exit summary's classes add up to its requests (it left out 3xx and
# 5xx, and this server answered 301s).
summary=$(grep -o "[0-9]* requests ([0-9]* 2xx, [0-9]* 3xx, [0-9]* 4xx, [0-9]* 5xx)" "$WORK/serve.out") ||
	fail "no exit summary by class: $(tail -1 "$WORK/serve.out")"
read -r req _ c2 _ c3 _ c4 _ c5 _ <<<"$(tr -d '(),' <<<"$summary")"
expect_eq "requests of the exit summary, class by class" $((c2 + c3 + c4 + c5)) "$req"
[ "$c3" -gt 0 ] || fail "the exit summary counts no 3xx: $summary"

note "--show-visitors lists the others"
bg serve2 "$SYNFIN" serve --show-visitors
SERVE=$LAST_PID
wait_for "$WORK/serve2.out" "curl http://$SF/"
$C --local-port 42003 http://$SF/ >/dev/null
$C --local-port 42004 http://$SF/_synfin/ >"$WORK/page3"
grep -q "192.0.2.1:42003</td>" "$WORK/page3" || fail "--show-visitors does not list another visitor"
grep -Eq "Below are the last [2-9][0-9]* connections synfin saw" "$WORK/page3" ||
	fail "--show-visitors: the page does not count the visitors: $(grep -o 'Below [^.]*' "$WORK/page3")"
stop $SERVE 10 || fail "synfin serve exited with $?: $(tail -5 "$WORK/serve2.out")"
note "PASS"
