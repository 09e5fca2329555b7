/**
 * The import rules of docs/architecture.md, checked on every source file: dependencies point
 * inward and down, so that each room can be read (and replaced) without the ones above it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every .ts file under `dir` (relative to the repository, with forward slashes). */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join('/'));
}

/** The project files `file` imports (static, dynamic and type-only), relative to the repository. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) =>
      relative(ROOT, resolve(ROOT, dirname(file), spec))
        .split(sep)
        .join('/'),
    );
}

const FILES = [...sourceFiles('plugin'), ...sourceFiles('adapters')];
const EDGES = FILES.flatMap((from) => importsOf(from).map((to) => ({ from, to })));

/** The room a file lives in: `plugin/<folder>`, `plugin/<file>` for the top-level files, or `adapters/<name>`. */
function room(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : file;
}

const COMPOSITION_ROOT = ['plugin/cli.ts', 'plugin/connections.ts'];

const RULES: { rule: string; broken: (from: string, to: string) => boolean }[] = [
  {
    rule: 'plugin/bandit imports nothing of the project',
    broken: (from, to) => from.startsWith('plugin/bandit/') && !to.startsWith('plugin/bandit/'),
  },
  {
    rule: 'plugin/config imports neither plugin/agent nor plugin/guardrails',
    broken: (from, to) => from.startsWith('plugin/config/') && /^plugin\/(agent|guardrails)\//.test(to),
  },
  {
    rule: 'nothing under plugin/ but the composition root imports adapters/',
    broken: (from, to) => from.startsWith('plugin/') && !COMPOSITION_ROOT.includes(from) && to.startsWith('adapters/'),
  },
  {
    rule: 'no adapter imports plugin/server',
    broken: (from, to) => from.startsWith('adapters/') && to.startsWith('plugin/server/'),
  },
  {
    rule: 'no adapter imports another (adapters/kit is shared; adapters/destinations.ts lists their destinations)',
    broken: (from, to) =>
      from.startsWith('adapters/') &&
      from !== 'adapters/destinations.ts' &&
      to.startsWith('adapters/') &&
      room(from) !== room(to) &&
      room(to) !== 'adapters/kit',
  },
  {
    rule: 'plugin/run and plugin/service never import plugin/server',
    broken: (from, to) => /^plugin\/(run|service)\//.test(from) && to.startsWith('plugin/server/'),
  },
];

/** Cycles between rooms of plugin/: a room that reaches itself through the imports of other rooms. */
function roomCycles(): string[] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of EDGES) {
    if (!from.startsWith('plugin/') || !to.startsWith('plugin/') || room(from) === room(to)) continue;
    if (!next.has(room(from))) next.set(room(from), new Set());
    next.get(room(from))!.add(room(to));
  }
  const cycles: string[] = [];
  for (const start of next.keys()) {
    const path = findPath(next, start, start, new Set());
    if (path) cycles.push([start, ...path].join(' → '));
  }
  return cycles;
}

function findPath(
  next: Map<string, Set<string>>,
  from: string,
  target: string,
  seen: Set<string>,
): string[] | undefined {
  for (const to of next.get(from) ?? []) {
    if (to === target) return [to];
    if (seen.has(to)) continue;
    seen.add(to);
    const rest = findPath(next, to, target, seen);
    if (rest) return [to, ...rest];
  }
  return undefined;
}

describe('import rules', () => {
  it('reads the imports of every source file', () => {
    expect(EDGES.length).toBeGreaterThan(100);
  });

  it.each(RULES.map((r) => [r.rule, r] as const))('%s', (_rule, { broken }) => {
    expect(EDGES.filter(({ from, to }) => broken(from, to)).map(({ from, to }) => `${from} → ${to}`)).toEqual([]);
  });

  it('has no cycle between the rooms of plugin/', () => {
    expect(roomCycles()).toEqual([]);
  });
});
