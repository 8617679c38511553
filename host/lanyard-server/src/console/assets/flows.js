// Flows: every loaded flow with its trigger, last run, counts of the last 24
// hours, the last reload error with its diagnostics, "Run now", and "Reload".

import { call, get, ApiError } from './api.js';
import { h, fill, callout, toast, keepingState } from './dom.js';
import { statusBadge, timeEl, flowTrigger, firstParagraph, paragraphs, STATUS_NAMES, STATUSES } from './format.js';
import { eventFields, inputsForm } from './schemaform.js';
import { orgWhat } from './oktaorgs.js';

export function render(ctx) {
  ctx.title('Flows');
  const reloadBox = h('div', { class: 'reload-status', 'aria-live': 'polite' });
  const orgsBox = h('div', { class: 'okta-orgs' });
  const errorBox = h('div');
  const body = h('div', { class: 'flows-body' }, h('p', { class: 'muted' }, 'Loading flows…'));
  const reloadButton = h('button', { type: 'button' }, 'Reload flows');
  const dialog = runNowDialog(ctx);
  fill(
    ctx.main,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Flows'),
      h('div', { class: 'actions' }, h('a', { class: 'button primary', href: '#/new-flow', id: 'new-flow' }, 'New flow'), h('a', { class: 'button', href: '#/library', id: 'flow-library' }, 'Flow library'), reloadButton),
    ),
    reloadBox,
    orgsBox,
    errorBox,
    body,
    dialog.el,
  );
  // The Okta orgs flows can name, once: they change only with a restart.
  get('oktaOrgs', { signal: ctx.signal })
    .then((d) => fill(orgsBox, oktaOrgs(d.orgs || [])))
    .catch(() => {});

  let stats = new Map(); // flow name → { last, counts, more }
  let data = null;

  // Each flow's last run and last day's counts come with the listing: the
  // daemon keeps them as runs end.
  const poller = ctx.poll(async (signal) => {
    const d = await get('flows', { signal });
    data = d;
    stats = new Map(
      (d.flows || []).map((f) => [
        f.name,
        d.stats_error || !f.stats ? { error: d.stats_error || 'not counted' } : { last: f.stats.last_run, counts: f.stats.last_24h || {}, more: Boolean(f.stats.more) },
      ]),
    );
    drawStatus();
    drawTable();
  }, 10000);

  reloadButton.addEventListener('click', async () => {
    reloadButton.disabled = true;
    try {
      const r = await call('reload', { signal: ctx.signal });
      toast(`Reloaded: ${r.body.flows} flows (generation ${r.body.generation}).`);
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e.status === 422) toast('The flows did not reload: they have errors (see below). The flows loaded before stay in use.', 'error');
      else toast(`Reload failed: ${e.message}`, 'error');
    } finally {
      reloadButton.disabled = false;
      poller.poke();
    }
  });

  function drawStatus() {
    const s = data.status || {};
    fill(
      reloadBox,
      h(
        'p',
        { class: 'muted' },
        `${s.flows ?? (data.flows || []).length} flows loaded `,
        timeEl(s.loaded_at),
        ` (generation ${s.generation ?? '—'}).`,
      ),
    );
    fill(errorBox, s.last_error ? reloadError(s.last_error) : null);
  }

  let drawn = '';
  function drawTable() {
    // Redraw only what changed, keeping open details and focus.
    const sig = JSON.stringify([data.flows, [...stats.entries()]]);
    if (sig === drawn) return;
    drawn = sig;
    keepingState(body, () => drawTableNow());
  }

  function drawTableNow() {
    const list = (data.flows || []).slice().sort((a, b) => String(a.name).localeCompare(String(b.name)));
    if (list.length === 0) {
      fill(
        body,
        callout(
          'info',
          'No flows are loaded',
          h('p', null, 'Put flow files (*.yaml) in the flows folder ([server] flows_dir), then reload.'),
        ),
      );
      return;
    }
    const rows = list.map((f) => flowRow(ctx, f, stats.get(f.name), dialog));
    fill(
      body,
      h(
        'table',
        { class: 'data flows' },
        h('caption', { class: 'visually-hidden' }, 'Loaded flows'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, 'Flow'),
            h('th', { scope: 'col' }, 'Trigger'),
            h('th', { scope: 'col' }, 'Last run'),
            h('th', { scope: 'col' }, 'Last 24 h'),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
          ),
        ),
        h('tbody', null, rows),
      ),
    );
  }
}


