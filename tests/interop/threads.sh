#!/bin/bash
# Interop: `synfin serve --threads N`, one stack per thread on its own queue
# of one multiqueue TUN device, with 1 and 2 threads. For each:
#   - keep-alive: three URLs over one connection (the kernel keeps a flow on
#     the queue it is answered from, so one stack serves all three);
#   - a 20 MB download arrives byte-exact;
#   - 600 short connections, 16 at a time, half closed by each side: every
#     one served, the kernel's TIME-WAITs exactly for those it closed;
#   - a SYN to a closed port gets RST; ping gets replies;
#   - /_synfin/stats and /metrics, whichever stack answers, count every
#     connection and request the clients made (the sum over the stacks, each
#     at most 50 ms behind: asked 200 ms after the last), and ?stack=K adds
#     up to it; the page lists the connections of every stack (K-N) and
#     serves the ladder of one that lives on another stack; asked while
#     both stacks are busy, every answer comes whole;
#   - the server stops cleanly on SIGTERM (all threads, no leak) and its
#     statistics add up: with 2 threads both stacks served connections.
. "$(dirname "$0")/common.bash"

mkdir -p "$WORK/www"
echo "first file" >"$WORK/www/a.txt"
seq 1 2000 >"$WORK/www/b.txt"
head -c 20000000 /dev/urandom >"$WORK/www/big"
CURL="curl -sS --max-time 20"

# json FILE EXPR: a Python expression over the JSON object d in FILE.
json() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# metric FILE NAME: the value of an unlabelled sample.
metric() { awk -v m="$2" '$1 == m {print $2}' "$1"; }

# check_totals N: after 602 connections and 604 requests. The request that
# asks is not counted among the responses sent yet; its connection is. Each
# question waits 200 ms: another stack's figures may be 50 ms behind.
check_totals() {
	local n=$1 k c sum=0
	sleep 0.2
	$CURL -o "$WORK/stats.json" http://$SF/_synfin/stats || fail "curl stats ($n)"
	expect_eq "stacks in /_synfin/stats ($n)" "$(json "$WORK/stats.json" 'd["stacks"]')" $n
	expect_eq "connections in /_synfin/stats ($n)" \
		"$(json "$WORK/stats.json" 'd["http"]["conns_accepted"]')" 603
	expect_eq "requests in /_synfin/stats ($n)" \
		"$(json "$WORK/stats.json" 'd["http"]["requests"]')" 604
	expect_eq "connections of the per_stack list ($n)" \
		"$(json "$WORK/stats.json" 'sum(s["conns_accepted"] for s in d["per_stack"])')" 603
	sleep 0.2
	$CURL -o "$WORK/metrics" http://$SF/metrics || fail "curl metrics ($n)"
	expect_eq "synfin_stacks ($n)" "$(metric "$WORK/metrics" synfin_stacks)" $n
	expect_eq "connections in /metrics ($n)" \
		"$(metric "$WORK/metrics" synfin_http_conns_accepted_total)" 604
	expect_eq "requests in /metrics ($n)" \
		"$(metric "$WORK/metrics" synfin_http_requests_total)" 605
	# One connection asks for each stack's own figures: they add up.
	local urls=()
	for ((k = 0; k < n; k++)); do
		urls+=(-o "$WORK/metrics.$k" "http://$SF/metrics?stack=$k")
	done
	sleep 0.2
	$CURL "${urls[@]}" || fail "curl metrics?stack=K ($n)"
	for ((k = 0; k < n; k++)); do
		c=$(metric "$WORK/metrics.$k" synfin_http_conns_accepted_total)
		[ "${c:-0}" -gt 0 ] || fail "stack $k accepted no connection by /metrics?stack=$k"
		sum=$((sum + c))
	done
	expect_eq "connections of /metrics?stack=K added up ($n)" $sum 605
	# The page (--show-visitors) lists every stack's connections.
	$CURL -o "$WORK/page.html" http://$SF/_synfin/ || fail "curl page ($n)"
	if [ $n -gt 1 ]; then
		local served other row name port
		served=$(sed -n 's/.*stack \([0-9]*\) served this page.*/\1/p' "$WORK/page.html")
		[ -n "$served" ] || fail "the page does not say which stack served it"
		for ((k = 0; k < n; k++)); do
			grep -q "<td>$k-[0-9]*</td><td>$k</td>" "$WORK/page.html" ||
				fail "the page lists no connection of stack $k"
		done
		# A connection of another stack: its ladder, as that stack published it.
		other=$(((served + 1) % n))
		row=$(grep -o "<td>$other-[0-9]*</td><td>$other</td><td>[0-9.]*:[0-9]*</td>" \
			"$WORK/page.html" | head -1)
		name=$(sed 's/^<td>\([0-9-]*\)<.*/\1/' <<<"$row")
		port=$(sed 's/.*:\([0-9]*\)<\/td>$/\1/' <<<"$row")
		$CURL -o "$WORK/other.txt" "http://$SF/_synfin/ladder/$name.txt" ||
			fail "curl ladder $name"
		grep -q "client $KN:$port <-> server $SF:80" "$WORK/other.txt" ||
			fail "ladder $name is not the connection from port $port: $(head -1 "$WORK/other.txt")"
		grep -q "three-way handshake" "$WORK/other.txt" || fail "ladder $name has no handshake"
	else
		grep -q '<td>[0-9]*</td><td>192.0.2.1:' "$WORK/page.html" || fail "the page lists no connection"
	fi
}

