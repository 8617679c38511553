// The field picker's list: what an expression at one point of a flow can
// read, each with a label in words (“User › Profile › Login”) and the
// expression the picker inserts (`{{ user.profile.login }}`).
//
// The names come from the outline node's `scope` (the daemon's compiler
// decides what has run on every path to a step); what is inside each name
// comes from schemas: the cards' output schemas, the Okta event schema, the
// trigger's inputs. This module only lists; it never decides that a name is
// in scope, so the picker cannot offer what validation would refuse.

import { h } from './dom.js';
import { inputsSchema, resolve, stripNull, typesOf, words } from './schemaform.js';

const SEP = ' › ';
// How deep objects are unfolded, and how many fields one list holds at most.
const MAX_DEPTH = 4;
const MAX_ENTRIES = 1000;

// Okta user profiles are free-form objects in the cards' schemas (any
// attribute an org adds); these are the ones every org has or commonly uses.
const OKTA_PROFILE = ['login', 'email', 'firstName', 'lastName', 'displayName', 'department', 'title', 'managerId', 'manager', 'employeeNumber', 'division', 'organization', 'costCenter', 'userType', 'mobilePhone', 'secondEmail', 'city', 'countryCode'];

// `{ key: [type, title, description?] }` as an object schema.
function object(fields) {
  const properties = {};
  for (const [k, [type, title, description]] of Object.entries(fields)) properties[k] = { type, title, description };
  return { type: 'object', properties };
}

const SCHEDULE_EVENT = object({
  fire_time: ['string', 'Fire time', 'When this run was due (RFC 3339).'],
  cron: ['string', 'Cron pattern'],
  timezone: ['string', 'Time zone'],
  missed: ['array', 'Missed fire times', 'Earlier fire times a catch-up run stands for.'],
});
SCHEDULE_EVENT.properties.missed.items = { type: 'string' };

const FLOW_SCHEMA = object({ name: ['string', 'Name'], run_id: ['string', 'Run id'], dry_run: ['boolean', 'Dry run'] });

const ERROR_SCHEMA = object({
  kind: ['string', 'Kind', 'invalid-input, not-found, denied, rate-limited, timeout, failed…'],
  message: ['string', 'Message'],
  step: ['string', 'Step', 'The path of the step that failed.'],
  card: ['string', 'Card', 'name@version'],
  retryable: ['boolean', 'Retryable'],
  detail: [undefined, 'Detail'],
});

const LOOP_SCHEMA = object({
  index: ['integer', 'Number (from 1)'],
  index0: ['integer', 'Index (from 0)'],
  first: ['boolean', 'First'],
  last: ['boolean', 'Last'],
  length: ['integer', 'Length'],
});

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/// The expression reading `path` (`['user', 'profile', 'login']`, numbers
/// for list positions): `{{ user.profile.login }}`, `{{ event.target[0].id }}`,
/// `{{ user.profile["cost-center"] }}`.
export function expressionOf(path) {
  let s = String(path[0]);
  for (const p of path.slice(1)) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (IDENT.test(p)) s += `.${p}`;
    else s += `[${JSON.stringify(String(p))}]`;
  }
  return `{{ ${s} }}`;
}

/// Every step of an outline (`{ steps, on_failure }` of Nodes) by id.
export function stepsById(outline) {
  const byId = new Map();
  const walk = (nodes) => {
    for (const n of nodes || []) {
      if (n && n.id) byId.set(n.id, n);
      for (const b of (n && n.branches) || []) walk(b.steps);
    }
  };
  walk(outline && outline.steps);
  walk(outline && outline.on_failure);
  return byId;
}

/// The `for_each` steps around the step at `yamlPath` in the parsed flow
/// value (innermost last): `[{ as, list }]`, for the loop variables' fields.
export function loopsAround(flowValue, yamlPath) {
  const loops = [];
  let v = flowValue;
  for (let i = 0; i < yamlPath.length && v !== undefined && v !== null; i++) {
    const k = yamlPath[i];
    if (k === 'steps' && i > 0 && v && typeof v === 'object' && 'for_each' in v) loops.push({ as: v.as || 'item', list: v.for_each });
    v = v[k];
  }
  return loops;
}

