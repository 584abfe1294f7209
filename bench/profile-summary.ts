/**
 * Reads the V8 CPU profiles that `npm run bench -- --profile` makes the server under test write
 * (`node --cpu-prof`), and prints where its busy time went (idle left out): self time by area
 * (our layers under src/, each package under node_modules, node internals, GC), the heaviest
 * functions by self time, and our own functions by inclusive time (what they cost with all they
 * call). Profiles of threads that were nearly idle (tsx's loader thread) are skipped.
 * Also runnable alone: `npx tsx bench/profile-summary.ts <dir-or-file.cpuprofile> [limit]`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const NOT_BUSY = new Set(['(idle)', '(program)']);
/** Below this much busy time, a profile is a helper thread, not the server. */
const MIN_BUSY_US = 1_000_000;

/** Which part of the program a script URL belongs to. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const file = url.startsWith('file:') ? fileURLToPath(url) : url;
  const modules = file.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const [scopeOrName = '', name = ''] = file.slice(modules + '/node_modules/'.length).split('/');
    return scopeOrName.startsWith('@') ? `${scopeOrName}/${name}` : scopeOrName;
  }
  const src = file.lastIndexOf('/src/');
  if (src !== -1) return `src/${path.dirname(file.slice(src + 5))}`.replace(/\/\.?$/, '');
  return path.basename(file);
}

function keyOf(frame: ProfileNode['callFrame']): string {
  const area = areaOf(frame.url, frame.functionName);
  const where = frame.url === '' ? '' : ` ${area}:${path.basename(frame.url)}:${frame.lineNumber + 1}`;
  return `${frame.functionName || '(anonymous)'}${where}`;
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function top(map: Map<string, number>, n: number, busy: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, us]) => `  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}

function summariseOne(file: string, limit: number): string | undefined {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame || NOT_BUSY.has(frame.functionName)) continue;
    busy += us;
    add(byArea, areaOf(frame.url, frame.functionName), us);
    add(byFunction, keyOf(frame), us);
  }
  if (busy < MIN_BUSY_US) return undefined;

  // Inclusive time of our own functions: each sample counts once per distinct src/ function on its stack.
  const inclusive = new Map<string, number>();
  const walk = (id: number, stack: ReadonlySet<string>): number => {
    const node = nodes.get(id);
    if (!node) return 0;
    const key = keyOf(node.callFrame);
    const ours = areaOf(node.callFrame.url, node.callFrame.functionName).startsWith('src') && !stack.has(key);
    const below = ours ? new Set([...stack, key]) : stack;
    let total = self.get(id) ?? 0;
    for (const child of node.children ?? []) total += walk(child, below);
    if (ours) add(inclusive, key, total);
    return total;
  };
  const root = profile.nodes[0];
  if (root) walk(root.id, new Set());

  return [
    `${path.basename(file)}: ${(busy / 1e6).toFixed(1)} s busy (idle excluded); percentages are of busy time`,
    'self time by area:',
    ...top(byArea, 15, busy),
    'self time by function:',
    ...top(byFunction, limit, busy),
    'inclusive time of src/ functions:',
    ...top(inclusive, limit, busy),
  ].join('\n');
}

export function summariseProfiles(location: string, limit = 25): string {
  const files = fs.statSync(location).isDirectory()
    ? fs.readdirSync(location).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(location, f))
    : [location];
  const parts = files.map((file) => summariseOne(file, limit)).filter((s): s is string => s !== undefined);
  return parts.length === 0 ? `no busy profile in ${location}` : parts.join('\n\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const location = process.argv[2];
  if (!location) {
    console.error('usage: tsx bench/profile-summary.ts <dir-or-file.cpuprofile> [limit]');
    process.exit(2);
  }
  console.log(summariseProfiles(location, Number(process.argv[3] ?? 25)));
}
