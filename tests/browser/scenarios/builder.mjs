// The flow page and the builder as an admin uses them, on a copy of the seed
// flows: read a flow as a diagram, test it (a dry run painted on the
// diagram), edit it without YAML (change an input, add a card, pick a field),
// save it, compare versions, replay real events, turn it off, be stopped from
// overwriting another admin's save, and create a new flow from a trigger in
// people's words.
//
// `t.data`: { flow, comment, new_flow, new_event_type }.

async function selectStep(page, path) {
  const box = page.locator(`.dg-box[data-path="${path}"]`);
  await box.click();
  await page.locator('.flow-side .builder-panel').waitFor();
}

async function addCard(page, t, listAndIndex, card) {
  await page.locator(`.dg-add${listAndIndex}`).first().click();
  const palette = page.locator('dialog.palette');
  await palette.waitFor();
  await page.locator('#palette-search').fill(card.split('.')[0]);
  await palette.locator(`.palette-item[data-card="${card}"]`).click();
  await page.locator('#step-id').waitFor();
}

async function fieldInput(page, key) {
  const f = page.locator(`.flow-side .sf-field[data-key="${key}"]`).first();
  await f.waitFor();
  return f.locator('input, textarea, select').first();
}

async function pick(page, key, search, expr) {
  const f = page.locator(`.flow-side .sf-field[data-key="${key}"]`).first();
  await f.getByText('Insert a value from…').click();
  await page.locator('#picker-search').fill(search);
  await page.locator(`.picker-results .palette-item[data-expr="${expr}"]`).click();
}

async function savedOk(page, t) {
  await page.locator('#builder-save').click();
  await t.sees(page, 'Saved as version');
}

