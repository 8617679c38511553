// One run: what started it, how it ended, and every step as a tree (the
// shape of `lanyard history show`), each step expandable to its evaluated
// input, output, error, log lines and dry-run effects. Refreshed every 2 s
// until the run ends.

import { call, get } from './api.js';
import { h, fill, callout, inline, jsonBlock, keepingState, toast } from './dom.js';
import { statusBadge, timeEl, absolute, duration, runDuration, isFinal, number } from './format.js';

const REFRESH_MS = 2000;

export function render(ctx, id) {
  ctx.title(`Run ${id}`);
  const root = h('div', { class: 'run-page' }, h('h1', null, 'Run ', h('code', null, id)), h('p', { class: 'muted' }, 'Loading…'));
  fill(ctx.main, root);
  let drawn = '';
  let first = true;

  const poller = ctx.poll(async (signal) => {
    let d;
    try {
      d = await get('run', { params: { run: id }, signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      if (e.status === 404) {
        fill(
          root,
          h('h1', null, 'Run ', h('code', null, id)),
          callout('error', 'No such run', h('p', null, e.message), h('p', null, h('a', { href: '#/runs' }, 'Back to the runs'))),
        );
        return false;
      }
      if (first) fill(root, h('h1', null, 'Run ', h('code', null, id)), callout('error', 'Cannot load the run', h('p', null, `${e.status}: ${e.message}`)));
      throw e;
    }
    const sig = JSON.stringify([d.run, (d.steps || []).length, isFinal(d.run.status) ? 0 : Math.floor(Date.now() / 1000)]);
    if (sig !== drawn) {
      drawn = sig;
      keepingState(root, () => draw(ctx, root, d, () => poller.poke()));
    }
    first = false;
    return !isFinal(d.run.status);
  }, REFRESH_MS);
}

/// The Re-run dialog: dry run or real, chosen (nothing is preselected).
function rerunDialog(ctx, run) {
  const dry = h('input', { type: 'radio', name: 'rerun-mode', id: 'rerun-dry', value: 'dry' });
  const real = h('input', { type: 'radio', name: 'rerun-mode', id: 'rerun-real', value: 'real' });
  const go = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Re-run');
  const status = h('div', { 'aria-live': 'polite' });
  for (const r of [dry, real]) r.addEventListener('change', () => (go.disabled = false));
  const form = h(
    'form',
    { novalidate: true },
    h('h2', { id: 'rerun-title' }, 'Re-run this event'),
    h('p', null, 'The same event goes through “', run.flow, '” as the flow is now (its file may have changed since).'),
    h('div', { class: 'field check' }, dry, h('label', { for: 'rerun-dry' }, 'Dry run: read for real, record what it would write, write nothing')),
    h('div', { class: 'field check' }, real, h('label', { for: 'rerun-real' }, 'For real: it writes to Okta, Slack, tables and mail again')),
    status,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'button', on: { click: () => dlg.close() } }, 'Cancel'), go),
  );
  const dlg = h('dialog', { class: 'run-now', 'aria-labelledby': 'rerun-title' }, form);
  dlg.addEventListener('close', () => dlg.remove());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!dry.checked && !real.checked) return;
    go.disabled = true;
    try {
      const r = await call('rerun', { params: { run: run.id }, body: { dry_run: dry.checked } });
      dlg.close();
      location.hash = ctx.routeHref(['runs', r.body.run_id]);
    } catch (err) {
      fill(status, callout('error', 'Not re-run', h('p', null, err.message)));
      go.disabled = false;
    }
  });
  document.body.append(dlg);
  dlg.showModal();
  dry.focus();
}

