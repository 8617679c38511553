// The flow diagram: the daemon's outline of a compiled flow (the `flow`
// endpoint's `outline`), drawn top to bottom as nested boxes.
//
// The layout is the flow's own structure — a list of steps, with branches
// side by side and loops and error paths as boxes around their steps — so it
// is plain HTML and CSS (flexbox; branches stack when the screen is narrow)
// and needs no graph-layout library: a structured flow has no crossing edges
// to route. The outline comes from the server's compiler, so the diagram is
// the flow as it will run (DESIGN.md: "the diagram is the compiled flow").
//
// Options:
//   paint:     Map(path → { status, record }) — a run's step records painted
//              on their boxes (status succeeded | failed | skipped).
//   problems:  Map(yaml path key → [diagnostic]) — shown on the step.
//   selected:  the path of the selected step.
//   onSelect(node):        a step box was clicked (or Enter/Space on it).
//   onInsert(listPath, i): "+" between steps (the builder's edit mode only).

import { h } from './dom.js';
import { inZone } from './format.js';
import { words } from './schemaform.js';
import { OPS, parseConditions } from './conditions.js';

const KIND_LABEL = {
  card: 'Card',
  if: 'If / else',
  switch: 'Switch',
  for_each: 'For each',
  assign: 'Assign',
  return: 'Return',
  stop: 'Stop',
  fail: 'Fail',
  call: 'Call flow',
  wait: 'Wait',
};

/// The key of a YAML path, for maps keyed by it.
export function yamlKey(path) {
  return JSON.stringify(path || []);
}

/// A step record's path with its loop iteration indices taken out: the path
/// of the diagram node it belongs to. A loop's page read (`loop/pages[k]`,
/// a loop over pages) belongs to the loop.
export function nodePath(recordPath) {
  return String(recordPath).replace(/\/pages\[\d+\]$/, '').replace(/\[\d+\]/g, '');
}

/// How a run went, per node path: the worst of the node's records (a loop's
/// step fails if one iteration failed).
export function paintFromSteps(steps) {
  const out = new Map();
  const rank = { succeeded: 1, failed: 2 };
  for (const s of steps || []) {
    const path = nodePath(s.path);
    const status = s.error ? 'failed' : 'succeeded';
    const prev = out.get(path);
    if (!prev || rank[status] > rank[prev.status]) out.set(path, { status, record: s, count: (prev?.count || 0) + 1 });
    else prev.count += 1;
  }
  return out;
}

/// Every node of an outline, depth first in reading order.
export function walk(outline) {
  const out = [];
  if (!outline) return out;
  const visit = (nodes) => {
    for (const n of nodes || []) {
      out.push(n);
      for (const b of n.branches || []) visit(b.steps);
    }
  };
  visit(outline.steps);
  visit(outline.on_failure);
  return out;
}

/// Each diagnostic on the step it is in: the last step (in file order) that
/// starts at or before its line, so a problem in a step's inputs lands on
/// that step and one in a branch on the step inside it.
export function problemsByStep(outline, diags) {
  const nodes = walk(outline)
    .filter((n) => n.line)
    .sort((a, b) => a.line - b.line);
  const out = new Map();
  for (const d of diags || []) {
    const line = d.span?.start?.line;
    if (!line) continue;
    let owner = null;
    for (const n of nodes) {
      if (n.line <= line) owner = n;
      else break;
    }
    if (!owner) continue;
    const key = yamlKey(owner.yaml);
    if (!out.has(key)) out.set(key, []);
    out.get(key).push(d);
  }
  return out;
}

export function renderDiagram(outline, opts = {}) {
  const paint = opts.paint || null;
  const root = h('div', { class: `diagram${paint ? ' painted' : ''}`, role: 'group', 'aria-label': `Diagram of ${outline.name}` });
  root.append(triggerBox(outline));
  root.append(stepList(outline.steps, ['steps'], opts, 'main'));
  if ((outline.on_failure || []).length || opts.onInsert) {
    if ((outline.on_failure || []).length) {
      root.append(
        h(
          'section',
          { class: 'dg-failure', 'aria-label': 'If the flow fails' },
          h('h3', { class: 'dg-branch-label' }, 'If the flow fails'),
          stepList(outline.on_failure, ['on_failure'], opts, 'failure'),
        ),
      );
    }
  }
  return root;
}

