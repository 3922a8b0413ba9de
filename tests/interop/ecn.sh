#!/bin/bash
# ECN against the Linux kernel, both ways: classic ECN (RFC 3168) with
# net.ipv4.tcp_ecn=1, and AccECN (RFC 9768). The kernel speaks AccECN with
# net.ipv4.tcp_ecn=3 where its sysctl allows that; this machine's 6.18
# build caps the sysctl at 2 although its AccECN code is in, so the test
# then gives the kernel's sockets a congestion control that asks for
# AccECN (accecn_cc.bpf.c, TCP_CONG_NEEDS_ACCECN, loaded as BPF struct_ops),
# as a kernel controller such as TCP Prague does. Each kind runs with synfin
# sending (a kernel client downloads from `synfin serve`) and synfin
# receiving (`synfin get` from a kernel HTTP server). CE marks are put on
# ECN-capable frames by synfin's impairment layer on the TUN (--ce), as a
# congested router would. Shown from synfin's pcap and the kernel's own
# counters (struct tcp_info, printed by kpeer.py: delivered_ce = CE the peer fed back to it,
# received_ce = CE it received):
#   - the handshake negotiated the kind asked for;
#   - data went ECT and the receiver of CE fed it back (classic ECE answered
#     by CWR, or an AccECN ACE counter that moved), and the sender took it
#     as congestion (synfin: ecn_responses; the kernel: delivered_ce);
#   - the files arrived byte-exact;
#   - AccECN asked of a kernel that answers classic ECN falls back to it.
. "$(dirname "$0")/common.bash"

SIZE=3000000
mkdir -p "$WORK/www"
head -c $SIZE /dev/urandom >"$WORK/www/f"

# Count the segments from $2 matching display filter $3 in pcap $1.
count() {
	tshark -r "$1" -Y "ip.src == $2 && tcp && ($3)" 2>/dev/null | wc -l
}
# Distinct values of the AccECN ACE field (AE CWR ECE) on $2's ACKs after
# the handshake (no SYN) in pcap $1.
ace_values() {
	tshark -r "$1" -Y "ip.src == $2 && tcp.flags.syn == 0 && tcp.flags.ack == 1" -T fields \
		-e tcp.flags.ace 2>/dev/null | sort -u | wc -l
}
# metric NAME: synfin serve's counter NAME from /metrics.
metric() {
	curl -sS --max-time 5 http://$SF/metrics | awk -v m="$1" '$1 == m {print $2}'
}

# CC: the congestion control the kernel's sockets use (empty: the default).
CC=
# accecn_by_cc: builds and registers accecn_cc.bpf.c under a name of this
# run; sets CC. Registering is global to the kernel: at_exit removes it.
accecn_by_cc() {
	local name="sfacc$$"
	for tool in clang bpftool; do
		command -v $tool >/dev/null || fail "$tool is not installed (scripts/deps.sh check)"
	done
	[ -r /sys/kernel/btf/vmlinux ] || fail "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$WORK/vmlinux.h" ||
		fail "bpftool btf dump failed"
	clang -O2 -g -target bpf -I"$WORK" -DSF_CC_NAME="\"$name\"" \
		-c "$HERE/accecn_cc.bpf.c" -o "$WORK/accecn_cc.bpf.o" 2>"$WORK/bpf.err" ||
		{ cat "$WORK/bpf.err"; fail "accecn_cc.bpf.c does not build"; }
	bpftool struct_ops register "$WORK/accecn_cc.bpf.o" >"$WORK/bpf.out" 2>&1 ||
		{ cat "$WORK/bpf.out"; fail "the kernel refuses the AccECN congestion control"; }
	# "Registered tcp_congestion_ops sf_accecn id N": N is the map's id.
	BPF_ID=$(grep -o 'id [0-9]*' "$WORK/bpf.out" | cut -d' ' -f2)
	at_exit() { [ -n "$BPF_ID" ] && bpftool struct_ops unregister id "$BPF_ID" >/dev/null 2>&1; }
	CC=$name
	grep -qw "$CC" /proc/sys/net/ipv4/tcp_available_congestion_control ||
		fail "$CC registered but not available"
	note "accecn: the kernel's sockets use congestion control $CC (BPF, NEEDS_ACCECN)"
}

