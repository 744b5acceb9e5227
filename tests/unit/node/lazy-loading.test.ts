// What a worker never uses must not run when `skep daemon` starts: the CLI bundle is built as
// build.mjs builds it, and its static import graph (what runs at start-up) is walked from the entry.
// Parts reached only through import() — or, in dependencies, through a stub of loadOnFirstCall —
// run on first use. The daemon's own debug line says when they do (tests/cluster/memory.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliBundleOptions, EAGER_SUFFIX } from '../../../build/scripts/bundle-options.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'skep-lazy-loading-'));
let metafile: Metafile;

/** Every input that runs when the bundle starts: static imports and require() calls, not import(). */
function loadedAtStart(meta: Metafile, entry: string): Set<string> {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    for (const edge of meta.inputs[file]?.imports ?? []) {
      if (edge.kind === 'dynamic-import' || edge.external || edge.path.endsWith(EAGER_SUFFIX)) continue;
      if (!seen.has(edge.path)) {
        seen.add(edge.path);
        queue.push(edge.path);
      }
    }
  }
  return seen;
}

const matching = (files: Set<string>, part: string): string[] => [...files].filter((f) => f.includes(part));

beforeAll(async () => {
  const result = await build({ ...cliBundleOptions({ root, outfile: path.join(scratch, 'skep.mjs'), version: 'test', quiet: true }), write: false, absWorkingDir: root });
  metafile = result.metafile;
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the skep bundle at start-up', () => {
  it('runs none of the manager, provisioning, certificate issuing, SSH or BuildKit code', () => {
    const atStart = loadedAtStart(metafile, 'electron/cli/skep.ts');
    // The walk itself must work: what every command needs is there.
    expect(matching(atStart, 'node_modules/commander/').length).toBeGreaterThan(0);
    expect(matching(atStart, 'electron/cli/control-client.ts')).toHaveLength(1);
    for (const part of [
      'electron/swarm/manager.ts',
      'electron/raft/node.ts',
      'electron/swarm/controlapi/',
      'electron/swarm/orchestrator/',
      'electron/provision/',
      'electron/swarm/ca/x509.ts',
      'node_modules/@peculiar/',
      'node_modules/reflect-metadata/',
      'node_modules/ssh2/',
      'node_modules/@grpc/',
      'node_modules/protobufjs/',
      'electron/server/browser-server.ts',
      'node_modules/ws/',
      'electron/node/daemon.ts',
    ]) {
      expect({ part, files: matching(atStart, part) }).toEqual({ part, files: [] });
    }
  });

  it('runs, once `skep daemon` starts a node, the agent but still no manager-only part', () => {
    const daemon = loadedAtStart(metafile, 'electron/cli/daemon-command.ts');
    expect(matching(daemon, 'electron/node/daemon.ts')).toHaveLength(1);
    expect(matching(daemon, 'electron/agent/session.ts')).toHaveLength(1);
    expect(matching(daemon, 'node_modules/dockerode/').length).toBeGreaterThan(0);
    for (const part of ['electron/swarm/manager.ts', 'electron/provision/service.ts', 'node_modules/@peculiar/', 'node_modules/ssh2/', 'node_modules/@grpc/']) {
      expect({ part, files: matching(daemon, part) }).toEqual({ part, files: [] });
    }
  });

  it('still holds the manager-only parts, behind import() or a first-call stub', () => {
    const everything = Object.keys(metafile.inputs);
    for (const part of ['electron/swarm/manager.ts', 'electron/provision/service.ts', 'node_modules/@peculiar/x509/', 'node_modules/ssh2/', 'node_modules/@grpc/grpc-js/']) {
      expect(everything.some((f) => f.includes(part)), part).toBe(true);
    }
  });
});
