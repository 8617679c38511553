// Every page says plainly when the daemon cannot be reached (issue: the
// console as the daily tool): an admin has the Flows page open, the daemon
// stops (the Rust test stops it when this writes `t.data.marker`), and the
// page says so at the top instead of going quietly stale. The same banner
// is on every page (the shell draws it), so the Runs page shows it too, and
// a phone showing the Cards page says so as well.
//
// `t.data`: { marker } (a file path).

import { writeFileSync } from 'node:fs';

export default async function (t) {
  const page = await t.page({ width: 1440, height: 900, hash: '#/flows' });
  await t.sees(page, 'flows loaded');
  const phone = await t.page({ width: 390, height: 844, hash: '#/cards' });
  await phone.locator('.card-item').first().waitFor();
  const banner = page.locator('#daemon-status');
  t.assert.equal(await banner.isVisible(), false, 'no banner while the daemon is well');

  // The requests the page makes while the daemon is gone fail, as expected.
  t.allowProblem(/ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|Failed to load resource/);
  writeFileSync(t.data.marker, 'stop');
  await banner.getByText('The lanyard daemon cannot be reached').waitFor({ timeout: 30000 });
  await t.shot(page, 'flows-daemon-gone');
  // On a phone too, and the banner fits the screen.
  await phone.locator('#daemon-status').getByText('The lanyard daemon cannot be reached').waitFor({ timeout: 30000 });
  const [content, screen] = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  t.assert.ok(content <= screen, `the page is ${content}px wide on a ${screen}px screen`);

  await page.evaluate(() => (location.hash = '#/runs'));
  await page.getByRole('heading', { name: 'Runs' }).waitFor();
  t.assert.ok(await banner.isVisible(), 'the Runs page says so too');
}