function draw(ctx, root, d, refresh) {
  const run = d.run;
  const steps = Array.isArray(d.steps) ? d.steps : [];
  ctx.title(`${run.status} · ${run.flow}`);
  const tree = buildTree(steps);
  // A search narrows the steps to those that mention the text (and what
  // holds them); a loop's iterations are grouped, 50 at a time.
  const stepsList = h('ol', { class: 'tree', 'aria-label': 'Steps, in the order they started' });
  const stepsFind = h('input', { id: 'steps-find', type: 'search', spellcheck: 'false', autocomplete: 'off', placeholder: 'a login, a card, any text', value: root.dataset.stepsFind || '' });
  const stepsFound = h('span', { class: 'muted small', 'aria-live': 'polite' });
  const drawSteps = () => {
    const needle = stepsFind.value.trim().toLowerCase();
    root.dataset.stepsFind = stepsFind.value;
    const shown = needle ? findInTree(tree, needle) : tree;
    fill(stepsList, shown.map((n) => stepItem(n, Boolean(needle))));
    stepsFound.textContent = needle ? (shown.length ? '' : 'No step mentions it.') : '';
  };
  stepsFind.addEventListener('input', drawSteps);
  drawSteps();

  const cancel = !isFinal(run.status)
    ? h(
        'button',
        {
          type: 'button',
          class: 'danger',
          on: {
            click: async () => {
              if (!confirm(`Cancel run ${run.id} of “${run.flow}”? Steps already done stay done.`)) return;
              try {
                await call('cancelRun', { params: { run: run.id }, signal: ctx.signal });
                toast('Cancel requested.');
              } catch (e) {
                if (e.name !== 'AbortError') toast(`Cannot cancel: ${e.message}`, 'error');
              }
              refresh();
            },
          },
        },
        'Cancel run',
      )
    : null;

  // Re-run: the same event through the flow as it is now, as a dry run or
  // for real, said each time (a real re-run writes again).
  const rerun = isFinal(run.status) && run.trigger && run.trigger.kind !== 'flow'
    ? h('button', { type: 'button', id: 'rerun', on: { click: () => rerunDialog(ctx, run) } }, 'Re-run…')
    : null;

  fill(
    root,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, h('span', { class: 'visually-hidden' }, 'Run of '), run.flow),
      h('div', { class: 'actions' }, statusBadge(run.status), rerun, cancel),
    ),
    run.trigger && run.trigger.kind === 'rerun'
      ? h('p', { class: 'muted' }, 'A re-run of ', h('a', { href: ctx.routeHref(['runs', run.trigger.of]) }, `run ${run.trigger.of}`), ', with its event, through the flow as it was when re-run.')
      : null,
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: ctx.routeHref(['runs']) }, 'All runs'),
      ' · ',
      h('a', { href: ctx.routeHref(['runs'], { flow: run.flow }) }, 'Runs of this flow'),
      ' · run ',
      h('code', null, run.id),
    ),
    run.dry_run ? callout('info', 'Dry run', h('p', null, 'Writes to Okta, HTTP services, tables and mail were recorded ("would do" below), not done.')) : null,
    summary(ctx, run),
    waiting(ctx, run, refresh),
    outcome(run, root),
    h(
      'section',
      { class: 'steps', 'aria-labelledby': 'steps-title' },
      h(
        'div',
        { class: 'section-head' },
        h('h2', { id: 'steps-title' }, `Steps (${steps.length})`),
        steps.length
          ? h(
              'div',
              { class: 'actions' },
              h('button', { type: 'button', on: { click: () => setAll(stepsList, true) } }, 'Expand all'),
              h('button', { type: 'button', on: { click: () => setAll(stepsList, false) } }, 'Collapse all'),
            )
          : null,
      ),
      steps.length > 1
        ? h('div', { class: 'field steps-find' }, h('label', { for: 'steps-find' }, 'Find in the steps'), stepsFind, stepsFound)
        : null,
      steps.length
        ? stepsList
        : h('p', { class: 'muted' }, isFinal(run.status) ? 'No steps ran.' : run.status === 'waiting' ? 'No step ran before the wait; the steps after it appear once it goes on.' : 'No step has finished yet; steps appear as they end.'),
      !isFinal(run.status) && steps.length
        ? h('p', { class: 'muted small' }, run.status === 'waiting' ? 'Waiting: more steps appear once it goes on.' : 'Still running: more steps appear as they end.')
        : null,
    ),
    h(
      'section',
      { class: 'event', 'aria-labelledby': 'event-title' },
      h('h2', { id: 'event-title' }, 'Triggering event'),
      h(
        'details',
        { dataset: { key: 'event' } },
        h('summary', null, 'The input the flow saw as ', h('code', null, 'event'), ' (JSON)'),
        jsonBlock(run.input, { label: 'triggering event' }),
      ),
    ),
    d.trace
      ? h(
          'section',
          { class: 'trace', 'aria-labelledby': 'trace-title' },
          h('h2', { id: 'trace-title' }, 'Text trace'),
          h(
            'details',
            { dataset: { key: 'trace' } },
            h('summary', null, 'As ', h('code', null, 'lanyard history show'), ' prints it'),
            h('pre', { class: 'rendered', tabindex: '0' }, d.trace),
          ),
        )
      : null,
  );
}

