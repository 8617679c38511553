// The little of the DOM that dom.js's `h` and the console's form builders
// use, so their output can be checked under node without a browser. Installs
// `document`, `Node` and `Event` globals (Event and EventTarget are node's).

class FakeNode extends EventTarget {
  constructor() {
    super();
    this.parentNode = null;
    this.childNodes = [];
  }
  get textContent() {
    return this.childNodes.map((c) => c.textContent).join('');
  }
  set textContent(v) {
    this.replaceChildren();
    if (v !== '' && v !== null && v !== undefined) this.appendChild(new FakeText(String(v)));
  }
  appendChild(c) {
    if (c.parentNode) c.remove();
    c.parentNode = this;
    this.childNodes.push(c);
    return c;
  }
  append(...cs) {
    for (const c of cs) this.appendChild(typeof c === 'string' ? new FakeText(c) : c);
  }
  prepend(c) {
    this.appendChild(c);
    this.childNodes.unshift(this.childNodes.pop());
  }
  replaceChildren(...cs) {
    for (const c of this.childNodes) c.parentNode = null;
    this.childNodes = [];
    this.append(...cs);
  }
  remove() {
    if (!this.parentNode) return;
    const p = this.parentNode;
    p.childNodes = p.childNodes.filter((c) => c !== this);
    this.parentNode = null;
  }
  replaceWith(other) {
    const p = this.parentNode;
    if (!p) return;
    if (other.parentNode) other.remove();
    p.childNodes[p.childNodes.indexOf(this)] = other;
    other.parentNode = p;
    this.parentNode = null;
  }
}

class FakeText extends FakeNode {
  constructor(text) {
    super();
    this.text = text;
  }
  get textContent() {
    return this.text;
  }
}

class FakeElement extends FakeNode {
  constructor(tag) {
    super();
    this.tagName = tag.toUpperCase();
    this.attributes = new Map();
    this.dataset = {};
    this.value = '';
    this.checked = false;
    const el = this;
    this.classList = {
      contains: (c) => (el.getAttribute('class') || '').split(/\s+/).includes(c),
      add: (c) => el.classList.contains(c) || el.setAttribute('class', `${el.getAttribute('class') || ''} ${c}`.trim()),
      remove: (c) => el.setAttribute('class', (el.getAttribute('class') || '').split(/\s+/).filter((x) => x && x !== c).join(' ')),
      toggle: (c, on) => ((on ?? !el.classList.contains(c)) ? el.classList.add(c) : el.classList.remove(c)),
    };
  }
  setAttribute(k, v) {
    if (/^on/i.test(k)) throw new Error(`inline handler ${k}`);
    if (k === 'style') throw new Error('inline style');
    this.attributes.set(k, String(v));
    if (k === 'checked') this.checked = true;
  }
  getAttribute(k) {
    return this.attributes.has(k) ? this.attributes.get(k) : null;
  }
  hasAttribute(k) {
    return this.attributes.has(k);
  }
  removeAttribute(k) {
    this.attributes.delete(k);
  }
  get hidden() {
    return this.hasAttribute('hidden');
  }
  set hidden(v) {
    if (v) this.setAttribute('hidden', '');
    else this.removeAttribute('hidden');
  }
  get id() {
    return this.getAttribute('id');
  }
}

/// Every element under `root` (itself included) for which `pred` holds.
export function findAll(root, pred) {
  const out = [];
  const walk = (n) => {
    if (n instanceof FakeElement && pred(n)) out.push(n);
    for (const c of n.childNodes) walk(c);
  };
  walk(root);
  return out;
}

export const byClass = (root, c) => findAll(root, (e) => e.classList.contains(c));
export const byTag = (root, t) => findAll(root, (e) => e.tagName === t.toUpperCase());

globalThis.Node = FakeNode;
globalThis.document = {
  createElement: (t) => new FakeElement(t),
  createTextNode: (t) => new FakeText(t),
  baseURI: 'http://127.0.0.1/console/',
};
