// Forms from a card's input schema: the fields a card's `describe()` JSON
// Schema (draft 2020-12, as schemars writes it) asks for, a check of a value
// against its field, and a small form built with dom.js.
//
// The schema says what a card accepts; the daemon's validation (the same as
// `lanyard validate`) stays the judge. The check here is for the person as they
// type: it never refuses an expression (`{{ … }}`), whose type is only known
// when the flow runs, and marks it as one instead.

import { h, inline } from './dom.js';
import { isExpression, hasExpression } from './flowdoc.js';

// How deep nested objects are unfolded into fields; deeper ones are edited as JSON.
const MAX_DEPTH = 3;
// How many fields one form shows at most (a schema is a card's to write).
const MAX_FIELDS = 200;

/// `schema` with a local `$ref` (`#/$defs/X`, `#/definitions/X`) followed,
/// its own keywords (description, default…) kept over the target's.
export function resolve(schema, root, seen = new Set()) {
  if (schema === true || schema === undefined || schema === null) return {};
  if (schema === false) return { not: {} };
  if (typeof schema !== 'object') return {};
  if (typeof schema.$ref !== 'string') return schema;
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(schema.$ref);
  if (!m || seen.has(schema.$ref)) return omitKey(schema, '$ref');
  const target = root && root[m[1]] ? root[m[1]][decodeURIComponent(m[2].replace(/~1/g, '/').replace(/~0/g, '~'))] : undefined;
  if (target === undefined) return omitKey(schema, '$ref');
  seen.add(schema.$ref);
  return { ...resolve(target, root, seen), ...omitKey(schema, '$ref') };
}

function omitKey(o, k) {
  const r = { ...o };
  delete r[k];
  return r;
}

/// The schema without its `null` alternative: `{ schema, nullable }`.
/// `type: ["string", "null"]` and `anyOf: [X, {type: "null"}]` both count.
export function stripNull(schema, root) {
  let s = resolve(schema, root);
  let nullable = false;
  if (Array.isArray(s.type) && s.type.includes('null')) {
    nullable = true;
    const rest = s.type.filter((t) => t !== 'null');
    s = { ...s, type: rest.length === 1 ? rest[0] : rest };
  }
  for (const k of ['anyOf', 'oneOf']) {
    if (!Array.isArray(s[k])) continue;
    const alts = s[k].map((a) => resolve(a, root));
    const nonNull = alts.filter((a) => a.type !== 'null');
    if (nonNull.length < alts.length) {
      nullable = true;
      if (nonNull.length === 1) {
        const { [k]: _, ...own } = s;
        s = { ...nonNull[0], ...pickDocs(own) };
      } else {
        s = { ...s, [k]: nonNull };
      }
    }
  }
  return { schema: s, nullable };
}

function pickDocs(o) {
  const r = {};
  for (const k of ['title', 'description', 'default', 'examples']) if (o[k] !== undefined) r[k] = o[k];
  return r;
}

/// The enum choices of a schema, `[{ value, label, description }]`, or null.
export function choicesOf(s, root) {
  if (Array.isArray(s.enum)) return s.enum.filter((v) => v !== null).map((v) => ({ value: v, label: String(v), description: null }));
  if (s.const !== undefined) return [{ value: s.const, label: String(s.const), description: s.description ?? null }];
  for (const k of ['oneOf', 'anyOf']) {
    if (!Array.isArray(s[k]) || !s[k].length) continue;
    const alts = s[k].map((a) => resolve(a, root));
    if (alts.every((a) => a.const !== undefined || (Array.isArray(a.enum) && a.enum.length))) {
      return alts.flatMap((a) =>
        a.const !== undefined
          ? [{ value: a.const, label: String(a.const), description: a.description ?? null }]
          : a.enum.map((v) => ({ value: v, label: String(v), description: a.description ?? null })),
      );
    }
  }
  return null;
}

