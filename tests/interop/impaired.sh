#!/bin/bash
# Interop under impairments: synfin's own link layer loses 5% of the frames,
# reorders 5% (held back 2 ms) and duplicates 5%, in both directions, between
# synfin and the Linux kernel's TCP (the kernel's netem is not available
# here). 50 transfers of seeded random sizes up to 20 MB (log-uniform, the
# first one is the full 20 MB) must arrive byte-exact (sha256):
#
#   - SF_IMPAIRED_SERVE (default 30) downloads by curl from `synfin serve`
#     (synfin sends), IMPAIRED_PARALLEL (default 6) at a time;
#   - the rest by `synfin get` from a kernel HTTP server (the kernel sends).
#
# Sizes are fixed by SF_IMPAIRED_SEED; SF_IMPAIRED_MAX_MB lowers the cap.
# The pcaps synfin writes (the server's, the first two clients') read back
# in tshark without a checksum error or a malformed packet, every
# connection opened and closed in full.
. "$(dirname "$0")/common.bash"

TOTAL=50
N_SERVE=${SF_IMPAIRED_SERVE:-30}
PARALLEL=${SF_IMPAIRED_PARALLEL:-6}
MAX=$((${SF_IMPAIRED_MAX_MB:-20} * 1000000))
IMPAIR="--loss 0.05 --reorder 0.05 --dup 0.05"

mkdir -p "$WORK/www"
head -c $MAX /dev/urandom >"$WORK/max"
$PY - "${SF_IMPAIRED_SEED:-1}" $MAX $TOTAL >"$WORK/sizes" <<'EOF'
import math, random, sys
rng = random.Random(int(sys.argv[1]))
top, n = int(sys.argv[2]), int(sys.argv[3])
print(top)
for _ in range(n - 1):
    print(int(math.exp(rng.uniform(math.log(1000), math.log(top)))))
EOF
i=0
while read -r size; do
	head -c "$size" "$WORK/max" >"$WORK/www/f$i"
	i=$((i + 1))
done <"$WORK/sizes"
note "sizes: $(awk '{s += $1} END {printf "%d files, %.1f MB in all", NR, s / 1e6}' "$WORK/sizes")"

note "$N_SERVE downloads from synfin serve, $PARALLEL at a time, through $IMPAIR"
bg serve "$SYNFIN" serve --dir "$WORK/www" $IMPAIR --seed 11 --pcap "$WORK/serve.pcap"
SERVE=$LAST_PID
wait_for "$WORK/serve.out" "curl http://$SF/"
t0=$(date +%s.%N)
seq 0 $((N_SERVE - 1)) | xargs -P "$PARALLEL" -I{} \
	curl -sS --max-time 150 -o "$WORK/got{}" http://$SF/f{} || fail "a download failed"
t1=$(date +%s.%N)
for i in $(seq 0 $((N_SERVE - 1))); do
	cmp -s "$WORK/got$i" "$WORK/www/f$i" || fail "download $i ($(wc -c <"$WORK/www/f$i") bytes) differs"
	rm -f "$WORK/got$i"
done
note "$N_SERVE downloads byte-exact in $(echo "$t1 - $t0" | bc) s"
settle 30 "( dport = :80 )"
stop $SERVE 10 || fail "synfin serve exited with $? (leak or crash)"
cat "$WORK/serve.out"
pcapcheck "$WORK/serve.pcap" --streams "$N_SERVE"

note "$((TOTAL - N_SERVE)) downloads by synfin get from the kernel, through $IMPAIR"
bg http $KPEER http 8000 "$WORK/www" --http11
wait_for "$WORK/http.out" ready
t0=$(date +%s.%N)
for i in $(seq "$N_SERVE" $((TOTAL - 1))); do
	pcap=()
	[ "$i" -lt $((N_SERVE + 2)) ] && pcap=(--pcap "$WORK/get$i.pcap")
	"$SYNFIN" get $IMPAIR --seed "$i" --timeout 30 "${pcap[@]}" http://$KN:8000/f$i \
		-o "$WORK/got$i" || fail "get $i failed"
	cmp -s "$WORK/got$i" "$WORK/www/f$i" || fail "get $i ($(wc -c <"$WORK/www/f$i") bytes) differs"
	rm -f "$WORK/got$i"
done
t1=$(date +%s.%N)
note "$((TOTAL - N_SERVE)) downloads byte-exact in $(echo "$t1 - $t0" | bc) s"
# Each get exits once its connection is in TIME-WAIT, so when our last ACK
# was lost the kernel's retransmitted FIN reaches the next get's stack, which
# knows no such connection and answers RST: a stray, allowed.
for f in "$WORK"/get*.pcap; do
	pcapcheck "$f" --streams 1 --allow-strays
done
note "PASS"
