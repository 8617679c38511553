// Use case 2 built in the browser from an empty flows folder: when a user is
// deactivated in Okta, end their sessions and OAuth tokens, remove them from
// every group, lock their Macs through the custom JAMF card, post their
// details to IT in Slack and write an audit row; sessions and JAMF failing
// each alert IT and the run goes on, and the Okta, JAMF and Slack steps are
// retried. Clicking and typing only names, descriptions, message texts and
// values; the admin moves through each form with Tab and picks values with
// Ctrl+Space. The Rust test (`built::offboarding_built_in_the_browser`)
// checks the outcomes with the shipped flow's own test.
//
// `t.data`: { flow }.

import { addStep, field, newFlow, paletteCard, saveAndTurnOn, start, write } from '../builder-kit.mjs';

export default async function (t) {
  const { page, a } = await start(t);

  await newFlow(a, t, {
    name: t.data.flow,
    description:
      'When a user is deactivated in Okta: end every session and revoke their OAuth tokens, remove them from every group, lock the Macs they had through JAMF, post their details to IT in Slack, and write an audit row. If sessions or JAMF fail, IT is told at once and the offboarding goes on.',
    events: [['deactivated', 'user.lifecycle.deactivate']],
  });
  const errorPath = () => page.getByRole('button', { name: 'Add an error path…' });
  const tries = (n) => a.choose(page.locator('#step-retry'), String(n));

  // Who left.
  await addStep(a, { list: ['steps'], search: 'get user', card: 'okta.get-user', id: 'user' });
  await a.tabTo(field(page, 'user'));
  await write(a, [['target id', '{{ event.target[0].id }}']]);

  // Sessions and OAuth tokens; if that fails, IT hears of it at once.
  await addStep(a, { list: ['steps'], index: 1, search: 'sessions', card: 'okta.clear-sessions', id: 'sessions' });
  await a.check(field(page, 'oauth_tokens'));
  await tries(3);
  await a.click(errorPath());
  await paletteCard(a, { search: 'slack', card: 'slack.post' });
  await a.tabTo(field(page, 'connection'));
  await a.type('it-slack');
  await a.tabTo(field(page, 'text'));
  await write(a, [
    ':warning: Offboarding ',
    ['user login', '{{ user.profile.login }}'],
    ': could not revoke sessions and OAuth tokens (',
    ['error kind', '{{ error.kind }}'],
    ': ',
    ['error message', '{{ error.message }}'],
    '). Please revoke them by hand.',
  ]);
  await a.tabTo(field(page, 'channel'));
  await a.type('#it-ops');

  // Every group Okta lets us change.
  await addStep(a, { list: ['steps'], index: 2, search: 'all groups', card: 'okta.remove-from-all-groups', id: 'groups' });
  await tries(3);

  // Their Macs, through the team's JAMF card (the user is the one read above).
  await addStep(a, { list: ['steps'], index: 3, search: 'jamf', card: 'acme.jamf-offboard', id: 'devices' });
  await a.tabTo(field(page, 'connection'));
  await a.type('jamf');
  await a.tabTo(field(page, 'message'));
  await a.type('This Mac belongs to Acme. Please return it to IT.');
  await tries(3);
  await a.click(errorPath());
  await paletteCard(a, { search: 'slack', card: 'slack.post' });
  await a.tabTo(field(page, 'text'));
  await write(a, [
    ':warning: Offboarding ',
    ['user login', '{{ user.profile.login }}'],
    ': JAMF could not lock their Macs (',
    ['error kind', '{{ error.kind }}'],
    ': ',
    ['error message', '{{ error.message }}'],
    ').',
  ]);

  // IT's message (the Slack connection and channel carry over).
  await addStep(a, { list: ['steps'], index: 4, search: 'slack', card: 'slack.post', id: 'notify' });
  await a.tabTo(field(page, 'text'));
  await write(a, [
    ':wave: Offboarded *',
    ['first name', '{{ user.profile.firstName }}'],
    ' ',
    ['last name', '{{ user.profile.lastName }}'],
    '* (',
    ['user login', '{{ user.profile.login }}'],
    ')\nDepartment: ',
    ['user department', '{{ user.profile.department }}', { fallback: '(none)' }],
    ' · Title: ',
    ['user title', '{{ user.profile.title }}', { fallback: '(none)' }],
    '\nSessions and OAuth tokens: ',
    ['sessions words', '{{ sessions }}', { words: ['revoked', 'NOT revoked, see above'] }],
    '\nGroups removed: ',
    ['groups removed', '{{ groups.removed }}'],
    ' (kept ',
    ['groups skipped', '{{ groups.skipped }}'],
    ' that Okta manages)\nMacs locked: ',
    ['devices sent', '{{ devices.sent }}', { fallback: 'unknown, see above' }],
  ]);
  await tries(3);

  // The audit row, keyed by the user's id.
  await addStep(a, { list: ['steps'], index: 5, search: 'tables put', card: 'tables.put', id: 'audit' });
  await a.tabTo(field(page, 'key'));
  await write(a, [['user id', '{{ user.id }}']]);
  await a.tabTo(field(page, 'table'));
  await a.type('offboarding-audit');
  await a.tabTo(page.locator('.flow-side .sf-mapping .map-key').first());
  const rows = [
    ['login', ['user login', '{{ user.profile.login }}']],
    ['name', ['first name', '{{ user.profile.firstName }}'], ' ', ['last name', '{{ user.profile.lastName }}']],
    ['department', ['user department', '{{ user.profile.department }}', { fallback: 'none' }]],
    ['deactivated_at', ['published', '{{ event.published }}']],
    ['offboarded_at', ['now', '{{ now() }}']],
    ['run', ['run id', '{{ flow.run_id }}']],
    ['sessions_revoked', ['sessions words', '{{ sessions }}', { words: ['true', 'false'] }]],
    ['groups_removed', ['removed names', '{{ groups.removed_names }}']],
    ['devices', ['devices each name list', "{{ devices.devices | map(attribute='name') | list }}", { fallback: 'none' }]],
    ['pin', ['devices pin', '{{ devices.pin }}', { fallback: 'none' }]],
    ['slack_ts', ['notify ts', '{{ notify.ts }}', { fallback: 'none' }]],
  ];
  for (const [i, [name, ...value]] of rows.entries()) {
    if (i > 0) await a.press('Enter'); // the next row
    await a.type(name);
    await a.press('Tab');
    await write(a, value);
  }

  await t.shot(page, 'built');
  await saveAndTurnOn(a, t);
  await t.shot(page, 'saved-and-on');
  t.tally('offboarding', a);
}