/// The JSON types a schema allows (`string`, `integer`, `number`, `boolean`,
/// `object`, `array`); empty means any value.
export function typesOf(s, root) {
  if (typeof s.type === 'string') return [s.type];
  if (Array.isArray(s.type)) return s.type.filter((t) => t !== 'null');
  for (const k of ['anyOf', 'oneOf']) {
    if (Array.isArray(s[k])) {
      const ts = s[k].flatMap((a) => typesOf(resolve(a, root), root));
      // One alternative of any type makes the whole any.
      if (s[k].some((a) => typesOf(resolve(a, root), root).length === 0)) return [];
      return [...new Set(ts)];
    }
  }
  if (s.properties) return ['object'];
  if (s.items) return ['array'];
  if (s.const !== undefined) return [jsonType(s.const)];
  if (Array.isArray(s.enum)) return [...new Set(s.enum.filter((v) => v !== null).map(jsonType))];
  return [];
}

/// A key in words: `thread_ts` → “Thread ts”, `firstName` → “First name”.
export function words(key) {
  const s = String(key)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return s ? s[0].toUpperCase() + s.slice(1) : String(key);
}

/// The fields of an input schema: `[{ key, path, title, description, type,
/// types, required, nullable, choices, default, format, minimum, maximum,
/// minLength, maxLength, examples, multiline, fields (nested object),
/// items (array item field), kind }]`. `kind` is what a form shows:
/// `text`, `number`, `boolean`, `choice`, `list` (of text), `object`
/// (nested fields), `mapping` (any value or a free-form object: named
/// values, each text with values picked in, or JSON), `json` (any other value).
export function fieldsOf(schema, root = schema, { depth = 0, path = [], budget = { left: MAX_FIELDS } } = {}) {
  const s = resolve(schema, root);
  const props = s.properties && typeof s.properties === 'object' ? s.properties : {};
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  const out = [];
  for (const [key, sub] of Object.entries(props)) {
    if (budget.left-- <= 0) break;
    out.push(fieldOf(key, sub, root, { required: required.has(key), depth, path: [...path, key], budget }));
  }
  return out;
}

function fieldOf(key, sub, root, { required, depth, path, budget }) {
  const { schema: s, nullable } = stripNull(sub, root);
  const types = typesOf(s, root);
  const choices = choicesOf(s, root);
  const f = {
    key,
    path,
    title: s.title || words(key),
    description: s.description ?? null,
    types,
    type: types.length === 1 ? types[0] : types.length ? types.join(' or ') : 'any',
    required,
    nullable,
    choices,
    default: s.default,
    format: s.format ?? null,
    minimum: s.minimum ?? null,
    maximum: s.maximum ?? null,
    minLength: s.minLength ?? null,
    maxLength: s.maxLength ?? null,
    examples: Array.isArray(s.examples) ? s.examples : null,
    schema: s,
  };
  f.multiline = types.length === 1 && types[0] === 'string' && (/^(text|html|body|message|description)$/.test(key) || /\b(body|several lines|multi-?line)\b/i.test(f.description || ''));
  if (choices) f.kind = 'choice';
  else if (types.length === 1 && types[0] === 'boolean') f.kind = 'boolean';
  else if (types.length === 1 && (types[0] === 'integer' || types[0] === 'number')) f.kind = 'number';
  else if (types.length === 1 && types[0] === 'object' && s.properties && depth < MAX_DEPTH) {
    f.kind = 'object';
    f.fields = fieldsOf(s, root, { depth: depth + 1, path, budget });
  } else if (types.length === 1 && types[0] === 'array') {
    const item = stripNull(s.items ?? {}, root).schema;
    f.items = { types: typesOf(item, root), choices: choicesOf(item, root), schema: item };
    f.kind = f.items.types.length === 1 && ['string', 'integer', 'number'].includes(f.items.types[0]) ? 'list' : 'json';
  } else if (types.includes('string') && types.every((t) => t === 'string' || t === 'object' || t === 'array')) {
    // A user or group reference (`id`, login, or an object) or one-or-many
    // addresses: typed as text, the other shapes arrive as expressions.
    f.kind = 'text';
  } else if (types.length === 1 && types[0] === 'string') f.kind = 'text';
  else if (types.length === 0 || (types.length === 1 && types[0] === 'object')) f.kind = 'mapping';
  else f.kind = 'json';
  return f;
}

