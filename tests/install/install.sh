#!/usr/bin/env bash
# Installation works for a program outside the tree: synfin is installed into a
# temporary prefix, the prefix is then moved (the .pc files must find it from
# their own place), and every example plus a small HTTP program are built out
# of tree with `pkg-config` alone (no -I or -L of ours), against the shared
# and the static library. The core library stands alone: synfin-core.pc
# needs no libpcap, its headers compile with -ffreestanding, it calls
# nothing of the C library but memory functions and malloc/free, and the
# examples that need no TUN build and run against it alone. The echo server built that way then runs over TUN
# in a network namespace made here and echoes what the kernel's nc sends.
#
# The release build it installs from is $SYNFIN_RELEASE_BUILD when set (make
# check sets it to the Release build it has just made); otherwise the test
# configures and builds one of its own under $SYNFIN_BIN/install-test.
set -euo pipefail
SRC=${SYNFIN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${SYNFIN_BIN:-$SRC/build/check}
fail() {
	echo "FAIL: install: $*"
	exit 1
}
WORK=$(mktemp -d /tmp/synfin-install.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

rel=${SYNFIN_RELEASE_BUILD:-}
if [ -z "$rel" ] || [ ! -f "$rel/CMakeCache.txt" ]; then
	rel=$BIN/install-test
	cmake -S "$SRC" -B "$rel" -DCMAKE_BUILD_TYPE=Release -DSYNFIN_TESTS=OFF -DSYNFIN_LTO=OFF >/dev/null
else
	cmake "$rel" >/dev/null # its targets follow the source it is given
fi
cmake --build "$rel" -j "$(nproc)" --target synfin_core_static synfin_core_shared synfin_static synfin_shared synfin_http synfin \
	>"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; fail "release build failed"; }
cmake --install "$rel" --prefix "$WORK/first" >"$WORK/install.log" ||
	fail "cmake --install failed"
# Relocated: nothing may still point at the first prefix.
mv "$WORK/first" "$WORK/prefix"
P=$WORK/prefix
pcdir=$(dirname "$(find "$P" -name synfin.pc | head -1)")
[ -f "$pcdir/synfin.pc" ] || fail "synfin.pc not installed"
# The command's man page and bash completion.
[ -n "$(find "$P" -path '*/man1/synfin.1')" ] || fail "the man page synfin.1 is not installed"
[ -n "$(find "$P" -path '*/bash-completion/completions/synfin')" ] ||
	fail "the bash completion of synfin is not installed"
[ -f "$pcdir/synfin-http.pc" ] || fail "synfin-http.pc not installed"
[ -f "$pcdir/synfin-core.pc" ] || fail "synfin-core.pc not installed"
export PKG_CONFIG_PATH=$pcdir
inc=$(pkg-config --variable=includedir synfin)
[ -f "$inc/synfin/synfin.h" ] || fail "pkg-config's includedir $inc has no synfin/synfin.h"
# Every installed header compiles alone, and its library is installed.
for h in "$inc"/synfin/*.h; do
	echo "#include <synfin/$(basename "$h")>" >"$WORK/h.c"
	cc -std=c11 -Wall -Werror -c $(pkg-config --cflags synfin) "$WORK/h.c" -o "$WORK/h.o" ||
		fail "installed header $(basename "$h") does not compile on its own"
done
# The version has one source: the header, the .pc and the command agree.
v_pc=$(pkg-config --modversion synfin)
v_cmd=$("$P/bin/synfin" version | awk '{print $2}')
v_h=$(printf '#include <synfin/version.h>\nSF_VERSION_STRING\n' |
	cc -E -P $(pkg-config --cflags synfin) - | tail -1 | tr -d '"')
[ "$v_pc" = "$v_cmd" ] && [ "$v_pc" = "$v_h" ] ||
	fail "versions disagree: synfin.pc $v_pc, synfin version $v_cmd, version.h $v_h"

# The core library alone.
libdir=$(pkg-config --variable=libdir synfin-core)
pkg-config --libs --static synfin-core | grep -q pcap && fail "synfin-core asks for libpcap"
for h in synfin.h eth.h wire.h error.h trace.h; do
	echo "#include <synfin/$h>" >"$WORK/h.c"
	cc -std=c11 -ffreestanding -Wall -Werror -c $(pkg-config --cflags synfin-core) "$WORK/h.c" \
		-o "$WORK/h.o" || fail "core header $h does not compile with -ffreestanding"
done
nm --defined-only "$libdir/libsynfin_core.a" | awk 'NF == 3 { print $3 }' | sort -u >"$WORK/def"
nm -u "$libdir/libsynfin_core.a" | awk 'NF == 2 { print $2 }' | sort -u >"$WORK/undef"
extern=$(comm -23 "$WORK/undef" "$WORK/def" | { grep -vxE 'memcpy|memmove|memset|memcmp|malloc|free|_GLOBAL_OFFSET_TABLE_|__stack_chk_fail' || true; } | tr '\n' ' ')
[ -z "$extern" ] || fail "the core library calls outside the C library's memory functions: $extern"
for name in memory_pair bare_metal; do
	cc -std=c11 -Wall -Wextra -Werror -o "$WORK/$name.core" "$SRC/examples/$name.c" \
		$(pkg-config --cflags synfin-core) "$libdir/libsynfin_core.a" ||
		fail "example $name does not build against libsynfin_core.a alone"
	"$WORK/$name.core" >"$WORK/$name.out" || fail "example $name (core only) failed: $(cat "$WORK/$name.out")"
done
# The installed archive holds machine code, not LTO bytecode (SYNFIN_LTO is
# for make bench and make soak only): a program built by another compiler
# links it (clang is in scripts/deps.sh check).
command -v clang >/dev/null || fail "clang is not installed (scripts/deps.sh check)"
clang -std=c11 -Wall -Werror -o "$WORK/memory_pair.clang" "$SRC/examples/memory_pair.c" \
	$(pkg-config --cflags synfin-core) "$libdir/libsynfin_core.a" ||
	fail "libsynfin_core.a does not link into a program built by clang"
"$WORK/memory_pair.clang" >/dev/null || fail "memory_pair built by clang failed"

cd "$WORK"
for src in "$SRC"/examples/*.c; do
	name=$(basename "$src" .c)
	pkgs=synfin
	grep -q '<synfin/http.h>' "$src" && pkgs=synfin-http
	cc -std=c11 -Wall -Wextra -Werror -o "$name" "$src" $(pkg-config --cflags --libs $pkgs) ||
		fail "example $name does not build against the installed library"
	libs="-lsynfin -lsynfin_core"
	[ $pkgs = synfin-http ] && libs="-lsynfin_http -lsynfin -lsynfin_core"
	cc -std=c11 -Wall -Wextra -Werror -o "$name.static" "$src" $(pkg-config --cflags $pkgs) \
		-L"$(pkg-config --variable=libdir synfin)" -Wl,-Bstatic $libs -Wl,-Bdynamic \
		$(pkg-config --libs libpcap) ||
		fail "example $name does not build against the installed static library"
done
cat >"$WORK/http_link.c" <<'C'
#include <stdio.h>
#include <synfin/http.h>
int main(void)
{
	sf_http_server_config_t c;
	sf_http_server_config_default(&c);
	printf("%d\n", c.max_conns > 0);
	return 0;
}
C
cc -std=c11 -Wall -Werror -o http_link http_link.c $(pkg-config --cflags --libs synfin-http) ||
	fail "a program on synfin/http.h does not link with pkg-config synfin-http"
LD_LIBRARY_PATH=$(pkg-config --variable=libdir synfin) ./http_link >/dev/null ||
	fail "the HTTP program does not run"

# Run the out-of-tree echo server (shared library) against the kernel.
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "SKIP: install: running the echo server needs root and /dev/net/tun"
	exit 77
fi
export LD_LIBRARY_PATH=$(pkg-config --variable=libdir synfin)
got=$(timeout 60 unshare -n bash -c '
	ip link set lo up
	./echo_server 7 >echo_server.log 2>&1 & pid=$!
	# Ready once the route to synfin is there: the library sets the address
	# first and brings the TUN up last (an address alone: ENETUNREACH).
	for i in $(seq 50); do ip route get 192.0.2.2 >/dev/null 2>&1 && break; sleep 0.1; done
	out=$(echo "hello from outside the tree" | timeout 10 nc -q 2 192.0.2.2 7)
	kill $pid; wait $pid 2>/dev/null
	echo "$out"') || true
[ "$got" = "hello from outside the tree" ] ||
	fail "the installed echo_server did not echo (got '$got')"
echo "install: headers, synfin-core.pc (no libpcap, freestanding headers, core examples run), synfin.pc, synfin-http.pc relocatable; $(ls "$SRC"/examples/*.c | wc -l) examples built shared and static; echo_server ran"
