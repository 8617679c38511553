// What an admin does in the builder, as steps the seed scenarios share:
// every click, selection and key goes through `hands` (run.mjs), so the
// counts the tests report are what a person would do.

/// A signed-in page on the Flows list, and the admin's counted hands on it.
export async function start(t, { timezoneId = undefined } = {}) {
  const page = await t.page({ hash: '#/flows', timezoneId });
  const a = t.hands(page);
  await t.sees(page, 'New flow');
  return { page, a };
}

/// From the Flows page: New flow, its name and description, and an Okta
/// trigger (`events`: [[search, type]…]) or a schedule (`schedule`: { every,
/// time, zone }); Create opens the builder.
export async function newFlow(a, t, { name, description, events = [], schedule = null }) {
  const page = a.page;
  await a.click(page.locator('#new-flow'));
  await a.fill(page.locator('#new-name'), name);
  await a.fill(page.locator('#new-description'), description);
  if (schedule) {
    await a.check(page.locator('#kind-schedule'));
    if (schedule.every !== 'day') await a.choose(page.locator('#sched-every'), schedule.every);
    if (schedule.time && schedule.time !== '09:00') await a.replace(page.locator('#sched-time'), schedule.time);
    // The admin's own time zone is chosen already; another is one selection.
    if (schedule.zone) await a.choose(page.locator('#sched-zone'), schedule.zone);
    await t.sees(page, `Next (${schedule.zone || schedule.localZone}):`, page.locator('.sched-preview'));
  }
  for (const [search, type] of events) {
    await a.replace(page.locator('#event-search'), search);
    await a.check(page.locator(`input[data-type="${type}"]`));
  }
  await a.click(page.locator('#new-create'));
  await page.waitForFunction(() => location.hash.includes('edit=1'));
  await page.locator('.builder-bar').waitFor();
}

/// The `+` of `list` (a YAML path) at `index` (null: the list's only `+`
/// when it is empty), then a card or logic from the palette by search; the
/// new step is named `id` (typed over the suggested name, which has the focus).
export async function addStep(a, { list, index = null, search, card = null, logic = null, id = null }) {
  const page = a.page;
  const at = index === null ? '' : `[data-index="${index}"]`;
  await a.click(page.locator(`.dg-add[data-list='${JSON.stringify(list)}']${at}`).first());
  if (card) return paletteCard(a, { search, card, id });
  await page.locator('#palette-search').waitFor();
  await a.type(search);
  // Logic is listed first; a card whose description has the word comes after.
  const item = page.locator('dialog.palette .palette-item', { hasText: logic }).first();
  await a.click(item);
  await page.locator('#step-id').waitFor();
  if (id) {
    await a.press('Control+A');
    await a.type(id);
  }
}

/// In the palette a `+` (or "Add an error path…") opened: a search, the
/// card, and the new step's name typed over the suggested one.
export async function paletteCard(a, { search, card, id = null }) {
  const page = a.page;
  await page.locator('#palette-search').waitFor();
  await a.type(search);
  await a.click(page.locator(`dialog.palette .palette-item[data-card="${card}"]`));
  await page.locator('#step-id').waitFor();
  if (id) {
    await a.press('Control+A');
    await a.type(id);
  }
}

/// Text into the focused field by keyboard only: strings are typed, and
/// `[search, expr, { fallback, words }]` is Ctrl+Space, the search, and
/// Enter on its first match (which must be `expr`; with `words`, its "in
/// words…" entry, then what to write when it holds and when not). A
/// `fallback` is typed into the picker's "If it has no value" field, from
/// which Enter takes the first match too.
export async function write(a, parts) {
  for (const p of parts) {
    if (typeof p === 'string') {
      await a.type(p);
      continue;
    }
    await a.press('Control+Space');
    await pickFirst(a, ...p);
  }
}

/// In the open picker: the search, whose first match must be `expr` (with
/// `words`, its "in words…" entry, then what to write when it holds and when
/// not), the `fallback` typed into "If it has no value", and Enter.
export async function pickFirst(a, search, expr, { fallback = null, words = null } = {}) {
  const page = a.page;
  await page.locator('#picker-search').waitFor();
  await a.type(search);
  const first = page.locator('.picker-results .palette-item').first();
  const [got, label] = [await first.getAttribute('data-expr'), await first.innerText()];
  if (got !== expr || Boolean(words) !== label.includes('in words')) {
    throw new Error(`the first match for "${search}" is ${label.split('\n')[0]} (${got}), not ${expr}${words ? ' in words' : ''}`);
  }
  if (fallback !== null) {
    await a.tabTo(page.locator('#picker-fallback'));
    await a.type(fallback);
  }
  await a.enter();
  if (words) {
    // Shift+Enter starts a new line in what to write.
    const typeLines = async (text) => {
      for (const [i, line] of text.split('\n').entries()) {
        if (i > 0) await a.press('Shift+Enter');
        await a.type(line);
      }
    };
    await page.locator('#picker-yes').waitFor();
    await typeLines(words[0]);
    await a.press('Tab');
    await typeLines(words[1]);
    await a.press('Enter');
  }
  await page.locator('dialog.picker').waitFor({ state: 'detached' });
}

/// A card input's control in the side panel.
export function field(page, key) {
  return page.locator(`.flow-side .sf-field[data-key="${key}"]`).first().locator('input, textarea, select').first();
}

/// "Insert a value from…" of `opener` (a field key, or a locator of the
/// button), a search, and the entry with `expr`; `fallback` is what to
/// write when the value is empty.
export async function pick(a, opener, search, expr, options = {}) {
  const button = typeof opener === 'string' ? a.page.locator(`.flow-side .sf-field[data-key="${opener}"]`).first().locator('.sf-pick') : opener;
  await a.click(button);
  await choose(a, search, expr, options);
}

/// Ctrl+Space in the focused field (its picker), a search, and the entry
/// with `expr`, inserted where the caret is.
export async function pickHere(a, search, expr, options = {}) {
  await a.press('Control+Space');
  await choose(a, search, expr, options);
}

// In the open picker: the search, the fallback if any, the entry.
async function choose(a, search, expr, { fallback = null } = {}) {
  const page = a.page;
  await page.locator('#picker-search').waitFor();
  await a.type(search);
  if (fallback !== null) await a.fill(page.locator('#picker-fallback'), fallback);
  await a.click(page.locator(`.picker-results .palette-item[data-expr="${expr}"]`));
  await page.locator('dialog.picker').waitFor({ state: 'detached' });
}

/// Text with values picked in: `parts` is a list of strings (typed) and
/// `[search, expr, fallback?]` (picked where the caret is, with Ctrl+Space).
/// `key` is the field's; the first part starts with a click into it.
export async function compose(a, key, parts) {
  const page = a.page;
  await a.click(field(page, key));
  for (const p of parts) {
    if (typeof p === 'string') await a.type(p);
    else await pickHere(a, p[0], p[1], { fallback: p[2] ?? null });
  }
}

/// Save (the builder says which version) and turn the flow on.
export async function saveAndTurnOn(a, t) {
  const page = a.page;
  await t.sees(page, 'ready to save', page.locator('.builder-bar'));
  await a.click(page.locator('#builder-save'));
  await t.sees(page, 'Saved as version');
  await a.click(page.getByRole('switch'));
  await page.locator('[role="switch"][aria-checked="true"]').waitFor();
}
