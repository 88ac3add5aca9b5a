// Opens batchcast's status page in Debian's headless Chromium (driven by
// playwright-core, which never downloads a browser of its own) and checks
// what a staff user sees: the live update, the late joiner, the refusals.
//
// Started by status_page_test.py, which runs the server and seeds it; the
// setup arrives as JSON in argv[2]:
//   {"page_base": "http://127.0.0.1:P", "publish_base": "http://127.0.0.1:Q",
//    "token": "...", "session": "...", "outsider_session": "...",
//    "live_batch": "...", "early_batch": "...", "artifacts": "/dir"}
// and optionally "cases": [names] to run only those, "label": a suffix for
// the case names and screenshots, and "ignore_certificate_errors": true
// when page_base is https:// with the test's self-signed certificate.
// Prints "PASS name" / "FAIL name" per case; the wrapper counts them.

'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const setup = JSON.parse(process.argv[2]);

// Everything that makes a test browser quiet and local: no sandbox (we may
// run as root in a container), no GPU, no QUIC, no proxy from the
// environment, and none of the background traffic a fresh profile starts
// (updates, sync, field trials).
const chromium_args = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-proxy-server',
];

function page_url(batch) {
  return `${setup.page_base}/batches/${batch}/`;
}

async function publish(batch, status) {
  const response = await fetch(
      `${setup.publish_base}/api/v1/radius/batch/${batch}/status`, {
        method: 'POST',
        headers: {
          'Authorization': `Bearer ${setup.token}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ status }),
      });
  if (response.status !== 200)
    throw new Error(`publish answered ${response.status}`);
}

async function use_session(context, session) {
  await context.clearCookies();
  if (session) {
    await context.addCookies([{
      name: 'sessionid', value: session, url: setup.page_base,
      httpOnly: true, sameSite: 'Lax',
    }]);
  }
}

const label = setup.label ? `_${setup.label}` : '';

async function screenshot(page, name) {
  const file = path.join(setup.artifacts, `status_page_${name}${label}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot ${file}`);
}

function expect(condition, message) {
  if (!condition)
    throw new Error(message);
}

function body_data(page, name) {
  return page.evaluate((key) => document.body.dataset[key], name);
}

// Headers every status page answer carries, whatever its status.
function expect_no_store(response) {
  const headers = response.headers();
  expect(headers['cache-control'] === 'no-store',
         `cache-control: ${headers['cache-control']}`);
  expect(headers['x-frame-options'] === 'DENY',
         `x-frame-options: ${headers['x-frame-options']}`);
}

function expect_page_headers(response) {
  expect_no_store(response);
  const policy = response.headers()['content-security-policy'] || '';
  expect(/script-src 'nonce-[A-Za-z0-9+/=]{24}'/.test(policy),
         `content-security-policy: ${policy}`);
  expect(/connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ wss:\/\/127\.0\.0\.1:\d+;/
             .test(policy), policy);
  expect(policy.includes('default-src \'self\''), policy);
}

// Collects what the browser reports against the page's policy, so a page
// whose inline code the policy blocks fails loudly rather than quietly.
function watch_policy(page) {
  const violations = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text()))
      violations.push(message.text());
  });
  page.on('pageerror', (error) => violations.push(String(error)));
  return violations;
}

const cases = {
  async live_page_shows_completed_within_one_second(context) {
    await use_session(context, setup.session);
    const page = await context.newPage();
    const violations = watch_policy(page);
    const response = await page.goto(page_url(setup.live_batch));
    expect(response.status() === 200, `status ${response.status()}`);
    expect_page_headers(response);
    expect(await page.textContent('#status') === 'pending',
           'the stored status is shown first');
    await page.waitForFunction(() => document.body.dataset.socket === 'open',
                               null, { timeout: 10000 });
    await screenshot(page, 'live_waiting');

    const started = Date.now();
    await publish(setup.live_batch, 'completed');
    await page.waitForFunction(
        () => document.getElementById('status').textContent === 'completed',
        null, { timeout: 1000 });
    const elapsed = Date.now() - started;
    await page.waitForFunction(
        () => document.body.dataset.socket === 'closed', null,
        { timeout: 2000 });
    console.log(`  shown after ${elapsed} ms; socket closed with code ` +
                `${await body_data(page, 'closeCode')}`);
    expect(await body_data(page, 'status') === 'completed', 'data-status');
    expect(violations.length === 0, `policy: ${violations.join('; ')}`);
    await screenshot(page, 'live_completed');
    await page.close();
  },

  async page_of_finished_batch_shows_completed_at_once(context) {
    await publish(setup.early_batch, 'completed');
    await use_session(context, setup.session);
    const page = await context.newPage();
    const violations = watch_policy(page);
    const response = await page.goto(page_url(setup.early_batch));
    expect(response.status() === 200, `status ${response.status()}`);
    expect_page_headers(response);
    // No waiting: the answer is in the document itself.
    expect(await page.textContent('#status') === 'completed',
           'completed in the served document');
    expect(await body_data(page, 'socket') === 'none',
           'no socket is opened for a finished batch');
    expect(violations.length === 0, `policy: ${violations.join('; ')}`);
    await screenshot(page, 'finished_at_once');
    await page.close();
  },

  async page_without_session_cookie_is_403(context) {
    await use_session(context, null);
    const page = await context.newPage();
    const response = await page.goto(page_url(setup.live_batch));
    expect(response.status() === 403, `status ${response.status()}`);
    expect_no_store(response);
    const text = await response.text();
    expect(text === '403 Forbidden\n', `body says only 403: ${text}`);
    await page.close();
  },

  async page_for_staff_outside_the_organization_is_403(context) {
    await use_session(context, setup.outsider_session);
    const page = await context.newPage();
    const response = await page.goto(page_url(setup.live_batch));
    expect(response.status() === 403, `status ${response.status()}`);
    await page.close();
  },
};

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'batchcast-chromium-'));
  let context;
  let failed = 0;
  try {
    // A persistent context is how a fresh --user-data-dir is given to
    // Playwright; the directory is removed afterwards.
    // Only the run against a self-signed certificate trusts anything: a
    // test browser has no way to add one CA to Chromium's store.
    const trust_any = setup.ignore_certificate_errors === true;
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: trust_any ? [...chromium_args, '--ignore-certificate-errors']
                      : chromium_args,
      ignoreHTTPSErrors: trust_any,
      timeout: 60000,
    });
    context.setDefaultTimeout(10000);
    for (const [name, run] of Object.entries(cases)) {
      if (setup.cases && !setup.cases.includes(name))
        continue;
      try {
        await run(context);
        console.log(`PASS ${name}${label}`);
      } catch (error) {
        failed += 1;
        console.log(`FAIL ${name}${label}\n  ${error.stack || error}`);
      }
    }
  } finally {
    if (context)
      await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => {
  console.log(`FAIL browser_session\n  ${error.stack || error}`);
  process.exit(1);
});
