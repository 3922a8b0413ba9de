#!/usr/bin/env bash
# The reference manual builds with zero Doxygen warnings: every public
# header (include/synfin) and docs/PORTING.md go through docs/Doxyfile, and
# any warning (a broken reference, a malformed command in a contract
# comment, a missing input) fails the test. `make docs` builds the same.
set -euo pipefail
SRC=${SYNFIN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v doxygen >/dev/null || { echo "SKIP: doxygen is not installed"; exit 77; }
OUT=$(mktemp -d /tmp/synfin-docs.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
SYNFIN_SRC=$SRC SYNFIN_DOCS_OUT=$OUT doxygen "$SRC/docs/Doxyfile" >"$OUT/doxygen.out" 2>&1 || {
	cat "$OUT/doxygen.out"
	echo "FAIL: doxygen failed"
	exit 1
}
if [ -s "$OUT/warnings.log" ]; then
	cat "$OUT/warnings.log"
	echo "FAIL: doxygen: $(wc -l <"$OUT/warnings.log") warning line(s)"
	exit 1
fi
# The manual documents what a user calls: a function of each public header.
for f in sf_stack_create sf_eth_create sf_tcp_parse sf_loop_create sf_strerror; do
	grep -rqs "$f" "$OUT/html" || { echo "FAIL: $f is missing from the manual"; exit 1; }
done
echo "docs: $(ls "$OUT/html"/*.html | wc -l) pages, 0 warnings"
