// Runs one console scenario in Debian's chromium, driven by playwright-core.
//
//   node tests/browser/run.mjs <scenario> (a file in tests/browser/scenarios/, without .mjs)
//
// The Rust test that starts the daemon runs this (tests/e2e/console.rs), with:
//   LANYARD_URL         the daemon's base URL (http://127.0.0.1:port)
//   LANYARD_TOKEN       its admin token
//   LANYARD_SCENARIO    JSON the scenario needs from the test (optional)
//   PLAYWRIGHT_MODULES  where scripts/toolchains.sh installed playwright-core
//   CHROMIUM            the browser (default /usr/bin/chromium)
//   SCREENSHOTS         where screenshots go
//
// A scenario module exports `default async function (t)`; `t` is the kit
// below. It fails by throwing; every console error, page error and failed
// request of the page fails it too. Exit status 0 means it passed.

import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
if (!name || !/^[a-z0-9-]+$/.test(name)) {
  console.error('usage: node tests/browser/run.mjs <scenario>');
  process.exit(2);
}
const need = (k) => {
  const v = process.env[k];
  if (!v) {
    console.error(`browser test: ${k} is not set (the Rust test sets it; see the top of this file)`);
    process.exit(2);
  }
  return v;
};
const base = need('LANYARD_URL');
const token = need('LANYARD_TOKEN');
const modules = need('PLAYWRIGHT_MODULES');
const shots = need('SCREENSHOTS');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
mkdirSync(shots, { recursive: true });

const require = createRequire(join(modules, 'noop.js'));
const { chromium } = require('playwright-core');

// The flags Debian's chromium needs in a sandboxed CI machine with no network
// beyond localhost (see the machine notes): without the background-networking
// ones it keeps trying to reach Google and is refused.
const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
  ],
});

const problems = [];
const started = Date.now();
let shotCount = 0;
// Every page a scenario opened, for a screenshot of each when it fails.
const pages = [];

/// The kit a scenario gets.
const t = {
  base,
  token,
  data: process.env.LANYARD_SCENARIO ? JSON.parse(process.env.LANYARD_SCENARIO) : {},
  assert,
  /// A new page (a fresh context: no storage) of this size, signed in or not.
  async page({ width = 1280, height = 800, signedIn = true, hash = '#/flows', timezoneId = undefined } = {}) {
    const context = await browser.newContext({ viewport: { width, height }, timezoneId });
    const page = await context.newPage();
    pages.push(page);
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => {
      // A navigation away aborts polls in flight; that is not a failure.
      const why = r.failure()?.errorText || '';
      if (!why.includes('ERR_ABORTED')) problems.push(`request failed: ${r.method()} ${r.url()} ${why}`);
    });
    const url = `${base}/console/${signedIn ? `#token=${encodeURIComponent(token)}` : ''}`;
    await page.goto(url);
    if (signedIn) await page.waitForFunction(() => !location.hash.includes('token='));
    if (hash) {
      await page.evaluate((h) => {
        location.hash = h;
      }, hash);
    }
    return page;
  },
  /// A screenshot, numbered in order, as `<scenario>-NN-<what>.png`.
  async shot(page, what) {
    shotCount += 1;
    const file = join(shots, `${name}-${String(shotCount).padStart(2, '0')}-${what}.png`);
    // A full-page shot stitches the page at one scroll position, so the
    // sticky header would sit in the middle of it: pin it to the top.
    const header = await page.evaluate(() => {
      const top = document.querySelector('header.top');
      if (!top) return null;
      const was = top.style.position;
      top.style.position = 'static';
      return was;
    });
    await page.screenshot({ path: file, fullPage: true });
    if (header !== null) {
      await page.evaluate((was) => {
        document.querySelector('header.top').style.position = was;
      }, header);
    }
    console.log(`screenshot ${file}`);
    return file;
  },
  /// A screenshot of one element (a card, a form), numbered like `shot`.
  async shotOf(locator, what) {
    shotCount += 1;
    const file = join(shots, `${name}-${String(shotCount).padStart(2, '0')}-${what}.png`);
    await locator.screenshot({ path: file });
    console.log(`screenshot ${file}`);
    return file;
  },
  /// Wait until `text` is visible in the page (or in `within`, a locator).
  async sees(page, text, within) {
    const scope = within || page;
    await scope.getByText(text, { exact: false }).first().waitFor({ state: 'visible', timeout: 15000 });
  },
  log: (...a) => console.log(...a),
  /// An admin's hands on `page`, counting what the issue limits: every click
  /// or selection (`clicks`) and every key pressed (`keys`), for
  /// `t.tally(what, hands)` to report.
  hands(page) {
    const counts = { clicks: 0, keys: 0 };
    return {
      counts,
      page,
      async click(locator) {
        counts.clicks += 1;
        await locator.click();
      },
      async choose(locator, value) {
        counts.clicks += 1;
        await locator.selectOption(value);
      },
      async check(locator) {
        counts.clicks += 1;
        await locator.check();
      },
      /// Keys typed where the focus is (a newline is Enter).
      async type(text) {
        counts.keys += [...text].length;
        await page.keyboard.type(text);
      },
      async press(key) {
        counts.keys += 1;
        await page.keyboard.press(key);
      },
      /// A choice made with Enter (a search's first match): a selection.
      async enter() {
        counts.clicks += 1;
        counts.keys += 1;
        await page.keyboard.press('Enter');
      },
      /// Tab (keys) until `locator` has the focus, as a person moves through a form.
      async tabTo(locator, max = 40) {
        await locator.waitFor();
        for (let i = 0; i <= max; i += 1) {
          if (await locator.evaluate((el) => el === document.activeElement)) return;
          if (i < max) await this.press('Tab');
        }
        throw new Error(`${max} Tabs did not reach ${locator}`);
      },
      /// Click into a field and type (after what is there).
      async fill(locator, text) {
        await this.click(locator);
        await this.type(text);
      },
      /// Click into a field, select what is there (Ctrl+A) and type over it.
      async replace(locator, text) {
        await this.click(locator);
        await this.press('Control+A');
        await this.type(text);
      },
    };
  },
  /// Report what `hands` did for `what`: a `tally {json}` line the Rust test reads.
  tally(what, hands) {
    console.log(`tally ${JSON.stringify({ what, ...hands.counts })}`);
  },
  /// Expect a problem the page will report (an answer the scenario provokes
  /// on purpose, like a 412 when two admins save the same flow): problems
  /// matching `pattern` do not fail the scenario.
  allowProblem(pattern) {
    allowed.push(pattern);
  },
};
const allowed = [];

let failed = null;
try {
  const scenario = await import(pathToFileURL(join(here, 'scenarios', `${name}.mjs`)).href);
  await scenario.default(t);
} catch (e) {
  failed = e;
  // What each page showed when it failed, to see why.
  for (const [i, p] of pages.entries()) {
    const file = join(shots, `${name}-FAILED-page${i + 1}.png`);
    try {
      await p.screenshot({ path: file, fullPage: true });
      console.error(`screenshot of the failure: ${file}`);
    } catch {
      // a closed page has nothing to show
    }
  }
}
await browser.close();
if (failed) {
  console.error(`scenario ${name} failed: ${failed.stack || failed}`);
  process.exit(1);
}
const unexpected = problems.filter((p) => !allowed.some((a) => a.test(p)));
if (unexpected.length) {
  console.error(`scenario ${name}: the page reported problems:\n${unexpected.join('\n')}`);
  process.exit(1);
}
console.log(`scenario ${name} passed in ${((Date.now() - started) / 1000).toFixed(1)} s (${shotCount} screenshots)`);
