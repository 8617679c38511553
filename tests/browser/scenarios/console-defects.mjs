// The defects found trying the console as a new admin (issue: the console
// as the daily tool), each checked as a person meets it, at 1440×900 and at
// 390×844:
// - a built-in card whose `connection:*` grant the operator narrowed is not
//   "pending" (the API says it is not held);
// - descriptions show their `code` spans as code, never literal backticks,
//   and read as paragraphs, not cut where the file wrapped;
// - a toast never takes a click meant for what is under it;
// - the Test run's sample event runs the flow as given;
// - an element marked hidden is not shown;
// - an address with no page, or a flow that does not exist, says so;
// - nothing is wider than the phone's screen.
//
// `t.data`: { flow } (a seed flow whose description has `code`).

export default async function (t) {
  for (const [width, height] of [[1440, 900], [390, 844]]) {
    const size = `${width}`;
    const page = await t.page({ width, height, hash: '#/cards' });

    // Cards: slack.post asks for connection:*, the seed grants connection:it-slack.
    const slack = page.locator('.card-item').filter({ has: page.locator('h2 code', { hasText: /^slack\.post$/ }) });
    await slack.waitFor();
    const rows = async (label) => (await slack.locator('.grant-row').filter({ has: page.locator('dt', { hasText: label }) }).locator('dd').innerText()).trim();
    t.assert.equal(await rows('Pending'), 'none', 'a narrowed wildcard is granted, not pending');
    t.assert.equal(await rows('Granted'), 'connection:it-slack');
    t.assert.ok((await slack.locator('.desc code').count()) > 0, 'the description shows its code spans as code');
    await noBackticks(t, page.locator('.card-list'), 'the Cards page');
    await fits(t, page, `the Cards page at ${size}`);
    await hiddenStaysHidden(t, page, 'the Cards page');
    await t.shot(page, `cards-${size}`);

    // A flow page: its description, its diagram and the builder's card forms.
    await page.evaluate((h) => (location.hash = h), `#/flows/${encodeURIComponent(t.data.flow)}`);
    const desc = page.locator('.desc.full').first();
    await desc.waitFor();
    t.assert.ok((await desc.locator('code').count()) > 0, 'the flow description shows its code spans as code');
    await noBackticks(t, desc, 'the flow description');
    await fits(t, page, `the flow page at ${size}`);
    await hiddenStaysHidden(t, page, 'the flow page');

    // The Flows page: a description's first paragraph reads as one
    // paragraph, rewrapped to the screen, not cut where the file wrapped.
    await page.evaluate((h) => (location.hash = h), '#/flows');
    const row = page.locator('tr').filter({ has: page.getByRole('link', { name: t.data.flow, exact: true }) });
    const first = await row.locator('.desc p').first().innerText();
    t.assert.ok(first.length > 100 && !first.includes('\n'), `the first paragraph is whole: ${JSON.stringify(first)}`);

    // A toast over the page lets clicks through to what is under it.
    const reload = page.getByRole('button', { name: 'Reload flows' });
    await reload.click();
    const toast = page.locator('#toasts .toast').first();
    await toast.waitFor();
    const through = await toast.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const under = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return !el.contains(under);
    });
    t.assert.ok(through, 'a click on a toast reaches what is under it');
    await hiddenStaysHidden(t, page, 'the Flows page');
    await fits(t, page, `the Flows page at ${size}`);

    // The Test run's sample event, as given, runs the flow (a real user,
    // not a placeholder id), here as a dry run.
    await row.getByRole('button', { name: 'Test run…' }).click();
    const dialog = page.locator('dialog.run-now');
    await dialog.getByRole('button', { name: 'Run', exact: true }).waitFor();
    await dialog.locator('#run-dry').check();
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await dialog.getByRole('link').first().click();
    await page.locator('.page-head .badge', { hasText: 'succeeded' }).waitFor({ timeout: 30000 });

    // Addresses with nothing there say so.
    await page.evaluate(() => (location.hash = '#/flows/a/b'));
    await t.sees(page, 'No such page');
    // (The daemon's 404 for the missing flow is the answer asked for.)
    t.allowProblem(/status of 404/);
    await page.evaluate(() => (location.hash = '#/flows/No%20such%20flow'));
    await t.sees(page, 'No such flow');
    await page.context().close();
  }
}

async function noBackticks(t, locator, where) {
  const text = await locator.innerText();
  t.assert.ok(!text.includes('`'), `${where} shows literal backticks: ${text.slice(text.indexOf('`') - 40, text.indexOf('`') + 40)}`);
}

async function fits(t, page, where) {
  const [content, screen] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  t.assert.ok(content <= screen, `${where} is ${content}px wide on a ${screen}px screen`);
}

async function hiddenStaysHidden(t, page, where) {
  const shown = await page.evaluate(() =>
    [...document.querySelectorAll('[hidden]')].filter((e) => getComputedStyle(e).display !== 'none').map((e) => e.outerHTML.slice(0, 80)),
  );
  t.assert.deepEqual(shown, [], `${where}: elements marked hidden are shown`);
}
