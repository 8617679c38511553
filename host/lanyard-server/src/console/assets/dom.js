// Building DOM without markup strings.
//
// Everything the console shows from the daemon (event fields, card output, log
// lines, flow names) is untrusted: it goes into the page only as text nodes
// (`textContent`) or as attribute values set one by one. Nothing here parses
// HTML, and no console file assigns innerHTML/outerHTML or calls
// insertAdjacentHTML / document.write (tests/it/console.rs checks that).

const SAFE_URL = /^(#|\.{0,2}\/|https?:)/i;

/// `h('a', { href: '#/runs', class: 'x' }, 'text', child, [more])`.
/// Children: strings and numbers become text nodes; null/false are skipped;
/// arrays are flattened. `on: { click: fn }` adds listeners. Attribute values
/// are strings set with setAttribute; `href` must be a relative or http(s) URL.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'on') {
        for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      } else if (k === 'dataset') {
        for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
      } else if (k === 'href') {
        const s = String(v);
        el.setAttribute('href', SAFE_URL.test(s) ? s : '#');
      } else if (k.startsWith('on')) {
        throw new Error(`h(): use on: { ... } for ${k}`);
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

/// A description's text as its author wrote it: `code` spans as code, the
/// rest as plain text (no other markup, and nothing ever as HTML).
export function inline(text) {
  const s = String(text ?? '');
  const out = [];
  let at = 0;
  for (const m of s.matchAll(/`([^`\n]+)`/g)) {
    if (m.index > at) out.push(s.slice(at, m.index));
    out.push(h('code', null, m[1]));
    at = m.index + m[0].length;
  }
  if (at < s.length) out.push(s.slice(at));
  return out;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/// Replace the children of `el`.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/// Pretty JSON in a <pre>, cut at `max` characters with a button that shows
/// the rest (large outputs stay fast to render).
export function jsonBlock(value, { max = 20000, label } = {}) {
  let text;
  try {
    text = JSON.stringify(value, null, 2);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = 'undefined';
  const pre = h('pre', { class: 'json', tabindex: '0', 'aria-label': label || 'JSON' });
  const wrap = h('div', { class: 'json-wrap' }, pre);
  if (text.length > max) {
    pre.textContent = text.slice(0, max) + '\n…';
    const more = h(
      'button',
      {
        type: 'button',
        class: 'link',
        on: {
          click: () => {
            pre.textContent = text;
            more.remove();
          },
        },
      },
      `Show all ${Math.round(text.length / 1024)} KiB`,
    );
    wrap.append(more);
  } else {
    pre.textContent = text;
  }
  if (navigator.clipboard) {
    const copy = h(
      'button',
      {
        type: 'button',
        class: 'copy',
        'aria-label': `Copy ${label || 'JSON'}`,
        on: {
          click: async () => {
            try {
              await navigator.clipboard.writeText(text);
              copy.textContent = 'Copied';
            } catch {
              copy.textContent = 'Copy failed';
            }
            setTimeout(() => (copy.textContent = 'Copy'), 1500);
          },
        },
      },
      'Copy',
    );
    wrap.prepend(copy);
  }
  return wrap;
}

/// A message box: kind is 'error', 'warn' or 'info'.
export function callout(kind, title, ...body) {
  return h(
    'div',
    { class: `callout ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    title ? h('p', { class: 'callout-title' }, title) : null,
    ...body,
  );
}

/// Announce a short message to screen readers and show it briefly.
export function toast(message, kind = 'info') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const el = h('div', { class: `toast ${kind}` }, message);
  region.append(el);
  setTimeout(() => el.remove(), 6000);
}

/// Run `redraw` (which replaces what is inside `root`) and keep what the
/// person had: which <details data-key> were open or closed, and the focused
/// element if it has a data-focus-key (or is a link, by its href).
export function keepingState(root, redraw) {
  const open = new Map();
  for (const d of root.querySelectorAll('details[data-key]')) open.set(d.dataset.key, d.open);
  const active = document.activeElement;
  let focusKey = null;
  let focusHref = null;
  if (active && root.contains(active)) {
    focusKey = active.dataset ? active.dataset.focusKey : null;
    focusHref = active.tagName === 'A' ? active.getAttribute('href') : null;
  }
  redraw();
  for (const d of root.querySelectorAll('details[data-key]')) {
    if (open.has(d.dataset.key)) d.open = open.get(d.dataset.key);
  }
  if (focusKey || focusHref) {
    const target = [...root.querySelectorAll(focusKey ? '[data-focus-key]' : 'a[href]')].find((el) =>
      focusKey ? el.dataset.focusKey === focusKey : el.getAttribute('href') === focusHref,
    );
    if (target) target.focus({ preventScroll: true });
  }
}