function flowRow(ctx, f, st, dialog) {
  const trig = flowTrigger(f.trigger);
  const { first, more } = firstParagraph(f.description);
  const runsHref = ctx.routeHref(['runs'], { flow: f.name });
  const nameCell = h(
    'td',
    { 'data-label': 'Flow' },
    h('a', { href: ctx.routeHref(['flows', f.name]), class: 'flow-name' }, f.name),
    f.enabled === false ? h('span', { class: 'badge off small' }, 'off') : null,
    f.running ? h('span', { class: 'badge status-running small' }, h('span', { 'aria-hidden': 'true' }, '▶'), ' running now') : null,
    first ? h('div', { class: 'desc' }, paragraphs(first)) : null,
    more ? h('details', { class: 'more', dataset: { key: `desc:${f.name}` } }, h('summary', null, 'Full description'), h('div', { class: 'desc full' }, paragraphs(f.description))) : null,
    h('p', { class: 'file muted' }, f.file, ' · ', h('a', { href: runsHref }, 'its runs')),
  );

  let lastCell;
  let countCell;
  if (!st) {
    lastCell = h('td', { 'data-label': 'Last run' }, h('span', { class: 'muted' }, '…'));
    countCell = h('td', { 'data-label': 'Last 24 h' }, h('span', { class: 'muted' }, '…'));
  } else if (st.error) {
    lastCell = h('td', { 'data-label': 'Last run', colspan: '2' }, h('span', { class: 'muted' }, `cannot read runs: ${st.error}`));
    countCell = null;
  } else {
    lastCell = h(
      'td',
      { 'data-label': 'Last run' },
      st.last
        ? h('a', { href: ctx.routeHref(['runs', st.last.id]), class: 'last-run' }, statusBadge(st.last.status), ' ', timeEl(st.last.created))
        : h('span', { class: 'muted' }, 'never run'),
    );
    countCell = h('td', { 'data-label': 'Last 24 h' }, counts(ctx, f.name, st));
  }

  const runnable = ['manual', 'schedule', 'api', 'okta'].includes(trig.kind);
  const actions = h(
    'td',
    { class: 'row-actions', 'data-label': '' },
    runnable
      ? h(
          'button',
          { type: 'button', dataset: { focusKey: `run:${f.name}` }, on: { click: () => dialog.open(f, trig) } },
          trig.kind === 'okta' ? 'Test run…' : 'Run now…',
        )
      : h('span', { class: 'muted small' }, f.error_flow ? 'runs when any run fails ([error_flow])' : 'runs when a flow calls it'),
  );
  return h(
    'tr',
    null,
    nameCell,
    h('td', { 'data-label': 'Trigger' }, h('span', { class: `trigger trigger-${trig.kind}` }, trig.text)),
    lastCell,
    countCell,
    actions,
  );
}

function counts(ctx, flow, st) {
  const present = STATUS_NAMES.filter((s) => st.counts[s]);
  if (present.length === 0) return h('span', { class: 'muted' }, 'no runs');
  return h(
    'ul',
    { class: 'counts' },
    present.map((s) =>
      h(
        'li',
        null,
        h(
          'a',
          { href: ctx.routeHref(['runs'], { flow, status: s }), class: `count status-${s}` },
          h('span', { 'aria-hidden': 'true' }, STATUSES[s].icon),
          ` ${st.counts[s]}${st.more ? '+' : ''} ${s}`,
        ),
      ),
    ),
  );
}

