// The Flows page reads each flow's last run and last day's counts from the
// listing the daemon keeps (issue: the console as the daily tool): it shows
// the run the test made, and polling the page downloads no runs.
//
// `t.data`: { flow, run } (a flow that ran once, and that run's id).

export default async function (t) {
  const page = await t.page({ width: 1440, height: 900, hash: '#/flows' });
  const asked = [];
  page.on('request', (r) => asked.push(new URL(r.url()).pathname));
  const row = page.locator('tr').filter({ has: page.getByRole('link', { name: t.data.flow, exact: true }) });
  await row.locator('.counts a', { hasText: '1 succeeded' }).waitFor();
  t.assert.equal(await row.locator('a.last-run').getAttribute('href'), `#/runs/${t.data.run}`);
  // Flows that never ran say so.
  t.assert.ok((await page.getByText('never run').count()) >= 1);

  // One poll later (every 10 s), still no run was downloaded to count.
  const polls = () => asked.filter((p) => p === '/api/v1/flows').length;
  const before = polls();
  const deadline = Date.now() + 25000;
  while (polls() <= before && Date.now() < deadline) await page.waitForTimeout(250);
  t.assert.ok(polls() > before, 'the page polled the flows again');
  t.assert.deepEqual(asked.filter((p) => p.startsWith('/api/v1/runs')), [], 'the Flows page downloads no runs');
  await t.shot(page, 'counts');

  // On a phone: nothing wider than the screen.
  const phone = await t.page({ width: 390, height: 844, hash: '#/flows' });
  await phone.locator('a.last-run').first().waitFor();
  const [content, screen] = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  t.assert.ok(content <= screen, `the page is ${content}px wide on a ${screen}px screen`);
}
