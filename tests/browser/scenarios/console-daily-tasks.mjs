// The seven everyday tasks of the issue (the console as the daily tool),
// each done as an admin would from the Flows page, clicks and keys counted
// (`t.hands`) and reported one tally per task:
//   find why a run failed · run the MFA sweep now · correct a row of the
//   offboarding audit · change a flow · build a flow (the seed scenarios
//   count those) · turn a flow off · approve a card's grants.
//
// `t.data`: { failed, mfa, audit_key, lockout } (a failed run's flow, the
// MFA flow, an audit row's key, the flow to change and turn off).

export default async function (t) {
  const page = await t.page({ width: 1440, height: 900, hash: '#/flows' });
  const home = async () => {
    await page.evaluate(() => (location.hash = '#/flows'));
    await t.sees(page, 'flows loaded');
  };
  await home();

  // 1. Why did a run fail?
  let a = t.hands(page);
  await a.click(page.getByRole('link', { name: 'Runs', exact: true }));
  await a.choose(page.locator('#filter-status'), 'failed');
  await a.click(page.locator('table.runs tbody tr').filter({ hasText: t.data.failed }).getByRole('link', { name: t.data.failed }));
  await t.sees(page, 'not found');
  t.tally('find why a run failed', a);

  // 2. Run the MFA sweep now.
  await home();
  a = t.hands(page);
  await a.click(page.locator('tr').filter({ has: page.getByRole('link', { name: t.data.mfa, exact: true }) }).getByRole('button', { name: 'Run now…' }));
  // A schedule flow takes no input: the dialog asks for none, and says what the run sees.
  await t.sees(page, 'The run sees a fire of its schedule at the current time', page.locator('dialog.run-now'));
  t.assert.equal(await page.locator('#run-input').isVisible(), false, 'no JSON to write for a schedule');
  t.assert.equal(await page.locator('dialog.run-now .run-form').isVisible(), false);
  await a.click(page.locator('dialog.run-now').getByRole('button', { name: 'Run', exact: true }));
  await t.sees(page, 'Started run');
  t.tally('run the MFA sweep now', a);
  await page.locator('dialog.run-now').getByRole('button', { name: 'Close' }).click();

  // 3. Look at and correct a row of the offboarding audit.
  await home();
  a = t.hands(page);
  await a.click(page.getByRole('link', { name: 'Tables', exact: true }));
  await a.click(page.getByRole('link', { name: 'offboarding-audit', exact: true }));
  await a.click(page.getByRole('button', { name: t.data.audit_key, exact: true }));
  const dept = page.locator('dialog.row-editor .row-field').filter({ has: page.locator('input.map-key[value="department"]') }).locator('textarea');
  await a.replace(dept, 'Finance');
  await a.click(page.getByRole('button', { name: 'Save the row' }));
  await t.sees(page, `Saved row ${t.data.audit_key}.`);
  t.tally('correct a row of the offboarding audit', a);

  // 4. Change a flow: the lockout notice's Slack channel.
  await home();
  a = t.hands(page);
  await a.click(page.getByRole('link', { name: t.data.lockout, exact: true }));
  await a.click(page.locator('#flow-edit'));
  await a.click(page.locator('.dg-box[data-path="if-1/no-manager"]'));
  await a.replace(page.locator('.flow-side .sf-field[data-key="channel"] input').first(), '#it-help');
  await t.sees(page, 'ready to save', page.locator('.builder-bar'));
  await a.click(page.locator('#builder-save'));
  await t.sees(page, 'Saved as version');
  t.tally('change a flow', a);

  // 6. Turn a flow off (the same page).
  await home();
  a = t.hands(page);
  await a.click(page.getByRole('link', { name: t.data.lockout, exact: true }));
  await a.click(page.getByRole('switch'));
  await page.locator('[role="switch"][aria-checked="false"]').waitFor();
  t.tally('turn a flow off', a);

  // 7. Approve a card's grants.
  await home();
  a = t.hands(page);
  await a.click(page.getByRole('link', { name: 'Cards', exact: true }));
  const jamf = page.locator('.card-item').filter({ has: page.locator('h2 code', { hasText: /^acme\.jamf-offboard$/ }) });
  await a.fill(jamf.locator('input.narrow'), 'jamf');
  await a.click(jamf.getByRole('button', { name: 'Grant' }));
  await t.sees(page, 'granted connection:jamf');
  t.tally("approve a card's grants", a);
}
