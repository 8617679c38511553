// The history as an admin searches it (issue: the console as the daily
// tool): each run says whom it is about by name and login and, when it
// failed, where and why in a line; runs are found by a user's login, by a
// card they called and by the kind of error a step failed with; a run is run
// again, as a dry run chosen explicitly. At 1440×900, then at 390×844.
//
// `t.data`: { login, name, offboarding, lockout } (one offboarding run about
// that user, its JAMF step refused; one lockout run that failed).

export default async function (t) {
  const page = await t.page({ width: 1440, height: 900, hash: '#/runs' });
  const rows = page.locator('table.runs tbody tr');
  await rows.first().waitFor();
  t.assert.equal(await rows.count(), 2);

  const off = rows.filter({ hasText: t.data.offboarding });
  t.assert.equal((await off.locator('.who').innerText()).trim(), `user ${t.data.name} (${t.data.login})`);
  const failed = rows.filter({ hasText: t.data.lockout });
  const why = (await failed.locator('.run-error').innerText()).trim();
  t.assert.match(why, /^at user: /, why);
  t.assert.ok(!why.includes('\n'), 'one line');
  await t.shot(page, 'runs');

  const find = async (what) => {
    await page.getByRole('button', { name: 'Find' }).click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('table.runs tbody tr').length === n || (n === 0 && document.querySelector('.runs-body .callout')),
      what,
    );
  };
  // A user's login finds their run (it is in the event and the steps).
  await page.locator('#filter-text').fill(t.data.login.toUpperCase());
  await find(1);
  t.assert.ok((await rows.first().innerText()).includes(t.data.offboarding));
  await page.locator('#filter-text').fill('');
  await find(2);

  // By card, and by the kind of error a step failed with.
  await page.locator('#filter-card').selectOption('acme.jamf-offboard');
  await page.waitForFunction(() => document.querySelectorAll('table.runs tbody tr').length === 1);
  await page.locator('#filter-card').selectOption('mail.send');
  await t.sees(page, 'No runs match these filters');
  await page.locator('#filter-card').selectOption('');
  await page.locator('#filter-error').selectOption('denied');
  await page.waitForFunction(() => document.querySelectorAll('table.runs tbody tr').length === 1);
  t.assert.ok((await rows.first().innerText()).includes(t.data.offboarding));
  await page.locator('#filter-error').selectOption('not-found');
  await page.waitForFunction(() => document.querySelector('table.runs tbody tr')?.innerText.includes('Lockout'));
  t.assert.equal(await rows.count(), 1);
  await t.shot(page, 'found');

  // The filters are in the address: a reload keeps them.
  t.assert.ok(page.url().includes('error=not-found'));

  // Re-run the offboarding as a dry run: chosen explicitly, then its page.
  await page.locator('#filter-error').selectOption('');
  await page.waitForFunction(() => document.querySelectorAll('table.runs tbody tr').length === 2);
  await off.getByRole('link', { name: t.data.offboarding }).click();
  const rerun = page.getByRole('button', { name: 'Re-run…' });
  await rerun.click();
  const go = page.locator('dialog').getByRole('button', { name: 'Re-run', exact: true });
  t.assert.ok(await go.isDisabled(), 'nothing is chosen for the admin');
  await page.locator('#rerun-dry').check();
  await go.click();
  await t.sees(page, 'A re-run of');
  await t.sees(page, 'Dry run');
  await page.locator('.page-head .badge', { hasText: 'succeeded' }).waitFor();
  await t.shot(page, 'rerun');

  const phone = await t.page({ width: 390, height: 844, hash: `#/runs?text=${encodeURIComponent(t.data.login)}` });
  await phone.locator('table.runs tbody tr').first().waitFor();
  const [content, screen] = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  t.assert.ok(content <= screen, `the Runs page is ${content}px wide on a ${screen}px screen`);
}
