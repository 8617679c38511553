// The builder's model of a flow file: its text, and the YAML document parsed
// from it, edited by the outline's `yaml` paths.
//
// The file is the truth and a developer reviews what the builder writes, so
// an edit changes only the lines it must: every operation computes the text of
// the entries it adds, replaces or removes and splices it into the file's
// text, then parses the result again. Nothing re-prints the whole document, so
// comments, key order, quoting, flow or block style, folded text and blank
// lines outside the edited entries stay byte for byte. New entries are written
// as a developer would write them: block style, expressions in quotes,
// multi-line text as `|` blocks, keys in the order FORMAT.md shows them.
//
// This module knows the flow language's shape (which keys a step has, where
// step lists are), not its rules: whether a flow is valid is the daemon's
// answer (the `checkFlow` endpoint), never guessed here.

import { parseDocument, Document, isMap, isSeq, isScalar, visit, Scalar } from './vendor/yaml.js';

/// A parse or edit that could not be done; `line` (1-based) when known.
export class FlowDocError extends Error {
  constructor(message, line = null) {
    super(message);
    this.name = 'FlowDocError';
    this.line = line;
  }
}

/// The keys that say what kind a step is (exactly one per step).
export const STEP_KINDS = ['card', 'if', 'switch', 'for_each', 'assign', 'return', 'stop', 'fail', 'call', 'wait'];

// The order keys are written in when the builder adds one (FORMAT.md's order);
// keys not listed go after these.
const ROOT_ORDER = ['name', 'description', 'enabled', 'keep_step_data', 'trigger', 'steps', 'on_failure'];
const STEP_ORDER = ['id', 'description', ...STEP_KINDS, 'as', 'concurrency', 'org', 'with', 'then', 'else', 'cases', 'default', 'steps', 'collect', 'reduce', 'retry', 'timeout', 'fuel', 'memory', 'on_error'];
const TRIGGER_ORDER = ['okta', 'org', 'filter', 'include_own_events', 'schedule', 'api', 'flow'];
const SCHEDULE_ORDER = ['cron', 'timezone', 'catch_up', 'overlap'];
const INPUT_ORDER = ['type', 'required', 'default', 'description'];

// A flow-style mapping longer than this after an edit is rewritten in block style.
const MAX_FLOW_LINE = 100;

// Strings YAML 1.1 readers take for booleans or null: always quoted.
const AMBIGUOUS = /^(y|yes|n|no|on|off|true|false|null|~)$/i;

/// `{{ text }}`.
export function expr(text) {
  return `{{ ${String(text).trim()} }}`;
}

/// Whether `value` is exactly one `{{ … }}` expression (what a form field
/// accepts instead of a typed value).
export function isExpression(value) {
  return typeof value === 'string' && /^\s*\{\{[\s\S]*\}\}\s*$/.test(value) && value.indexOf('{{', value.indexOf('{{') + 2) < 0;
}

/// Whether `value` holds any `{{ … }}` hole (text with holes included).
export function hasExpression(value) {
  return typeof value === 'string' && /\{\{[\s\S]*?\}\}/.test(value);
}

// ---------------------------------------------------------------------------
// The step shapes of the flow language, as plain values in the order a
// developer writes their keys. `extra` adds fields (id, description, retry…).

export const shapes = {
  card(name, inputs = {}, extra = {}) {
    const s = { ...pick(extra, ['id', 'description']), card: name };
    if (inputs && Object.keys(inputs).length) s.with = inputs;
    return { ...s, ...omit(extra, ['id', 'description']) };
  },
  if(condition, { then = [], else: otherwise, ...extra } = {}) {
    const s = { ...pick(extra, ['id', 'description']), if: condition, then };
    if (otherwise) s.else = otherwise;
    return { ...s, ...omit(extra, ['id', 'description']) };
  },
  switch(subject, cases = ['case'], { withDefault = true, ...extra } = {}) {
    if (!cases.length) throw new FlowDocError('a switch needs at least one case');
    const s = { ...pick(extra, ['id', 'description']), switch: subject, cases: Object.fromEntries(cases.map((c) => [String(c), []])) };
    if (withDefault) s.default = [];
    return { ...s, ...omit(extra, ['id', 'description']) };
  },
  forEach(list, as = 'item', { concurrency, steps = [], ...extra } = {}) {
    const s = { ...pick(extra, ['id', 'description']), for_each: list, as };
    if (concurrency && concurrency !== 1) s.concurrency = concurrency;
    s.steps = steps;
    return { ...s, ...omit(extra, ['id', 'description']) };
  },
  call(flow, inputs = {}, extra = {}) {
    const s = { ...pick(extra, ['id', 'description']), call: flow };
    if (inputs && Object.keys(inputs).length) s.with = inputs;
    return { ...s, ...omit(extra, ['id', 'description']) };
  },
  assign(values, extra = {}) {
    return { ...pick(extra, ['id', 'description']), assign: values, ...omit(extra, ['id', 'description']) };
  },
  return(value, extra = {}) {
    return { ...pick(extra, ['id', 'description']), return: value };
  },
  stop(reason, extra = {}) {
    return { ...pick(extra, ['id', 'description']), stop: reason };
  },
  fail(message, extra = {}) {
    return { ...pick(extra, ['id', 'description']), fail: message };
  },
  /// `spec`: `{ for }`, `{ until }` or `{ signal, choices, timeout }`.
  wait(spec, extra = {}) {
    return { ...pick(extra, ['id', 'description']), wait: spec, ...omit(extra, ['id', 'description']) };
  },
};