function triggerBox(outline) {
  const t = outline.trigger || {};
  const details = [];
  // The builder's draft names the org when the file does.
  if (t.org) details.push(h('p', { class: 'dg-detail' }, `In the Okta org ${t.org}`));
  if (t.filter) {
    // The filter as the condition rows say it, else as written.
    const said = conditionWords(`If ${t.filter}`);
    details.push(h('p', { class: 'dg-detail' }, said ? `Only when ${said.slice(3)}` : ['Only when ', h('code', null, t.filter)]));
  }
  if (t.schedule && Array.isArray(t.schedule.next) && t.schedule.next.length) {
    details.push(
      h(
        'p',
        { class: 'dg-detail' },
        'Next: ',
        t.schedule.next.map((x, i) => [i ? ', ' : '', h('time', { datetime: x }, inZone(x, t.schedule.timezone))]),
      ),
    );
  }
  if (Array.isArray(t.inputs) && t.inputs.length) {
    details.push(
      h(
        'p',
        { class: 'dg-detail' },
        'Inputs: ',
        t.inputs.map((i, k) => [k ? ', ' : '', h('code', null, i.name), ` (${i.type}${i.required ? ', required' : ''})`]),
      ),
    );
  }
  return h(
    'div',
    { class: `dg-trigger trigger-${t.kind || 'unknown'}` },
    h('p', { class: 'dg-kind' }, 'Trigger'),
    h('p', { class: 'dg-title' }, t.words || t.kind || 'Unknown trigger'),
    details,
    outline.enabled === false ? h('p', { class: 'dg-off' }, 'This flow is off: no trigger starts it.') : null,
  );
}

function stepList(nodes, listPath, opts, role) {
  const list = h('ol', { class: `dg-list dg-list-${role}` });
  const insert = (i) =>
    opts.onInsert
      ? h(
          'li',
          { class: 'dg-insert' },
          h(
            'button',
            {
              type: 'button',
              class: 'dg-add',
              'aria-label': i === 0 ? 'Add a step here (first)' : `Add a step after ${labelOf(nodes[i - 1])}`,
              dataset: { list: yamlKey(listPath), index: i },
              on: { click: () => opts.onInsert(listPath, i) },
            },
            '+',
          ),
        )
      : null;
  list.append(insert(0) || '');
  (nodes || []).forEach((n, i) => {
    list.append(stepItem(n, opts));
    const add = insert(i + 1);
    if (add) list.append(add);
  });
  if (!(nodes || []).length && !opts.onInsert) list.append(h('li', { class: 'dg-empty muted' }, 'No steps'));
  return list;
}

function labelOf(n) {
  return n.description || n.summary || n.id;
}

function stepItem(n, opts) {
  const painted = opts.paint ? opts.paint.get(n.path) : null;
  const status = opts.paint ? (painted ? painted.status : 'skipped') : null;
  const problems = (opts.problems && opts.problems.get(yamlKey(n.yaml))) || [];
  const classes = ['dg-step', `dg-${n.kind}`];
  if (status) classes.push(`dg-${status}`);
  if (problems.length) classes.push('dg-problem');
  if (n.ends) classes.push('dg-ends');
  if (opts.selected && opts.selected === n.path) classes.push('dg-selected');

  const inputs = (n.inputs || []).map((i) => h('li', null, i.key ? [h('span', { class: 'dg-key' }, i.key), ' '] : null, h('span', { class: 'dg-val' }, readable(i.text))));
  const box = h(
    'div',
    {
      class: 'dg-box',
      role: 'button',
      tabindex: '0',
      'aria-pressed': opts.selected === n.path ? 'true' : 'false',
      dataset: { path: n.path, yaml: yamlKey(n.yaml) },
      'aria-label': `${KIND_LABEL[n.kind] || n.kind} step ${n.id}${status ? `, ${status}` : ''}${problems.length ? `, ${problems.length} problem${problems.length > 1 ? 's' : ''}` : ''}`,
    },
    h(
      'p',
      { class: 'dg-kind' },
      KIND_LABEL[n.kind] || n.kind,
      n.id_given ? h('span', { class: 'dg-id' }, n.id) : null,
      status ? h('span', { class: `dg-status dg-status-${status}` }, statusWord(status, painted)) : null,
    ),
    h('p', { class: 'dg-title' }, n.description || (n.summary ? (n.kind === 'if' && conditionWords(n.summary)) || (n.kind === 'switch' && switchWords(n.summary)) || readable(n.summary) : n.id)),
    n.description && n.summary ? h('p', { class: 'dg-summary' }, n.summary) : null,
    n.card ? h('p', { class: 'dg-card' }, h('code', null, n.card + (n.card_version ? `@${n.card_version}` : ''))) : null,
    n.call ? h('p', { class: 'dg-card' }, 'Calls ', h('a', { href: `#/flows/${encodeURIComponent(n.call)}` }, n.call)) : null,
    inputs.length ? h('ul', { class: 'dg-inputs' }, inputs) : null,
    n.org ? h('p', { class: 'dg-detail' }, `In the Okta org ${n.org}`) : null,
    n.retry ? h('p', { class: 'dg-detail' }, `Retry: ${n.retry}`) : null,
    problems.map((d) => h('p', { class: `dg-diag ${d.severity === 'warning' ? 'warn' : 'error'}`, role: 'note' }, d.message)),
  );
  if (opts.onSelect) {
    const select = (e) => {
      if (e.type === 'keydown' && e.key !== 'Enter' && e.key !== ' ') return;
      if (e.target.closest('a')) return;
      e.preventDefault();
      opts.onSelect(n);
    };
    box.addEventListener('click', select);
    box.addEventListener('keydown', select);
  }
  const item = h('li', { class: classes.join(' ') }, box);
  const branches = (n.branches || []).filter((b) => b.role !== 'on_error');
  const onError = (n.branches || []).filter((b) => b.role === 'on_error');
  if (branches.length) {
    const wrap = h('div', { class: `dg-branches dg-branches-${n.kind}` });
    for (const b of branches) {
      wrap.append(
        h(
          'section',
          { class: `dg-branch dg-role-${b.role}`, 'aria-label': b.label },
          h('h3', { class: 'dg-branch-label' }, b.label),
          stepList(b.steps, b.yaml, opts, b.role),
        ),
      );
    }
    item.append(wrap);
  }
  for (const b of onError) {
    item.append(
      h(
        'section',
        { class: 'dg-branch dg-role-on_error', 'aria-label': `${b.label} of ${n.id}` },
        h('h3', { class: 'dg-branch-label' }, b.label),
        stepList(b.steps, b.yaml, opts, 'on_error'),
      ),
    );
  }
  if (n.ends) item.append(h('p', { class: 'dg-end-mark', 'aria-hidden': 'true' }, 'End'));
  return item;
}