export default async function (t) {
  const { flow, comment } = t.data;
  const page = await t.page({ hash: '#/flows' });

  // -- the flow page ----------------------------------------------------------
  await page.getByRole('link', { name: flow }).click();
  await page.locator('.dg-trigger').waitFor();
  const diagram = page.locator('.diagram');
  await t.sees(page, 'okta.get-manager', diagram);
  await t.sees(page, 'Then', diagram);
  await t.sees(page, 'Else', diagram);
  await t.shot(page, 'flow-page');

  await page.getByRole('tab', { name: 'YAML' }).click();
  await t.sees(page, comment, page.locator('.yaml-view'));
  await t.shot(page, 'flow-yaml');

  // -- Test: a dry run, painted on the diagram ------------------------------------
  await page.getByRole('tab', { name: 'Test' }).click();
  await page.waitForFunction(() => (document.querySelector('#test-event')?.value || '').includes('user.account.lock'));
  // The event as fields in words; a changed field is the event the test runs.
  await t.sees(page, 'Target › 1 › Alternate id', page.locator('.event-fields'));
  await page.getByLabel('Client › Ip address').fill('10.9.8.7');
  await page.locator('#test-run').click();
  await t.sees(page, 'Dry run', page.locator('.test-result'));
  await t.sees(page, 'failed sign-ins from 10.9.8.7', page.locator('.test-result'));
  await page.locator('.dg-succeeded').first().waitFor();
  await page.locator('.dg-box[data-path="manager"]').click();
  await t.sees(page, 'Output', page.locator('.flow-side'));
  await t.shot(page, 'flow-tested');

  // -- Edit without YAML -------------------------------------------------------
  await page.locator('#flow-edit').click();
  await t.sees(page, 'Editing', page.locator('.builder-bar'));
  await selectStep(page, 'if-1/no-manager');
  await (await fieldInput(page, 'channel')).fill('#it-help');
  // A new card after `manager`: tell IT in Slack about every lockout.
  await addCard(page, t, `[data-list='["steps"]'][data-index="2"]`, 'slack.post');
  await page.locator('#step-id').fill('tell_it');
  await (await fieldInput(page, 'connection')).fill('it-slack');
  await (await fieldInput(page, 'channel')).fill('#it-ops');
  // A message: words typed, the login picked into them where the caret is.
  await (await fieldInput(page, 'text')).fill('Locked out: ');
  await pick(page, 'text', 'login', '{{ user.profile.login }}');
  await t.sees(page, 'ready to save', page.locator('.builder-bar'));
  await t.shot(page, 'builder-editing');
  // Undo and redo the last change.
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.getByRole('button', { name: 'Redo' }).click();
  await t.sees(page, 'ready to save', page.locator('.builder-bar'));
  await savedOk(page, t);
  await t.shot(page, 'builder-saved');

  // -- Versions, audit -----------------------------------------------------------
  await page.getByRole('tab', { name: 'Versions' }).click();
  await page.locator('.versions li').nth(1).waitFor();
  await page.locator('.versions li').last().getByText('Compare with now').click();
  await page.locator('.diff li.add').first().waitFor();
  await t.shot(page, 'flow-versions');
  await page.getByRole('tab', { name: 'Audit' }).click();
  await t.sees(page, 'save', page.locator('.audit'));

  // -- Replay the real lockouts against the flow as it is now -----------------------
  await page.getByRole('tab', { name: 'Test' }).click();
  await page.locator('#replay-run').click();
  await page.locator('.replay-result').waitFor();
  await t.shot(page, 'flow-replay');

  // -- Off ----------------------------------------------------------------------
  await page.getByRole('switch').click();
  await t.sees(page, 'Off: no trigger starts this flow');
  t.assert.equal(await page.getByRole('switch').getAttribute('aria-checked'), 'false');

  // -- Two admins: the second save is told the file changed ---------------------------
  const a = await t.page({ hash: `#/flows/${encodeURIComponent(flow)}` });
  const b = await t.page({ hash: `#/flows/${encodeURIComponent(flow)}` });
  for (const p of [a, b]) {
    await p.locator('#flow-edit').click();
    await p.locator('.builder-bar').waitFor();
  }
  await selectStep(b, 'user');
  await b.locator('#step-description').fill('Who was locked out');
  await savedOk(b, t);
  await selectStep(a, 'manager');
  await a.locator('#step-description').fill('Their manager');
  t.allowProblem(/status of 412 \(Precondition Failed\)/);
  await a.locator('#builder-save').click();
  await t.sees(a, 'Someone else changed this flow');
  await t.shot(a, 'builder-conflict');

  // -- A new flow from a trigger in people's words --------------------------------------
  const n = await t.page({ hash: '#/new-flow' });
  await n.locator('#new-name').fill(t.data.new_flow);
  await n.locator('#new-description').fill('When a user is suspended in Okta, tell IT in Slack.');
  await n.locator('#event-search').fill('suspend');
  await n.locator(`input[data-type="${t.data.new_event_type}"]`).check();
  await t.shot(n, 'new-flow');
  await n.locator('#new-create').click();
  await n.waitForFunction(() => location.hash.includes('edit=1'));
  await t.sees(n, 'Editing', n.locator('.builder-bar'));
  await addCard(n, t, '', 'slack.post');
  await n.locator('#step-id').fill('tell_it');
  await (await fieldInput(n, 'connection')).fill('it-slack');
  await (await fieldInput(n, 'channel')).fill('#it-ops');
  await pick(n, 'text', 'alternate', '{{ event.target[0].alternateId }}');
  // Only for what Okta reports as done: a filter built from a picked field.
  await n.getByRole('button', { name: 'Name, description, trigger' }).click();
  await n.getByRole('button', { name: 'Pick a field…' }).click();
  await n.locator('#picker-search').fill('outcome.result');
  await n.locator('.picker-results .palette-item[data-expr="{{ event.outcome.result }}"]').click();
  await n.locator('#cond-op').selectOption('eq');
  await n.locator('#cond-value').fill('SUCCESS');
  await t.sees(n, 'ready to save', n.locator('.builder-bar'));
  await savedOk(n, t);
  await t.shot(n, 'new-flow-saved');
  // A new flow starts off; the admin turns it on once it is saved.
  await t.sees(n, 'turn it on when it is ready');
  await n.getByRole('switch').click();
  await n.locator('[role="switch"][aria-checked="true"]').waitFor();

  // Readable on a phone.
  const phone = await t.page({ width: 390, height: 844, hash: `#/flows/${encodeURIComponent(flow)}` });
  await phone.locator('.dg-trigger').waitFor();
  await t.shot(phone, 'flow-page-390px');
}