/// `retry: { attempts, backoff, max_backoff }` as a step field value.
export function retry(attempts, backoff, maxBackoff) {
  const r = { attempts };
  if (backoff) r.backoff = backoff;
  if (maxBackoff) r.max_backoff = maxBackoff;
  return r;
}

function pick(o, keys) {
  const r = {};
  for (const k of keys) if (o[k] !== undefined && o[k] !== null && o[k] !== '') r[k] = o[k];
  return r;
}

function omit(o, keys) {
  const r = {};
  for (const [k, v] of Object.entries(o)) if (!keys.includes(k) && v !== undefined) r[k] = v;
  return r;
}

/// The kind of a step value (`card`, `if`, …), or null.
export function stepKind(step) {
  if (!step || typeof step !== 'object') return null;
  return STEP_KINDS.find((k) => k in step) ?? null;
}

// ---------------------------------------------------------------------------
// Rendering new entries.

// Quote and block choices for new scalars: expressions in quotes (single
// quotes when the expression itself has double ones), several lines as a
// literal block, YAML 1.1 booleans quoted.
function styleScalars(doc) {
  visit(doc, {
    Scalar(key, node) {
      // Scalars read from the file keep the style they were written in.
      if (key === 'key' || node.type || typeof node.value !== 'string') return;
      const v = node.value;
      if (v.includes('\n') && !/^\s|\s$/.test(v.replace(/\n$/, '')) && !/[\t\r]/.test(v)) node.type = Scalar.BLOCK_LITERAL;
      else if (hasExpression(v) || /^[{[*&!|>'"%@`#,?:-]/.test(v) || v.includes('*') || AMBIGUOUS.test(v)) {
        node.type = v.includes('"') && !v.includes("'") && !v.includes('\n') ? Scalar.QUOTE_SINGLE : Scalar.QUOTE_DOUBLE;
      }
    },
  });
}

const RENDER = { lineWidth: 0, minContentWidth: 0, indent: 2, indentSeq: true };

// `value` as YAML lines at column 0, block style.
function renderLines(value, indent = 2) {
  const doc = new Document(value);
  styleScalars(doc);
  return doc.toString({ ...RENDER, indent }).replace(/\n+$/, '').split('\n');
}

const FOLD_AT = 78;

// `text` (one line, longer than a line) as the lines of a `>-` block at
// `indent`, broken at single spaces; null when folding could change it
// (two spaces, a tab, a leading or trailing space, or nothing to break).
function foldedLines(text, indent) {
  if (text.length <= FOLD_AT || /\n|\t| {2}|^ | $/.test(text) || !/^[^#]/.test(text)) return null;
  const pad = ' '.repeat(indent);
  const lines = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > FOLD_AT - indent) {
      lines.push(pad + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(pad + line);
  return lines.length > 1 ? lines : null;
}

// One scalar as its text, when it fits on one line in block context; in
// `type`'s quotes when given and possible (a replaced value keeps its quotes).
function renderScalarInline(value, type) {
  let lines;
  if (typeof value === 'string' && (type === Scalar.QUOTE_DOUBLE || type === Scalar.QUOTE_SINGLE) && !value.includes('\n')) {
    const doc = new Document({ k: value });
    doc.contents.items[0].value.type = type;
    lines = doc.toString(RENDER).replace(/\n+$/, '').split('\n');
  } else {
    lines = renderLines({ k: value });
  }
  if (lines.length !== 1 || !lines[0].startsWith('k: ')) return null;
  return lines[0].slice(3);
}

function isScalarValue(v) {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

function indentLines(lines, n) {
  const pad = ' '.repeat(n);
  return lines.map((l) => (l.trim() === '' ? '' : pad + l));
}

function dedentLines(lines, n) {
  return lines.map((l) => (l.trim() === '' ? '' : l.slice(Math.min(n, l.length - l.trimStart().length))));
}

function rank(order, key) {
  const i = order.indexOf(key);
  return i < 0 ? order.length : i;
}

function orderFor(path) {
  if (path.length === 0) return ROOT_ORDER;
  const last = path[path.length - 1];
  if (typeof last === 'number') return STEP_ORDER;
  if (last === 'trigger') return TRIGGER_ORDER;
  // A loop over pages: its card takes a card step's keys.
  if (last === 'for_each') return STEP_ORDER;
  if (last === 'schedule') return SCHEDULE_ORDER;
  if (path.length >= 3 && path[path.length - 2] === 'inputs') return INPUT_ORDER;
  return [];
}

// ---------------------------------------------------------------------------

/// A flow file being edited. Every edit returns nothing or a new path and
/// leaves `text` the new file; `doc` is always the parse of `text`.
export class FlowDoc {
  /// Parse `text`; throws FlowDocError (with the line) when it is not one
  /// YAML document with a mapping at the top.
  static parse(text) {
    return new FlowDoc(text);
  }

  constructor(text) {
    this.text = String(text);
    this.eol = this.text.includes('\r\n') ? '\r\n' : '\n';
    this.doc = FlowDoc.#parseText(this.text);
    if (!isMap(this.doc.contents) && this.doc.contents !== null) {
      throw new FlowDocError('the file is not a mapping of name, description, trigger and steps', 1);
    }
  }

  static #parseText(text) {
    const doc = parseDocument(text, { keepSourceTokens: false, uniqueKeys: true, prettyErrors: true });
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos ? err.linePos[0].line : null;
      throw new FlowDocError(`not valid YAML: ${err.message.split('\n')[0]}`, line);
    }
    return doc;
  }

  toString() {
    return this.text;
  }

  /// The plain value at `path` (JSON-like), or undefined.
  get(path = []) {
    const n = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    if (n === undefined) return undefined;
    return n && typeof n.toJSON === 'function' ? n.toJSON() : n;
  }

  /// Why the builder cannot edit this file, or null when it can. Anything the
  /// YAML parser accepts can be spliced; what matters is the shape the edits
  /// address.
  readOnlyReason() {
    const root = this.doc.contents;
    if (!isMap(root)) return 'the file is not a mapping';
    if (root.flow) return 'the file is written as one flow mapping ({ … }); the builder edits block-style files';
    const steps = root.get('steps', true);
    if (steps !== undefined && steps !== null && !isSeq(steps) && !(isScalar(steps) && steps.value === null)) return '`steps` is not a list';
    let anchors = false;
    visit(this.doc, {
      Node(_, n) {
        if (n.anchor) anchors = true;
      },
      Alias() {
        anchors = true;
      },
    });
    if (anchors) return 'the file uses YAML anchors or aliases, which flows do not accept';
    return null;
  }

  // ---- whole-flow fields -------------------------------------------------

  get name() {
    return this.get(['name']) ?? '';
  }

  setName(name) {
    this.#setKey([], 'name', String(name).trim());
  }

  get description() {
    return this.get(['description']) ?? '';
  }

  /// Several lines are written as a `|` block, ending in a newline like the
  /// seed flows' descriptions.
  setDescription(text) {
    let t = String(text).replace(/\r\n/g, '\n').trim();
    if (t.includes('\n')) t += '\n';
    // One long line reads as a folded block a developer would write, which
    // YAML reads back as the very same line.
    const folded = foldedLines(t, this.#indentUnit());
    if (folded && this.get(['description']) !== t) return this.#setKeyLines([], 'description', ['description: >-', ...folded]);
    this.#setKey([], 'description', t);
  }

  /// Whether the flow is on (no `enabled` key, or `enabled: true`).
  get enabled() {
    return this.get(['enabled']) !== false;
  }

  /// Turn the flow off (`enabled: false` after `description`) or on again
  /// (an existing key becomes `true` in place).
  setEnabled(on) {
    if (on && this.get(['enabled']) === undefined) return;
    this.#setKey([], 'enabled', Boolean(on));
  }

  /// Whether the history keeps the steps' inputs and outputs (no
  /// `keep_step_data` key, or `true`).
  get keepsStepData() {
    return this.get(['keep_step_data']) !== false;
  }

  /// Keep the steps' inputs and outputs (the key goes) or not
  /// (`keep_step_data: false`).
  setKeepsStepData(keep) {
    if (keep) {
      if (this.get(['keep_step_data']) !== undefined) this.#removeKey([], 'keep_step_data');
      return;
    }
    this.#setKey([], 'keep_step_data', false);
  }

  /// The trigger as `{ kind, … }`: okta `{ event_types, filter, include_own_events }`
  /// (and `org` when the file names the Okta org),
  /// schedule `{ cron, timezone, catch_up, overlap }`, api `{ sync_timeout }`,
  /// flow `{ inputs: [{ name, type, required, description, default }] }`, manual `{}`.
  trigger() {
    return normalizeTrigger(this.get(['trigger']));
  }

  /// Set the trigger from the same shape `trigger()` gives. With the same
  /// kind, only the keys that change are rewritten (comments beside the
  /// others stay); another kind replaces the trigger.
  setTrigger(spec) {
    const value = triggerValue(spec);
    this.batch(() => this.#setTrigger(spec, value));
  }

  /// Name the Okta org whose events start the flow (`org:` beside `okta:`);
  /// null removes the key (the default org). Only an Okta trigger has one.
  setTriggerOrg(name) {
    const t = this.trigger();
    if (t.kind !== 'okta') throw new FlowDocError('only an Okta trigger names an org');
    this.setTrigger({ ...t, org: name || null });
  }

  #setTrigger(spec, value) {
    const node = this.doc.getIn(['trigger'], true);
    const current = normalizeTrigger(this.get(['trigger']));
    if (isMap(node) && !node.flow && current.kind === spec.kind && isMapValue(value)) {
      const keys = Object.keys(value);
      if (spec.kind === 'schedule' && isMap(node.get('schedule', true)) && !node.get('schedule', true).flow) {
        for (const [k, v] of Object.entries(value.schedule)) this.#setKey(['trigger', 'schedule'], k, v);
        for (const k of Object.keys(node.get('schedule').toJSON())) if (!(k in value.schedule)) this.#removeKey(['trigger', 'schedule'], k);
        return;
      }
      for (const k of keys) this.#setKey(['trigger'], k, value[k]);
      for (const pair of [...this.doc.getIn(['trigger'], true).items]) {
        const k = keyOf(pair);
        if (!keys.includes(k)) this.#removeKey(['trigger'], k);
      }
      return;
    }
    this.#setKey([], 'trigger', value);
  }

  // ---- steps ----------------------------------------------------------------

  /// The step list at `listPath` as plain values ([] when absent or empty).
  steps(listPath = ['steps']) {
    const v = this.get(listPath);
    return Array.isArray(v) ? v : [];
  }

  /// Every step id in the file.
  ids() {
    const ids = new Set();
    walkSteps(this.get([]), (step) => {
      if (step && typeof step.id === 'string') ids.add(step.id);
    });
    return ids;
  }

  /// An id not yet used in the file: `base`, else `base_2`, `base_3`… (`-`
  /// when the base has dashes). Ids with `_` stay readable in expressions.
  uniqueId(base, taken = this.ids()) {
    let b = String(base || 'step')
      .replace(/[^A-Za-z0-9_-]+/g, '_')
      .replace(/^[^A-Za-z]+/, '')
      .replace(/[_-]\d+$/, '');
    if (!b) b = 'step';
    if (!taken.has(b)) return b;
    const sep = b.includes('-') ? '-' : '_';
    for (let n = 2; ; n++) if (!taken.has(`${b}${sep}${n}`)) return `${b}${sep}${n}`;
  }

  /// Insert `step` (a plain value, e.g. from `shapes`) into the list at
  /// `listPath` (`['steps']`, `[…, 'then']`, `[…, 'cases', 'Sales']`,
  /// `[…, 'on_error']`, `['on_failure']`…) before `index` (default: at the
  /// end). A missing list is created. Returns the new step's path.
  insertStep(listPath, index, step) {
    const lines = renderLines([step], this.#indentUnit());
    return this.#insertItemLines(listPath, index, lines);
  }

  /// Move the step at `from` into the list at `toList` before `toIndex` (in
  /// the list as it is before the move). Its text moves as written, comments
  /// included, re-indented. Returns the new path.
  moveStep(from, toList, toIndex) {
    const fromList = from.slice(0, -1);
    const fromIndex = from[from.length - 1];
    if (startsWith(toList, from)) throw new FlowDocError('a step cannot move into itself');
    const { lines, col } = this.#itemText(fromList, fromIndex);
    let index = toIndex ?? this.steps(toList).length;
    // Paths into the same list, or lists after it, shift up by one once the step is gone.
    let target = toList.slice();
    if (startsWith(toList, fromList) && toList.length > fromList.length && typeof toList[fromList.length] === 'number' && toList[fromList.length] > fromIndex) {
      target[fromList.length] -= 1;
    }
    if (samePath(toList, fromList) && index > fromIndex) index -= 1;
    return this.batch(() => {
      this.deleteStep(from);
      return this.#insertItemLines(target, index, dedentLines(lines, col));
    });
  }

  /// Copy the step at `path` right after it, giving it and every step inside
  /// it a fresh unique id. Returns the copy's path.
  duplicateStep(path) {
    const list = path.slice(0, -1);
    const i = path[path.length - 1];
    const { lines, col } = this.#itemText(list, i);
    return this.batch(() => {
      const at = this.#insertItemLines(list, i + 1, dedentLines(lines, col));
      const taken = this.ids();
      const renames = [];
      walkStepsWithPath(this.get(at), at, (step, p) => {
        if (step && typeof step.id === 'string') renames.push([p, step.id]);
      });
      for (const [p, id] of renames) {
        const fresh = this.uniqueId(id, taken);
        taken.add(fresh);
        this.#setKey(p, 'id', fresh);
      }
      return at;
    });
  }

  /// Delete the step at `path` (with the comment lines right above it).
  deleteStep(path) {
    const list = path.slice(0, -1);
    const i = path[path.length - 1];
    const seq = this.doc.getIn(list, true);
    if (!isSeq(seq) || i < 0 || i >= seq.items.length) throw new FlowDocError(`no step at ${path.join('.')}`);
    if (seq.flow || seq.items.length === 1) {
      const items = seq.toJSON();
      items.splice(i, 1);
      if (seq.flow) return this.#setKey(list.slice(0, -1), list[list.length - 1], items);
      // The list becomes empty: `key: []`, valid and plain to read.
      return this.#setKey(list.slice(0, -1), list[list.length - 1], []);
    }
    const L = this.#lines();
    const { start, end } = this.#itemExtent(seq, i);
    let from = start;
    let to = end;
    if (i < seq.items.length - 1) {
      // Take the blank lines after it too, so the spacing between the others stays.
      const next = this.#itemExtent(seq, i + 1).start;
      while (to < next && L[to].trim() === '') to++;
    } else {
      const prevEnd = this.#itemExtent(seq, i - 1).end;
      while (from > prevEnd && L[from - 1].trim() === '') from--;
    }
    this.#splice(from, to, []);
  }

  /// Set a field of the step at `path` (`id`, `description`, `card`, `retry`,
  /// `timeout`, `as`, `concurrency`, `if`, `org`, …); null or undefined
  /// removes it. A loop over pages' card is at `[...path, 'for_each']`.
  setStepField(path, key, value) {
    if (value === undefined || value === null || value === '') return this.#removeKey(path, key);
    this.#setKey(path, key, value);
  }

  removeStepField(path, key) {
    this.#removeKey(path, key);
  }

  /// Set input `key` of the step's `with` to `value` (a plain value, or text
  /// with `{{ … }}`); the `with` mapping is created when missing.
  setInput(path, key, value) {
    if (value === undefined) return this.removeInput(path, key);
    const w = this.doc.getIn([...path, 'with'], true);
    if (isMap(w)) return this.#setKey([...path, 'with'], key, value);
    this.#setKey(path, 'with', { [key]: value });
  }

  /// Remove input `key`; the last one removes `with` itself.
  removeInput(path, key) {
    const w = this.doc.getIn([...path, 'with'], true);
    if (!isMap(w) || !w.has(key)) return;
    if (w.items.length === 1) return this.#removeKey(path, 'with');
    this.#removeKey([...path, 'with'], key);
  }

  /// Add a case (an empty list) to the switch at `path`.
  addCase(path, label) {
    const cases = this.doc.getIn([...path, 'cases'], true);
    if (isMap(cases) && cases.has(String(label))) throw new FlowDocError(`the switch already has a case “${label}”`);
    if (isMap(cases)) return this.#setKey([...path, 'cases'], String(label), []);
    this.#setKey(path, 'cases', { [String(label)]: [] });
  }

  /// Remove a case (and its steps) from the switch at `path`.
  removeCase(path, label) {
    this.#removeKey([...path, 'cases'], String(label));
  }

  /// Rename a case, keeping its steps and position.
  renameCase(path, from, to) {
    const cases = this.doc.getIn([...path, 'cases'], true);
    if (!isMap(cases)) throw new FlowDocError('no cases here');
    const pair = cases.items.find((p) => keyOf(p) === String(from));
    if (!pair) throw new FlowDocError(`no case “${from}”`);
    if (cases.has(String(to))) throw new FlowDocError(`the switch already has a case “${to}”`);
    const text = renderScalarInline(String(to));
    this.#spliceText(pair.key.range[0], pair.key.range[1], text);
  }

  /// Run `fn(this)` as one edit: when it throws, the file is as it was.
  batch(fn) {
    const before = this.text;
    try {
      return fn(this);
    } catch (e) {
      this.#load(before);
      throw e;
    }
  }

  // ---- text machinery -----------------------------------------------------

  #load(text) {
    const doc = FlowDoc.#parseText(text);
    this.text = text;
    this.doc = doc;
  }

  #lines() {
    return this.text.split('\n');
  }

  // Replace lines [from, to) with `lines` (without line ends).
  #splice(from, to, lines) {
    const L = this.#lines();
    const cr = this.eol === '\r\n' ? '\r' : '';
    L.splice(from, to - from, ...lines.map((l) => l + cr));
    this.#commit(L.join('\n'));
  }

  #spliceText(start, end, text) {
    this.#commit(this.text.slice(0, start) + text + this.text.slice(end));
  }

  #commit(text) {
    try {
      this.#load(text);
    } catch (e) {
      // An edit that breaks the YAML is a bug here, never the person's doing:
      // keep the file as it was.
      throw new FlowDocError(`internal: the edit would break the file (${e.message})`, e.line);
    }
  }

  #lineOf(offset) {
    let n = 0;
    for (let i = this.text.indexOf('\n'); i >= 0 && i < offset; i = this.text.indexOf('\n', i + 1)) n++;
    return n;
  }

  #colOf(offset) {
    return offset - (this.text.lastIndexOf('\n', offset - 1) + 1);
  }

  // The indentation unit of the file: how far the first nested block is indented.
  #indentUnit() {
    const root = this.doc.contents;
    if (isMap(root)) {
      for (const p of root.items) {
        const v = p.value;
        if (isMap(v) && !v.flow && v.items.length) return Math.max(1, this.#colOf(v.items[0].key.range[0]));
      }
    }
    return 2;
  }

  // Lines [start, end) of the entry whose first line is `line` and whose
  // key or dash is at `col`: it continues while lines are blank or indented
  // deeper; trailing blank lines are not its own. Comment lines right above it
  // at the same column are its own.
  #extent(line, col) {
    const L = this.#lines();
    let end = line + 1;
    while (end < L.length && (L[end].trim() === '' || indentOf(L[end]) > col)) end++;
    while (end > line + 1 && L[end - 1].trim() === '') end--;
    let start = line;
    while (start > 0 && L[start - 1].trim().startsWith('#') && indentOf(L[start - 1]) === col) start--;
    return { start, end };
  }

  // Where item `i` of block sequence `seq` is: its dash's line and column.
  #itemExtent(seq, i) {
    const item = seq.items[i];
    const at = item.range ? item.range[0] : null;
    if (at === null) throw new FlowDocError('cannot find the step in the file');
    // The dash is before the item's first character, on its line.
    let p = at - 1;
    while (p >= 0 && (this.text[p] === ' ' || this.text[p] === '\t')) p--;
    if (this.text[p] !== '-') {
      throw new FlowDocError('the builder cannot edit this list: write each step as `- key: value` on the dash line', this.#lineOf(at) + 1);
    }
    const line = this.#lineOf(p);
    const col = this.#colOf(p);
    return { ...this.#extent(line, col), col };
  }

  #itemText(listPath, i) {
    const seq = this.doc.getIn(listPath, true);
    if (!isSeq(seq) || i < 0 || i >= seq.items.length) throw new FlowDocError(`no step at ${[...listPath, i].join('.')}`);
    if (seq.flow) {
      return { lines: renderLines([seq.items[i].toJSON()], this.#indentUnit()), col: 0 };
    }
    const { start, end, col } = this.#itemExtent(seq, i);
    return { lines: this.#lines().slice(start, end).map((l) => l.replace(/\r$/, '')), col };
  }

  // Insert one sequence item, given as lines at column 0 starting with `- `.
  #insertItemLines(listPath, index, itemLines) {
    const seq = this.doc.getIn(listPath, true);
    const n = isSeq(seq) ? seq.items.length : 0;
    const i = index === undefined || index === null ? n : Math.max(0, Math.min(index, n));
    if (isSeq(seq) && !seq.flow && n > 0) {
      const L = this.#lines();
      const exts = seq.items.map((_, k) => this.#itemExtent(seq, k));
      const col = exts[0].col;
      // Steps separated by blank lines get one around the new step too.
      const spaced = exts.slice(1).some((e, k) => L.slice(exts[k].end, e.start).some((l) => l.trim() === ''));
      const body = indentLines(itemLines, col);
      if (i < n) this.#splice(exts[i].start, exts[i].start, spaced ? [...body, ''] : body);
      else this.#splice(exts[n - 1].end, exts[n - 1].end, spaced ? ['', ...body] : body);
      return [...listPath, i];
    }
    if (listPath.length === 0) throw new FlowDocError('no step list here');
    // No list yet (or an empty or flow one): write `key:` with the items in block style.
    const items = isSeq(seq) ? seq.items.map((it) => renderLines([it.toJSON()], this.#indentUnit())) : [];
    items.splice(i, 0, itemLines);
    const parent = listPath.slice(0, -1);
    const key = listPath[listPath.length - 1];
    if (typeof key === 'number') throw new FlowDocError('no step list here');
    const holder = parent.length ? this.doc.getIn(parent, true) : this.doc.contents;
    if (!isMap(holder)) throw new FlowDocError(`nothing at ${parent.join('.')} to hold \`${key}\``);
    this.#setKeyLines(parent, key, [`${renderKey(key)}:`, ...indentLines(items.flat(), this.#indentUnit())]);
    return [...listPath, i];
  }

  // Set `key` of the mapping at `path` to `value`.
  #setKey(path, key, value) {
    const map = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    if (!isMap(map)) {
      if (map === undefined || map === null || (isScalar(map) && map.value === null)) {
        if (path.length === 0) return this.#commit(`${renderLines({ [key]: value }).join(this.eol)}${this.eol}`);
        return this.#setKey(path.slice(0, -1), path[path.length - 1], { [key]: value });
      }
      throw new FlowDocError(`${path.join('.') || 'the file'} is not a mapping`);
    }
    const pair = map.items.find((p) => keyOf(p) === String(key));
    if (pair && deepEqual(toJSON(pair.value), value)) return;
    if (map.flow) return this.#rewriteFlowMap(path, map, (m, d) => m.set(d.createNode(key), d.createNode(value)));
    const old = pair ? pair.value : null;
    // One scalar for another on one line: only the value's characters change,
    // so a comment after it on the line stays.
    if (old && isScalar(old) && isScalarValue(value) && !String(old.type).startsWith('BLOCK') && old.range && !this.text.slice(old.range[0], old.range[1]).includes('\n')) {
      // Quotes the developer chose are kept; quotes the old value needed
      // (`"no"`, `"true"`) were not a choice and do not carry over.
      const chosen = (old.type === Scalar.QUOTE_DOUBLE || old.type === Scalar.QUOTE_SINGLE) && !/^["']/.test(renderScalarInline(old.value) ?? '"');
      const text = renderScalarInline(value, chosen ? old.type : undefined);
      if (text !== null) return this.#spliceText(old.range[0], old.range[1], text);
    }
    this.#setKeyLines(path, key, renderLines({ [key]: value }, this.#indentUnit()));
  }

  // Write a pair given as lines at column 0 (`key: …` first) into the block
  // mapping at `path`: over the old pair, or where the key's order puts it.
  #setKeyLines(path, key, lines) {
    const map = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    if (!isMap(map) || map.flow) {
      // A flow or missing mapping: rewrite it whole, in block style.
      const value = isMap(map) ? map.toJSON() : {};
      const parsed = parseDocument(lines.join('\n')).toJSON();
      value[key] = parsed[key];
      if (path.length === 0) throw new FlowDocError('the file is not a block mapping');
      const parentPath = path.slice(0, -1);
      const k = path[path.length - 1];
      if (typeof k === 'number') throw new FlowDocError('a step written as { … } cannot be edited in place');
      return this.#replacePair(parentPath, k, renderLines({ [k]: value }, this.#indentUnit()));
    }
    const pairs = map.items;
    const existing = pairs.find((p) => keyOf(p) === String(key));
    if (existing) return this.#replacePair(path, key, lines);
    const col = pairs.length ? this.#colOf(pairs[0].key.range[0]) : 0;
    const order = orderFor(path);
    const r = rank(order, String(key));
    const before = order.length ? pairs.find((p) => rank(order, keyOf(p)) > r) : undefined;
    if (before) {
      const { start } = this.#extent(this.#lineOf(before.key.range[0]), col);
      return this.#splice(start, start, indentLines(lines, col));
    }
    const last = pairs[pairs.length - 1];
    if (!last) throw new FlowDocError('cannot add to an empty mapping');
    const { end } = this.#extent(this.#lineOf(last.key.range[0]), col);
    this.#splice(end, end, indentLines(lines, col));
  }

  #replacePair(path, key, lines) {
    const map = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    const pair = map.items.find((p) => keyOf(p) === String(key));
    if (!pair) return this.#setKeyLines(path, key, lines);
    const col = this.#colOf(pair.key.range[0]);
    const line = this.#lineOf(pair.key.range[0]);
    const { end } = this.#extent(line, col);
    // The key's own comment lines above it stay: they describe the key.
    const first = this.#lines()[line];
    const keyStart = pair.key.range[0] - (this.text.lastIndexOf('\n', pair.key.range[0] - 1) + 1);
    const prefix = first.slice(0, keyStart);
    const body = indentLines(lines, col);
    // A pair that shares its line with a dash (`- id: x`) keeps the dash.
    if (prefix.trim() !== '') body[0] = prefix + lines[0];
    this.#splice(line, end, body);
  }

  #removeKey(path, key) {
    const map = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    if (!isMap(map)) return;
    const pair = map.items.find((p) => keyOf(p) === String(key));
    if (!pair) return;
    if (map.flow) return this.#rewriteFlowMap(path, map, (m) => m.delete(key));
    const col = this.#colOf(pair.key.range[0]);
    const line = this.#lineOf(pair.key.range[0]);
    const prefix = this.#lines()[line].slice(0, col);
    const { start, end } = this.#extent(line, col);
    if (prefix.trim() !== '') {
      // The first key of a step (`- id: x`): the next key moves up onto the dash line.
      const next = map.items[map.items.indexOf(pair) + 1];
      if (!next) throw new FlowDocError('cannot remove the only key of a step');
      const nextLine = this.#lineOf(next.key.range[0]);
      const L = this.#lines();
      const moved = prefix + L[nextLine].slice(col);
      return this.#splice(line, nextLine + 1, [moved.replace(/\r$/, '')]);
    }
    this.#splice(start, end, []);
  }

  // Change a `{ … }` mapping and write it again: on one line in flow style
  // while it stays short, else as a block.
  #rewriteFlowMap(path, map, change) {
    const padded = /^\{\s/.test(this.text.slice(map.range[0], map.range[1]));
    const holder = new Document({});
    const copy = map.clone();
    change(copy, holder);
    holder.contents = copy;
    styleScalars(holder);
    copy.flow = true;
    let text = holder.toString({ ...RENDER, flowCollectionPadding: padded }).trim();
    const col = this.#colOf(map.range[0]);
    if (copy.items.length === 0) text = '{}';
    if (!text.includes('\n') && col + text.length <= MAX_FLOW_LINE) return this.#spliceText(map.range[0], map.range[1], text);
    const k = path[path.length - 1];
    this.#replacePair(path.slice(0, -1), k, renderLines({ [k]: copy.toJSON() }, this.#indentUnit()));
  }
}

function indentOf(line) {
  return line.length - line.trimStart().length;
}

function keyOf(pair) {
  const k = pair.key;
  return isScalar(k) ? String(k.value) : String(k);
}

function renderKey(key) {
  return renderLines({ [key]: null })[0].replace(/:(\s.*)?$/, '');
}

function toJSON(n) {
  return n && typeof n.toJSON === 'function' ? n.toJSON() : n;
}

function isMapValue(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function deepEqual(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function startsWith(path, prefix) {
  return prefix.length <= path.length && prefix.every((p, i) => path[i] === p);
}

function samePath(a, b) {
  return a.length === b.length && startsWith(a, b);
}

// Every nested step list of a step value.
function childLists(step) {
  const out = [];
  if (!step || typeof step !== 'object') return out;
  for (const k of ['then', 'else', 'default', 'steps', 'on_error']) if (Array.isArray(step[k])) out.push([[k], step[k]]);
  if (isMapValue(step.cases)) for (const [c, l] of Object.entries(step.cases)) if (Array.isArray(l)) out.push([['cases', c], l]);
  return out;
}

function walkStepsWithPath(step, path, fn) {
  fn(step, path);
  for (const [rel, list] of childLists(step)) list.forEach((s, i) => walkStepsWithPath(s, [...path, ...rel, i], fn));
}

function walkSteps(root, fn) {
  if (!root || typeof root !== 'object') return;
  for (const k of ['steps', 'on_failure']) if (Array.isArray(root[k])) root[k].forEach((s, i) => walkStepsWithPath(s, [k, i], fn));
}

/// Every step of a parsed flow value with its `yaml` path, in file order.
export function allSteps(flowValue) {
  const out = [];
  walkSteps(flowValue, (step, path) => out.push({ path, step }));
  return out;
}

// ---- triggers ---------------------------------------------------------------

function normalizeTrigger(t) {
  if (t === 'manual') return { kind: 'manual' };
  if (t === 'api') return { kind: 'api', sync_timeout: null };
  if (!isMapValue(t)) return { kind: 'unknown' };
  if ('okta' in t) {
    const types = Array.isArray(t.okta) ? t.okta.map(String) : t.okta ? [String(t.okta)] : [];
    const spec = { kind: 'okta', event_types: types, filter: t.filter ?? null, include_own_events: t.include_own_events === true };
    // Kept only when written, so an edit of the trigger does not lose it.
    if (t.org !== undefined && t.org !== null) spec.org = String(t.org);
    return spec;
  }
  if ('schedule' in t) {
    const s = isMapValue(t.schedule) ? t.schedule : {};
    return { kind: 'schedule', cron: s.cron ?? '', timezone: s.timezone ?? '', catch_up: s.catch_up ?? null, overlap: s.overlap ?? null };
  }
  if ('api' in t) return { kind: 'api', sync_timeout: isMapValue(t.api) ? t.api.sync_timeout ?? null : null };
  // A helper's inputs, or a manual flow's typed ones (its form).
  for (const kind of ['flow', 'manual']) {
    if (!(kind in t)) continue;
    const ins = isMapValue(t[kind]) && isMapValue(t[kind].inputs) ? t[kind].inputs : {};
    const inputs = Object.entries(ins).map(([name, d]) =>
      typeof d === 'string'
        ? { name, type: d, required: true, description: null, default: null }
        : { name, type: d?.type ?? 'any', required: d?.default === undefined ? d?.required !== false : false, description: d?.description ?? null, default: d?.default ?? null },
    );
    return { kind, inputs };
  }
  return { kind: 'unknown' };
}

// Declared inputs as the trigger writes them.
function inputsValue(list) {
  const inputs = {};
  for (const i of list || []) {
    const d = { type: i.type || 'string' };
    if (i.default !== undefined && i.default !== null && i.default !== '') d.default = i.default;
    else if (i.required === false) d.required = false;
    else d.required = true;
    if (i.description) d.description = i.description;
    inputs[i.name] = d;
  }
  return inputs;
}

/// The YAML value of a trigger spec (the shape `FlowDoc.trigger()` gives).
export function triggerValue(spec) {
  switch (spec.kind) {
    case 'manual': {
      const inputs = inputsValue(spec.inputs);
      return Object.keys(inputs).length ? { manual: { inputs } } : 'manual';
    }
    case 'api':
      return spec.sync_timeout ? { api: { sync_timeout: spec.sync_timeout } } : 'api';
    case 'okta': {
      const types = spec.event_types || [];
      if (!types.length) throw new FlowDocError('pick at least one Okta event type');
      const v = { okta: types.length === 1 ? types[0] : types };
      if (spec.org) v.org = spec.org;
      if (spec.filter) v.filter = spec.filter;
      if (spec.include_own_events) v.include_own_events = true;
      return v;
    }
    case 'schedule': {
      if (!spec.cron || !spec.timezone) throw new FlowDocError('a schedule needs a cron pattern and a time zone');
      const s = { cron: spec.cron, timezone: spec.timezone };
      if (spec.catch_up) s.catch_up = spec.catch_up;
      if (spec.overlap) s.overlap = true;
      return { schedule: s };
    }
    case 'flow': {
      const inputs = inputsValue(spec.inputs);
      return { flow: Object.keys(inputs).length ? { inputs } : {} };
    }
    default:
      throw new FlowDocError(`unknown trigger kind ${spec.kind}`);
  }
}
