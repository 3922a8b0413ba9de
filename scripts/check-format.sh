#!/usr/bin/env bash
# Fails (and lists the files) when any tracked or new C file drifts from .clang-format.
set -euo pipefail
cf=${1:-clang-format}
cd "$(dirname "$0")/.."
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' | grep -v '^fuzz/corpus/' || true)
[ -z "$files" ] && exit 0
bad=0
for f in $files; do
	[ -f "$f" ] || continue
	if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "format drift: $f (run: clang-format -i $f)"
		bad=1
	fi
done
exit $bad
