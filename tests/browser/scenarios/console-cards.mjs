// The Cards page as an operator uses it (issue: the console as the daily
// tool): a published card held for its grants says so once and asks; the
// operator narrows its `connection:*` to the one connection it needs and
// grants it with a button. Every card shows the flows that use it, its size
// and its calls so far, and its schemas. At 1440×900, then at 390×844.
//
// `t.data`: { flow } (the flow that uses the held card).

const item = (page, name) =>
  page.locator('.card-item').filter({ has: page.locator('h2 code', { hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`) }) });

export default async function (t) {
  const page = await t.page({ width: 1440, height: 900, hash: '#/cards' });
  const jamf = item(page, 'acme.jamf-offboard');
  await jamf.waitFor();

  // Held: one callout on the page, one badge on the card, and the decision.
  await t.sees(page, '1 card version wait for grants');
  t.assert.equal(await jamf.locator('.badge', { hasText: 'waiting for grants' }).count(), 1);
  t.assert.ok((await jamf.locator('.used-by').innerText()).includes(t.data.flow), 'the held card names the flow that uses it');
  t.assert.equal(await jamf.locator('.grant-choices li').count(), 1);

  // A built-in that ran: its calls, fuel, size and users.
  const getUser = item(page, 'okta.get-user');
  t.assert.match(await getUser.locator('.usage').innerText(), /^\d+ calls? since the daemon started; [\d,]+ fuel a call on average\.$/);
  t.assert.match(await getUser.locator('p', { hasText: 'digest' }).innerText(), /^\d+\.\d KB · digest sha256:/);
  t.assert.ok((await getUser.locator('.used-by a').count()) >= 4, 'okta.get-user is used by the seed flows');
  await getUser.getByText('Output schema').click();
  t.assert.ok((await getUser.locator('details.schema[open] pre, details.schema[open] code').count()) > 0, 'the output schema opens');
  await t.shotOf(jamf, 'held-card');
  await t.shotOf(getUser, 'built-in-card');

  // Grant it only the jamf connection.
  await jamf.locator('input.narrow').fill('jamf');
  await jamf.getByRole('button', { name: 'Grant' }).click();
  await t.sees(page, 'acme.jamf-offboard@1.0.0: granted connection:jamf.');
  await jamf.locator('.badge', { hasText: 'waiting for grants' }).waitFor({ state: 'detached' });
  const row = async (label) => (await jamf.locator('.grant-row').filter({ has: page.locator('dt', { hasText: label }) }).locator('dd').innerText()).trim();
  t.assert.equal(await row('Granted'), 'connection:jamf');
  t.assert.equal(await row('Pending'), 'none');
  t.assert.equal(await jamf.locator('.grant-form').count(), 0, 'a decided card asks no more');
  t.assert.equal(await page.getByText('wait for grants').count(), 0);
  await t.shotOf(jamf, 'granted-card');

  // On a phone: nothing wider than the screen.
  const phone = await t.page({ width: 390, height: 844, hash: '#/cards' });
  await item(phone, 'acme.jamf-offboard').waitFor();
  const [content, screen] = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  t.assert.ok(content <= screen, `the Cards page is ${content}px wide on a ${screen}px screen`);
}