/// The last failed reload: its message, each diagnostic, and the rendered
/// text with source lines.
function reloadError(e) {
  const diags = Array.isArray(e.diagnostics) ? e.diagnostics : [];
  return callout(
    'error',
    'The last reload failed; the flows loaded before it stay in use',
    h('p', null, e.message, ' ', h('span', { class: 'muted' }, '(', timeEl(e.at), ')')),
    diags.length
      ? h(
          'ul',
          { class: 'diagnostics' },
          diags.map((d) => {
            const pos = d.span && d.span.start && d.span.start.line ? `:${d.span.start.line}:${d.span.start.col}` : '';
            return h(
              'li',
              null,
              h('span', { class: `sev sev-${d.severity}` }, d.severity),
              ' ',
              h('code', null, `${d.file}${pos}`),
              ' ',
              d.message,
              d.step ? h('span', { class: 'muted' }, ` — at ${d.step}`) : null,
              d.help ? h('div', { class: 'help' }, 'help: ', d.help) : null,
            );
          }),
        )
      : null,
    e.rendered ? h('details', null, h('summary', null, 'As `lanyard validate` prints it'), h('pre', { class: 'rendered' }, e.rendered)) : null,
  );
}

/// A sample Okta event to start from, for a test run of an Okta flow.
function sampleEvent(eventType) {
  return {
    uuid: crypto.randomUUID ? crypto.randomUUID() : 'test-event-1',
    published: new Date().toISOString(),
    eventType,
    version: '0',
    severity: 'INFO',
    displayMessage: eventType,
    actor: { id: '00u_admin', type: 'User', alternateId: 'admin@example.com', displayName: 'Admin' },
    outcome: { result: 'SUCCESS' },
    target: [{ id: '00u_REPLACE_ME', type: 'User', alternateId: 'someone@example.com', displayName: 'Some One' }],
  };
}

