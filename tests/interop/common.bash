# Shared by the interop tests (tests/interop/*.sh; this file is sourced, not
# run). A test sourcing it:
#   - is skipped (exit 77, with the reason) when not root, without
#     /dev/net/tun, or when a tool or a synfin binary is missing;
#   - re-runs itself inside a fresh network namespace (unshare -n) under a
#     time limit, so every interface, address and packet stays there and
#     disappears with it; lo is up, IPv6 off (no router solicitations on the
#     TUN), the kernel side of the TUN is 192.0.2.1, synfin is 192.0.2.2;
#     the kernel picks ephemeral ports from 50000-60999 only, so the fixed
#     client ports tests name (curl --local-port 4xxxx) are never taken;
#   - starts background processes with `bg NAME CMD...` and they are stopped
#     (TERM, then KILL) when it exits; its files live in $WORK, removed at the
#     end unless KEEP=1.
# CTest sets SYNFIN_BIN (the build directory) and SYNFIN_SRC (the source).

set -u -o pipefail
TEST=$(basename "$0" .sh)
HERE=$(cd "$(dirname "$0")" && pwd)
: "${SYNFIN_BIN:=$HERE/../../build}"
: "${SYNFIN_SRC:=$HERE/../..}"
SYNFIN=$SYNFIN_BIN/synfin
ECHO_SERVER=$SYNFIN_BIN/examples/echo_server
ECHO_CLIENT=$SYNFIN_BIN/examples/echo_client
SFPEER=$SYNFIN_BIN/tests/interop/sfpeer
# The system's python3 if there is one: a pyenv shim costs ~0.5 s a start.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
KPEER="$PY $HERE/kpeer.py"
PCAPCHECK="$PY $HERE/pcapcheck.py"
SF=192.0.2.2 # synfin
KN=192.0.2.1 # the kernel side of the TUN

skip() {
	echo "SKIP: $TEST: $*"
	exit 77
}
fail() {
	echo "FAIL: $TEST: $*"
	exit 1
}
note() {
	echo "[$TEST $(date +%T)] $*"
}

if [ -z "${SF_IN_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "needs root: it creates a network namespace and a TUN device"
	[ -c /dev/net/tun ] || skip "/dev/net/tun is not available (no TUN support here)"
	for tool in unshare ip ss tshark curl nc python3 sha256sum timeout ping; do
		command -v $tool >/dev/null || skip "$tool is not installed"
	done
	for bin in synfin ${NEED_BINS:-}; do
		[ -x "$SYNFIN_BIN/$bin" ] || skip "$SYNFIN_BIN/$bin is not built"
	done
	unshare -n true 2>/dev/null || skip "cannot create a network namespace (unshare -n)"
	exec env SF_IN_NETNS=1 timeout --kill-after=10 "${SF_TEST_TIMEOUT:-240}" \
		unshare -n bash "$0" "$@"
fi

ip link set lo up
sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
# A fixed --local-port inside the default ephemeral range (32768-60999) fails
# with EADDRINUSE when an earlier connection of the test drew that port and
# sits in TIME-WAIT (it did once in CI). Fixed ports live below 50000.
sysctl -qw net.ipv4.ip_local_port_range="50000 60999"
WORK=$(mktemp -d "/tmp/synfin-$TEST.XXXXXX")
PIDS=()
# LeakSanitizer makes a leaking process exit non-zero: that fails the test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=23}

# A test that changes something outside its namespace defines at_exit to
# undo it; cleanup calls it first.
cleanup() {
	local rc=$?
	declare -F at_exit >/dev/null && at_exit
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ] || [ $rc != 0 ]; then
		echo "files kept in $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# bg NAME CMD...: runs CMD in the background, output to $WORK/NAME.out;
# its pid is in $LAST_PID.
bg() {
	local name=$1
	shift
	"$@" >"$WORK/$name.out" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# wait_for FILE PATTERN [SECONDS]: until FILE contains PATTERN (grep -E).
wait_for() {
	local i
	for i in $(seq $((${3:-10} * 10))); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "--- $1:"
	cat "$1" 2>/dev/null
	fail "'$2' did not appear in $1 within ${3:-10} s"
}

# stop PID [SECONDS]: TERM, wait for it (bounded); returns its exit status
# (KILL and 137 if it does not stop).
stop() {
	local i
	kill -TERM "$1" 2>/dev/null
	for i in $(seq $((${2:-10} * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
}

# serve_www NAME ARGS...: `synfin serve --dir $WORK/www ARGS` as job NAME
# (bg), waiting until it says it listens; its pid is in $SERVE.
serve_www() {
	local name=$1
	shift
	bg "$name" "$SYNFIN" serve --dir "$WORK/www" "$@"
	SERVE=$LAST_PID
	wait_for "$WORK/$name.out" "curl http://$SF/"
}

# stop_serve NAME: stops $SERVE (job NAME), failing unless it exits cleanly.
stop_serve() {
	stop $SERVE 10 || fail "synfin serve exited with $?: $(tail -5 "$WORK/$1.out")"
}

# legit WHAT: one curl of $WORK/www/a.txt that must get 200 and the file's
# bytes within 1 s (the legitimate user of the hostile-input tests).
legit() {
	local r
	r=$(curl -sS --max-time 1 -o "$WORK/legit.out" -w '%{http_code} %{time_total}' \
		http://$SF/a.txt) || fail "$1: the legitimate request was not answered within 1 s"
	[ "${r%% *}" = 200 ] || fail "$1: legitimate request got $r"
	cmp -s "$WORK/legit.out" "$WORK/www/a.txt" || fail "$1: legitimate body differs"
	note "$1: legitimate request answered in ${r#* } s"
}

# settle SECONDS FILTER...: until the kernel holds no connection matching an
# ss filter in any state but LISTEN and TIME-WAIT, i.e. every close under way
# has finished (under loss a FIN waits for its retransmission, so stopping a
# server as soon as the clients are done can cut a close in half).
settle() {
	local secs=$1 i
	shift
	for i in $(seq $((secs * 10))); do
		[ "$(ss -Htan exclude listening exclude time-wait "$@" | wc -l)" = 0 ] && return 0
		sleep 0.1
	done
	ss -tan exclude listening exclude time-wait "$@"
	fail "connections still closing after $secs s"
}

# tw_count FILTER: connections of the kernel in TIME-WAIT matching an ss filter.
tw_count() {
	ss -Htan state time-wait "$@" | wc -l
}

# sha FILE: its sha256.
sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# kv KEY FILE: the value of "KEY=value" in FILE (the hostile.py reports).
kv() {
	grep -o "\b$1=[^ ]*" "$2" | head -1 | cut -d= -f2-
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# pcapcheck FILE ARGS...: tshark reads FILE back; see pcapcheck.py.
pcapcheck() {
	$PCAPCHECK "$@" || fail "pcap check failed: $1"
}
