// A new flow: its name, what it is for, and what starts it, picked in
// people's words — an Okta event by its display name, a schedule (with the
// next fire times), an API endpoint, a helper flow with its inputs, or by hand.
// With several Okta orgs, an Okta trigger also says whose events start it.
// Creating it writes the file (the `createFlow` endpoint) and opens the builder on it.

import { call, get } from './api.js';
import { h, fill, callout, toast } from './dom.js';
import { FlowDoc } from './flowdoc.js';
import { inZone } from './format.js';
import { choosesOrg, orgSelect, triggerOrgChoices } from './oktaorgs.js';

const KINDS = [
  { id: 'okta', label: 'An Okta event', help: 'Something happens in Okta: a user is deactivated, locked out, added to a group…' },
  { id: 'schedule', label: 'A schedule', help: 'Every day, every week, or on a pattern.' },
  { id: 'api', label: 'An API call', help: 'Another system calls this flow’s URL with a JSON body.' },
  { id: 'flow', label: 'Another flow (a helper)', help: 'Other flows call it with inputs, like a function.' },
  { id: 'manual', label: 'By hand, with a form', help: 'An admin runs it from the console, filling in the inputs you list here (none: just Run now).' },
];

// An input's type, in words (the value is the flow language's type name).
const INPUT_TYPES = [
  ['string', 'text'],
  ['integer', 'whole number'],
  ['number', 'number'],
  ['boolean', 'yes / no'],
  ['array', 'list'],
  ['object', 'mapping'],
  ['any', 'anything'],
];

const DAYS = [
  ['1', 'Monday'],
  ['2', 'Tuesday'],
  ['3', 'Wednesday'],
  ['4', 'Thursday'],
  ['5', 'Friday'],
  ['6', 'Saturday'],
  ['0', 'Sunday'],
];

