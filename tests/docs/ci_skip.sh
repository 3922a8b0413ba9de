#!/usr/bin/env bash
# scripts/ctest-summary.py, which make check ends with, must not let a skipped
# test pass under CI: fed CTest JUnit reports, it counts passed, failed and
# skipped, names each skip with its reason, and fails a run with a skip only
# when CI is set.
set -uo pipefail
SRC=${SYNFIN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SUM="python3 $SRC/scripts/ctest-summary.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() {
	echo "FAIL: ci_skip: $*"
	exit 1
}
cat >"$T/skip.xml" <<'X'
<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="t" tests="3" failures="0" disabled="0" skipped="1">
	<testcase name="unit.a" classname="unit.a" time="0.1" status="run"><system-out>ok</system-out></testcase>
	<testcase name="unit.b" classname="unit.b" time="0.1" status="run"><system-out>ok</system-out></testcase>
	<testcase name="interop.echo" classname="interop.echo" time="0.1" status="notrun">
		<skipped message="SKIP_RETURN_CODE=77"/>
		<system-out>SKIP: echo: ping is not installed</system-out>
	</testcase>
</testsuite>
X
sed -e 's/status="notrun"/status="run"/' -e '/<skipped/d' "$T/skip.xml" >"$T/clean.xml"
sed -e 's/status="notrun"/status="fail"/' -e 's/<skipped [^>]*>/<failure message=""\/>/' \
	"$T/skip.xml" >"$T/fail.xml"

out=$(env -u CI $SUM "$T/skip.xml") || fail "a skip without CI failed the run: $out"
[ "$(tail -1 <<<"$out")" = "check: 3 tests ran: 2 passed, 0 failed, 1 skipped" ] || fail "last line: $out"
grep -q "skipped interop.echo: SKIP: echo: ping is not installed" <<<"$out" ||
	fail "the skip's reason is not shown: $out"

out=$(CI=true $SUM "$T/skip.xml") && fail "a skip under CI=true passed: $out"
[ "$(tail -1 <<<"$out")" = "check: 3 tests ran: 2 passed, 1 failed, 0 skipped" ] || fail "CI last line: $out"
grep -q "CI is set" <<<"$out" || fail "under CI the failure does not say why: $out"

out=$(CI=true $SUM "$T/clean.xml") || fail "a clean run failed under CI: $out"
[ "$(tail -1 <<<"$out")" = "check: 3 tests ran: 3 passed, 0 failed, 0 skipped" ] || fail "clean: $out"
out=$($SUM "$T/fail.xml") && fail "a failed test passed: $out"
$SUM "$T/missing.xml" >/dev/null 2>&1 && fail "a missing report passed"
echo "ci_skip: skip, CI skip, clean, failure and missing report each judged right"
