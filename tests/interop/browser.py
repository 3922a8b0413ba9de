#!/usr/bin/env python3
"""Drives Debian's headless Chromium (python3-selenium, chromium-driver)
against `synfin serve`, as a learner would use its page:

  1. open / : the visitor's own connection is listed, "(your connection)";
  2. open that connection's step-by-step page (/_synfin/ladder/N.html): it
     shows the kernel's side inferred, listens to Server-Sent Events
     (N.sse), and as the connection carries more (the browser's own
     requests on the kept-alive connection) new steps appear by
     themselves: the connection progresses live;
  3. step: Home goes to the first step (the kernel's SYN-SENT), the arrow
     keys and the buttons move one step, the panel follows with both
     states, the explanation and synfin's engine numbers (cwnd, RTO...);
  4. switch to Chinese: the panel speaks Chinese;
  5. in both languages every text of the ladder SVG, as this browser draws
     it, fits the width the layout gave it (7 px a column), so the layout's
     "nothing overlaps" holds on screen.

Screenshots of each stage go to the directory given (test artefacts).
Usage: browser.py BASE_URL SHOT_DIR. Exit 0 on success; one line on failure.
"""
import os
import re
import sys
import time
import unicodedata

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

base, shots = sys.argv[1], sys.argv[2]
os.makedirs(shots, exist_ok=True)


def fail(msg):
    print('FAIL: browser: ' + msg)
    sys.exit(1)


def columns(text):
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in ('W', 'F') else 1 for c in text)


def texts_fit(drv, where):
    """The ladder SVG is laid out for 7 px a column (src/trace/ladder_svg.c,
    tests/golden/svgcheck.py): every text this browser draws in a shown
    ladder must be no wider, or the layout's "no overlap" is not what the
    learner sees. Returns how many texts were measured."""
    got = drv.execute_script(
        'var out = [];'
        'for (const svg of document.querySelectorAll("svg")) {'
        '  const t = svg.querySelector("title");'
        '  if (!t || !/^(TCP ladder|TCP 时序图)/.test(t.textContent)) continue;'
        '  for (const x of svg.querySelectorAll("text")) {'
        '    const w = x.getBBox().width;'
        '    if (w > 0) out.push([x.textContent, w]);'
        '  }'
        '}'
        'return out;')
    for text, w in got:
        if w > columns(text) * 7 + 0.5:
            fail('%s: %r is %.1f px wide, the layout gave it %d' %
                 (where, text, w, columns(text) * 7))
    if not got:
        fail('%s: no ladder text measured' % where)
    return len(got)


opts = Options()
for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
          '--window-size=1300,1000', '--no-proxy-server', '--disable-extensions'):
    opts.add_argument(a)
opts.binary_location = '/usr/bin/chromium'
opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
drv = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=opts)
drv.set_page_load_timeout(20)
try:
    drv.get(base + '/')
    drv.save_screenshot(os.path.join(shots, '1-index.png'))
    html = drv.page_source
    m = re.search(r'<h2>#(\d+) [^<]*\(your connection\)</h2>', html)
    if not m:
        fail('the page does not mark the visitor\'s own connection')
    num = m.group(1)

    drv.get('%s/_synfin/ladder/%s.html' % (base, num))
    steps = lambda: drv.execute_script('return window.STEPS.length')
    now = lambda: drv.find_element(By.ID, 'now').text
    if not drv.find_element(By.ID, 'ctl').is_displayed():
        fail('the step controls are not shown')
    if 'client (inferred)' not in drv.page_source:
        fail('the kernel\'s side is not drawn as inferred')
    if not drv.execute_script('return !!window.sfEvents'):
        fail('the page does not listen to Server-Sent Events')
    n0 = steps()
    drv.save_screenshot(os.path.join(shots, '2-own-connection.png'))
    measured = texts_fit(drv, 'English ladder')
    # Live: the page polls the same URL over the same kept-alive
    # connection; each poll adds segments to the connection drawn.
    deadline = time.time() + 15
    while steps() <= n0 and time.time() < deadline:
        time.sleep(0.3)
    n1 = steps()
    if n1 <= n0:
        fail('no new step appeared in 15 s (%d steps)' % n0)
    if not now().startswith('%d/%d ' % (n1, n1)):
        fail('the page did not follow the new steps: %r' % now())
    drv.save_screenshot(os.path.join(shots, '3-progressed.png'))

    body = drv.find_element(By.TAG_NAME, 'body')
    body.send_keys(Keys.HOME)
    if not now().startswith('1/') or 'SYN-SENT' not in now():
        fail('Home does not show the first step with the kernel in SYN-SENT: %r' % now())
    why = drv.find_element(By.ID, 'why').text
    if 'SYN-SENT' not in why or 'RFC 9293' not in why:
        fail('the first step is not explained: %r' % why)
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_RIGHT)
    if not now().startswith('3/'):
        fail('two right arrows do not reach step 3: %r' % now())
    drv.find_element(By.ID, 'prev').click()
    if not now().startswith('2/') or 'ESTABLISHED' not in now():
        fail('the back button does not reach step 2 with ESTABLISHED: %r' % now())
    eng = drv.find_element(By.ID, 'eng').text
    if 'server (synfin engine)' not in eng or 'cwnd' not in eng or 'RTO' not in eng:
        fail('synfin\'s engine numbers are not shown at step 2: %r' % eng)
    fut = drv.execute_script('return document.querySelectorAll(".fut").length')
    if fut == 0:
        fail('the steps after the current one are not faded')
    drv.save_screenshot(os.path.join(shots, '4-step-2.png'))

    drv.find_element(By.ID, 'lang').click()
    if '客户端' not in now() or '服务器' not in now():
        fail('the language switch does not show Chinese: %r' % now())
    if not drv.execute_script(
            'return !document.querySelector(\'.lang[data-lang="zh"]\').hidden'):
        fail('the Chinese diagram is not shown after the switch')
    drv.save_screenshot(os.path.join(shots, '5-chinese.png'))
    measured += texts_fit(drv, 'Chinese ladder')
    errors = [e['message'] for e in drv.get_log('browser')
              if e['level'] == 'SEVERE' and e.get('source') == 'javascript']
    if errors:
        fail('script errors: %s' % errors[:3])
    print('browser: connection #%s, %d then %d steps, stepped, switched to Chinese; '
          '%d ladder texts within their laid-out width' % (num, n0, n1, measured))
finally:
    drv.quit()