run_kind() {
	local kind=$1 sysctl=$2
	sysctl -qw net.ipv4.tcp_ecn=$sysctl || fail "net.ipv4.tcp_ecn=$sysctl refused"

	note "$kind: synfin sends (serve), the kernel receives; CE on 3 % of synfin's ECT frames"
	bg serve "$SYNFIN" serve --dir "$WORK/www" --ecn "$kind" --ce 0.03 --seed 5 \
		--pcap "$WORK/serve-$kind.pcap"
	local serve=$LAST_PID
	wait_for "$WORK/serve.out" "curl http://$SF/"
	$KPEER get $SF 80 /f --out "$WORK/got" ${CC:+--cc $CC} >"$WORK/kget.out" 2>&1 ||
		{ cat "$WORK/kget.out"; fail "$kind: download from synfin failed"; }
	cmp -s "$WORK/got" "$WORK/www/f" || fail "$kind: download from synfin differs"
	local resp rcvd
	resp=$(metric synfin_stack_ecn_responses_total)
	rcvd=$(kv received_ce "$WORK/kget.out")
	stop $serve 10 || fail "synfin serve exited with $? (leak or crash)"
	note "$kind: the kernel received $rcvd CE marks; synfin's congestion responses: $resp"
	[ "${rcvd:-0}" -ge 1 ] || fail "$kind: the kernel counted no CE (received_ce)"
	[ "${resp:-0}" -ge 1 ] || fail "$kind: synfin never responded to the kernel's feedback"
	local p="$WORK/serve-$kind.pcap"
	[ "$(count "$p" $SF "tcp.len > 0 && (ip.dsfield.ecn == 2 || ip.dsfield.ecn == 3)")" -ge 100 ] ||
		fail "$kind: synfin's data was not ECT"
	if [ "$kind" = classic ]; then
		[ "$(count "$p" $KN "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.flags.ece == 1 && tcp.flags.cwr == 1 && tcp.flags.ae == 0")" -ge 1 ] ||
			fail "classic: the kernel's SYN did not ask for classic ECN"
		[ "$(count "$p" $SF "tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.flags.ece == 1 && tcp.flags.cwr == 0")" -ge 1 ] ||
			fail "classic: synfin's SYN,ACK did not accept ECN"
		local ece cwr
		ece=$(count "$p" $KN "tcp.flags.ece == 1 && tcp.flags.syn == 0")
		cwr=$(count "$p" $SF "tcp.flags.cwr == 1 && tcp.flags.syn == 0")
		note "classic: kernel ACKs with ECE: $ece; synfin segments with CWR: $cwr"
		[ "$ece" -ge 1 ] || fail "classic: the kernel never echoed CE with ECE"
		[ "$cwr" -ge 1 ] || fail "classic: synfin never answered ECE with CWR"
	else
		[ "$(count "$p" $KN "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.flags.ae == 1 && tcp.flags.ece == 1 && tcp.flags.cwr == 1")" -ge 1 ] ||
			fail "accecn: the kernel's SYN did not ask for AccECN"
		# RFC 9768 Table 2: a Not-ECT SYN is answered AE=0 CWR=1 ECE=0.
		[ "$(count "$p" $SF "tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.flags.ae == 0 && tcp.flags.cwr == 1 && tcp.flags.ece == 0")" -ge 1 ] ||
			fail "accecn: synfin's SYN,ACK did not answer AccECN"
		local n
		n=$(ace_values "$p" $KN)
		note "accecn: distinct ACE values on the kernel's ACKs: $n"
		[ "$n" -ge 3 ] || fail "accecn: the kernel's ACE counter did not move with the CE marks"
	fi

	note "$kind: the kernel sends, synfin receives (get); CE on 3 % of the kernel's ECT frames"
	bg http $KPEER http 8000 "$WORK/www" --http11 --tcpinfo ${CC:+--cc $CC}
	local http=$LAST_PID
	wait_for "$WORK/http.out" ready
	"$SYNFIN" get --timeout 60 --ecn "$kind" --ce 0.03 --seed 6 --pcap "$WORK/get-$kind.pcap" \
		"http://$KN:8000/f" >"$WORK/got" 2>"$WORK/get.err" ||
		{ cat "$WORK/get.err"; fail "$kind: synfin get failed"; }
	cmp -s "$WORK/got" "$WORK/www/f" || fail "$kind: download by synfin differs"
	wait_for "$WORK/http.out" "tcpinfo"
	local fed
	fed=$(kv delivered_ce "$WORK/http.out")
	stop $http 5 # the next kpeer binds port 8000 again
	note "$kind: CE marks synfin fed back, as the kernel sender counted them: $fed"
	[ "${fed:-0}" -ge 1 ] || fail "$kind: the kernel sender took no CE feedback (delivered_ce)"
	p="$WORK/get-$kind.pcap"
	[ "$(count "$p" $KN "tcp.len > 0 && (ip.dsfield.ecn == 2 || ip.dsfield.ecn == 1 || ip.dsfield.ecn == 3)")" -ge 100 ] ||
		fail "$kind: the kernel's data was not ECT"
	if [ "$kind" = classic ]; then
		local ece cwr
		ece=$(count "$p" $SF "tcp.flags.ece == 1 && tcp.flags.syn == 0")
		cwr=$(count "$p" $KN "tcp.flags.cwr == 1 && tcp.flags.syn == 0")
		note "classic: synfin ACKs with ECE: $ece; kernel segments with CWR: $cwr"
		[ "$ece" -ge 1 ] || fail "classic: synfin never echoed CE with ECE"
		[ "$cwr" -ge 1 ] || fail "classic: the kernel never answered synfin's ECE with CWR"
	else
		[ "$(count "$p" $SF "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.flags.ae == 1 && tcp.flags.ece == 1 && tcp.flags.cwr == 1")" -ge 1 ] ||
			fail "accecn: synfin's SYN did not ask for AccECN"
		[ "$(count "$p" $KN "tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.flags.cwr == 1 && tcp.flags.ece == 0")" -ge 1 ] ||
			fail "accecn: the kernel's SYN,ACK did not answer AccECN"
		local n
		n=$(ace_values "$p" $SF)
		note "accecn: distinct ACE values on synfin's ACKs: $n"
		[ "$n" -ge 3 ] || fail "accecn: synfin's ACE counter did not move with the CE marks"
	fi
}