/// The `vars` names set by `assign` steps before the step at `yamlPath`, in
/// file order (assignments inside a loop count only within that loop).
export function varsBefore(flowValue, yamlPath) {
  const names = new Set();
  const target = JSON.stringify(yamlPath);
  const parent = JSON.stringify(yamlPath.slice(0, -1));
  const index = yamlPath[yamlPath.length - 1];
  let done = false;
  // `yamlPath` may be where a new step goes (one past the end of its list).
  const visit = (list, path) => {
    const isParent = JSON.stringify(path) === parent;
    (list || []).forEach((step, i) => {
      if (done || (isParent && i >= index)) return;
      const p = [...path, i];
      if (!step || typeof step !== 'object') return;
      const inside = target.startsWith(JSON.stringify(p).slice(0, -1) + ',');
      if (step.assign && typeof step.assign === 'object') for (const k of Object.keys(step.assign)) names.add(k);
      for (const k of ['then', 'else', 'default', 'on_error']) if (Array.isArray(step[k])) visit(step[k], [...p, k]);
      if (step.cases && typeof step.cases === 'object') for (const [c, l] of Object.entries(step.cases)) visit(l, [...p, 'cases', c]);
      // A loop's assignments are local to its iterations.
      if (Array.isArray(step.steps) && (!('for_each' in step) || inside)) visit(step.steps, [...p, 'steps']);
    });
    if (isParent) done = true;
  };
  visit(flowValue && flowValue.steps, ['steps']);
  if (!done) visit(flowValue && flowValue.on_failure, ['on_failure']);
  return [...names];
}

/// What the flow itself keeps in its tables: `rows` (table → the names of
/// the values its `tables.put` steps write there, when the table is named as
/// is and the value is named values) and `reads` (a `tables.get` step's id →
/// its table). A read then offers the row's values by name.
export function tableRows(flowValue) {
  const rows = {};
  const reads = {};
  const visit = (list) => {
    for (const st of Array.isArray(list) ? list : []) {
      if (!st || typeof st !== 'object') continue;
      const w = st.with && typeof st.with === 'object' ? st.with : null;
      const table = w && typeof w.table === 'string' && !w.table.includes('{{') ? w.table : null;
      const card = String(st.card || '').split('@')[0];
      if (table && card === 'tables.put' && w.value && typeof w.value === 'object' && !Array.isArray(w.value)) {
        rows[table] = [...new Set([...(rows[table] || []), ...Object.keys(w.value)])];
      }
      if (table && card === 'tables.get' && typeof st.id === 'string') reads[st.id] = table;
      for (const k of ['then', 'else', 'default', 'on_error', 'steps']) visit(st[k]);
      if (st.cases && typeof st.cases === 'object') for (const l of Object.values(st.cases)) visit(l);
    }
  };
  visit(flowValue && flowValue.steps);
  visit(flowValue && flowValue.on_failure);
  return { rows, reads };
}

// A table read's output with its row's values named.
function withRow(schema, names) {
  const props = schema && schema.properties && typeof schema.properties === 'object' ? schema.properties : {};
  const value = { type: ['object', 'null'], description: 'The row, when found.', properties: Object.fromEntries(names.map((n) => [n, {}])) };
  return { ...schema, properties: { ...props, value } };
}

