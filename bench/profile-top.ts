// Where a V8 CPU profile spends its time: `npx tsx bench/profile-top.ts FILE.cpuprofile [N]`.
// Profiles come from `npm run bench -- --engine-prof DIR` (node --cpu-prof on the engine child).
// Prints the top N functions by self time and by inclusive time (a function counted once per
// sample even when recursive), with their share of all samples.
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function label(n: ProfileNode, root: string): string {
  const f = n.callFrame;
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  let file = f.url.replace(/^file:\/\//, '');
  file = file.startsWith(root) ? path.relative(root, file) : file;
  file = file.replace(/^.*node_modules\//, '~/');
  return `${name} ${file}:${f.lineNumber + 1}`;
}

function main(): void {
  const [file, nRaw] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: npx tsx bench/profile-top.ts FILE.cpuprofile [N]\n');
    process.exit(2);
  }
  const n = Number(nRaw ?? 30);
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of prof.nodes) for (const c of node.children ?? []) parent.set(c, node.id);

  const selfUs = new Map<string, number>();
  const inclUs = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i + 1] ?? 0; // a sample's time runs until the next one
    totalUs += dt;
    let id: number | undefined = prof.samples[i]!;
    const leaf = byId.get(id)!;
    const leafLabel = label(leaf, root);
    selfUs.set(leafLabel, (selfUs.get(leafLabel) ?? 0) + dt);
    const seen = new Set<string>();
    while (id !== undefined) {
      const l = label(byId.get(id)!, root);
      if (!seen.has(l)) {
        seen.add(l);
        inclUs.set(l, (inclUs.get(l) ?? 0) + dt);
      }
      id = parent.get(id);
    }
  }
  const print = (title: string, m: Map<string, number>): void => {
    process.stdout.write(`\n${title}\n`);
    for (const [l, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      process.stdout.write(`${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${l}\n`);
    }
  };
  process.stdout.write(`${file}: ${(totalUs / 1e6).toFixed(1)} s sampled\n`);
  print('self time', selfUs);
  print('inclusive time', inclUs);
}

main();
