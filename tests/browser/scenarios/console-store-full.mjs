// Every page says so when the daemon's store cannot write (issue: the
// console as the daily tool): the daemon's data directory is on a small
// tmpfs that the Rust test fills, then frees. The page says why and that
// nothing accepted is lost, then, once the disk takes writes again, says
// nothing any more.
//
// `t.data`: { open, full, freed } (marker files: this writes `open` when
// its pages are up; the test writes `full` once the store failed and frees
// the disk when this writes `freed`).

import { existsSync, writeFileSync } from 'node:fs';

export default async function (t) {
  const page = await t.page({ width: 1440, height: 900, hash: '#/flows' });
  await t.sees(page, 'flows loaded');
  const phone = await t.page({ width: 390, height: 844, hash: '#/tables' });
  await phone.getByRole('heading', { name: 'Tables' }).waitFor();
  const banner = page.locator('#daemon-status');
  t.assert.equal(await banner.isVisible(), false);
  // Requests refused while the store cannot write are expected.
  t.allowProblem(/status of 503|Failed to load resource/);
  writeFileSync(t.data.open, 'open');
  while (!existsSync(t.data.full)) await page.waitForTimeout(100);

  await banner.getByText('The daemon’s store cannot write').waitFor({ timeout: 30000 });
  t.assert.match(await banner.innerText(), /No space left on device/);
  t.assert.match(await banner.innerText(), /nothing already accepted is lost/);
  await phone.locator('#daemon-status').getByText('The daemon’s store cannot write').waitFor({ timeout: 30000 });
  await t.shot(page, 'store-full');

  writeFileSync(t.data.freed, 'freed');
  await banner.waitFor({ state: 'hidden', timeout: 60000 });
}
