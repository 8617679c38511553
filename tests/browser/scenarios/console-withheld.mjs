// A flow that keeps no step data (issue: the console as the daily tool): its
// run's steps say their inputs and outputs were not kept, and the builder's
// History setting is unchecked for it.
//
// `t.data`: { run, flow }.

export default async function (t) {
  const page = await t.page({ width: 1440, height: 900, hash: `#/runs/${t.data.run}` });
  await page.locator('ol.tree').waitFor();
  await page.locator('li.step summary').first().click();
  await t.sees(page, 'Its inputs and outputs are not kept');
  t.assert.equal(await page.locator('.step-section h3', { hasText: 'Output' }).count(), 0);
  await t.shot(page, 'run');

  await page.evaluate((h) => (location.hash = h), `#/flows/${encodeURIComponent(t.data.flow)}?edit=1`);
  await page.getByRole('button', { name: 'Name, description, trigger' }).click();
  t.assert.equal(await page.locator('#keep-step-data').isChecked(), false);

  // On a phone: nothing wider than the screen.
  const phone = await t.page({ width: 390, height: 844, hash: `#/runs/${t.data.run}` });
  await phone.locator('ol.tree').first().waitFor();
  const [content, screen] = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  t.assert.ok(content <= screen, `the page is ${content}px wide on a ${screen}px screen`);
}
