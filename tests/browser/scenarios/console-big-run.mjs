// A run with hundreds of steps (the MFA sweep) read in the console (issue:
// the console as the daily tool): its loop's iterations are grouped (an item
// each, what it was about beside it, 50 at a time), nothing is drawn until it
// is opened, and "Find in the steps" narrows it to one user's iteration. The
// page stays short enough to read without a long scroll.
//
// `t.data`: { run, login, items } (the run, a user it reminded, its loop's
// items). The loop walks the org a page at a time: its page reads are one
// more group, first.


export default async function (t) {
  const page = await t.page({ width: 1440, height: 900, hash: `#/runs/${t.data.run}` });
  await page.locator('ol.tree').waitFor();
  const items = page.locator('li.iteration');
  t.assert.equal(await items.count(), Math.min(50, t.data.items + 1));
  t.assert.ok((await items.first().innerText()).includes('pages read'));
  t.assert.ok((await items.nth(1).innerText()).includes('item 1'));
  if (t.data.items + 1 > 50) await page.getByRole('button', { name: /^Show 50 more of \d+ items$/ }).waitFor();
  const tall = await page.evaluate(() => document.documentElement.scrollHeight);
  t.assert.ok(tall < 6000, `the run page is ${tall}px tall`);
  await t.shot(page, 'grouped');

  // One user's iteration, found by their login, opened (with the page read
  // that listed them).
  await page.locator('#steps-find').fill(t.data.login);
  await page.waitForFunction(() => [...document.querySelectorAll('li.iteration')].filter((li) => li.innerText.includes('item ')).length === 1);
  const one = page.locator('li.iteration').filter({ hasText: /item \d+/ });
  t.assert.ok(await one.locator('details').first().evaluate((d) => d.open), 'the found iteration is open');
  await one.getByText(t.data.login).first().waitFor();
  await t.shot(page, 'found');
  await page.locator('#steps-find').fill('');
  await page.waitForFunction((n) => document.querySelectorAll('li.iteration').length === n, Math.min(50, t.data.items + 1));

  // On a phone: nothing wider than the screen.
  const phone = await t.page({ width: 390, height: 844, hash: `#/runs/${t.data.run}` });
  await phone.locator('li.iteration').first().waitFor();
  const [content, screen] = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  t.assert.ok(content <= screen, `the page is ${content}px wide on a ${screen}px screen`);
}
