#!/bin/bash
# Interop: `synfin serve --threads N`, one stack per thread on its own queue
# of one multiqueue TUN device, with 1 and 2 threads. For each:
#   - keep-alive: three URLs over one connection (the kernel keeps a flow on
#     the queue it is answered from, so one stack serves all three);
#   - a 20 MB download arrives byte-exact;
#   - 600 short connections, 16 at a time, half closed by each side: every
#     one served, the kernel's TIME-WAITs exactly for those it closed;
#   - a SYN to a closed port gets RST; ping gets replies;
#   - the server stops cleanly on SIGTERM (all threads, no leak) and its
#     statistics add up: with 2 threads both stacks served connections.
. "$(dirname "$0")/common.bash"

mkdir -p "$WORK/www"
echo "first file" >"$WORK/www/a.txt"
seq 1 2000 >"$WORK/www/b.txt"
head -c 20000000 /dev/urandom >"$WORK/www/big"
CURL="curl -sS --max-time 20"

for n in 1 2; do
	note "--threads $n"
	bg "serve$n" "$SYNFIN" serve --threads $n --dir "$WORK/www"
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
	tw0=$(tw_count)
	$KPEER load $SF 80 /a.txt --count 300 --parallel 16 >"$WORK/load1" ||
		fail "kernel-closed connections ($n): $(cat "$WORK/load1")"
	$KPEER load $SF 80 /a.txt --count 300 --parallel 16 --close >"$WORK/load2" ||
		fail "synfin-closed connections ($n): $(cat "$WORK/load2")"
	tw1=$(tw_count)
	expect_eq "new kernel TIME-WAITs ($n)" $((tw1 - tw0)) 300
	$CURL http://$SF:81/ 2>/dev/null
	expect_eq "curl exit status for a refused connection ($n)" $? 7
	ping -c 2 -i 0.2 -W 2 $SF >"$WORK/ping" || fail "no ping replies ($n)"
	stop $SERVE 10 || fail "synfin serve --threads $n exited with $?: $(tail -5 "$WORK/serve$n.out")"
	cat "$WORK/serve$n.out"
	# keep-alive 1 + big 1 + 600
	grep -q "synfin serve: 602 connections, 604 requests" "$WORK/serve$n.out" ||
		fail "statistics do not add up ($n)"
	if [ $n -gt 1 ]; then
		per=$(sed -n 's/.*connections per stack: //p' "$WORK/serve$n.out")
		read -r c0 c1 <<<"$per"
		[ "${c0:-0}" -gt 0 ] && [ "${c1:-0}" -gt 0 ] || fail "one stack served nothing: $per"
		expect_eq "connections of both stacks" $((c0 + c1)) 602
	fi
done
note "PASS"
