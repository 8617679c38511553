// Shared by the unit tests: where the console's modules and the seed flows are.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, '..', '..', '..');
export const assets = join(repo, 'host', 'lanyard-server', 'src', 'console', 'assets');

/// Each seed flow: `{ file, text }`.
export function seedFlows() {
  const dir = join(repo, 'flows');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => ({ file, text: readFileSync(join(dir, file), 'utf8') }));
}

/// The lines of `after` that are not lines of `before` and the other way
/// round, by a line diff (jsdiff, as vendored for the console).
export async function changedLines(before, after) {
  const { diffLines } = await import(join(assets, 'vendor', 'diff.js'));
  const added = [];
  const removed = [];
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, '').split('\n');
    if (part.added) added.push(...lines);
    else if (part.removed) removed.push(...lines);
  }
  return { added, removed };
}