function setAll(list, open) {
  for (const det of list.querySelectorAll('details')) det.open = open;
}

function summary(ctx, run) {
  const rows = [];
  const add = (k, ...v) => rows.push(h('dt', null, k), h('dd', null, ...v));
  add('Flow', h('a', { href: ctx.routeHref(['runs'], { flow: run.flow }) }, run.flow), ' ', h('span', { class: 'muted small mono', title: run.flow_digest }, `sha256:${String(run.flow_digest || '').slice(0, 12)}`));
  add('Trigger', ...triggerDetail(ctx, run));
  const who = targetOf(run);
  if (who || run.subject) add('User', who ? `${who} ` : '', run.subject ? h('span', { class: 'mono muted' }, run.subject) : null);
  add('Created', h('time', { datetime: run.created }, absolute(run.created)));
  if (run.started) add('Started', h('time', { datetime: run.started }, absolute(run.started)));
  if (run.ended) add('Ended', h('time', { datetime: run.ended }, absolute(run.ended)));
  // A waiting run's time is its wait's: it holds no worker meanwhile.
  if (run.status === 'waiting' && run.wait) add('Waiting since', h('time', { datetime: run.wait.since }, absolute(run.wait.since)));
  else if (run.started) add('Duration', duration(runDuration(run)), isFinal(run.status) ? '' : ' so far');
  return h('dl', { class: 'summary' }, rows);
}

function triggerDetail(ctx, run) {
  const t = run.trigger || {};
  switch (t.kind) {
    case 'okta':
      return [
        'Okta event ',
        h('code', null, t.event_type),
        h('div', { class: 'muted small' }, 'event ', h('span', { class: 'mono' }, t.event_uuid), ` via ${t.source}`),
      ];
    case 'schedule':
      return [
        'schedule ',
        h('code', null, t.cron),
        ` ${t.timezone}`,
        h('div', { class: 'muted small' }, 'fired for ', absolute(t.fire_time)),
      ];
    case 'api':
      return ['the invoke API (', h('code', null, 'POST …/invoke'), ')'];
    case 'flow':
      return [
        'called by run ',
        h('a', { href: ctx.routeHref(['runs', t.parent_run]) }, h('code', null, t.parent_run)),
        ' at step ',
        h('code', null, t.parent_step),
      ];
    case 'rerun':
      return ['a re-run of run ', h('a', { href: ctx.routeHref(['runs', t.of]) }, h('code', null, t.of))];
    case 'manual':
      return ['run by hand (Run now, or ', h('code', null, 'lanyard run'), ')'];
    default:
      return [JSON.stringify(t)];
  }
}