function jsonType(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (Number.isInteger(v)) return 'integer';
  return typeof v;
}

function matchesType(v, t) {
  const j = jsonType(v);
  return j === t || (t === 'number' && j === 'integer');
}

/// Check `value` against `field`: `{ ok, expression, message }`. A value that
/// is exactly one `{{ … }}` is accepted for any field (`expression: true`);
/// text with `{{ … }}` holes is text, accepted where text is. Missing values
/// fail only required fields without a default.
export function checkValue(field, value) {
  if (value === undefined || value === '' || (value === null && !field.nullable)) {
    if (field.required && field.default === undefined) return { ok: false, expression: false, message: `${field.title} is required` };
    return { ok: true, expression: false, message: null };
  }
  if (value === null) return { ok: true, expression: false, message: null };
  if (isExpression(value)) return { ok: true, expression: true, message: null };
  const types = field.types;
  const template = hasExpression(value);
  if (template && (types.length === 0 || types.includes('string'))) return { ok: true, expression: false, template: true, message: null };
  if (field.choices) {
    if (!field.choices.some((c) => c.value === value)) {
      return { ok: false, expression: false, message: `${field.title} must be one of ${field.choices.map((c) => c.label).join(', ')}` };
    }
    return { ok: true, expression: false, message: null };
  }
  if (types.length && !types.some((t) => matchesType(value, t))) {
    return { ok: false, expression: false, message: `${field.title} must be ${article(field.type)}${template ? ' (text with {{ }} is text; use one {{ … }} alone for a value)' : ''}` };
  }
  if (typeof value === 'number') {
    if (field.minimum !== null && value < field.minimum) return { ok: false, expression: false, message: `${field.title} must be at least ${field.minimum}` };
    if (field.maximum !== null && value > field.maximum) return { ok: false, expression: false, message: `${field.title} must be at most ${field.maximum}` };
  }
  if (typeof value === 'string') {
    if (field.minLength !== null && value.length < field.minLength) return { ok: false, expression: false, message: `${field.title} must be at least ${field.minLength} characters` };
    if (field.maxLength !== null && value.length > field.maxLength) return { ok: false, expression: false, message: `${field.title} must be at most ${field.maxLength} characters` };
  }
  if (Array.isArray(value) && field.items && field.items.types.length) {
    const bad = value.find((v) => !isExpression(v) && !field.items.types.some((t) => matchesType(v, t)));
    if (bad !== undefined) return { ok: false, expression: false, message: `${field.title}: ${JSON.stringify(bad)} is not ${article(field.items.types.join(' or '))}` };
  }
  return { ok: true, expression: false, message: null };
}

function article(type) {
  const names = { string: 'text', integer: 'a whole number', number: 'a number', boolean: 'true or false', object: 'a mapping', array: 'a list' };
  return String(type)
    .split(' or ')
    .map((t) => names[t] || t)
    .join(' or ');
}

/// What the person typed in a field's control, as the value to write:
/// numbers as numbers, lists one per line, JSON parsed; expressions and
/// anything that does not parse stay text (and `checkValue` says why).
export function parseInput(field, text) {
  if (typeof text !== 'string') return text;
  if (text.trim() === '') return undefined;
  if (isExpression(text.trim())) return text.trim();
  switch (field.kind) {
    case 'number': {
      const n = Number(text.trim());
      return Number.isFinite(n) ? n : text;
    }
    case 'list':
      return text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => (field.items.types[0] !== 'string' && !isExpression(l) && Number.isFinite(Number(l)) ? Number(l) : l));
    case 'json':
    case 'object':
    case 'mapping':
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text;
  }
}

