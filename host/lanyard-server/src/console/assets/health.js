// The daemon's state on every page: a banner when it cannot be reached or is
// not ready (its store cannot write, no valid flows are loaded), gone once it
// is well again. Checked every 15 s, every 3 s while something is wrong, and
// at once when a request fails to reach it.

import { onUnreachable, readiness } from './api.js';
import { h, fill } from './dom.js';

const OK_EVERY = 15000;
const BAD_EVERY = 3000;

/// What to tell the admin, from `readiness()`: null when all is well.
export function healthWords(r) {
  if (!r || !r.reachable) {
    return {
      title: 'The lanyard daemon cannot be reached',
      text: 'Is it running? This page keeps trying; until then what it shows may be out of date and changes cannot be saved.',
    };
  }
  if (r.ready === false) {
    const store = r.store && r.store.state === 'failing';
    return {
      title: store ? 'The daemon’s store cannot write' : 'The daemon is not ready',
      text: `${r.reason ? `${r.reason[0].toUpperCase()}${r.reason.slice(1)}.` : 'It is starting.'} ${store ? 'Events and runs wait until it writes again; nothing already accepted is lost.' : 'It starts runs once it is ready.'}`,
    };
  }
  return null;
}

/// Watch the daemon and keep `el` (the banner) up to date.
export function watchHealth(el) {
  let timer = null;
  let running = false;
  const check = async () => {
    if (running) return;
    running = true;
    clearTimeout(timer);
    let words = null;
    try {
      words = healthWords(await readiness());
    } finally {
      running = false;
    }
    if (words) fill(el, h('strong', null, words.title), ' ', words.text);
    el.hidden = !words;
    timer = setTimeout(check, words ? BAD_EVERY : OK_EVERY);
  };
  onUnreachable(() => check());
  check();
}