export function render(ctx) {
  ctx.title('New flow');
  const state = { kind: 'okta', types: [], every: 'day', time: '09:00', day: '1', cron: '0 9 * * *', timezone: localZone(), inputs: [] };
  const name = h('input', { id: 'new-name', type: 'text', required: true, maxlength: '128', autocomplete: 'off' });
  const desc = h('textarea', { id: 'new-description', rows: '3', required: true });
  const kindBox = h('fieldset', { class: 'kind-choice' }, h('legend', null, 'What starts it'));
  const detail = h('div', { class: 'trigger-detail' });
  const errors = h('div', { 'aria-live': 'polite' });
  const create = h('button', { type: 'submit', class: 'primary', id: 'new-create' }, 'Create and open the builder');
  for (const k of KINDS) {
    const radio = h('input', { type: 'radio', name: 'kind', id: `kind-${k.id}`, value: k.id, checked: k.id === state.kind });
    radio.addEventListener('change', () => {
      state.kind = k.id;
      drawDetail();
    });
    kindBox.append(h('div', { class: 'kind-option' }, radio, h('label', { for: `kind-${k.id}` }, h('strong', null, k.label), h('span', { class: 'muted' }, ` — ${k.help}`))));
  }
  const form = h(
    'form',
    { class: 'new-flow', novalidate: true },
    h('div', { class: 'sf-field' }, h('label', { for: 'new-name', class: 'sf-label' }, 'Name ', h('span', { class: 'sf-required' }, '*')), h('p', { class: 'sf-help' }, 'Say what it does, e.g. “Offboarding: revoke sessions and notify IT”.'), name),
    h('div', { class: 'sf-field' }, h('label', { for: 'new-description', class: 'sf-label' }, 'Description ', h('span', { class: 'sf-required' }, '*')), h('p', { class: 'sf-help' }, 'What it does and why, for the next admin who reads it.'), desc),
    kindBox,
    detail,
    errors,
    h('p', null, create, ' ', h('a', { href: '#/flows' }, 'Cancel')),
  );
  fill(
    ctx.main,
    h('div', { class: 'page-head' }, h('h1', null, 'New flow')),
    h('p', { class: 'lede' }, 'Start from scratch here, or from a ready-made flow in the ', h('a', { href: '#/library', id: 'new-from-library' }, 'flow library'), ' (contractor expiry, stale accounts, admin group alerts and more).'),
    form,
  );

  let eventTypes = null;
  async function loadTypes() {
    if (eventTypes) return eventTypes;
    eventTypes = (await get('eventTypes', { signal: ctx.signal })).event_types || [];
    return eventTypes;
  }

  // The Okta orgs, once: none to choose from when the list cannot be read
  // (the daemon then checks the flow against the orgs it has).
  let orgs = null;
  async function loadOrgs() {
    if (!orgs) orgs = await get('oktaOrgs', { signal: ctx.signal }).then((d) => d.orgs || [], () => []);
    return orgs;
  }

  function drawDetail() {
    if (state.kind === 'okta') oktaDetail();
    else if (state.kind === 'schedule') scheduleDetail();
    else if (state.kind === 'flow' || state.kind === 'manual') inputsDetail();
    else fill(detail);
  }

  async function oktaDetail() {
    const search = h('input', { type: 'search', id: 'event-search', placeholder: 'Search: deactivated, locked, added to group…', 'aria-label': 'Search Okta events', autocomplete: 'off' });
    const list = h('ul', { class: 'event-list', role: 'list' });
    const chosen = h('p', { class: 'chosen', 'aria-live': 'polite' });
    const orgBox = h('div');
    fill(detail, orgBox, h('h2', null, 'Which Okta event'), search, chosen, list);
    const choices = triggerOrgChoices(await loadOrgs(), state.org);
    if (choices) {
      state.org = choices.find((c) => c.selected).value || null;
      fill(orgBox, h('h2', null, 'Which Okta org'), orgSelect({ id: 'new-org', help: 'Events from this org start the flow.', choices, onChoose: (v) => (state.org = v), hiddenLabel: true }));
    }
    let types;
    try {
      types = await loadTypes();
    } catch (e) {
      if (e.name !== 'AbortError') fill(list, h('li', null, callout('error', 'Cannot load the Okta events', h('p', null, e.message))));
      return;
    }
    const draw = () => {
      const q = search.value.trim().toLowerCase();
      const shown = types.filter((t) => !q || `${t.name} ${t.type} ${t.description} ${t.category}`.toLowerCase().includes(q)).slice(0, q ? 60 : 25);
      fill(
        list,
        shown.map((t) => {
          const id = `ev-${t.type.replace(/[^a-z0-9]+/gi, '-')}`;
          const box = h('input', { type: 'checkbox', id, checked: state.types.includes(t.type), dataset: { type: t.type } });
          box.addEventListener('change', () => {
            state.types = box.checked ? [...state.types, t.type] : state.types.filter((x) => x !== t.type);
            drawChosen();
          });
          return h('li', null, box, h('label', { for: id }, h('strong', null, t.name), ' ', h('code', { class: 'small' }, t.type), h('span', { class: 'muted block' }, t.description)));
        }),
      );
    };
    const drawChosen = () => {
      const names = state.types.map((x) => (types.find((t) => t.type === x) || { name: x }).name);
      chosen.textContent = names.length ? `Starts on: ${names.join(', ')}` : 'Pick one or more events.';
    };
    search.addEventListener('input', draw);
    draw();
    drawChosen();
  }

  function scheduleDetail() {
    const every = h(
      'select',
      { id: 'sched-every' },
      [
        ['day', 'Every day'],
        ['weekday', 'Every weekday (Monday to Friday)'],
        ['week', 'Every week'],
        ['cron', 'A cron pattern'],
      ].map(([v, l]) => h('option', { value: v, selected: state.every === v }, l)),
    );
    const time = h('input', { type: 'time', id: 'sched-time', value: state.time });
    const day = h('select', { id: 'sched-day' }, DAYS.map(([v, l]) => h('option', { value: v, selected: state.day === v }, l)));
    const cron = h('input', { type: 'text', id: 'sched-cron', value: state.cron, spellcheck: 'false' });
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC'];
    const zone = h('select', { id: 'sched-zone' }, ['UTC', ...zones.filter((z) => z !== 'UTC')].map((z) => h('option', { value: z, selected: z === state.timezone }, z)));
    const preview = h('div', { class: 'sched-preview', 'aria-live': 'polite' });
    const update = async () => {
      state.every = every.value;
      state.time = time.value || '09:00';
      state.day = day.value;
      state.timezone = zone.value;
      const [hh, mm] = state.time.split(':').map(Number);
      state.cron = { day: `${mm} ${hh} * * *`, weekday: `${mm} ${hh} * * 1-5`, week: `${mm} ${hh} * * ${state.day}`, cron: cron.value.trim() }[state.every];
      time.parentElement.hidden = state.every === 'cron';
      day.parentElement.hidden = state.every !== 'week';
      cron.parentElement.hidden = state.every !== 'cron';
      try {
        const p = await get('schedulePreview', { query: { cron: state.cron, timezone: state.timezone }, signal: ctx.signal });
        fill(preview, h('p', null, h('strong', null, p.words)), h('p', { class: 'muted' }, `Next (${state.timezone}): `, (p.next || []).map((t, i) => [i ? ', ' : '', inZone(t, state.timezone)])));
      } catch (e) {
        if (e.name !== 'AbortError') fill(preview, callout('error', 'Not a schedule yet', h('p', null, e.message)));
      }
    };
    for (const el of [every, time, day, zone]) {
      el.addEventListener('change', update);
      el.addEventListener('input', update);
    }
    cron.addEventListener('input', update);
    fill(
      detail,
      h('h2', null, 'When'),
      h('div', { class: 'sf-field' }, h('label', { for: 'sched-every', class: 'sf-label' }, 'How often'), every),
      h('div', { class: 'sf-field' }, h('label', { for: 'sched-day', class: 'sf-label' }, 'On'), day),
      h('div', { class: 'sf-field' }, h('label', { for: 'sched-time', class: 'sf-label' }, 'At'), time),
      h('div', { class: 'sf-field' }, h('label', { for: 'sched-cron', class: 'sf-label' }, 'Cron pattern (minute hour day month weekday)'), cron),
      h('div', { class: 'sf-field' }, h('label', { for: 'sched-zone', class: 'sf-label' }, 'Time zone'), zone),
      preview,
    );
    update();
  }

  function inputsDetail() {
    const rows = h('ol', { class: 'input-rows' });
    const draw = () => {
      fill(
        rows,
        state.inputs.map((inp, i) => {
          const n = h('input', { type: 'text', id: `in-name-${i}`, value: inp.name, placeholder: 'name', 'aria-label': `Input ${i + 1} name` });
          const t = h('select', { id: `in-type-${i}`, 'aria-label': `Input ${i + 1} type` }, INPUT_TYPES.map(([x, label]) => h('option', { value: x, selected: x === inp.type }, label)));
          const r = h('input', { type: 'checkbox', id: `in-req-${i}`, checked: inp.required });
          const d = h('input', { type: 'text', id: `in-desc-${i}`, value: inp.description || '', placeholder: 'Help shown on the form (optional)', 'aria-label': `Input ${i + 1} help` });
          d.addEventListener('input', () => (inp.description = d.value.trim() || null));
          n.addEventListener('input', () => (inp.name = n.value.trim()));
          t.addEventListener('change', () => (inp.type = t.value));
          r.addEventListener('change', () => (inp.required = r.checked));
          return h('li', null, n, ' ', t, ' ', r, h('label', { for: `in-req-${i}` }, ' required'), ' ', d, ' ', h('button', { type: 'button', class: 'link', on: { click: () => { state.inputs.splice(i, 1); draw(); } } }, 'Remove'));
        }),
      );
    };
    const add = h('button', { type: 'button', on: { click: () => { state.inputs.push({ name: '', type: 'string', required: true }); draw(); } } }, 'Add an input');
    fill(detail, h('h2', null, state.kind === 'manual' ? 'What the form asks for' : 'Its inputs'), rows, add);
    draw();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const problems = [];
    if (!name.value.trim()) problems.push('Give the flow a name.');
    if (!desc.value.trim()) problems.push('Say what the flow does in its description.');
    if (state.kind === 'okta' && !state.types.length) problems.push('Pick the Okta event that starts it.');
    if (state.kind === 'okta' && choosesOrg(orgs) && !state.org) problems.push('Pick the Okta org whose events start it.');
    if ((state.kind === 'flow' || state.kind === 'manual') && state.inputs.some((i) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(i.name))) problems.push('Each input needs a name of letters, digits and _.');
    if (problems.length) {
      fill(errors, callout('error', 'Not yet', h('ul', null, problems.map((p) => h('li', null, p)))));
      return;
    }
    fill(errors);
    let source;
    try {
      const d = FlowDoc.parse('name: x\ndescription: x\ntrigger: manual\nsteps: []\n');
      d.setName(name.value.trim());
      d.setDescription(desc.value.trim());
      const spec =
        state.kind === 'okta'
          ? { kind: 'okta', event_types: state.types, org: choosesOrg(orgs) ? state.org : null }
          : state.kind === 'schedule'
            ? { kind: 'schedule', cron: state.cron, timezone: state.timezone }
            : state.kind === 'flow' || state.kind === 'manual'
              ? { kind: state.kind, inputs: state.inputs }
              : { kind: state.kind };
      d.setTrigger(spec);
      // A new flow starts off: no live event reaches it half-built. The admin
      // turns it on from its page once it is saved and tested.
      d.setEnabled(false);
      source = d.toString();
    } catch (err) {
      fill(errors, callout('error', 'Cannot write the flow', h('p', null, err.message)));
      return;
    }
    create.disabled = true;
    try {
      const r = await call('createFlow', { body: { source, note: 'created in the builder' }, signal: ctx.signal });
      toast(`Created ${r.body.file}.`);
      location.hash = `#/flows/${encodeURIComponent(r.body.name)}?edit=1`;
    } catch (err) {
      if (err.name === 'AbortError') return;
      const diags = err.body && Array.isArray(err.body.diagnostics) ? err.body.diagnostics : [];
      fill(errors, callout('error', 'Not created', h('p', null, err.message), diags.length ? h('ul', null, diags.map((x) => h('li', null, x.message))) : null));
    } finally {
      create.disabled = false;
    }
  });

  drawDetail();
}

function localZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}