/// The fields available at an outline node.
///
/// - `scope`: the node's `scope` (names an expression there may read);
/// - `outline`: the flow's outline (for each step id's kind and card);
/// - `cards`: the cards as the `cards` endpoint lists them (`[{ name, output_schema }]`),
///   or an object of output schemas by card name;
/// - `eventSchema`: the `eventSchema` endpoint's answer, for Okta triggers;
/// - `loops`: `loopsAround(…)` for the node, `vars`: `varsBefore(…)`;
/// - `tables`: `tableRows(…)` of the flow.
///
/// Returns `[{ group, label, expression, path, type, description }]`, in
/// the order a person looks for them: the event, earlier steps, loop
/// variables, variables, the error, the flow.
export function availableFields({ scope = [], outline = null, cards = {}, eventSchema = null, loops = [], vars = [], tables = null, maxDepth = MAX_DEPTH, limit = MAX_ENTRIES } = {}) {
  const out = [];
  const schemas = outputSchemas(cards);
  const byId = stepsById(outline);
  const trigger = (outline && outline.trigger) || {};
  const names = new Set(scope);
  const add = (group, name, label, schema) => walk(out, { group, path: [name], labels: [label], schema, root: schema, depth: 0, maxDepth, limit });

  if (names.has('event')) add('Event', 'event', 'Event', eventSchemaFor(trigger, eventSchema));
  if (names.has('inputs')) add('Inputs', 'inputs', 'Inputs', inputsSchema(trigger.inputs));
  for (const name of scope) {
    if (!byId.has(name) || !IDENT.test(name)) continue; // `a-b` reads as a subtraction
    const node = byId.get(name);
    const what = node.summary || node.card || node.kind;
    const table = tables && tables.reads[name];
    const schema = table && tables.rows[table] ? withRow(stepSchema(node, schemas), tables.rows[table]) : stepSchema(node, schemas);
    add(`Step “${name}”${what ? ` · ${what}` : ''}`, name, words(name), schema);
  }
  for (const { as, list } of loops) {
    if (!names.has(as)) continue;
    add('Loop', as, words(as), itemSchema(list, { byId, schemas, trigger, eventSchema }));
  }
  if (names.has('loop') && loops.length) add('Loop', 'loop', 'Loop', LOOP_SCHEMA);
  if (names.has('vars')) {
    add('Variables', 'vars', 'Variables', { type: 'object', properties: Object.fromEntries(vars.map((v) => [v, {}])) });
  }
  if (names.has('error')) add('The error', 'error', 'Error', ERROR_SCHEMA);
  if (names.has('flow')) add('This flow', 'flow', 'Flow', FLOW_SCHEMA);
  return out;
}

function outputSchemas(cards) {
  if (Array.isArray(cards)) return Object.fromEntries(cards.filter((c) => c && c.name).map((c) => [c.name, c.output_schema]));
  return cards || {};
}

function eventSchemaFor(trigger, eventSchema) {
  switch (trigger.kind) {
    case 'okta':
      return eventSchema || {};
    case 'schedule':
      return SCHEDULE_EVENT;
    case 'flow':
      return inputsSchema(trigger.inputs);
    case 'manual':
      // A manual flow with a form sees its answers as the event too.
      return trigger.inputs ? inputsSchema(trigger.inputs) : {};
    default:
      return {}; // an API body or a manual run: any value
  }
}

// What a step's output looks like, by its kind.
function stepSchema(node, schemas) {
  switch (node.kind) {
    case 'card':
      return inline((node.card && schemas[node.card]) || {});
    case 'if':
      return { type: 'boolean', description: 'The condition’s value.' };
    case 'switch':
      return { type: 'string', description: 'The case that matched, or none.' };
    case 'for_each': {
      if (node.paged) {
        return {
          type: 'object',
          properties: {
            count: { type: 'integer', description: 'How many items the loop went through.' },
            pages: { type: 'integer', description: 'How many pages it read.' },
          },
        };
      }
      // One mapping per iteration: the outputs of the body's top-level steps by id.
      const body = ((node.branches || []).find((b) => b.role === 'loop') || {}).steps || [];
      const props = {};
      for (const s of body) if (s.id && IDENT.test(s.id)) props[s.id] = stepSchema(s, schemas);
      return { type: 'array', description: 'One entry per item, with the outputs of the steps inside by id.', items: { type: 'object', properties: props } };
    }
    default:
      return {};
  }
}

// The schema of a loop's item, when its list is a plain path to a known list
// (`{{ groups.items }}`, `{{ event.target }}`); else any value.
function itemSchema(list, { byId, schemas, trigger, eventSchema }) {
  // A loop over pages: an item of the page card's `items`.
  if (list && typeof list === 'object' && typeof list.card === 'string') {
    const root = inline(schemas[list.card.split('@')[0]] || {});
    const items = root.properties && root.properties.items;
    return items && items.items ? inline(stripNull(items.items, root).schema, root) : {};
  }
  const m = typeof list === 'string' ? /^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}\s*$/.exec(list) : null;
  if (!m) return {};
  const [head, ...rest] = m[1].split('.');
  let root;
  if (head === 'event') root = eventSchemaFor(trigger, eventSchema);
  else if (byId.has(head)) root = stepSchema(byId.get(head), schemas);
  else return {};
  let s = stripNull(root, root).schema;
  for (const k of rest) {
    const props = s.properties || {};
    if (!(k in props)) return {};
    s = stripNull(props[k], root).schema;
  }
  if (!typesOf(s, root).includes('array')) return {};
  return inline(stripNull(s.items || {}, root).schema, root);
}

