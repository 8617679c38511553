// A flow that waits for an approval (issue 17, `wait`), built in the builder:
// a Wait step from the palette set to "For an answer", then a Slack message
// with the answer. Run by hand, the Runs page shows it waiting, its page says
// what it waits for until when, and the admin answers with a button; the run
// goes on with the answer.
//
// `t.data`: { flow }.

async function ready(page, t) {
  await t.sees(page, 'ready to save', page.locator('.builder-bar'));
}

export default async function (t) {
  const n = await t.page({ width: 1440, height: 900, hash: '#/new-flow' });
  await n.locator('#new-name').fill(t.data.flow);
  await n.locator('#new-description').fill('Asks IT to approve, then says what they answered.');
  await n.locator('#kind-manual').check();
  await n.locator('#new-create').click();
  await n.waitForFunction(() => location.hash.includes('edit=1'));

  // Wait, from the palette: a length of time at first, then "For an answer".
  await n.locator('.dg-add').first().click();
  await n.locator('#palette-search').fill('wait');
  await n.locator('dialog.palette .palette-item', { hasText: 'Wait' }).first().click();
  await n.locator('#wait-for').waitFor();
  t.assert.equal(await n.locator('#wait-for').inputValue(), '1d');
  await n.locator('#step-id').fill('ask');
  await n.locator('#wait-mode-signal').check();
  await n.locator('#wait-choices').waitFor();
  t.assert.equal(await n.locator('#wait-mode-signal').isChecked(), true);
  t.assert.equal(await n.locator('#wait-signal').inputValue(), 'approval');
  t.assert.equal(await n.locator('#wait-choices').inputValue(), 'approve, reject');
  t.assert.equal(await n.locator('#wait-timeout').inputValue(), '2d');
  await n.locator('#wait-timeout').fill('3d');
  await t.sees(n, 'Wait for the “approval” signal (approve or reject), at most 3d', n.locator('.dg-box[data-path="ask"]'));
  await ready(n, t);
  await t.shot(n, 'builder-wait');

  // Then tell IT what was answered.
  await n.locator(`.dg-add[data-list='["steps"]'][data-index="1"]`).click();
  await n.locator('#palette-search').fill('slack');
  await n.locator('dialog.palette .palette-item[data-card="slack.post"]').click();
  await n.locator('.flow-side .sf-field[data-key="connection"] input').fill('it-slack');
  await n.locator('.flow-side .sf-field[data-key="channel"] input').fill('#it-ops');
  await n.locator('.flow-side .sf-field[data-key="text"] textarea').fill('IT answered: {{ ask.choice }}');
  await ready(n, t);
  await n.locator('#builder-save').click();
  await t.sees(n, 'Saved as version');

  // Run it by hand.
  const list = await t.page({ width: 1440, height: 900, hash: '#/flows' });
  await list.locator('tr', { hasText: t.data.flow }).getByRole('button', { name: 'Run now…' }).click();
  await list.locator('dialog.run-now button[type="submit"]').click();
  await t.sees(list, 'Started run', list.locator('dialog.run-now'));
  const run = await list.locator('dialog.run-now a code').textContent();
  await list.locator('dialog.run-now').getByRole('button', { name: 'Close' }).click();

  const page = await t.page({ width: 1440, height: 900, hash: `#/runs?status=waiting` });
  await page.locator('td a', { hasText: t.data.flow }).first().waitFor();
  await page.locator('.badge.status-waiting').first().waitFor();
  await t.shot(page, 'runs');

  await page.evaluate((h) => (location.hash = h), `#/runs/${run}`);
  await t.sees(page, 'Waiting for an answer');
  await t.sees(page, 'waits for the approval signal');
  await t.sees(page, 'Waiting since', page.locator('dl.summary'));
  await t.sees(page, 'No step ran before the wait');
  const answers = page.locator('#signal-answers button');
  t.assert.deepEqual(await answers.allTextContents(), ['Approve', 'Reject']);
  await t.shot(page, 'waiting');

  page.once('dialog', (d) => d.accept());
  await answers.filter({ hasText: 'Approve' }).click();
  await page.locator('.badge.status-succeeded').waitFor({ timeout: 30000 });
  t.assert.equal(await page.locator('#signal-answers').count(), 0, 'no answer buttons once it has gone on');
  await t.shot(page, 'answered');
  t.log(`waited run ${run}`);
}