/// "Some One <someone@example.com>" from an Okta event's first target.
function targetOf(run) {
  const target = run.input && Array.isArray(run.input.target) ? run.input.target[0] : null;
  if (!target || typeof target !== 'object') return null;
  const name = typeof target.displayName === 'string' ? target.displayName : '';
  const login = typeof target.alternateId === 'string' ? target.alternateId : '';
  if (name && login && name !== login) return `${name} <${login}>`;
  return name || login || null;
}

/// What a waiting run waits for, and for a signal with choices, a button per
/// answer (the signal is given once: the run then goes on).
function waiting(ctx, run, refresh) {
  const w = run.wait;
  if (run.status !== 'waiting' || !w) return null;
  const until = w.until ? h('time', { datetime: w.until }, absolute(w.until)) : null;
  if (!w.signal) {
    return callout('info', 'Waiting', h('p', null, 'The run goes on at ', until, ' (step ', h('code', null, w.step), ').'));
  }
  const answer = async (choice, button) => {
    const label = choice ? `“${choice}”` : 'the signal';
    if (!confirm(`Answer ${label} to run ${run.id} of “${run.flow}”? The run goes on with it; this cannot be taken back.`)) return;
    button.disabled = true;
    try {
      await call('signalRun', { params: { run: run.id }, body: choice ? { signal: w.signal, choice } : { signal: w.signal }, signal: ctx.signal });
      toast(`Answered ${label}; the run goes on.`);
    } catch (e) {
      if (e.name !== 'AbortError') toast(`Cannot answer: ${e.message}`, 'error');
      button.disabled = false;
    }
    refresh();
  };
  const choices = w.choices && w.choices.length ? w.choices : [null];
  const buttons = choices.map((c) => {
    const b = h('button', { type: 'button', dataset: { choice: c || '' } }, c ? c.charAt(0).toUpperCase() + c.slice(1).replace(/[-_]/g, ' ') : 'Send the signal');
    b.addEventListener('click', () => answer(c, b));
    return b;
  });
  return callout(
    'info',
    'Waiting for an answer',
    h('p', null, 'Step ', h('code', null, w.step), ' waits for the ', h('strong', null, w.signal), ' signal', until ? [' until ', until, '; then it fails with a timeout'] : '', '.'),
    h('div', { class: 'actions', id: 'signal-answers' }, buttons),
  );
}

function outcome(run, root) {
  const parts = [];
  if (run.error) parts.push(errorCallout('The run failed', run.error, root));
  if (run.reason) {
    const title = { suppressed: 'Held by loop protection', stopped: 'Stopped by the flow', cancelled: 'Cancelled' }[run.status] || 'Reason';
    parts.push(callout(run.status === 'suppressed' ? 'warn' : 'info', title, h('p', null, run.reason)));
  }
  if (run.output !== undefined && run.output !== null) {
    parts.push(h('section', { class: 'output', 'aria-labelledby': 'output-title' }, h('h2', { id: 'output-title' }, 'Output'), jsonBlock(run.output, { label: 'run output' })));
  }
  return parts.length ? h('div', { class: 'outcome' }, parts) : null;
}

function errorCallout(title, e, root) {
  return callout(
    'error',
    title,
    errorBody(e, root),
  );
}

function errorBody(e, root) {
  return h(
    'div',
    { class: 'error-body' },
    h('p', null, h('span', { class: 'tag kind' }, e.kind), ' ', inline(e.message)),
    h(
      'p',
      { class: 'small' },
      e.step
        ? [
            'at step ',
            root
              ? h('button', { type: 'button', class: 'link mono', on: { click: () => revealStep(root, e.step) } }, e.step)
              : h('code', null, e.step),
          ]
        : null,
      e.card ? [' · card ', h('code', null, e.card)] : null,
      ' · ',
      e.retryable ? 'retryable' : 'not retryable',
    ),
    e.detail ? h('div', null, h('p', { class: 'small muted' }, 'Detail (the card\'s panic message, stderr or backtrace):'), h('pre', { class: 'detail', tabindex: '0' }, e.detail)) : null,
  );
}