// `schema` with its local references written out (bounded, for recursive
// types), so it can sit inside another schema that has no `$defs`.
function inline(schema, root = schema, depth = 0) {
  if (depth > MAX_DEPTH + 2) return {};
  const s = resolve(schema, root);
  // A root schema's title is its Rust type's name (`Out`), not words for a person.
  if (depth === 0 && s && typeof s === 'object') {
    const { title: _, ...rest } = s;
    return inline(rest, root, 1);
  }
  if (!s || typeof s !== 'object' || Array.isArray(s)) return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$defs' || k === 'definitions') continue;
    if (k === 'properties' && v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, inline(pv, root, depth + 1)]));
    else if ((k === 'anyOf' || k === 'oneOf' || k === 'allOf') && Array.isArray(v)) out[k] = v.map((a) => inline(a, root, depth + 1));
    else if (k === 'items' && v && typeof v === 'object') out[k] = inline(v, root, depth + 1);
    else out[k] = v;
  }
  return out;
}

function typeWords(types) {
  if (!types.length) return 'any';
  const names = { string: 'text', integer: 'number', number: 'number', boolean: 'yes/no', object: 'mapping', array: 'list' };
  return [...new Set(types.map((t) => names[t] || t))].join(' or ');
}

function walk(out, { group, path, labels, schema, root, depth, maxDepth, limit, parent = null }) {
  if (out.length >= limit) return;
  const { schema: s } = stripNull(schema, root);
  const types = typesOf(s, root);
  const isList = types.length === 1 && types[0] === 'array';
  out.push({
    group,
    label: labels.join(SEP) + (isList ? ' (list)' : ''),
    expression: expressionOf(path),
    path,
    type: typeWords(types),
    description: s.description ?? null,
  });
  if (depth >= maxDepth) return;
  const next = (key, sub, label) => walk(out, { group, path: [...path, key], labels: [...labels, label], schema: sub, root, depth: depth + 1, maxDepth, limit, parent: s });
  if (isList) {
    next(0, s.items || {}, 'First');
    return;
  }
  if (s.properties && typeof s.properties === 'object') {
    // A property's own title is words for a person; a referenced type's
    // title is a type name (`Group`), so the key in words is used instead.
    for (const [k, sub] of Object.entries(s.properties)) next(k, sub, (sub && typeof sub.title === 'string' && sub.title) || words(k));
    return;
  }
  // A free-form profile of an Okta user (a sibling `id` and `status`).
  const key = path[path.length - 1];
  if (key === 'profile' && types.includes('object') && parent && parent.properties && 'id' in parent.properties && 'status' in parent.properties) {
    for (const a of OKTA_PROFILE) next(a, { type: 'string' }, words(a));
  }
}

/// The entries whose label, expression or group has every word of `query`.
export function filterFields(list, query) {
  const terms = String(query || '')
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean);
  if (!terms.length) return list;
  return list.filter((f) => {
    const text = `${f.group} ${f.label} ${f.expression}`.toLowerCase();
    return terms.every((t) => text.includes(t));
  });
}

/// The picker's list as DOM: entries under their group's heading, each a
/// button (keyboard reachable) that calls `onPick(entry)`.
export function renderFieldList(list, { onPick = () => {}, label = 'Available values' } = {}) {
  const items = [];
  let group = null;
  for (const f of list) {
    if (f.group !== group) {
      group = f.group;
      items.push(h('li', { class: 'fp-group', role: 'presentation' }, group));
    }
    items.push(
      h(
        'li',
        null,
        h(
          'button',
          { type: 'button', class: 'fp-item', title: f.description || null, dataset: { expression: f.expression }, on: { click: () => onPick(f) } },
          f.label,
          h('span', { class: 'fp-expr' }, f.expression),
        ),
      ),
    );
  }
  if (!items.length) items.push(h('li', { class: 'fp-group' }, 'Nothing matches.'));
  return h('ul', { class: 'fp-list', 'aria-label': label }, items);
}
