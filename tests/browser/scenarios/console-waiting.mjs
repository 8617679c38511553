// A run waiting for an approval (issue 17, `wait`): the Runs page shows it
// waiting, its page says what it waits for until when, and the admin answers
// with a button; the run goes on with the answer.
//
// `t.data`: { run, flow }.

export default async function (t) {
  const page = await t.page({ width: 1440, height: 900, hash: `#/runs?status=waiting` });
  await page.locator('td a', { hasText: t.data.flow }).first().waitFor();
  await page.locator('.badge.status-waiting').first().waitFor();
  await t.shot(page, 'runs');

  await page.evaluate((h) => (location.hash = h), `#/runs/${t.data.run}`);
  await t.sees(page, 'Waiting for an answer');
  await t.sees(page, 'waits for the approval signal');
  const answers = page.locator('#signal-answers button');
  t.assert.deepEqual(await answers.allTextContents(), ['Approve', 'Reject']);
  await t.shot(page, 'waiting');

  page.once('dialog', (d) => d.accept());
  await answers.filter({ hasText: 'Approve' }).click();
  await page.locator('.badge.status-succeeded').waitFor({ timeout: 30000 });
  await t.sees(page, 'approved');
  t.assert.equal(await page.locator('#signal-answers').count(), 0, 'no answer buttons once it has gone on');
  await t.shot(page, 'answered');
}
