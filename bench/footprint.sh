#!/usr/bin/env bash
# The Cortex-M4 footprint of synfin's core (bench/README.md, "Footprint").
#
# Cross-compiles the core library (src/base, src/wire, src/core, the socket
# API) with Debian's arm-none-eabi-gcc (-Os -mthumb -mcpu=cortex-m4, each
# function and object in its own section) into libsynfin_core.a, links the
# footprint firmware (bench/footprint/app.c: one TCP listener on a
# bare-metal main loop) with newlib-nano and --gc-sections in two
# configurations, IPv4 + TCP + one listener ("ip") and the same behind
# Ethernet and ARP ("eth"), and prints flash and RAM per part from the
# linker maps. Then, when qemu-arm is there, runs bench/footprint/ram.c (two
# stacks over memory, the small configuration, a lossy link) built for the
# same CPU and prints the heap the listening stack takes at creation and at
# its peak.
#
# Usage: bench/footprint.sh [--check] OUT_DIR
#   --check  fail when printf or the C library's assert is linked into a
#            firmware image, or the small configuration fails on the target
#            (make check). The flash targets (20 KB for ip, 24 KB for
#            eth) are reported, met or not, without failing: they are
#            budgets to watch in `make bench`, and engine work moves them.
# A core that does not cross-compile, or a firmware image that does not
# link, fails the run in either mode.
set -euo pipefail
check=0
[ "${1:-}" = --check ] && { check=1; shift; }
[ $# -eq 1 ] || { sed -n '2,24p' "$0" >&2; exit 2; }
out=$1
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
CC=${ARM_CC:-arm-none-eabi-gcc}
AR=${ARM_AR:-arm-none-eabi-ar}
command -v "$CC" >/dev/null || { echo "footprint: $CC not installed (scripts/deps.sh bench)" >&2; exit 77; }
mkdir -p "$out/obj"
cpu=(-mthumb -mcpu=cortex-m4 -mfloat-abi=soft)
cflags=(-std=c11 -Os "${cpu[@]}" -ffunction-sections -fdata-sections -Wall -Wextra -Werror
	-Wno-missing-field-initializers -I"$src/include" -I"$src/src" ${FOOTPRINT_CFLAGS:-})
# The firmware build (bench/footprint/options.txt, or the file named by
# FOOTPRINT_OPTIONS; docs/PORTING.md "Build options"): tracing compiled out
# (no sink on a device), asserts kept but without their text, NewReno as the
# only congestion control, and no RACK-TLP, ECN, SYN cookies, IP
# reassembly, keepalives, D-SACK blocks or link offloads. The full build
# (every feature, CUBIC and tracing included) is measured too.
small_defs=()
while read -r opt; do
	case $opt in SF_*) small_defs+=("-D$opt") ;; esac
done <"${FOOTPRINT_OPTIONS:-$here/footprint/options.txt}"
build_lib() { # NAME DEFS...
	local name=$1 objs=() f d o
	shift
	mkdir -p "$out/$name"
	for f in "$src"/src/base/*.c "$src"/src/wire/*.c "$src"/src/core/*.c "$src"/src/api/socket.c; do
		d=$(basename "$(dirname "$f")")
		o="$out/$name/${d}_$(basename "$f" .c).o"
		"$CC" "${cflags[@]}" "$@" -c "$f" -o "$o" || return 1
		objs+=("$o")
	done
	rm -f "$out/$name/libsynfin_core.a"
	"$AR" rcs "$out/$name/libsynfin_core.a" "${objs[@]}" || return 1
}
build_lib small "${small_defs[@]}" || { echo "footprint: the firmware core does not build" >&2; exit 1; }
build_lib full || { echo "footprint: the full core does not build" >&2; exit 1; }
"$CC" "${cflags[@]}" -c "$here/footprint/board.c" -o "$out/board.o"
ldflags=("${cpu[@]}" --specs=nano.specs --specs=nosys.specs -Wl,--gc-sections)
for lib in small full; do
	for cfg in ip eth; do
		def=()
		[ $cfg = eth ] && def=(-DFP_ETH)
		# A firmware image that no longer builds or links fails the run
		# (make check), whatever the sizes.
		"$CC" "${cflags[@]}" "${def[@]}" -c "$here/footprint/app.c" -o "$out/app.o" &&
			"$CC" "${ldflags[@]}" -Wl,-Map="$out/$cfg-$lib.map" "$out/app.o" "$out/board.o" \
				"$out/$lib/libsynfin_core.a" -o "$out/$cfg-$lib.elf" ||
			{ echo "footprint: the $lib firmware image ($cfg) does not link" >&2; exit 1; }
	done
done
python3 "$here/footprint.py" ip="$out/ip-small.map" eth="$out/eth-small.map" \
	ip-full="$out/ip-full.map" eth-full="$out/eth-full.map" | tee "$out/footprint.txt"

fail=0
for elf in "$out"/{ip,eth}-{small,full}.elf; do
	if arm-none-eabi-nm "$elf" | grep -Eq ' T (_?v?f?i?printf|__assert_func|_svfprintf_r|_vfiprintf_r)$'; then
		echo "footprint: $elf links printf or assert code" >&2
		fail=1
	fi
done
flash() { awk -v c="$1" '$2 == "footprint" && $3 == c && $4 == "synfin_flash" { print $5 }' "$out/footprint.txt"; }
ip=$(flash ip) eth=$(flash eth)
echo
echo "  synfin's own flash (.text + .rodata), firmware build (${small_defs[*]}):"
printf '    IPv4 + TCP + one listener: %6d B  (target <= 20480; lwIP 29,736, smoltcp 29,588)\n' "$ip"
printf '    with Ethernet and ARP:     %6d B  (target <= 24576)\n' "$eth"
printf '  full build (tracing, CUBIC, assert text): %d B and %d B\n' "$(flash ip-full)" "$(flash eth-full)"
met() { [ "$1" -le "$2" ] && echo met || echo "NOT met"; }
echo "  targets: ip $(met "$ip" 20480), eth $(met "$eth" 24576)"

# RAM: the heap, measured on the CPU's own code: ram.c built like the
# firmware, run by qemu-arm in Linux user mode (bench/footprint/linux_arm.c
# stands in for the board).
if command -v qemu-arm >/dev/null; then
	"$CC" "${cflags[@]}" "${small_defs[@]}" --specs=nano.specs --specs=nosys.specs -nostartfiles -Wl,--gc-sections \
		"$here/footprint/ram.c" "$here/footprint/linux_arm.c" "$out/small/libsynfin_core.a" \
		-o "$out/ram.elf"
	echo
	qemu-arm "$out/ram.elf" | tee "$out/ram.txt" || fail=1
else
	echo "footprint: qemu-arm not installed (scripts/deps.sh bench): heap not measured" >&2
	[ $check -eq 1 ] && fail=1
fi
exit $fail
