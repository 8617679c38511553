// Use case 1 built in the browser from an empty flows folder: when Okta
// creates a user, or a user joins a group, put them in their department's app
// groups, or stop saying why. Clicking and typing only names, descriptions,
// message texts and values; the Rust test
// (`built::onboarding_built_in_the_browser`) checks the outcomes with the
// shipped flow's own test.
//
// `t.data`: { flow }.

import { addStep, start, newFlow, pick, field, saveAndTurnOn } from '../builder-kit.mjs';

export default async function (t) {
  const { page, a } = await start(t);

  await newFlow(a, t, {
    name: t.data.flow,
    description:
      'When Okta creates a user, or a user joins a group, put them in the groups their department’s apps come from: Engineering gets GitHub and Jira, Sales gets Salesforce and Gong, HR gets BambooHR. Other departments get nothing, and the run stops saying so.',
    events: [
      ['created', 'user.lifecycle.create'],
      ['added to group', 'group.user_membership.add'],
    ],
  });

  // Only events about a user (a membership event names the group second).
  await a.click(page.getByRole('button', { name: 'Name, description, trigger' }));
  await pick(a, page.locator('#cond-add'), 'target type', '{{ event.target[0].type }}');
  await a.choose(page.locator('#cond-op'), 'eq');
  await a.fill(page.locator('#cond-value'), 'User');

  await addStep(a, { list: ['steps'], search: 'get user', card: 'okta.get-user', id: 'user' });
  await pick(a, 'user', 'target id', '{{ event.target[0].id }}');

  // One branch per department.
  await addStep(a, { list: ['steps'], index: 1, search: 'switch', logic: 'Switch', id: 'department' });
  await pick(a, page.locator('.flow-side button', { hasText: 'Pick a field…' }), 'department', '{{ user.profile.department }}');
  await a.click(page.locator('#switch-add'));
  for (const d of ['Engineering', 'Sales', 'HR']) {
    await a.type(d);
    await a.press('Enter');
    await page.locator(`.dg-add[data-list='${JSON.stringify(['steps', 1, 'cases', d])}']`).first().waitFor();
  }
  const groups = { Engineering: [['github', 'GitHub'], ['jira', 'Jira']], Sales: [['salesforce', 'Salesforce'], ['gong', 'Gong']], HR: [['bamboohr', 'BambooHR']] };
  for (const [dept, list] of Object.entries(groups)) {
    for (const [i, [id, group]] of list.entries()) {
      await addStep(a, { list: ['steps', 1, 'cases', dept], index: i, search: 'add to group', card: 'okta.add-to-group', id });
      await a.fill(field(page, 'group'), group);
    }
  }
  // Any other department: stop, and say why in the history.
  await addStep(a, { list: ['steps', 1, 'default'], search: 'stop', logic: 'Stop' });
  await a.replace(page.locator('#end-stop'), 'no app groups for department `');
  await pick(a, page.locator('.flow-side .sf-field').filter({ has: page.locator('#end-stop') }).getByText('Insert a value from…'), 'department', '{{ user.profile.department }}', { fallback: '(none)' });
  await a.type('` of ');
  await pick(a, page.locator('.flow-side .sf-field').filter({ has: page.locator('#end-stop') }).getByText('Insert a value from…'), 'login', '{{ user.profile.login }}');

  // The result: who, and which department.
  await addStep(a, { list: ['steps'], index: 2, search: 'return', logic: 'Return' });
  await a.fill(page.locator('#return-k0'), 'user');
  await pick(a, page.locator('.map-row').nth(0).locator('.sf-pick'), 'login', '{{ user.profile.login }}');
  await a.click(page.locator('#return-add'));
  await a.type('department');
  await pick(a, page.locator('.map-row').nth(1).locator('.sf-pick'), 'department', '{{ user.profile.department }}');

  await t.shot(page, 'built');
  await saveAndTurnOn(a, t);
  await t.shot(page, 'saved-and-on');
  t.tally('onboarding', a);
}
