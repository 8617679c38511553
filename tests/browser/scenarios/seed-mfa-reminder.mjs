// Use case 3 built in the browser from an empty flows folder: every morning
// at 9:00 New York time, email each active user older than three days who
// has no MFA factor, once, keeping who was reminded in a table and clearing
// their row once they enroll. The admin works in New York (the browser's
// time zone). Clicking and typing only names, descriptions, message texts and
// values; the Rust test (`built::mfa_reminder_built_in_the_browser`) checks
// the outcomes over four mornings with the shipped flow's own test.
//
// `t.data`: { flow }.

import { addStep, compose, field, newFlow, pick, pickHere, saveAndTurnOn, start } from '../builder-kit.mjs';

export default async function (t) {
  const { page, a } = await start(t, { timezoneId: 'America/New_York' });

  await newFlow(a, t, {
    name: t.data.flow,
    description:
      'Every morning at 9:00 New York time, email each active user whose account is more than three days old and who has no MFA factor, once. Who was reminded is kept in table mfa-reminders; a user who has enrolled since is cleared from it.',
    schedule: { every: 'day', localZone: 'America/New_York' },
  });

  // The candidates: active, created more than three days ago.
  await addStep(a, { list: ['steps'], search: 'find users', card: 'okta.find-users', id: 'users' });
  await a.choose(field(page, 'status'), { label: 'ACTIVE' });
  await a.click(page.locator('.flow-side .sf-field[data-key="created_before"] .sf-pick'));
  await a.type('days ago');
  await a.click(page.locator('.picker-results .palette-item', { hasText: 'Some days ago' }));
  await page.locator('#picker-days').waitFor();
  await a.press('Enter'); // three, as offered
  await page.locator('dialog.picker').waitFor({ state: 'detached' });

  // For each of them: their factors, and whether they were reminded.
  await addStep(a, { list: ['steps'], index: 1, search: 'for each', logic: 'For each', id: 'check' });
  await pick(a, page.locator('.flow-side button', { hasText: 'Pick a list…' }), 'items', '{{ users.items }}');
  const body = ['steps', 1, 'steps'];
  await addStep(a, { list: body, search: 'factors', card: 'okta.list-factors', id: 'factors' });
  await a.click(field(page, 'user'));
  await pickHere(a, 'item id', '{{ item.id }}');
  await addStep(a, { list: body, index: 1, search: 'tables get', card: 'tables.get', id: 'reminded' });
  await a.fill(field(page, 'table'), 'mfa-reminders');
  await a.click(field(page, 'key'));
  await pickHere(a, 'item id', '{{ item.id }}');

  // Enrolled since the reminder: they are done.
  await addStep(a, { list: body, index: 2, search: 'if', logic: 'If / else' });
  await pick(a, page.locator('.flow-side .cond-row button', { hasText: 'Pick a field…' }), 'enrolled', '{{ factors.enrolled }}');
  await pick(a, page.locator('#cond-add'), 'found', '{{ reminded.found }}');
  await addStep(a, { list: [...body, 2, 'then'], search: 'tables delete', card: 'tables.delete', id: 'forget' });

  // No factor and not reminded yet: the email, and the row that says so.
  await addStep(a, { list: body, index: 3, search: 'if', logic: 'If / else' });
  await pick(a, page.locator('.flow-side .cond-row button', { hasText: 'Pick a field…' }), 'enrolled', '{{ factors.enrolled }}');
  await a.choose(page.locator('#cond-op'), 'unset');
  await pick(a, page.locator('#cond-add'), 'found', '{{ reminded.found }}');
  await a.choose(page.locator('#cond-op-2'), 'unset');
  const then = [...body, 3, 'then'];
  await addStep(a, { list: then, search: 'mail', card: 'mail.send', id: 'email' });
  await pick(a, 'to', 'item email', '{{ item.profile.email }}');
  await a.fill(field(page, 'subject'), 'Action needed: set up multi-factor authentication');
  await compose(a, 'text', [
    'Hi ',
    ['item first', '{{ item.profile.firstName }}'],
    ',\n\nYour Acme account does not have multi-factor authentication set up yet.\nIt takes two minutes: open https://acme.okta.com/enduser/settings,\nchoose "Set up" next to Okta Verify, and follow the steps.\n\nThank you,\nIT',
  ]);
  await addStep(a, { list: then, index: 1, search: 'tables put', card: 'tables.put', id: 'record' });
  await a.click(page.locator('.flow-side .sf-mapping .map-key').first());
  const rows = [
    ['login', 'item login', '{{ item.profile.login }}'],
    ['email', 'item email', '{{ item.profile.email }}'],
    ['reminded_at', 'now', '{{ now() }}'],
    ['message_id', 'message', '{{ email.message_id }}'],
  ];
  for (const [i, [name, search, expr]] of rows.entries()) {
    if (i > 0) await a.press('Enter'); // the next row
    await a.type(name);
    await a.press('Tab');
    await pickHere(a, search, expr);
  }

  // The result: how many were candidates.
  await addStep(a, { list: ['steps'], index: 2, search: 'return', logic: 'Return' });
  await a.click(page.locator('#return-k0'));
  await a.type('candidates');
  await a.press('Tab');
  await pickHere(a, 'count', '{{ users.count }}');

  await t.shot(page, 'built');
  await saveAndTurnOn(a, t);
  await t.shot(page, 'saved-and-on');
  t.tally('mfa-reminder', a);
}