for n in 1 2; do
	note "--threads $n"
	bg "serve$n" "$SYNFIN" serve --threads $n --dir "$WORK/www" --show-visitors
	SERVE=$LAST_PID
	wait_for "$WORK/serve$n.out" "curl http://$SF/"
	if [ $n -gt 1 ]; then
		grep -q "$n stacks on $n threads" "$WORK/serve$n.out" || fail "serve did not start $n stacks"
	fi
	$CURL -o "$WORK/k1" http://$SF/a.txt -o "$WORK/k2" http://$SF/b.txt -o "$WORK/k3" \
		http://$SF/a.txt -w '%{num_connects}\n' >"$WORK/conns" || fail "curl keep-alive ($n)"
	cmp -s "$WORK/k1" "$WORK/www/a.txt" && cmp -s "$WORK/k2" "$WORK/www/b.txt" &&
		cmp -s "$WORK/k3" "$WORK/www/a.txt" || fail "keep-alive bodies differ ($n)"
	expect_eq "connections opened by curl ($n)" "$(paste -sd+ "$WORK/conns" | bc)" 1
	$CURL --max-time 60 -o "$WORK/big.out" http://$SF/big || fail "curl 20 MB ($n)"
	expect_eq "sha256 of 20 MB ($n)" "$(sha "$WORK/big.out")" "$(sha "$WORK/www/big")"
	# Every earlier close finished (the 20 MB one's TIME-WAIT counted in tw0).
	settle 10 "( dport = :80 )"
	tw0=$(tw_count)
	$KPEER load $SF 80 /a.txt --count 300 --parallel 16 >"$WORK/load1" ||
		fail "kernel-closed connections ($n): $(cat "$WORK/load1")"
	$KPEER load $SF 80 /a.txt --count 300 --parallel 16 --close >"$WORK/load2" ||
		fail "synfin-closed connections ($n): $(cat "$WORK/load2")"
	# The clients return once they have closed: the last FINs may be on the way.
	settle 10 "( dport = :80 )"
	tw1=$(tw_count)
	expect_eq "new kernel TIME-WAITs ($n)" $((tw1 - tw0)) 300
	check_totals $n
	# Asked while both stacks are busy (and publishing): every answer whole.
	$KPEER load $SF 80 /a.txt --count 800 --parallel 8 >"$WORK/load3" &
	load=$!
	asked=0
	while kill -0 $load 2>/dev/null && [ $asked -lt 60 ]; do
		for p in /_synfin/stats /metrics /_synfin/; do
			code=$($CURL -o "$WORK/busy" -w '%{http_code}' http://$SF$p) ||
				fail "curl $p under load ($n)"
			expect_eq "status of $p under load ($n)" "$code" 200
			asked=$((asked + 1))
		done
	done
	wait $load || fail "load while asking ($n): $(cat "$WORK/load3")"
	[ $asked -gt 0 ] || fail "nothing asked under load ($n)"
	note "$asked questions answered under load ($n)"
	$CURL http://$SF:81/ 2>/dev/null
	expect_eq "curl exit status for a refused connection ($n)" $? 7
	ping -c 2 -i 0.2 -W 2 $SF >"$WORK/ping" || fail "no ping replies ($n)"
	stop $SERVE 10 || fail "synfin serve --threads $n exited with $?: $(tail -5 "$WORK/serve$n.out")"
	cat "$WORK/serve$n.out"
	# keep-alive 1 + big 1 + 600, check_totals' 4 + (n > 1) connections
	# and 5 + n + (n > 1) requests, and 800 + $asked under load
	more=$((n > 1 ? 1 : 0))
	conns=$((1406 + more + asked)) reqs=$((1407 + n + more + asked))
	grep -q "synfin serve: $conns connections, $reqs requests" "$WORK/serve$n.out" ||
		fail "statistics do not add up ($n)"
	if [ $n -gt 1 ]; then
		per=$(sed -n 's/.*connections per stack: //p' "$WORK/serve$n.out")
		read -r c0 c1 <<<"$per"
		[ "${c0:-0}" -gt 0 ] && [ "${c1:-0}" -gt 0 ] || fail "one stack served nothing: $per"
		expect_eq "connections of both stacks" $((c0 + c1)) $conns
	fi
done
note "PASS"