function statusWord(status, painted) {
  if (status === 'skipped') return 'not run';
  const n = painted && painted.count > 1 ? ` ×${painted.count}` : '';
  return (status === 'succeeded' ? 'ok' : 'failed') + n;
}

const PATH = '[A-Za-z_]\\w*(?:\\.[A-Za-z_]\\w*|\\[\\d+\\])*';
// A picked value (with what to write when it has none), the run's time, or
// a number of days ago.
const FALLBACK = `\\s*\\|\\s*default\\(('[^']*'|"[^"]*"|none|true|false|-?\\d+)\\)`;
const PICKED = new RegExp(`\\{\\{\\s*(?:(${PATH})(?:${FALLBACK})?|(now\\(\\))|add_days\\(now\\(\\),\\s*-(\\d+)\\))\\s*\\}\\}`, 'g');

function pathWords(path) {
  return path
    .split('.')
    .map((p) => words(p.replace(/\[(\d+)\]/g, (_, d) => ` ${Number(d) + 1}`)))
    .join(' › ');
}

/// An input's text with each picked value (`{{ user.profile.login }}`) as a
/// chip in words ("User › Profile › Login"), the expression in its tooltip;
/// anything else as written.
export function readable(text) {
  const out = [];
  let at = 0;
  for (const m of String(text ?? '').matchAll(PICKED)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    const fallback = m[2] === undefined ? '' : m[2] === 'none' ? ' (or nothing)' : ` (or ${m[2].replace(/^['"]|['"]$/g, '')})`;
    const label = m[1] ? pathWords(m[1]) + fallback : m[3] ? 'Now' : `${m[4]} days ago`;
    out.push(h('span', { class: 'dg-chip', title: m[0] }, label));
    at = m.index + m[0].length;
  }
  const rest = String(text ?? '').slice(at);
  // A summary cut inside a value ends at the value: "… `{{ user.profile.dep…"
  // reads "… `…".
  const open = rest.indexOf('{{');
  if (open >= 0 && rest.endsWith('…')) out.push(rest.slice(0, open), '…');
  else if (rest) out.push(rest);
  return out;
}

/// "Switch on user.profile.department" (or the builder's "By …") with a
/// plain path in words; null for anything else.
function switchWords(summary) {
  const m = new RegExp(`^(?:Switch on|By) (${PATH})$`).exec(summary);
  return m ? `By ${pathWords(m[1])}` : null;
}

/// "If a.b and not c.d" in words, as the condition rows show it ("If A › B
/// is true and C › D is false"); null when the condition is not rows.
function conditionWords(summary) {
  const m = /^If (.*)$/.exec(summary);
  const parsed = m && !m[1].endsWith('…') ? parseConditions(m[1]) : null;
  if (!parsed || !parsed.clauses.length) return null;
  if (parsed.clauses.length === 1 && parsed.clauses[0].left === 'true') return 'If … (pick a condition)';
  const clause = (c) => {
    const op = OPS.find((o) => o.id === c.op);
    const left = /^days_since\((.*)\)$/.exec(c.left);
    const subject = left ? `the age in days of ${pathWords(left[1])}` : pathWords(c.left);
    const label = op.unary ? op.label.replace(/ \(.*\)$/, '') : op.label;
    return `${subject} ${label}${op.unary ? '' : ` ${c.right}`}`;
  };
  return `If ${parsed.clauses.map(clause).join(parsed.join === 'and' ? ' and ' : ' or ')}`;
}
