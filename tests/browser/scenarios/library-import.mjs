// The flow library, as an admin uses it (issue 15): from the Flows page to
// the library, what a flow does and needs, "Add to my flows", which creates
// it turned off and lands on its page to test it; a second import (a tab
// left open from before) is refused with a reason; the library then says the
// flow is in your flows. Readable on a phone.
//
// `t.data`: { id, name, count } (the flow to import, its name, how many
// flows the library has).

export default async function (t) {
  const page = await t.page({ width: 1280, height: 800, hash: '#/flows' });
  // A second admin's tab, open on the same flow before the import.
  const stale = await t.page({ width: 1280, height: 800, hash: `#/library/${t.data.id}` });
  await stale.locator('#library-add').waitFor();

  // From the Flows page (no flows yet) to the library.
  await page.locator('#flow-library').click();
  await page.waitForFunction(() => location.hash === '#/library');
  await page.getByRole('heading', { level: 1, name: 'Flow library' }).waitFor();
  await page.locator('.library-card').first().waitFor();
  t.assert.equal(await page.locator('.library-card').count(), t.data.count);
  const card = page.locator('.library-card').filter({ has: page.getByRole('link', { name: t.data.name, exact: true }) });
  t.assert.match(await card.locator('.library-trigger').textContent(), /Schedule.*Monday/);
  t.assert.equal(await card.locator('.library-needs').textContent(), 'Needs table stale-accounts, connection it-slack.');
  t.assert.equal(await page.locator('.badge.status-failed').count(), 0, 'this daemon can run every library flow');
  await t.shot(page, 'list');

  // One flow in full.
  await card.getByRole('link', { name: t.data.name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: t.data.name }).waitFor();
  await t.sees(page, 'What it does');
  await t.sees(page, 'in the policy step to only report');
  await t.sees(page, 'Table stale-accounts (read and written)');
  await t.sees(page, 'Connection it-slack');
  const grants = await page.locator('pre.library-grants').textContent();
  t.assert.ok(grants.includes('[cards."tables.delete"]\ngrants = ["table:stale-accounts"]'), grants);
  t.assert.equal(await page.locator('#library-add').isDisabled(), false);
  await t.shot(page, 'flow');
  // The steps, drawn as on a flow's page, when asked for.
  await page.locator('#library-steps > summary').click();
  await page.locator('.diagram').first().waitFor();
  t.assert.ok((await page.locator('.diagram .dg-box').count()) > 5, 'the steps are drawn');
  await t.shotOf(page.locator('#library-steps'), 'steps');

  // Add it: created off, and the admin is on its page.
  await page.locator('#library-add').click();
  await page.waitForFunction((n) => decodeURIComponent(location.hash) === `#/flows/${n}`, t.data.name);
  await page.getByRole('heading', { level: 1, name: t.data.name }).waitFor();
  await page.locator('.off-note').waitFor();
  t.assert.equal(await page.getByRole('switch').getAttribute('aria-checked'), 'false');
  await t.sees(page, 'turned off');
  await t.shot(page, 'imported');

  // The tab left open tries again: refused (409), and says why.
  t.allowProblem(/status of 409 \(Conflict\)/);
  await stale.locator('#library-add').click();
  await stale.locator('#library-refusal').waitFor();
  t.assert.match(await stale.locator('#library-refusal').textContent(), /^You already have a flow named “.+”: it was imported before/);
  t.assert.ok(await stale.locator('#library-add').isDisabled());
  await stale.locator('#library-open').waitFor();
  await t.shot(stale, 'refused');

  // The library now says it is there, with a way to it, and no second Add.
  await page.evaluate((id) => {
    location.hash = `#/library/${id}`;
  }, t.data.id);
  await page.locator('#library-open').waitFor();
  t.assert.ok(await page.locator('#library-add').isDisabled());
  await page.evaluate(() => {
    location.hash = '#/library';
  });
  await page.locator('.library-card .badge.status-succeeded').waitFor();
  t.assert.equal(await page.locator('.library-card .badge.status-succeeded').count(), 1);
  await t.shot(page, 'list-after');

  // The new-flow page points at the library too.
  await page.evaluate(() => {
    location.hash = '#/new-flow';
  });
  await page.locator('#new-from-library').click();
  await page.waitForFunction(() => location.hash === '#/library');

  // On a phone: nothing wider than the screen.
  for (const hash of ['#/library', `#/library/${t.data.id}`]) {
    const phone = await t.page({ width: 390, height: 844, hash });
    await phone.locator(hash === '#/library' ? '.library-card' : '.library-description').first().waitFor();
    const [content, screen] = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    t.assert.ok(content <= screen, `${hash} is ${content}px wide on a ${screen}px screen`);
    await t.shot(phone, hash === '#/library' ? 'phone-list' : 'phone-flow');
  }
}
