#!/bin/bash
# ECN against the Linux kernel, both ways: classic ECN (RFC 3168) with
# net.ipv4.tcp_ecn=1 and AccECN (RFC 9768) with net.ipv4.tcp_ecn=3 (where
# the kernel refuses 3, as this machine's 6.18 build does, AccECN asked of
# a classic-only kernel must fall back to classic ECN instead), each
# with synfin sending (curl downloads from `synfin serve`) and synfin
# receiving (`synfin get` from a kernel HTTP server). CE marks are put on
# ECN-capable frames by synfin's impairment layer on the TUN (--ce), in
# both directions, as a congested router would. From synfin's pcap:
#   - the handshake negotiated the kind asked for;
#   - data went ECT and the receiver of CE fed it back: classic ECE
#     answered by CWR from the sender, or an AccECN ACE counter that moved;
#   - the files arrived byte-exact.
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

run_kind() {
	local kind=$1 sysctl=$2
	sysctl -qw net.ipv4.tcp_ecn=$sysctl || fail "net.ipv4.tcp_ecn=$sysctl refused"

	note "$kind: synfin sends (serve), the kernel receives; CE on 3 % of synfin's ECT frames"
	bg serve "$SYNFIN" serve --dir "$WORK/www" --ecn "$kind" --ce 0.03 --seed 5 \
		--pcap "$WORK/serve-$kind.pcap"
	local serve=$LAST_PID
	wait_for "$WORK/serve.out" "curl http://$SF/"
	curl -sS --max-time 60 -o "$WORK/got" "http://$SF/f" || fail "$kind: download from synfin failed"
	cmp -s "$WORK/got" "$WORK/www/f" || fail "$kind: download from synfin differs"
	stop $serve 10 || fail "synfin serve exited with $? (leak or crash)"
	local p="$WORK/serve-$kind.pcap"
	# The kernel's SYN asked, synfin's SYN,ACK answered.
	[ "$(count "$p" $KN "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.flags.ece == 1 && tcp.flags.cwr == 1")" -ge 1 ] ||
		fail "$kind: the kernel's SYN did not ask for ECN"
	[ "$(count "$p" $SF "tcp.len > 0 && (ip.dsfield.ecn == 2 || ip.dsfield.ecn == 3)")" -ge 100 ] ||
		fail "$kind: synfin's data was not ECT"
	if [ "$kind" = classic ]; then
		[ "$(count "$p" $SF "tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.flags.ece == 1 && tcp.flags.cwr == 0")" -ge 1 ] ||
			fail "classic: synfin's SYN,ACK did not accept ECN"
		local ece cwr
		ece=$(count "$p" $KN "tcp.flags.ece == 1 && tcp.flags.syn == 0")
		cwr=$(count "$p" $SF "tcp.flags.cwr == 1 && tcp.flags.syn == 0")
		note "classic: kernel ACKs with ECE: $ece; synfin segments with CWR: $cwr"
		[ "$ece" -ge 1 ] || fail "classic: the kernel never echoed CE with ECE"
		[ "$cwr" -ge 1 ] || fail "classic: synfin never answered ECE with CWR"
	else
		[ "$(count "$p" $SF "tcp.flags.syn == 1 && tcp.flags.ack == 1 && (tcp.flags.ae == 1 || tcp.flags.cwr == 1)")" -ge 1 ] ||
			fail "accecn: synfin's SYN,ACK did not answer AccECN"
		local n
		n=$(ace_values "$p" $KN)
		note "accecn: distinct ACE values on the kernel's ACKs: $n"
		[ "$n" -ge 3 ] || fail "accecn: the kernel's ACE counter did not move with the CE marks"
	fi

	note "$kind: the kernel sends, synfin receives (get); CE on 3 % of the kernel's ECT frames"
	bg http $KPEER http 8000 "$WORK/www" --http11
	local http=$LAST_PID
	wait_for "$WORK/http.out" ready
	"$SYNFIN" get --timeout 60 --ecn "$kind" --ce 0.03 --seed 6 --pcap "$WORK/get-$kind.pcap" \
		"http://$KN:8000/f" >"$WORK/got" 2>"$WORK/get.err" ||
		{ cat "$WORK/get.err"; fail "$kind: synfin get failed"; }
	cmp -s "$WORK/got" "$WORK/www/f" || fail "$kind: download by synfin differs"
	kill -TERM $http 2>/dev/null
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
		[ "$(count "$p" $KN "tcp.flags.syn == 1 && tcp.flags.ack == 1 && (tcp.flags.ae == 1 || tcp.flags.cwr == 1)")" -ge 1 ] ||
			fail "accecn: the kernel's SYN,ACK did not answer AccECN"
		local n
		n=$(ace_values "$p" $SF)
		note "accecn: distinct ACE values on synfin's ACKs: $n"
		[ "$n" -ge 3 ] || fail "accecn: synfin's ACE counter did not move with the CE marks"
	fi
}

# AccECN asked of a kernel that only speaks classic ECN: synfin falls back
# (RFC 9768 §3.1.2) and classic feedback works.
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
	kill -TERM $http 2>/dev/null
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
	note "ECN and AccECN negotiated with the kernel, CE fed back both ways"
else
	note "this kernel refuses net.ipv4.tcp_ecn=3 (no AccECN): checking the fallback instead"
	fallback
	note "ECN negotiated with the kernel, CE fed back both ways; AccECN falls back to it"
fi
