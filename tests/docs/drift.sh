#!/usr/bin/env bash
# Catches the cheapest kinds of drift between the docs and the code:
#  - every `kind/test_file.c:name` that docs/*.md or README.md cite as the test
#    showing a rule exists: the file is under tests/ and defines that test;
#  - every repository path the docs name (src/..., tests/..., include/...,
#    tools/..., docs/..., scripts/..., bench/..., examples/..., fuzz/...) exists;
#  - no doc cites a file outside the repository (../shared and the like);
#  - the version has one source: the number in project(VERSION) appears in no
#    other tracked file.
set -uo pipefail
SRC=${SYNFIN_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SRC" || exit 1
bad=0
complain() {
	echo "drift: $*"
	bad=$((bad + 1))
}
docs=(README.md docs/*.md)
cited=0
while IFS=: read -r doc file name; do
	cited=$((cited + 1))
	path=tests/$file
	if [ ! -f "$path" ]; then
		complain "$doc cites $file:$name but $path does not exist"
	elif ! grep -Eq "(^|[^A-Za-z0-9_])(test_)?$name[[:space:]]*[(,)]" "$path"; then
		complain "$doc cites $file:$name but $path defines no test $name"
	fi
done < <(grep -oE '[a-z]+/test_[a-z0-9_]+\.c:[A-Za-z0-9_]+' "${docs[@]}" | sort -u)
[ $cited -gt 0 ] || complain "no file:test citation found in the docs (did the format change?)"

paths=0
while IFS=: read -r doc p; do
	paths=$((paths + 1))
	p=${p%%[.,;)]}
	case "$p" in *'*'* | *'<'* | *'{'* | *N.* | *NAME*) continue ;; esac
	[ -e "$p" ] || [ -e "${p%/}" ] || complain "$doc names $p, which does not exist"
done < <(grep -oE '(^|[^A-Za-z0-9_./-])(src|tests|include|tools|docs|scripts|bench|examples|fuzz)/[A-Za-z0-9_./*<>{}-]*[A-Za-z0-9_/]' "${docs[@]}" |
	sed -E 's/:[^A-Za-z0-9_]/:/' | sort -u)

if grep -nE '(\.\./|^|[^A-Za-z0-9_])shared/(conformance|notes|seed|DESIGN)' docs/*.md; then
	complain "a doc cites a file outside the repository (above)"
fi

ver=$(sed -nE 's/^project\(synfin VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)
[ -n "$ver" ] || complain "no project(synfin VERSION x.y.z) in CMakeLists.txt"
if [ -n "$ver" ]; then
	others=$(git ls-files 2>/dev/null | grep -v '^CMakeLists.txt$' | grep -vE '\.(pcap|pcapng|bin)$' |
		xargs -r grep -lF "\"$ver\"" 2>/dev/null)
	[ -z "$others" ] || complain "the version $ver is written outside CMakeLists.txt: $others"
fi

echo "drift: $cited test citations and $paths path mentions checked, $bad problem(s)"
[ $bad -eq 0 ]
