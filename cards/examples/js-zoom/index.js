// The `acme.zoom-deprovision` card: binds `zoom.js` to the lanyard card contract
// (`wit/card.wit`, world `card`). `jco componentize` turns this module into a
// component: its exports `describe` and `run` become the world's exports, and
// `lanyard:card/*` imports become the host's capabilities.
//
// jco's conventions: records are objects with camelCase fields, enums are
// kebab-case strings, variants are `{ tag, val }`, `option` is a value or
// `undefined`, `u64` is a BigInt. A `result` import throws on `err` (the error
// value is `e.payload`); a `result` export returns on `ok` and throws on `err`.

import { send } from 'lanyard:card/http@0.1.0';
import { write } from 'lanyard:card/log@0.1.0';
import * as zoom from './zoom.js';

class HostError extends Error {
  constructor(payload) {
    super(payload.message);
    this.payload = payload;
  }
}

function hostSend(req) {
  try {
    const res = send(req);
    return { status: res.status, headers: res.headers, body: res.body };
  } catch (e) {
    // The host's card-error (denied, unavailable, timeout...): passed on as it is.
    if (e && typeof e === 'object' && 'payload' in e) throw new HostError(e.payload);
    throw e;
  }
}

function hostLog(level, message, fields) {
  write(level, message, fields === undefined ? undefined : JSON.stringify(fields));
}

export function describe() {
  return {
    name: zoom.NAME,
    version: zoom.VERSION,
    description: zoom.DESCRIPTION,
    inputSchema: JSON.stringify(zoom.INPUT_SCHEMA),
    outputSchema: JSON.stringify(zoom.OUTPUT_SCHEMA),
    // `*`: whichever connection the flow names; ops still list which ones.
    grants: [{ tag: 'connection', val: '*' }],
  };
}

export function run(ctx, input) {
  const call = { send: hostSend, log: hostLog, idempotencyKey: ctx.idempotencyKey, dryRun: ctx.dryRun };
  try {
    return zoom.run(call, input);
  } catch (e) {
    if (e instanceof HostError) throw e.payload;
    if (e instanceof zoom.CardFailure) {
      throw {
        kind: e.kind,
        message: e.message,
        retryable: e.retryable,
        retryAfterMs: e.retryAfterMs === undefined ? undefined : BigInt(e.retryAfterMs),
      };
    }
    trap(e);
  }
}

// A bug, not a card-error: say what and where on stderr (the host attaches it
// to the step's error), then let the call trap, as a Rust panic or an uncaught
// Python exception does. Rethrowing a value that is not a card-error makes the
// component's bindings abort the call.
function trap(e) {
  const what = e instanceof Error ? `${e.name}: ${e.message}` : `a non-error value: ${String(e)}`;
  console.error(`card threw ${what}\n${e?.stack ?? ''}`);
  throw e;
}
