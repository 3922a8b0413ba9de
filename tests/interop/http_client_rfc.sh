#!/bin/bash
# `synfin get` against python's http.server (HTTP/1.0, as `python3 -m
# http.server` runs) and a keep-alive variant of it (httpd.py), over TUN:
# every client-side HTTP finding of issue 14.
#   - Host carries a non-default port (RFC 9110 §7.2); the #fragment is not
#     sent (§4.2.4);
#   - a URL with a space gets a one-line error, not "out of memory";
#   - bodies are written as they arrive: a 50 MB body under --max-body 1 MB
#     still arrives whole and byte-exact;
#   - a truncated body: expected and received bytes named, exit status 1,
#     and what arrived was written;
#   - -L follows redirects (relative, absolute, python's directory slash),
#     bounded by --max-redirs; -I sends HEAD and prints the head;
#   - several URLs to one server share one connection.
. "$(dirname "$0")/common.bash"

W=$WORK/www
mkdir -p "$W/dir"
echo "kernel file" >"$W/a.txt"
echo "in dir" >"$W/dir/index.html"
seq 1 3000 >"$W/b.txt"
head -c 50000000 /dev/urandom >"$W/big"
(cd "$W" && exec $PY -m http.server 8000) >"$WORK/py10.out" 2>&1 &
PIDS+=($!)
bg httpd $PY "$HERE/httpd.py" 8080 "$W" "$WORK/req.log"
wait_for "$WORK/httpd.out" ready
for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:8000/a.txt && break; sleep 0.1; done
GET="$SYNFIN get --timeout 20"

note "Host with the port; no fragment"
$GET "http://$KN:8080/a.txt?q=1#frag" >"$WORK/o1" || fail "get"
cmp -s "$WORK/o1" "$W/a.txt" || fail "body differs"
grep -q "GET /a.txt?q=1 HTTP/1.1 host=$KN:8080\$" "$WORK/req.log" ||
	fail "request line or Host: $(cat "$WORK/req.log")"
grep -q "#" "$WORK/req.log" && fail "the fragment was sent"
$GET "http://$KN:8000/a.txt#x" >"$WORK/o1b" || fail "get from python3 -m http.server"
cmp -s "$WORK/o1b" "$W/a.txt" || fail "body from http.server differs"

note "a bad URL: one clear line"
$GET "http://$KN:8080/a b" >/dev/null 2>"$WORK/err" && fail "a URL with a space was accepted"
expect_eq "error lines" "$(wc -l <"$WORK/err")" 1
grep -q "space" "$WORK/err" || fail "error: $(cat "$WORK/err")"
grep -qi "memory" "$WORK/err" && fail "error: $(cat "$WORK/err")"

note "bodies stream: 50 MB under --max-body 1 MB"
$GET --max-body 1000000 http://$KN:8000/big -o "$WORK/big.out" || fail "get 50 MB"
expect_eq "sha256 of 50 MB" "$(sha "$WORK/big.out")" "$(sha "$W/big")"
rm -f "$WORK/big.out"

note "truncated bodies: expected vs received"
$GET http://$KN:8080/short -o "$WORK/short" 2>"$WORK/err" && fail "a truncated body succeeded"
grep -q "truncated: 40000 of 100000 body bytes received" "$WORK/err" || fail "error: $(cat "$WORK/err")"
expect_eq "bytes written" "$(stat -c %s "$WORK/short")" 40000
$GET http://$KN:8080/chunkshort -o "$WORK/cshort" 2>"$WORK/err" && fail "a truncated chunked body succeeded"
grep -q "truncated: 4096 body bytes received" "$WORK/err" || fail "error: $(cat "$WORK/err")"

note "-L: redirects followed, bounded"
expect_eq "-L relative chain" "$($GET -L http://$KN:8080/redir/3)" "kernel file"
expect_eq "-L absolute" "$($GET -L http://$KN:8080/abs)" "kernel file"
expect_eq "-L directory slash (http.server)" "$($GET -L http://$KN:8000/dir)" "in dir"
$GET -L --max-redirs 2 http://$KN:8080/redir/5 >/dev/null 2>"$WORK/err" && fail "too many redirects succeeded"
grep -q "more than 2 redirects" "$WORK/err" || fail "error: $(cat "$WORK/err")"
$GET http://$KN:8080/redir/0 >"$WORK/noL" 2>/dev/null
expect_eq "without -L the 302's body" "$(cat "$WORK/noL")" "redirect"

note "-I: HEAD"
$GET -I http://$KN:8080/b.txt >"$WORK/head" || fail "get -I"
head -1 "$WORK/head" | grep -q "^HTTP/1.1 200" || fail "head: $(cat "$WORK/head")"
grep -qi "^Content-Length: $(stat -c %s "$W/b.txt")" "$WORK/head" || fail "head: $(cat "$WORK/head")"
grep -q "HEAD /b.txt HTTP/1.1" "$WORK/req.log" || fail "no HEAD request logged"
grep -q "^1$" "$WORK/head" && fail "a body after HEAD"
# The status line is printed as received: http.server answers HTTP/1.0.
$GET -I http://$KN:8000/b.txt >"$WORK/head10" || fail "get -I (HTTP/1.0 server)"
expect_eq "-I status line as received" "$(head -1 "$WORK/head10" | tr -d '\r')" "HTTP/1.0 200 OK"

note "several URLs over one connection"
: >"$WORK/req.log"
$GET http://$KN:8080/a.txt http://$KN:8080/b.txt http://$KN:8080/dir/ >"$WORK/multi" || fail "get 3 URLs"
cmp -s "$WORK/multi" <(cat "$W/a.txt" "$W/b.txt" "$W/dir/index.html") || fail "bodies differ"
expect_eq "requests" "$(wc -l <"$WORK/req.log")" 3
expect_eq "client ports (connections)" "$(cut -d' ' -f1 "$WORK/req.log" | sort -u | wc -l)" 1
note "PASS"
