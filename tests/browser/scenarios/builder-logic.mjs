// The builder's structure edits, by mouse and keyboard, on the onboarding
// flow (a copy): move, duplicate, delete and undo; an if/else written by the
// condition builder from a picked field; an error path; a schedule flow made
// from words. The Rust test checks the saved files.
//
// `t.data`: { flow, schedule_flow, compact, manual_flow }.

async function select(page, path) {
  await page.locator(`.dg-box[data-path="${path}"]`).click();
  await page.locator('.flow-side .builder-panel').waitFor();
}

async function order(page, list) {
  return page.evaluate((sel) => [...document.querySelectorAll(sel)].map((b) => b.dataset.path), `.dg-list-${list} > .dg-step > .dg-box`);
}

async function ready(page, t) {
  await t.sees(page, 'ready to save', page.locator('.builder-bar'));
}

export default async function (t) {
  // A file the builder cannot represent opens read-only, saying why.
  const ro = await t.page({ hash: `#/flows/${t.data.compact}` });
  await t.sees(ro, 'Read-only in the builder');
  t.assert.equal(await ro.locator('#flow-edit').isDisabled(), true);
  await ro.locator('.dg-box').first().waitFor();
  await t.shot(ro, 'read-only');

  const page = await t.page({ hash: `#/flows/${encodeURIComponent(t.data.flow)}?edit=1` });
  await page.locator('.builder-bar').waitFor();
  await page.locator('.dg-box[data-path="department/jira"]').waitFor();

  // Keyboard: a step is reached with Tab and opened with Enter.
  await page.locator('.dg-box[data-path="user"]').focus();
  await page.keyboard.press('Enter');
  await page.locator('#step-id').waitFor();
  t.assert.equal(await page.locator('#step-id').inputValue(), 'user');

  // Move jira above github, duplicate it, delete the copy, undo the delete.
  await select(page, 'department/jira');
  await page.getByRole('button', { name: 'Move up' }).click();
  await page.locator('.dg-role-case .dg-box').first().waitFor();
  t.assert.deepEqual((await order(page, 'case')).slice(0, 2), ['department/jira', 'department/github']);
  await select(page, 'department/jira');
  await page.getByRole('button', { name: 'Duplicate' }).click();
  await page.locator('.dg-box[data-path="department/jira_2"]').waitFor();
  await select(page, 'department/jira_2');
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.locator('.dg-box[data-path="department/jira_2"]').waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.locator('.dg-box[data-path="department/jira_2"]').waitFor();
  await page.getByRole('button', { name: 'Redo' }).click();
  await page.locator('.dg-box[data-path="department/jira_2"]').waitFor({ state: 'detached' });

  // An if/else after `user`, its condition built from a picked field.
  await page.locator(`.dg-add[data-list='["steps"]'][data-index="1"]`).click();
  await page.locator('#palette-search').fill('if');
  await page.locator('dialog.palette .palette-item', { hasText: 'If / else' }).click();
  await page.locator('#step-id').fill('contractor');
  await page.getByRole('button', { name: 'Pick a field…' }).click();
  await page.locator('#picker-search').fill('userType');
  await page.locator('.picker-results .palette-item[data-expr="{{ user.profile.userType }}"]').click();
  await page.locator('#cond-op').selectOption('eq');
  await page.locator('#cond-value').fill('Contractor');
  // In its Then branch: stop, with words.
  await page.locator(`.dg-add[data-list='["steps",1,"then"]']`).click();
  await page.locator('#palette-search').fill('stop');
  // Cards whose descriptions say "stop" match the search too; the logic item is named Stop.
  await page.locator('dialog.palette').getByRole('button', { name: /^Stop / }).click();
  await page.locator('#end-stop').fill('contractors get no app groups');

  // Retry from the palette belongs to the step above the + it was chosen at.
  await page.locator(`.dg-add[data-list='["steps"]'][data-index="1"]`).click();
  await page.locator('#palette-search').fill('retry');
  await page.locator('dialog.palette .palette-item', { hasText: 'Retry' }).first().click();
  await page.locator('#step-retry').waitFor();
  t.assert.equal(await page.locator('#step-id').inputValue(), 'user');
  t.assert.equal(await page.locator('#step-retry').inputValue(), '3');

  // An error path on `user`: tell IT.
  await select(page, 'user');
  await page.getByRole('button', { name: 'Add an error path…' }).click();
  await page.locator('#palette-search').fill('slack');
  await page.locator('dialog.palette .palette-item[data-card="slack.post"]').click();
  await page.locator('.flow-side .sf-field[data-key="connection"] input').fill('it-slack');
  await page.locator('.flow-side .sf-field[data-key="text"] textarea').fill('Onboarding could not read the new user');
  await ready(page, t);
  await t.shot(page, 'logic-edited');
  await page.locator('#builder-save').click();
  await t.sees(page, 'Saved as version');

  // A schedule flow, from words.
  const n = await t.page({ hash: '#/new-flow' });
  await n.locator('#new-name').fill(t.data.schedule_flow);
  await n.locator('#new-description').fill('Every weekday morning, say good morning to IT.');
  await n.locator('#kind-schedule').check();
  await n.locator('#sched-every').selectOption('weekday');
  await n.locator('#sched-time').fill('08:30');
  await n.locator('#sched-zone').selectOption('Europe/Paris');
  await t.sees(n, 'Next (Europe/Paris):', n.locator('.sched-preview'));
  await t.shot(n, 'new-schedule-flow');
  await n.locator('#new-create').click();
  await n.waitForFunction(() => location.hash.includes('edit=1'));
  await n.locator('.dg-add').first().click();
  await n.locator('#palette-search').fill('slack');
  await n.locator('dialog.palette .palette-item[data-card="slack.post"]').click();
  await n.locator('.flow-side .sf-field[data-key="connection"] input').fill('it-slack');
  await n.locator('.flow-side .sf-field[data-key="text"] textarea').fill('Good morning, IT');
  await ready(n, t);
  await n.locator('#builder-save').click();
  await t.sees(n, 'Saved as version');

  // A flow run by hand with a form (Okta's delegated flows): its inputs,
  // then Run now asks for them and refuses an empty required one.
  const m = await t.page({ hash: '#/new-flow' });
  await m.locator('#new-name').fill(t.data.manual_flow);
  await m.locator('#new-description').fill('IT asks a user to check their account, from a form.');
  await m.locator('#kind-manual').check();
  await m.getByRole('button', { name: 'Add an input' }).click();
  await m.locator('#in-name-0').fill('login');
  await m.locator('#in-desc-0').fill('The user’s Okta login');
  await m.getByRole('button', { name: 'Add an input' }).click();
  await m.locator('#in-name-1').fill('days');
  await m.locator('#in-type-1').selectOption('integer');
  await m.locator('#in-req-1').uncheck();
  await m.locator('#new-create').click();
  await m.waitForFunction(() => location.hash.includes('edit=1'));
  await t.sees(m, 'filling in its form');
  await m.locator('.dg-add').first().click();
  await m.locator('#palette-search').fill('slack');
  await m.locator('dialog.palette .palette-item[data-card="slack.post"]').click();
  await m.locator('.flow-side .sf-field[data-key="connection"] input').fill('it-slack');
  await m.locator('.flow-side .sf-field[data-key="channel"] input').fill('#it-ops');
  const text = m.locator('.flow-side .sf-field[data-key="text"] textarea');
  await text.click();
  await m.keyboard.type('Please check your account, ');
  await m.keyboard.press('Control+Space');
  await m.locator('#picker-search').fill('login');
  await m.locator('.picker-results .palette-item[data-expr="{{ inputs.login }}"]').click();
  // A second Slack step starts on the first one's connection and channel;
  // whether the first one ran goes into its text as words.
  // The user's groups, to list by name in the second message.
  await m.locator(`.dg-add[data-list='["steps"]'][data-index="1"]`).click();
  await m.locator('#palette-search').fill('user groups');
  await m.locator('dialog.palette .palette-item[data-card="okta.list-user-groups"]').click();
  await m.locator('.flow-side .sf-field[data-key="user"] input, .flow-side .sf-field[data-key="user"] textarea').first().click();
  await m.keyboard.press('Control+Space');
  await m.locator('#picker-search').fill('login');
  await m.locator('.picker-results .palette-item[data-expr="{{ inputs.login }}"]').click();
  await m.locator(`.dg-add[data-list='["steps"]'][data-index="2"]`).click();
  await m.locator('#palette-search').fill('slack');
  await m.locator('dialog.palette .palette-item[data-card="slack.post"]').click();
  t.assert.equal(await m.locator('.flow-side .sf-field[data-key="connection"] input').inputValue(), 'it-slack');
  t.assert.equal(await m.locator('.flow-side .sf-field[data-key="channel"] input').inputValue(), '#it-ops');
  const second = m.locator('.flow-side .sf-field[data-key="text"] textarea');
  await second.click();
  await m.keyboard.type('Asked: ');
  await m.keyboard.press('Control+Space');
  await m.locator('#picker-search').fill('post words');
  await m.locator('.picker-results .palette-item', { hasText: 'in words' }).first().click();
  await m.locator('#picker-yes').fill('yes');
  await m.locator('#picker-no').fill('no');
  await m.keyboard.press('Enter');
  await m.locator('dialog.picker').waitFor({ state: 'detached' });
  await m.keyboard.type('. Groups: ');
  await m.keyboard.press('Control+Space');
  await m.locator('#picker-search').fill('each name text');
  await m.locator('.picker-results .palette-item', { hasText: 'each Name, as text' }).first().click();
  // Then a loop over the groups that keeps each name and counts them.
  await m.locator(`.dg-add[data-list='["steps"]'][data-index="3"]`).click();
  await m.locator('#palette-search').fill('for each');
  await m.locator('dialog.palette .palette-item', { hasText: 'For each' }).first().click();
  await m.getByRole('button', { name: 'Pick a list…' }).click();
  await m.locator('#picker-search').fill('groups');
  await m.locator('.picker-results .palette-item[data-expr="{{ list_user_groups.items }}"]').click();
  await m.locator('#loop-as').fill('group');
  await m.locator('#loop-collect').fill('{{ group.name }}');
  await m.locator('#reduce-add').click();
  t.assert.equal(await m.locator('#reduce-start-0').inputValue(), '0');
  t.assert.equal(await m.locator('#reduce-each-0').inputValue(), '{{ acc + 1 }}');
  await m.locator('#reduce-add').click();
  await m.locator('#reduce-start-1').fill('Groups:');
  await m.locator('#reduce-each-1').fill("{{ acc ~ group.name ~ ';' }}");
  await t.shot(m, 'loop-totals');
  await ready(m, t);
  await m.locator('#builder-save').click();
  await t.sees(m, 'Saved as version');
  await m.getByRole('button', { name: 'Done' }).click();

  const list = await t.page({ hash: '#/flows' });
  const row = list.locator('tr', { hasText: t.data.manual_flow });
  await t.sees(row, 'with a form');
  await row.getByRole('button', { name: 'Run now…' }).click();
  await list.locator('#run-in-login').waitFor();
  await t.sees(list, 'The user’s Okta login', list.locator('dialog.run-now'));
  await list.locator('dialog.run-now button[type="submit"]').click();
  await t.sees(list, 'Login is required', list.locator('dialog.run-now'));
  await list.locator('#run-in-login').fill(t.data.login);
  await t.shot(list, 'run-now-form');
  await list.locator('dialog.run-now button[type="submit"]').click();
  await t.sees(list, 'Started run', list.locator('dialog.run-now'));
  await list.locator('dialog.run-now').getByRole('button', { name: 'Close' }).click();

  // An Okta flow's test run shows the sample event's fields in words too.
  await list.locator('tr', { hasText: t.data.flow }).getByRole('button', { name: 'Test run…' }).click();
  await t.sees(list, 'Target › 1 › Id', list.locator('dialog.run-now'));
  // A real user's event from the daemon replaces the placeholder.
  await list.waitForFunction(() => !document.querySelector('#run-input').value.includes('REPLACE_ME'));
  await list.locator('dialog.run-now').getByLabel('Target › 1 › Alternate id').fill('someone.else@acme.example');
  t.assert.match(await list.locator('#run-input').inputValue(), /someone\.else@acme\.example/);
  await t.shot(list, 'test-run-fields');
}
