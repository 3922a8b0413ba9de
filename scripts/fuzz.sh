#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/fuzz for SECONDS each, on a scratch
# copy of its committed corpus; new crashes are left in build/fuzz/crashes/.
set -euo pipefail
build=$1; secs=${2:-30}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/crashes"
for bin in "$build"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin"); short=${name#fuzz_}
	work="$build/corpus/$short"; mkdir -p "$work"
	cp -n "$src/fuzz/corpus/$short"/* "$work"/ 2>/dev/null || true
	echo "== $name for ${secs}s"
	"$bin" -max_total_time="$secs" -artifact_prefix="$build/crashes/$short-" \
		-print_final_stats=1 "$work" 2>&1 | grep -E 'stat::number_of_executed_units|stat::peak|ERROR|SUMMARY' || true
done
ls "$build/crashes" | grep -q . && { echo "crashes in $build/crashes"; exit 1; } || echo "no crashes"
