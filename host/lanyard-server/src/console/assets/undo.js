// Undo and redo for the builder: a bounded history of the flow file's texts.
//
// The builder keeps whole texts rather than inverse operations: every edit of
// flowdoc.js yields a new text, so going back is loading an older one, and no
// operation needs an inverse that could drift from it. Typing in one field
// makes one entry per pause, not one per key. The history is bounded by
// entries and by characters, so a long session on a large flow cannot make
// the tab hold without limit. It knows nothing of the DOM or of YAML.

/// A history of texts with a current position.
export class History {
  /// `limit`: most entries kept; `maxChars`: most characters kept over all
  /// entries (the oldest go first; the current one always stays);
  /// `coalesceMs`: edits of the same field closer than this are one entry;
  /// `now`: the clock (tests pass their own).
  constructor(initial, { limit = 200, maxChars = 16 * 1024 * 1024, coalesceMs = 1000, now = () => Date.now() } = {}) {
    this.limit = Math.max(2, limit);
    this.maxChars = maxChars;
    this.coalesceMs = coalesceMs;
    this.now = now;
    this.entries = [{ text: String(initial), field: null, at: now() }];
    this.index = 0;
    this.saved = 0;
  }

  /// The current text.
  get current() {
    return this.entries[this.index].text;
  }

  get canUndo() {
    return this.index > 0;
  }

  get canRedo() {
    return this.index < this.entries.length - 1;
  }

  /// Whether the current text differs from the last one marked saved.
  get dirty() {
    return this.saved !== this.index && (this.saved < 0 || this.entries[this.saved].text !== this.current);
  }

  /// Record `text` as the new current text. `field` names what the person is
  /// typing in (`steps.2.with.text`): consecutive edits of the same field
  /// within `coalesceMs` of each other replace the entry instead of adding
  /// one. Edits without a field (add, move, delete…) are always their own.
  /// Returns whether anything changed.
  push(text, { field = null } = {}) {
    text = String(text);
    if (text === this.current) return false;
    const t = this.now();
    const top = this.entries[this.index];
    // Drop what could have been redone: a new edit starts a new branch.
    if (this.canRedo) {
      this.entries.length = this.index + 1;
      if (this.saved > this.index) this.saved = -1;
    }
    if (field !== null && top.field === field && t - top.at < this.coalesceMs && this.index > 0 && this.saved !== this.index) {
      top.text = text;
      top.at = t;
      return true;
    }
    this.entries.push({ text, field, at: t });
    this.index++;
    this.#trim();
    return true;
  }

  /// End the current run of typing (a field lost focus): the next edit of the
  /// same field is a new entry.
  seal() {
    this.entries[this.index].field = null;
  }

  /// Step back; returns the text to show, or null at the start.
  undo() {
    if (!this.canUndo) return null;
    this.seal();
    this.index--;
    return this.current;
  }

  /// Step forward again; returns the text to show, or null at the end.
  redo() {
    if (!this.canRedo) return null;
    this.index++;
    return this.current;
  }

  /// The current text is what the daemon has now (saved, or loaded).
  markSaved() {
    this.seal();
    this.saved = this.index;
  }

  /// Start over from `text` (another version was loaded): no undo past it.
  reset(text) {
    this.entries = [{ text: String(text), field: null, at: this.now() }];
    this.index = 0;
    this.saved = 0;
  }

  #trim() {
    let chars = this.entries.reduce((n, e) => n + e.text.length, 0);
    while (this.entries.length > 1 && this.index > 0 && (this.entries.length > this.limit || chars > this.maxChars)) {
      chars -= this.entries[0].text.length;
      this.entries.shift();
      this.index--;
      this.saved--;
    }
  }
}