/// The text a control shows for `value`.
export function formatInput(field, value) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (field.kind === 'list' && Array.isArray(value)) return value.join('\n');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, null, 2);
}

/// The form for `fields` with `values` (`{ key: value }`). `onChange(key,
/// value)` is called with each new value (undefined: the field was cleared);
/// `onPick(field, set)` is the “insert a value from…” button of each field, with
/// `set(value)` to put the picked expression in. `id` prefixes element ids.
export function renderForm(fields, values = {}, { onChange = () => {}, onPick = null, id = 'sf' } = {}) {
  return h(
    'div',
    { class: 'sf-form' },
    fields.map((f) => renderField(f, values[f.key], { onChange: (v) => onChange(f.key, v), onPick, id: `${id}-${f.key}`.replace(/[^A-Za-z0-9_-]/g, '_') })),
  );
}

function renderField(field, value, { onChange, onPick, id }) {
  if (field.kind === 'object' && field.fields && !isExpression(value)) return renderGroup(field, value, { onChange, onPick, id });
  if (field.kind === 'mapping' && isFlatMapping(value)) {
    return renderMappingField(field, value, {
      emptyRow: true,
      onChange,
      onPick,
      id,
      asJson: () => renderField({ ...field, kind: 'json' }, value, { onChange, onPick, id }),
    });
  }
  const errorEl = h('p', { class: 'sf-error', id: `${id}-error`, role: 'alert', hidden: true });
  const wrap = h('div', { class: 'sf-field', dataset: { key: field.key } });
  const show = (v) => {
    const r = checkValue(field, v);
    errorEl.textContent = r.message || '';
    errorEl.hidden = !r.message;
    wrap.classList.toggle('sf-invalid', !r.ok);
    wrap.classList.toggle('sf-is-expression', r.expression);
    return r;
  };
  const set = (v) => {
    show(v);
    onChange(v);
  };
  const control = controlFor(field, value, id, set, (v) => {
    // Picking a value replaces the control with text showing the expression.
    const fresh = renderField(field, v, { onChange, onPick, id });
    wrap.replaceWith(fresh);
    onChange(v);
  });
  const label = h(
    'label',
    { for: id, class: 'sf-label' },
    field.title,
    field.required ? h('span', { class: 'sf-required', title: 'required' }, ' *', h('span', { class: 'visually-hidden' }, ' (required)')) : null,
  );
  const help = field.description ? h('p', { class: 'sf-help', id: `${id}-help` }, inline(field.description)) : null;
  if (help) control.setAttribute('aria-describedby', `${id}-help ${id}-error`);
  else control.setAttribute('aria-describedby', `${id}-error`);
  const pick = onPick
    ? h(
        'button',
        { type: 'button', class: 'sf-pick link', title: 'Or press Ctrl+Space in the field', 'aria-label': `Use a value from an earlier step or the event for ${field.title}`, on: { click: () => onPick(field, (v) => control.dispatchEvent(pickEvent(v))) } },
        'Insert a value from…',
      )
    : null;
  const kind = isExpression(value) ? h('span', { class: 'sf-badge' }, 'expression') : null;
  wrap.append(...[label, kind, help, control, pick, errorEl].filter(Boolean));
  if (value !== undefined) show(value);
  return wrap;
}

// A nested object: its fields in a fieldset; the value is rebuilt from them.
function renderGroup(field, value, { onChange, onPick, id }) {
  const current = value && typeof value === 'object' && !Array.isArray(value) ? { ...value } : {};
  const change = (k, v) => {
    if (v === undefined) delete current[k];
    else current[k] = v;
    onChange(Object.keys(current).length ? { ...current } : undefined);
  };
  return h(
    'fieldset',
    { class: 'sf-group', dataset: { key: field.key } },
    h('legend', { class: 'sf-label' }, field.title, field.required ? h('span', { class: 'sf-required', title: 'required' }, ' *', h('span', { class: 'visually-hidden' }, ' (required)')) : null),
    field.description ? h('p', { class: 'sf-help' }, inline(field.description)) : null,
    renderForm(field.fields, current, { onChange: change, onPick, id }),
  );
}

