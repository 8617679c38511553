// A daemon with two Okta orgs: the admin builds a flow started by a user
// deactivated in the preview org whose Okta card acts in the default org,
// choosing each org from a select in words (New flow, then the card's side
// panel), and checks both on the flow's settings; then reads the same
// panels on a phone. The Rust test (`console::an_admin_picks_the_okta_org_…`)
// checks the saved file and that preview's event acts in the default org.
//
// `t.data`: { flow, preview, default }.

import { addStep, pick, saveAndTurnOn, start } from '../builder-kit.mjs';

// The flow's first step's box in the diagram.
const FIRST_STEP = `.dg-box[data-yaml='["steps",0]']`;

async function options(select) {
  return select.locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent, o.selected]));
}

export default async function (t) {
  const { assert } = t;
  const { flow, preview, default: main } = t.data;
  const { page, a } = await start(t);
  // The Flows page lists both orgs.
  await t.sees(page, 'Okta orgs', page.locator('.okta-orgs'));

  // New flow: the org is asked for, in words, the default org chosen first.
  await a.click(page.locator('#new-flow'));
  const newOrg = page.locator('#new-org');
  await newOrg.waitFor();
  assert.equal(await page.locator('label[for="new-org"]').innerText(), 'Okta org');
  const offered = await options(newOrg);
  assert.deepEqual(offered.map((o) => [o[0], o[2]]), [[main, true], [preview, false]], JSON.stringify(offered));
  assert.equal(offered[1][1], `${preview} — the embedded sandbox org`);
  await a.fill(page.locator('#new-name'), flow);
  await a.fill(page.locator('#new-description'), 'When a tester leaves the preview org, suspend their account in the default org too, so the same login cannot sign in anywhere.');
  await a.choose(newOrg, preview);
  await a.replace(page.locator('#event-search'), 'deactivated');
  await a.check(page.locator('input[data-type="user.lifecycle.deactivate"]'));
  await t.shot(page, 'new-flow-org');
  await a.click(page.locator('#new-create'));
  await page.waitForFunction(() => location.hash.includes('edit=1'));
  await page.locator('.builder-bar').waitFor();
  const diagram = page.locator('.diagram');
  await t.sees(page, `In the Okta org ${preview}`, diagram);

  // The card: its org select says which org it uses without a choice.
  await addStep(a, { list: ['steps'], search: 'suspend', card: 'okta.suspend', id: 'suspend' });
  await pick(a, 'user', 'alternate', '{{ event.target[0].alternateId }}');
  const stepOrg = page.locator('#step-org');
  const stepOffered = await options(stepOrg);
  assert.deepEqual(stepOffered.map((o) => [o[0], o[1].split(' — ')[0], o[2]]), [['', `The flow’s org (${preview})`, true], [main, main, false], [preview, preview, false]], JSON.stringify(stepOffered));
  await a.choose(stepOrg, main);
  await t.sees(page, `In the Okta org ${main}`, page.locator(FIRST_STEP));
  assert.equal(await page.locator('#step-org').inputValue(), main, 'the panel shows the choice after the redraw');
  await t.shot(page, 'step-org');

  // The flow's settings show the trigger's org.
  await a.click(page.getByRole('button', { name: 'Name, description, trigger' }));
  assert.equal(await page.locator('#trigger-org').inputValue(), preview);
  // Changed here and back: the diagram's trigger follows each choice.
  const trigger = page.locator('.dg-trigger');
  await a.choose(page.locator('#trigger-org'), main);
  await t.sees(page, `In the Okta org ${main}`, trigger);
  await a.choose(page.locator('#trigger-org'), preview);
  await t.sees(page, `In the Okta org ${preview}`, trigger);
  assert.equal(await page.locator('#trigger-org').inputValue(), preview);
  // The panel says the trigger in the diagram's words; the org is the select's.
  await t.sees(page, 'When a user is deactivated in Okta', page.locator('.flow-side'));
  // The toasts of the creation gone, so the shot shows what is under them.
  await page.waitForFunction(() => !document.querySelector('#toasts .toast'), null, { timeout: 15000 });
  await t.shot(page, 'trigger-org');
  await saveAndTurnOn(a, t);

  // The saved file, as a developer reads it.
  await page.getByRole('tab', { name: 'YAML' }).click();
  const yaml = page.locator('.yaml-view');
  await t.sees(page, `org: ${preview}`, yaml);
  await t.sees(page, `org: ${main}`, yaml);
  await t.shot(page, 'saved-yaml');

  // On a phone: the same selects, readable at 390 px.
  const phone = await t.page({ width: 390, height: 844, hash: `#/flows/${encodeURIComponent(flow)}` });
  await phone.locator('#flow-edit').click();
  await phone.locator(FIRST_STEP).click();
  const small = phone.locator('#step-org');
  await small.waitFor();
  assert.equal(await small.inputValue(), main);
  const box = await small.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 390, `the select fits the phone: ${JSON.stringify(box)}`);
  await t.shot(phone, 'phone-step-org');
  await t.shotOf(phone.locator('.flow-side'), 'phone-step-panel');
  await phone.getByRole('button', { name: 'Name, description, trigger' }).click();
  await phone.locator('#trigger-org').waitFor();
  await t.shotOf(phone.locator('.flow-side'), 'phone-trigger-panel');
  // New flow asks for the org on a phone too.
  await phone.evaluate(() => {
    location.hash = '#/new-flow';
  });
  const phoneNew = phone.locator('#new-org');
  await phoneNew.waitFor();
  const fits = await phoneNew.boundingBox();
  assert.ok(fits.x >= 0 && fits.x + fits.width <= 390, `the select fits the phone: ${JSON.stringify(fits)}`);
  await t.shotOf(phone.locator('.trigger-detail'), 'phone-new-flow-org');
  t.tally('orgs', a);
}
