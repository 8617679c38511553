// Use case 5 built in the browser from an empty flows folder: when a user's
// title or department changes in Okta, bring their groups in line with the
// new department (each department's own group, and its apps' groups), keep a
// snapshot of what the profile said, and tell IT what changed. Clicking and
// typing only names, descriptions, message texts and values (the groups each
// department brings are values the admin types); the admin moves through
// each form with Tab and picks values with Ctrl+Space. The snapshot step is
// added before the sync, so that the snapshot read offers the row's values
// by name. The Rust test (`built::profile_change_built_in_the_browser`)
// checks the outcomes with the shipped flow's own test.
//
// `t.data`: { flow }.

import { addStep, field, newFlow, pickFirst, saveAndTurnOn, start, write } from '../builder-kit.mjs';

const CHANGED = '{{ event.debugContext.debugData.changedAttributes }}';

export default async function (t) {
  const { page, a } = await start(t);

  await newFlow(a, t, {
    name: t.data.flow,
    description:
      "When a user's title or department changes in Okta, bring their groups in line with the new department (its own group and its apps' groups), keep a snapshot of the profile in table profile-snapshots, and tell IT what changed. The groups of other departments go, on the first move too; without a snapshot IT is asked to review the rest.",
    events: [['profile', 'user.account.update_profile']],
  });
  const tries = (n) => a.choose(page.locator('#step-retry'), String(n));

  // Only when Okta lists the title or the department among the changes.
  await a.click(page.getByRole('button', { name: 'Name, description, trigger' }));
  for (const [n, word] of [['', 'title'], ['-2', 'department']]) {
    await a.click(page.locator('#cond-add'));
    await pickFirst(a, 'changed attributes', CHANGED);
    await a.choose(page.locator(`#cond-op${n}`), 'contains');
    await a.fill(page.locator(`#cond-value${n}`), word);
  }
  await a.choose(page.locator('#cond-join'), 'or');

  // Who, and what their profile said last time.
  await addStep(a, { list: ['steps'], search: 'get user', card: 'okta.get-user', id: 'user' });
  await a.tabTo(field(page, 'user'));
  await write(a, [['target id', '{{ event.target[0].id }}']]);
  await addStep(a, { list: ['steps'], index: 1, search: 'tables get', card: 'tables.get', id: 'previous' });
  await a.tabTo(field(page, 'key'));
  await write(a, [['user id', '{{ user.id }}']]);
  await a.tabTo(field(page, 'table'));
  await a.type('profile-snapshots');

  // The new snapshot (same table and row as the read above).
  await addStep(a, { list: ['steps'], index: 2, search: 'tables put', card: 'tables.put', id: 'snapshot' });
  await rows(a, page, [
    ['login', ['user login', '{{ user.profile.login }}']],
    ['department', ['user department', '{{ user.profile.department }}', { fallback: 'none' }]],
    ['title', ['user title', '{{ user.profile.title }}', { fallback: 'none' }]],
    ['updated_at', ['published', '{{ event.published }}']],
  ]);

  // Between the read and the snapshot: the groups, by department.
  await addStep(a, { list: ['steps'], index: 2, search: 'sync groups', card: 'okta.sync-groups', id: 'sync' });
  const brings = [
    ['Engineering', 'Engineering, GitHub, Jira'],
    ['Sales', 'Sales, Salesforce, Gong'],
    ['HR', 'HR, BambooHR'],
    ...['Marketing', 'Support', 'Finance', 'IT', 'Legal', 'Product'].map((d) => [d, d]),
  ];
  await rows(a, page, brings.map(([d, groups]) => [d, groups]));
  // Every group of the map is exclusive: a mover leaves the groups their new
  // department does not bring, on the first move too.
  await a.tabTo(field(page, 'exclusive'));
  await a.type(brings.flatMap(([, groups]) => groups.split(', ')).join('\n'));
  await a.tabTo(field(page, 'previous'));
  await write(a, [['previous department', '{{ previous.value.department }}', { fallback: 'none' }]]);
  await a.tabTo(field(page, 'value'));
  await write(a, [['user department', '{{ user.profile.department }}', { fallback: 'none' }]]);
  await tries(3);

  // The apps Okta assigns now, for IT's record.
  await addStep(a, { list: ['steps'], index: 3, search: 'app links', card: 'okta.list-app-links', id: 'apps' });

  // IT's message.
  await addStep(a, { list: ['steps'], index: 5, search: 'slack', card: 'slack.post', id: 'notify' });
  await a.tabTo(field(page, 'connection'));
  await a.type('it-slack');
  await a.tabTo(field(page, 'text'));
  await write(a, [
    ':arrows_counterclockwise: ',
    ['user login', '{{ user.profile.login }}'],
    ' changed (',
    ['changed attributes', CHANGED],
    ')\nDepartment: ',
    ['previous department', '{{ previous.value.department }}', { fallback: '?' }],
    ' → ',
    ['user department', '{{ user.profile.department }}', { fallback: '(none)' }],
    ' · Title: ',
    ['previous title', '{{ previous.value.title }}', { fallback: '?' }],
    ' → ',
    ['user title', '{{ user.profile.title }}', { fallback: '(none)' }],
    '\nGroups added: ',
    ['added text', "{{ sync.added | join(', ') }}", { fallback: 'none' }],
    '\nGroups removed: ',
    ['removed text', "{{ sync.removed | join(', ') }}", { fallback: 'none' }],
    '\nApps now: ',
    ['each label text', "{{ apps.items | map(attribute='label') | join(', ') }}", { fallback: 'none' }],
    ['found words', '{{ previous.found }}', { words: ['', '\nNo earlier snapshot: please review app groups from the old department by hand.'] }],
  ]);
  await a.tabTo(field(page, 'channel'));
  await a.type('#it-ops');
  await tries(3);

  await t.shot(page, 'built');
  await saveAndTurnOn(a, t);
  await t.shot(page, 'saved-and-on');
  t.tally('profile-change', a);
}

// Named values, from the step's first row: a name, Tab, the value (text, or
// parts as `write` takes them), Enter for the next row.
async function rows(a, page, list) {
  await a.tabTo(page.locator('.flow-side .sf-mapping .map-key').first());
  for (const [i, [name, ...value]] of list.entries()) {
    if (i > 0) await a.press('Enter');
    await a.type(name);
    await a.press('Tab');
    await write(a, value);
  }
}
