// Reads a V8 .cpuprofile and ranks functions by self time, mapping Strongroom's compiled frames
// (dist/src/**.js) back to their TypeScript sources through the build's source maps.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const maps = new Map();

function sourceMapFor(path) {
  if (!maps.has(path)) {
    const mapPath = `${path}.map`;
    maps.set(
      path,
      existsSync(mapPath) ? new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8'))) : null,
    );
  }
  return maps.get(path);
}

/** `src/core/session.ts:123` for a Strongroom frame, a short location otherwise. */
function locate(callFrame) {
  const { url, lineNumber, columnNumber } = callFrame;
  if (!url) return '(native)';
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith(`${ROOT}dist/`)) {
    const entry = sourceMapFor(path)?.findEntry(lineNumber, columnNumber);
    if (entry?.originalSource) {
      const source = entry.originalSource.startsWith('file://')
        ? fileURLToPath(entry.originalSource)
        : new URL(entry.originalSource, url).pathname;
      return `${source.replace(ROOT, '')}:${entry.originalLine + 1}`;
    }
  }
  if (path.startsWith(ROOT)) path = path.slice(ROOT.length);
  path = path.replace(/^.*node_modules\//, '');
  return `${path}:${lineNumber + 1}`;
}

export function isStrongroomFrame(callFrame) {
  return callFrame.url.includes('/dist/src/');
}

/** Node's own JavaScript and native code: its time belongs to the caller that asked for it. */
function isBuiltin(callFrame) {
  return callFrame.url === '' || callFrame.url.startsWith('node:');
}

const ROOTS = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

/**
 * Self and inclusive time per function (name + location), idle time left out of the
 * percentages. `top` rows overall, and the Strongroom rows (dist/src) separately.
 */
export function summarizeProfile(file, { top: limit = 25 } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map();
  const owned = new Map();
  const inclusive = new Map();
  let busy = 0;
  let strongroomOwned = 0;
  let strongroomInclusive = 0;
  const keyOf = (frame) => `${frame.functionName || '(anonymous)'}\u0000${locate(frame)}`;

  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const delta = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    if (node.callFrame.functionName === '(idle)') continue;
    busy += delta;
    const key = keyOf(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + delta);
    // Owner: the nearest frame that is not Node's own code (crypto, JSON, Buffer, streams...).
    let owner = node;
    while (isBuiltin(owner.callFrame) && !ROOTS.has(owner.callFrame.functionName)) {
      const up = parent.get(owner.id);
      if (up === undefined || byId.get(up).callFrame.functionName === '(root)') break;
      owner = byId.get(up);
    }
    const ownerKey = keyOf(owner.callFrame);
    owned.set(ownerKey, (owned.get(ownerKey) ?? 0) + delta);
    if (isStrongroomFrame(owner.callFrame)) strongroomOwned += delta;
    const seen = new Set();
    let inStrongroom = false;
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id).callFrame;
      if (isStrongroomFrame(frame)) inStrongroom = true;
      const k = keyOf(frame);
      if (!seen.has(k)) {
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + delta);
      }
    }
    if (inStrongroom) strongroomInclusive += delta;
  }

  const row = (key) => {
    const [name, location] = key.split('\u0000');
    return {
      name,
      location,
      selfMs: (self.get(key) ?? 0) / 1000,
      selfPct: (100 * (self.get(key) ?? 0)) / busy,
      ownedPct: (100 * (owned.get(key) ?? 0)) / busy,
      inclusivePct: (100 * (inclusive.get(key) ?? 0)) / busy,
    };
  };
  const top = [...self.keys()].map(row).sort((a, b) => b.selfPct - a.selfPct);
  const strongroom = [...owned.keys()]
    .filter((key) => key.split('\u0000')[1].startsWith('src/'))
    .map(row)
    .sort((a, b) => b.ownedPct - a.ownedPct);
  return {
    busyMs: busy / 1000,
    strongroomOwnedPct: (100 * strongroomOwned) / busy,
    strongroomInclusivePct: (100 * strongroomInclusive) / busy,
    top: top.slice(0, limit),
    strongroom: strongroom.slice(0, limit),
  };
}

/** `cpuUsPerRequest` (measured with the profiler on) turns shares into µs per request. */
export function profileMarkdown(summary, { title, intro, cpuUsPerRequest }) {
  const us = (pct) =>
    Number.isFinite(cpuUsPerRequest) ? ((pct / 100) * cpuUsPerRequest).toFixed(2) : 'n/a';
  const fmt = (row) =>
    `| ${row.name.replace(/\|/g, '\\|')} | \`${row.location}\` | ${row.selfPct.toFixed(1)} % | ${row.ownedPct.toFixed(1)} % | ${us(row.ownedPct)} | ${row.inclusivePct.toFixed(1)} % |`;
  const head =
    '| function | where | self | self + Node built-ins it calls | ≈ µs/request | on stack |\n| --- | --- | ---: | ---: | ---: | ---: |';
  return [
    `# ${title}`,
    '',
    intro,
    '',
    `Busy (non-idle) profile time: ${summary.busyMs.toFixed(0)} ms. Strongroom's code (dist/src mapped to src/, with the Node built-ins it calls directly: crypto, JSON, Buffer) owns **${summary.strongroomOwnedPct.toFixed(1)} %** of it, ≈ ${us(summary.strongroomOwnedPct)} µs per request; a Strongroom frame is somewhere on the stack in ${summary.strongroomInclusivePct.toFixed(1)} % (that includes the route handler and Express's response, which run inside the adapter's continuation).`,
    '',
    "## Strongroom's functions (src/), by self time plus the built-ins they call",
    '',
    head,
    ...summary.strongroom.map(fmt),
    '',
    '## Top self time, all code',
    '',
    head,
    ...summary.top.map(fmt),
    '',
  ].join('\n');
}
