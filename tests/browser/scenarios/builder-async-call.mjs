// A helper started as a run of its own (issue 17, `call` with `wait: false`),
// built in the builder: a helper flow that greets a user in Slack, and a
// flow run by hand that calls it for one user without waiting. The call form
// lists the helper's inputs once it is chosen. Run now: the caller's page
// links the run it started, and that run's page links back.
//
// `t.data`: { helper, caller, login }.

async function ready(page, t) {
  await t.sees(page, 'ready to save', page.locator('.builder-bar'));
}

export default async function (t) {
  // The helper: its input, then one Slack step.
  const hp = await t.page({ width: 1440, height: 900, hash: '#/new-flow' });
  await hp.locator('#new-name').fill(t.data.helper);
  await hp.locator('#new-description').fill('Says hello to a user in the IT channel.');
  await hp.locator('#kind-flow').check();
  await hp.getByRole('button', { name: 'Add an input' }).click();
  await hp.locator('#in-name-0').fill('login');
  await hp.locator('#in-desc-0').fill('Whom to greet');
  await hp.locator('#new-create').click();
  await hp.waitForFunction(() => location.hash.includes('edit=1'));
  await hp.locator('.dg-add').first().click();
  await hp.locator('#palette-search').fill('slack');
  await hp.locator('dialog.palette .palette-item[data-card="slack.post"]').click();
  await hp.locator('.flow-side .sf-field[data-key="connection"] input').fill('it-slack');
  await hp.locator('.flow-side .sf-field[data-key="channel"] input').fill('#it-ops');
  await hp.locator('.flow-side .sf-field[data-key="text"] textarea').fill('Hello {{ inputs.login }}');
  await ready(hp, t);
  await hp.locator('#builder-save').click();
  await t.sees(hp, 'Saved as version');

  // The caller: Call flow from the palette, the helper chosen, not waited for.
  const cp = await t.page({ width: 1440, height: 900, hash: '#/new-flow' });
  await cp.locator('#new-name').fill(t.data.caller);
  await cp.locator('#new-description').fill('Greets one user without waiting for it.');
  await cp.locator('#kind-manual').check();
  await cp.locator('#new-create').click();
  await cp.waitForFunction(() => location.hash.includes('edit=1'));
  await cp.locator('.dg-add').first().click();
  await cp.locator('#palette-search').fill('call');
  await cp.locator('dialog.palette .palette-item', { hasText: 'Call flow' }).first().click();
  await cp.locator('#call-flow').selectOption(t.data.helper);
  await cp.locator('#call-in-login').waitFor();
  await t.sees(cp, 'Whom to greet', cp.locator('.flow-side'));
  await cp.locator('#call-in-login').fill(t.data.login);
  t.assert.equal(await cp.locator('#call-wait').isChecked(), true, 'a call waits unless told not to');
  await cp.locator('#call-wait').uncheck();
  await t.sees(cp, 'starts as a run of its own', cp.locator('.flow-side'));
  await ready(cp, t);
  await t.shot(cp, 'call-form');
  await cp.locator('#builder-save').click();
  await t.sees(cp, 'Saved as version');

  // Run it by hand; its page links the run it started, which links back.
  const list = await t.page({ width: 1440, height: 900, hash: '#/flows' });
  await list.locator('tr', { hasText: t.data.caller }).getByRole('button', { name: 'Run now…' }).click();
  await list.locator('dialog.run-now button[type="submit"]').click();
  await t.sees(list, 'Started run', list.locator('dialog.run-now'));
  const run = await list.locator('dialog.run-now a code').textContent();
  const page = await t.page({ width: 1440, height: 900, hash: `#/runs/${run}` });
  await page.locator('.badge.status-succeeded').waitFor({ timeout: 30000 });
  await t.sees(page, 'started a run of its own');
  await page.locator('li.step > details > summary').first().click();
  const child = page.locator('li.step details a').first();
  await child.waitFor();
  const childId = await child.textContent();
  await t.shot(page, 'caller-run');
  await child.click();
  await t.sees(page, 'called by run');
  await page.locator('.badge.status-succeeded').waitFor({ timeout: 30000 });
  t.assert.equal(await page.locator('dl.summary a', { hasText: run }).count(), 1, 'the started run links back to its caller');
  await t.shot(page, 'started-run');
  t.log(`caller run ${run} started ${childId}`);
}
