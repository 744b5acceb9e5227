// Adding a machine over SSH, timed: a lab host (network namespace + real sshd, Node.js present, as
// the test lab builds it) added through the manager's API, from "add" to the node Ready in node ls,
// with each phase's share (from the progress events' own timestamps). Then the same add again, which
// changes nothing. Numbers are printed, never asserted. Needs root and the built CLI.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connectControl } from '../../electron/cli/control-client.js';
import type { ProvisionPhase, ProvisionProgress } from '../../shared/provision.js';
import { Lab } from '../lab/lab.js';

export interface ProvisionBenchOptions {
  readonly print: (line: string) => void;
}

export interface ProvisionBenchResult {
  readonly addToReadyMs: number;
  readonly phaseMs: Partial<Record<ProvisionPhase, number>>;
  readonly rerunMs: number;
}

/** Time of each phase: from its first event to the first event of the next phase. */
function phaseDurations(events: readonly ProvisionProgress[], startedMs: number, endedMs: number): Partial<Record<ProvisionPhase, number>> {
  const starts: { phase: ProvisionPhase; at: number }[] = [];
  for (const event of events) {
    if (starts.at(-1)?.phase !== event.phase) starts.push({ phase: event.phase, at: Date.parse(event.at) });
  }
  const durations: Partial<Record<ProvisionPhase, number>> = {};
  starts.forEach((start, i) => {
    const from = i === 0 ? startedMs : start.at;
    const to = starts[i + 1]?.at ?? endedMs;
    durations[start.phase] = (durations[start.phase] ?? 0) + (to - from);
  });
  return durations;
}

export async function runProvisionBench(options: ProvisionBenchOptions): Promise<ProvisionBenchResult> {
  const lab = new Lab();
  try {
    const info = await lab.create([{ name: 'bench' }]);
    const host = info.hosts[0];
    if (!host) throw new Error('the lab made no host');
    const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${host.hostKeyFiles[0]}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
    const client = connectControl(info.control);
    const events: ProvisionProgress[] = [];
    client.onEvent((event) => {
      if (event.type === 'provision.progress' && event.payload.log === undefined) events.push(event.payload);
    });
    const request = {
      target: { user: 'root', host: host.address, port: host.sshPort },
      auth: { privateKey: readFileSync(info.keys.root, 'utf8') },
      acceptHostKey: fingerprint,
    };
    try {
      const started = Date.now();
      const added = await client.machineAdd({ ...request, operationId: 'bench-add' });
      const addToReadyMs = Date.now() - started;
      const phaseMs = phaseDurations(events.filter((e) => e.operationId === 'bench-add'), started, Date.now());
      options.print(`provision.add_to_ready_ms=${addToReadyMs} (node ${added.nodeId}, steps: ${added.stepsRun.join(', ')})`);
      for (const [phase, ms] of Object.entries(phaseMs)) {
        options.print(`provision.phase.${phase}_ms=${ms} (${((ms / addToReadyMs) * 100).toFixed(1)}%)`);
      }
      // Install steps, each from its first 'running' to its 'done'.
      for (const step of added.stepsRun) {
        const own = events.filter((e) => e.operationId === 'bench-add' && e.step === step);
        const from = own.find((e) => e.state === 'running');
        const to = own.find((e) => e.state === 'done');
        if (from && to) {
          const ms = Date.parse(to.at) - Date.parse(from.at);
          options.print(`provision.step.${step}_ms=${ms} (${((ms / addToReadyMs) * 100).toFixed(1)}%)`);
        }
      }
      const rerunStarted = Date.now();
      const rerun = await client.machineAdd({ ...request, operationId: 'bench-rerun' });
      const rerunMs = Date.now() - rerunStarted;
      options.print(`provision.rerun_ms=${rerunMs} (changed: ${rerun.changed})`);
      options.print(`provision.load_average=${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
      return { addToReadyMs, phaseMs, rerunMs };
    } finally {
      client.close();
    }
  } finally {
    await lab.destroy();
  }
}