// The picker hands its expression to the control through an event, so each
// kind of control decides how to show it.
function pickEvent(value) {
  const e = new Event('sf-pick');
  e.value = value;
  return e;
}

function controlFor(field, value, id, set, replace) {
  const expression = isExpression(value);
  let el;
  if (field.kind === 'boolean' && !expression) {
    el = h('input', { type: 'checkbox', id, class: 'sf-checkbox', checked: value === true || (value === undefined && field.default === true) });
    el.addEventListener('change', () => set(el.checked));
  } else if (field.kind === 'choice' && !expression) {
    el = h(
      'select',
      { id, class: 'sf-select' },
      h('option', { value: '' }, field.required ? 'Choose…' : '(none)'),
      field.choices.map((c, i) => h('option', { value: String(i), selected: c.value === value, title: c.description || null }, c.label)),
    );
    el.addEventListener('change', () => set(el.value === '' ? undefined : field.choices[Number(el.value)].value));
  } else {
    const multiline = field.multiline || ['list', 'json', 'object', 'mapping'].includes(field.kind);
    el = h(multiline ? 'textarea' : 'input', {
      id,
      class: `sf-input${expression ? ' sf-expr' : ''}`,
      type: multiline ? null : 'text',
      rows: multiline ? (field.kind === 'list' ? 3 : 4) : null,
      inputmode: field.kind === 'number' && !expression ? 'decimal' : null,
      spellcheck: field.kind === 'text' && !expression ? null : 'false',
      placeholder: placeholderFor(field),
    });
    el.value = formatInput(field, value);
    el.addEventListener('input', () => set(parseInput(field, el.value)));
  }
  el.addEventListener('sf-pick', (e) => {
    // Into text (a message, a subject) the value goes where the caret is, so
    // an admin writes "Offboarded " and picks the login after it; any other
    // field takes the value whole.
    if (field.kind === 'text' && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA')) {
      set(parseInput(field, insertAtCaret(el, e.value)));
      return;
    }
    replace(e.value);
  });
  if (field.required) el.setAttribute('aria-required', 'true');
  return el;
}

function placeholderFor(field) {
  if (field.default !== undefined && field.default !== null) return `default: ${formatInput(field, field.default)}`;
  if (field.examples && field.examples.length) return `e.g. ${formatInput(field, field.examples[0])}`;
  if (field.kind === 'list') return 'one per line';
  return null;
}