function runNowDialog(ctx) {
  const title = h('h2', { id: 'run-now-title' });
  const explain = h('p', { class: 'muted' });
  const inputLabel = h('label', { for: 'run-input' }, 'Input (the flow sees it as ', h('code', null, 'event'), '), JSON');
  const input = h('textarea', { id: 'run-input', rows: '10', spellcheck: 'false' });
  const inputBlock = h('div', { class: 'field' }, inputLabel, input);
  // A manual flow's typed inputs: a form instead of JSON.
  const formBlock = h('div', { class: 'run-form' });
  let form_ = null;
  const dry = h('input', { id: 'run-dry', type: 'checkbox' });
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Run');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const form = h(
    'form',
    { novalidate: true },
    title,
    explain,
    formBlock,
    inputBlock,
    h(
      'div',
      { class: 'field check' },
      dry,
      h('label', { for: 'run-dry' }, 'Dry run: record what the cards would write (Okta, HTTP, tables, mail) instead of doing it'),
    ),
    status,
    h('div', { class: 'dialog-actions' }, cancel, submit),
  );
  const el = h('dialog', { class: 'run-now', 'aria-labelledby': 'run-now-title' }, form);
  let flow = null;
  let trig = null;

  cancel.addEventListener('click', () => el.close());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    let body;
    if (form_) {
      const v = form_.value();
      if (v.problems) {
        fill(status, callout('error', 'Not yet', h('ul', null, v.problems.map((p) => h('li', null, p)))));
        return;
      }
      body = v;
    } else if (trig.kind !== 'schedule') {
      const text = input.value.trim();
      if (text) {
        try {
          body = JSON.parse(text);
        } catch (err) {
          fill(status, callout('error', null, h('p', null, `The input is not valid JSON: ${err.message}`)));
          input.focus();
          return;
        }
      }
    }
    submit.disabled = true;
    fill(status, h('p', { class: 'muted' }, 'Starting…'));
    try {
      const r = await call('runNow', {
        params: { flow: flow.name },
        query: { dry_run: dry.checked ? 'true' : '' },
        body,
        signal: ctx.signal,
      });
      const id = r.body.run_id;
      fill(
        status,
        callout(
          'info',
          null,
          h('p', null, 'Started run ', h('a', { href: ctx.routeHref(['runs', id]) }, h('code', null, id)), '.'),
        ),
      );
      submit.hidden = true;
      cancel.textContent = 'Close';
      toast(`Started run ${id} of ${flow.name}`);
    } catch (err) {
      if (err.name === 'AbortError') return;
      const msg = err instanceof ApiError ? `${err.status}: ${err.message}` : String(err);
      fill(status, callout('error', 'The run did not start', h('p', null, msg)));
    } finally {
      submit.disabled = false;
    }
  });

  // While the dialog waits for the daemon: no Run, no edits.
  function busy(on) {
    submit.disabled = on;
    input.readOnly = on;
  }

  return {
    el,
    open(f, t) {
      flow = f;
      trig = t;
      fill(title, t.kind === 'okta' ? 'Test run of ' : 'Run ', `“${f.name}”`);
      submit.hidden = false;
      busy(false);
      cancel.textContent = 'Cancel';
      fill(status);
      form_ = null;
      input.onchange = null;
      fill(formBlock);
      formBlock.hidden = true;
      if (t.kind === 'manual' && t.inputs && t.inputs.length) {
        fill(explain, 'Fill in what this flow asks for, then run it.');
        form_ = inputsForm(t.inputs, { id: 'run-in' });
        fill(formBlock, form_.el);
        formBlock.hidden = false;
        inputBlock.hidden = true;
        dry.checked = false;
      } else if (t.kind === 'schedule') {
        fill(explain, `The run sees a fire of its schedule at the current time (${t.text}).`);
        inputBlock.hidden = true;
        dry.checked = false;
      } else if (t.kind === 'okta') {
        fill(
          explain,
          'Start one run with an Okta event you give (a System Log event, as an Event Hook delivers it). Fill in a real target user. Dry run is on: nothing is changed in Okta.',
        );
        inputBlock.hidden = false;
        const type = (t.types && t.types[0]) || 'user.lifecycle.create';
        input.value = JSON.stringify(sampleEvent(type), null, 2);
        // The event's fields in words above its JSON, both kept in step.
        const drawFields = () => fill(formBlock, eventFields(input.value, (text) => (input.value = text)));
        input.onchange = drawFields;
        drawFields();
        // A real sample (the org's latest such event, or one about a real
        // user) replaces the placeholder when the daemon has one; Run waits
        // for it, so a quick click does not send the placeholder.
        busy(true);
        fill(status, h('p', { class: 'muted' }, 'Fetching a sample event from the org…'));
        get('eventSample', { params: { type }, signal: ctx.signal })
          .then((sample) => {
            if (flow !== f || !el.open) return;
            input.value = JSON.stringify(sample.event, null, 2);
            drawFields();
          })
          .catch(() => {})
          .finally(() => {
            if (flow !== f) return;
            busy(false);
            fill(status);
          });
        formBlock.hidden = false;
        dry.checked = true;
      } else {
        fill(explain, t.kind === 'api' ? 'Start one run as if the invoke API were called with this body.' : 'Start one run with this input.');
        inputBlock.hidden = false;
        input.value = '{}';
        dry.checked = false;
      }
      el.showModal();
      (form_ ? formBlock.querySelector('input, select, textarea') || submit : inputBlock.hidden ? submit : input).focus();
    },
  };
}

/// The configured Okta orgs, in words: which org each is, where its events
/// arrive, and which one flows use when they name none.
export function oktaOrgs(orgs) {
  if (orgs.length === 0) return h('p', { class: 'muted' }, 'No Okta org is configured ([okta] in lanyard.toml): Okta cards answer unavailable.');
  const hook = (o) => (o.hook_path ? `; its events arrive at ${o.hook_path}` : '; no Event Hook');
  if (orgs.length === 1) return h('p', { class: 'muted' }, `Okta: ${orgWhat(orgs[0])}${hook(orgs[0])}.`);
  const list = h('ul', { class: 'muted' }, orgs.map((o) => h('li', null, h('code', null, o.name), ` — ${orgWhat(o)}${hook(o)}${o.default ? ' (used by flows that name no org)' : ''}`)));
  return h('div', null, h('p', { class: 'muted' }, 'Okta orgs (a flow names one with org:):'), list);
}