# AccECN asked of a kernel that only speaks classic ECN (tcp_ecn=2, the
# default controller): synfin falls back (RFC 9768 §3.1.2) and classic
# feedback works.
fallback() {
	sysctl -qw net.ipv4.tcp_ecn=2
	note "accecn: synfin asks for AccECN, the kernel (tcp_ecn=2) answers classic ECN"
	bg http $KPEER http 8000 "$WORK/www" --http11
	local http=$LAST_PID
	wait_for "$WORK/http.out" ready
	"$SYNFIN" get --timeout 60 --ecn accecn --ce 0.03 --seed 6 --pcap "$WORK/fallback.pcap" \
		"http://$KN:8000/f" >"$WORK/got" 2>"$WORK/get.err" ||
		{ cat "$WORK/get.err"; fail "fallback: synfin get failed"; }
	cmp -s "$WORK/got" "$WORK/www/f" || fail "fallback: download by synfin differs"
	stop $http 5 # the next kpeer binds port 8000 again
	local p="$WORK/fallback.pcap"
	[ "$(count "$p" $SF "tcp.flags.syn == 1 && tcp.flags.ae == 1 && tcp.flags.ece == 1 && tcp.flags.cwr == 1")" -ge 1 ] ||
		fail "fallback: synfin's SYN did not ask for AccECN"
	[ "$(count "$p" $KN "tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.flags.ece == 1 && tcp.flags.cwr == 0 && tcp.flags.ae == 0")" -ge 1 ] ||
		fail "fallback: the kernel's SYN,ACK was not the classic answer"
	local ece cwr
	ece=$(count "$p" $SF "tcp.flags.ece == 1 && tcp.flags.syn == 0")
	cwr=$(count "$p" $KN "tcp.flags.cwr == 1 && tcp.flags.syn == 0")
	note "fallback: synfin ACKs with ECE: $ece; kernel segments with CWR: $cwr"
	[ "$ece" -ge 1 ] && [ "$cwr" -ge 1 ] || fail "fallback: classic feedback did not work"
}

run_kind classic 1
if sysctl -qw net.ipv4.tcp_ecn=3 2>/dev/null; then
	run_kind accecn 3
else
	note "this kernel refuses net.ipv4.tcp_ecn=3: AccECN by congestion control instead"
	accecn_by_cc
	run_kind accecn 2
fi
fallback
note "ECN and AccECN negotiated with the kernel, CE fed back and answered both ways"