/// A value the rows of a mapping can show: nothing yet, or an object of
/// text, numbers, true/false and nulls.
export function isFlatMapping(value) {
  if (value === undefined || value === null) return true;
  if (typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.values(value).every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
}

// A free-form value (a table row, a return value) as named rows.
function renderMappingField(field, value, { onChange, onPick, id, asJson, emptyRow = false }) {
  const wrap = h('fieldset', { class: 'sf-group sf-mapping', dataset: { key: field.key } });
  const editor = renderMapping(value, {
    id,
    emptyRow,
    onChange,
    onPick: onPick ? (set) => onPick(field, set) : null,
  });
  const json = h(
    'button',
    {
      type: 'button',
      class: 'link',
      on: {
        click: () => {
          const fresh = asJson();
          wrap.replaceWith(fresh);
        },
      },
    },
    'Edit as JSON',
  );
  wrap.append(
    h('legend', { class: 'sf-label' }, field.title, field.required ? h('span', { class: 'sf-required', title: 'required' }, ' *', h('span', { class: 'visually-hidden' }, ' (required)')) : null),
    ...[field.description ? h('p', { class: 'sf-help' }, inline(field.description)) : null, editor, json].filter(Boolean),
  );
  return wrap;
}

/// Rows of name and value (text, with values picked in where the caret is),
/// and "Add a value". `onChange(object | undefined)` on every change, rows
/// without a name left out; `onPick(set)` opens the picker for a row's value;
/// `emptyRow` starts an empty mapping with one row to fill in.
export function renderMapping(value, { id, onChange, onPick = null, addLabel = 'Add a value', emptyRow = false }) {
  const rows = Object.entries(value && typeof value === 'object' ? value : {}).map(([k, v]) => ({ key: k, value: v === null ? '' : String(v), raw: v }));
  // Nothing yet: a first row to fill in.
  if (emptyRow && !rows.length) rows.push({ key: '', value: '', raw: undefined });
  const list = h('div', { class: 'map-rows' });
  const emit = () => {
    const out = {};
    for (const r of rows) {
      const k = r.key.trim();
      if (!k) continue;
      // A value typed as it was written stays as it was (a number, null).
      out[k] = r.raw !== undefined && String(r.raw ?? '') === r.value ? r.raw : r.value;
    }
    onChange(Object.keys(out).length ? out : undefined);
  };
  let add = null;
  const draw = (focus = null) => {
    list.replaceChildren(
      ...rows.map((r, i) => {
        const k = h('input', { type: 'text', id: `${id}-k${i}`, class: 'map-key', value: r.key, placeholder: 'name', 'aria-label': `Name ${i + 1}`, spellcheck: 'false' });
        const v = h('input', { type: 'text', id: `${id}-v${i}`, class: 'map-value', value: r.value, placeholder: 'value', 'aria-label': `Value of ${r.key || `row ${i + 1}`}` });
        k.addEventListener('input', () => {
          r.key = k.value;
          v.setAttribute('aria-label', `Value of ${r.key || `row ${i + 1}`}`);
          emit();
        });
        v.addEventListener('input', () => {
          r.value = v.value;
          emit();
        });
        // Enter goes on to the next row, adding one after the last.
        for (const el of [k, v]) {
          el.addEventListener('keydown', (e) => {
            if (e.key !== 'Enter') return;
            e.preventDefault();
            if (i === rows.length - 1) add.click();
            else document.getElementById(`${id}-k${i + 1}`)?.focus();
          });
        }
        const pick = onPick
          ? h(
              'button',
              {
                type: 'button',
                class: 'sf-pick link',
                title: 'Or press Ctrl+Space in the field',
                'aria-label': `Insert a value into ${r.key || `row ${i + 1}`}`,
                on: {
                  click: () =>
                    onPick((x) => {
                      r.value = insertAtCaret(v, x);
                      emit();
                    }),
                },
              },
              'Insert a value from…',
            )
          : null;
        const remove = h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${r.key || `row ${i + 1}`}`, on: { click: () => {
          rows.splice(i, 1);
          emit();
          draw();
        } } }, 'Remove');
        return h('div', { class: 'map-row' }, k, v, ...[pick, remove].filter(Boolean));
      }),
    );
    if (focus !== null) document.getElementById(`${id}-k${focus}`)?.focus();
  };
  add = h('button', { type: 'button', id: `${id}-add`, on: { click: () => {
    rows.push({ key: '', value: '', raw: undefined });
    draw(rows.length - 1);
  } } }, addLabel);
  draw();
  return h('div', { class: 'map-editor' }, list, add);
}

/// `text` put where `el`'s caret is (over its selection), the caret after
/// it and the focus back, so the admin types on; returns the new value.
export function insertAtCaret(el, text) {
  const start = el.selectionStart ?? el.value.length;
  const end = el.selectionEnd ?? el.value.length;
  el.value = el.value.slice(0, start) + text + el.value.slice(end);
  el.selectionStart = el.selectionEnd = start + text.length;
  el.focus();
  return el.value;
}

/// Declared inputs (`[{ name, type, required, default, description }]`, as
/// the outline and the flows listing give them) as an object schema: the
/// picker's `inputs` fields and the form a manual flow is run with.
export function inputsSchema(inputs) {
  const properties = {};
  const required = [];
  for (const i of inputs || []) {
    const s = i.type && i.type !== 'any' ? { type: i.type } : {};
    if (i.description) s.description = i.description;
    if (i.default !== undefined && i.default !== null) s.default = i.default;
    properties[i.name] = s;
    if (i.required && (i.default === undefined || i.default === null)) required.push(i.name);
  }
  return { type: 'object', properties, required };
}

/// The form of a flow's declared inputs (a manual flow's, as the outline and
/// the flows listing give them: `[{ name, type, required, default,
/// description }]`): `{ el, value() }`, `value()` being the object to start
/// the run with (defaults left to the daemon) or `{ problems }` when a
/// required input is empty or a value has the wrong type.
export function inputsForm(inputs, { id = 'inputs' } = {}) {
  const fields = fieldsOf(inputsSchema(inputs));
  const values = {};
  const el = renderForm(fields, values, {
    id,
    onChange: (k, v) => {
      if (v === undefined) delete values[k];
      else values[k] = v;
    },
  });
  return {
    el,
    value() {
      const problems = fields.map((f) => checkValue(f, values[f.key])).filter((r) => !r.ok).map((r) => r.message);
      return problems.length ? { problems } : { ...values };
    },
  };
}

// The fields of an event an admin may want to change, at most this many.
const MAX_EVENT_FIELDS = 40;
// Okta's bookkeeping, left to the JSON view.
const QUIET_FIELDS = /^(uuid|version|severity|legacyEventType|transaction|authenticationContext|securityContext|request|debugContext\.debugData\.(requestId|requestUri|url|dtHash|threatSuspected))\b/;

/// The scalar fields of the event in `text` (JSON) as labelled boxes in
/// words ("Target 1 › Alternate id"); a change rewrites the JSON and calls
/// `onChange(text)`. Text that is not a JSON object shows a note instead.
export function eventFields(text, onChange) {
  let event;
  try {
    event = JSON.parse(text || '{}');
  } catch (e) {
    return h('p', { class: 'muted small' }, `The JSON below does not read (${e.message}); fix it there.`);
  }
  if (!event || typeof event !== 'object' || Array.isArray(event)) return h('p', { class: 'muted small' }, 'This input is not a mapping; change it as JSON below.');
  const leaves = [];
  const walkLeaves = (v, path) => {
    if (leaves.length >= MAX_EVENT_FIELDS) return;
    if (v !== null && typeof v === 'object') {
      for (const [k, sub] of Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v)) walkLeaves(sub, [...path, k]);
    } else if (v !== null && !QUIET_FIELDS.test(path.join('.'))) leaves.push({ path, value: v });
  };
  walkLeaves(event, []);
  if (!leaves.length) return h('p', { class: 'muted small' }, 'No fields yet: add them as JSON below.');
  return h(
    'div',
    { class: 'kv-form' },
    leaves.map(({ path, value }) => {
      const id = `ev-${path.join('-').replace(/[^A-Za-z0-9_-]/g, '_')}`;
      const label = path.map((k) => (typeof k === 'number' ? String(k + 1) : words(k))).join(' › ');
      const box = h('input', { type: 'text', id, value: String(value), spellcheck: 'false' });
      box.addEventListener('input', () => {
        let v = box.value;
        if (typeof value === 'number' && v.trim() !== '' && Number.isFinite(Number(v))) v = Number(v);
        else if (typeof value === 'boolean' && (v === 'true' || v === 'false')) v = v === 'true';
        let at = event;
        for (const k of path.slice(0, -1)) at = at[k];
        at[path[path.length - 1]] = v;
        onChange(JSON.stringify(event, null, 2));
      });
      return h('div', { class: 'kv-row' }, h('label', { for: id }, label), box);
    }),
  );
}