function revealStep(root, path) {
  const li = [...root.querySelectorAll('li.step')].find((el) => el.dataset.path === path);
  if (!li) return;
  for (let el = li; el && el !== root; el = el.parentElement) if (el.tagName === 'DETAILS') el.open = true;
  const det = li.querySelector(':scope > details');
  if (det) {
    det.open = true;
    const s = det.querySelector(':scope > summary');
    s.scrollIntoView({ block: 'center' });
    s.focus();
  }
}

/// Whether `path` is inside the step at `parent` (`loop[3]/x` in `loop`).
export function isUnder(path, parent) {
  return path.length > parent.length && path.startsWith(parent) && (path[parent.length] === '/' || path[parent.length] === '[');
}

/// Nest step records by path, in the order they started (as the text trace does).
export function buildTree(steps) {
  const order = steps.slice().sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  const roots = [];
  const open = [];
  for (const step of order) {
    while (open.length && !isUnder(step.path, open[open.length - 1].step.path)) open.pop();
    const parent = open[open.length - 1];
    const name = parent ? step.path.slice(parent.step.path.length).replace(/^\//, '') : step.path;
    const node = { step, name, children: [] };
    (parent ? parent.children : roots).push(node);
    open.push(node);
  }
  return roots;
}

function stepNote(s) {
  const out = s.output;
  switch (s.kind) {
    case 'if':
      return typeof out === 'boolean' ? `took ${out ? 'then' : 'else'}` : null;
    case 'switch':
      if (out && typeof out === 'object' && 'matched' in out) return typeof out.matched === 'string' ? `took case ${out.matched}` : 'took default';
      return null;
    case 'for_each': {
      if (out && typeof out === 'object' && typeof out.pages === 'number') return `${out.count} items in ${out.pages} page${out.pages === 1 ? '' : 's'}`;
      const n = s.input && typeof s.input === 'object' ? s.input.items : undefined;
      return n !== undefined ? `${typeof n === 'number' ? n : JSON.stringify(n)} items` : null;
    }
    case 'call':
      // A helper started as a run of its own (`wait: false`).
      return out && typeof out === 'object' && 'run_id' in out && Object.keys(out).length === 2 ? (out.run_id ? 'started a run of its own' : 'would start a run (dry run)') : null;
    default:
      return null;
  }
}

/// The nodes that mention `needle` (path, card, input, output, error, log),
/// with the nodes that hold them; copies, so the full tree stays.
export function findInTree(nodes, needle) {
  const out = [];
  for (const n of nodes) {
    const kids = findInTree(n.children, needle);
    const s = n.step;
    const own = [s.path, s.card, s.error && s.error.message, JSON.stringify(s.input ?? null), JSON.stringify(s.output ?? null), ...(s.logs || []).map((l) => l.message)]
      .some((x) => typeof x === 'string' && x.toLowerCase().includes(needle));
    if (own || kids.length) out.push({ ...n, children: kids, found: own });
  }
  return out;
}

// Iterations of a loop shown at first, and each time "Show more" is pressed.
const ITERATIONS = 50;

/// A loop's steps by iteration (the `[n]` in their paths), in order. A loop
/// over pages also has its page reads (`pages[k]`), grouped apart (as -1).
export function iterations(children) {
  const groups = new Map();
  for (const c of children) {
    const m = isPageRead(c) ? null : /\[(\d+)\]/.exec(c.name);
    const i = m ? Number(m[1]) : -1;
    if (!groups.has(i)) groups.set(i, []);
    groups.get(i).push(c);
  }
  return [...groups.entries()];
}

// What an iteration was about: the first text in its steps' inputs that
// looks like a login or an address, else the first short text of the first.
function iterationHint(children) {
  const textsOf = (v, out = []) => {
    if (out.length > 40) return out;
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach((x) => textsOf(x, out));
    else if (v && typeof v === 'object') Object.values(v).forEach((x) => textsOf(x, out));
    return out;
  };
  const all = children.flatMap((c) => textsOf(c.step.input));
  const t = all.find((x) => /^[^\s@]+@[^\s@]+$/.test(x)) || textsOf(children[0] && children[0].step.input).find((x) => x.length <= 40);
  return t ? (t.length > 60 ? `${t.slice(0, 59)}…` : t) : null;
}

/// A page read of a loop over pages (`loop/pages[k]`).
function isPageRead(node) {
  return /^pages\[\d+\]$/.test(node.name);
}

function loopChildren(node, finding) {
  const groups = iterations(node.children);
  const ol = h('ol', { class: 'iterations' });
  let shown = 0;
  const moreLi = h('li', { class: 'more-iterations' });
  const showMore = () => {
    for (const [i, kids] of groups.slice(shown, shown + ITERATIONS)) ol.insertBefore(iterationItem(node, i, kids, finding), moreLi);
    shown = Math.min(groups.length, shown + ITERATIONS);
    const left = groups.length - shown;
    if (left > 0) fill(moreLi, h('button', { type: 'button', on: { click: showMore } }, `Show ${Math.min(left, ITERATIONS)} more of ${left} items`));
    else moreLi.remove();
  };
  ol.append(moreLi);
  showMore();
  return ol;
}

function iterationItem(node, i, kids, finding) {
  const failed = kids.some((c) => c.step.error);
  // Page reads are about the whole list, not one item.
  const hint = kids.every(isPageRead) ? null : iterationHint(kids);
  const inner = h('ol');
  let built = false;
  const build = () => {
    if (built) return;
    built = true;
    fill(inner, kids.map((c) => stepItem(c, finding)));
  };
  const det = h(
    'details',
    { dataset: { key: `iter:${node.step.path}[${i}]` } },
    h(
      'summary',
      null,
      h('span', { class: `step-icon ${failed ? 'failed-below' : 'ok'}`, 'aria-hidden': 'true' }, failed ? '!' : '✓'),
      h('span', { class: 'step-name' }, i >= 0 ? `item ${i + 1}` : kids.every(isPageRead) ? 'pages read' : 'steps'),
      hint ? h('span', { class: 'step-note' }, hint) : null,
      h('span', { class: 'step-meta' }, `${kids.length} step${kids.length === 1 ? '' : 's'}${failed ? ' · failed inside' : ''}`),
    ),
    inner,
  );
  det.addEventListener('toggle', () => det.open && build());
  if (failed || finding) {
    det.open = true;
    build();
  }
  return h('li', { class: `step iteration ${failed ? 'failed-below' : 'ok'}` }, det);
}

function stepItem(node, finding = false) {
  const s = node.step;
  const failedHere = s.error && (s.error.step === s.path || s.kind === 'card');
  const failedBelow = s.error && !failedHere;
  const state = failedHere ? 'failed' : failedBelow ? 'failed-below' : 'ok';
  const icon = failedHere ? '✕' : failedBelow ? '!' : '✓';
  const word = failedHere ? 'failed' : failedBelow ? 'failed inside' : 'ok';
  const what = s.card ? s.card : s.kind;
  const meta = [];
  if (s.attempts > 1) meta.push(`${s.attempts} attempts`);
  meta.push(duration(s.duration_ms));
  if (s.fuel_used > 0) meta.push(`fuel ${number(s.fuel_used)}`);
  if (s.logs && s.logs.length) meta.push(`${s.logs.length} log line${s.logs.length === 1 ? '' : 's'}`);
  if (s.effects && s.effects.length) meta.push(`${s.effects.length} would-do`);
  const note = stepNote(s);

  // The body (inputs, outputs as JSON) is drawn when the step is opened.
  let body = null;
  const details = h(
    'details',
    { dataset: { key: `step:${s.path}` } },
    h(
      'summary',
      null,
      h('span', { class: `step-icon ${state}`, 'aria-hidden': 'true' }, icon),
      h('span', { class: 'visually-hidden' }, `${word}: `),
      h('span', { class: 'step-name' }, node.name),
      h('span', { class: s.card ? 'step-what card' : 'step-what' }, s.card ? ['card ', h('code', null, what)] : what),
      note ? h('span', { class: 'step-note' }, note) : null,
      h('span', { class: 'step-meta' }, meta.join(' · ')),
    ),
  );
  const open = () => {
    if (body) return;
    body = stepBody(s, failedHere);
    details.append(body);
  };
  details.addEventListener('toggle', () => details.open && open());
  if (failedHere || (finding && node.found)) {
    details.open = true;
    open();
  }
  const kids = node.children.length
    ? s.kind === 'for_each'
      ? loopChildren(node, finding)
      : h('ol', null, node.children.map((c) => stepItem(c, finding)))
    : null;
  return h('li', { class: `step ${state}`, dataset: { path: s.path } }, details, kids);
}

function stepBody(s, failedHere) {
  const parts = [];
  parts.push(h('p', { class: 'small muted' }, 'path ', h('code', null, s.path), ' · started ', absolute(s.started), ` · ${s.kind}`));
  if (s.error) {
    parts.push(
      failedHere
        ? h('div', { class: 'step-section' }, h('h3', null, 'Error'), errorBody(s.error, null))
        : h('p', { class: 'small' }, 'Failed because of step ', h('code', null, s.error.step || 'inside'), `: ${s.error.kind}: ${s.error.message}`),
    );
  }
  if (s.withheld) parts.push(h('p', { class: 'small muted withheld' }, 'Its inputs and outputs are not kept: this flow is set to keep no step data (its History setting, for personal data), so they were removed when the run ended.'));
  if (s.input !== undefined && s.input !== null) parts.push(h('div', { class: 'step-section' }, h('h3', null, s.kind === 'card' ? 'Input (evaluated with)' : 'Input'), jsonBlock(s.input, { label: `input of ${s.path}` })));
  if (s.kind === 'call' && s.output && typeof s.output.run_id === 'string') {
    // The run this step started; that run's page links back here.
    parts.push(h('p', null, 'Started run ', h('a', { href: `#/runs/${encodeURIComponent(s.output.run_id)}` }, h('code', null, s.output.run_id)), ` of “${s.output.flow}”.`));
  }
  if (s.output !== undefined && s.output !== null) parts.push(h('div', { class: 'step-section' }, h('h3', null, 'Output'), jsonBlock(s.output, { label: `output of ${s.path}` })));
  if (s.logs && s.logs.length) {
    parts.push(
      h(
        'div',
        { class: 'step-section' },
        h('h3', null, 'Logs'),
        h(
          'ol',
          { class: 'logs' },
          s.logs.map((l) =>
            h(
              'li',
              { class: `log level-${/^[a-z]+$/.test(l.level) ? l.level : 'other'}` },
              h('span', { class: 'log-level' }, l.level),
              h('span', { class: 'log-message' }, l.message),
              l.fields !== undefined && l.fields !== null ? h('span', { class: 'log-fields mono' }, JSON.stringify(l.fields)) : null,
            ),
          ),
        ),
      ),
    );
  }
  if (s.effects && s.effects.length) {
    parts.push(
      h(
        'div',
        { class: 'step-section' },
        h('h3', null, 'Would do (dry run)'),
        h(
          'ul',
          { class: 'effects' },
          s.effects.map((e) =>
            h('li', null, h('span', { class: 'tag' }, e.capability), ' ', h('code', null, e.operation), jsonBlock(e.args, { label: `arguments of ${e.operation}` })),
          ),
        ),
      ),
    );
  }
  return h('div', { class: 'step-body' }, parts);
}
