#!/bin/bash
# Browser test: Debian's headless Chromium (driven by python3-selenium and
# chromium-driver, tests/interop/browser.py) against `synfin serve` over a
# TUN device in a network namespace of its own. The visitor sees their own
# connection listed and opens its step-by-step page; the connection
# progresses live while the page polls; the learner steps through it with
# the keys and buttons and switches to Chinese. Screenshots are kept under
# the build directory (test-artefacts/browser/).
SF_TEST_TIMEOUT=90
. "$(dirname "$0")/common.bash"

[ -x /usr/bin/chromium ] || fail "chromium is not installed (scripts/deps.sh check installs it)"
[ -x /usr/bin/chromedriver ] || fail "chromium-driver is not installed (scripts/deps.sh check)"
/usr/bin/python3 -c 'import selenium' 2>/dev/null ||
	fail "python3-selenium is not installed (scripts/deps.sh check)"

mkdir -p "$WORK/www" "$WORK/home"
echo "a file" >"$WORK/www/a.txt"
SHOTS=$SYNFIN_BIN/test-artefacts/browser
rm -rf "$SHOTS"
mkdir -p "$SHOTS"

bg serve "$SYNFIN" serve --dir "$WORK/www"
SERVE=$LAST_PID
wait_for "$WORK/serve.out" "curl http://$SF/"

note "chromium visits http://$SF/"
HOME=$WORK/home timeout 60 /usr/bin/python3 "$HERE/browser.py" "http://$SF" "$SHOTS" \
	>"$WORK/browser.out" 2>&1
rc=$?
cat "$WORK/browser.out"
[ $rc = 0 ] || fail "the browser test failed (status $rc); screenshots in $SHOTS"
ls "$SHOTS"/*.png >/dev/null 2>&1 || fail "no screenshots in $SHOTS"
stop $SERVE 10 || fail "synfin serve exited with $? (leak or crash): $(tail -5 "$WORK/serve.out")"
note "PASS (screenshots in $SHOTS)"
