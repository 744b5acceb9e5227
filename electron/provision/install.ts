// The install steps and removal, as remote scripts. Each step is safe to run again: files are
// written beside their target and renamed into place, the agent is started only when it is not
// running, the join token lives in a root-only file only as long as the join takes.
import { skepError } from '../../shared/errors.js';
import type { MachineFacts, PlanStepId } from '../../shared/provision.js';
import type { NodeRole } from '../../shared/types.js';
import { DAEMON_NODE_FLAGS, REMOTE } from './layout.js';
import type { Remote } from './remote.js';

export interface InstallContext {
  readonly remote: Remote;
  readonly facts: MachineFacts;
  readonly bundle: { readonly bytes: Buffer; readonly sha256: string };
  readonly join: { readonly token: string; readonly managerAddr: string; readonly advertiseAddr: string; readonly role: NodeRole };
  readonly onLine: (line: string) => void;
  /** The run's staging folder (made on first use by stagingDir). */
  readonly stage: () => Promise<string>;
}

/** A private staging folder of the login user's, for files on their way to root-owned places. */
export async function stagingDir(remote: Remote): Promise<string> {
  // Leftovers of an earlier run that lost its connection go first: nothing half-done is kept.
  const result = await remote.user(
    `find /tmp -maxdepth 1 -name 'skep-stage.*' -user "$(id -u)" -exec rm -rf {} + 2>/dev/null; umask 077; mktemp -d /tmp/skep-stage.XXXXXXXX`,
  );
  const dir = result.stdout.trim();
  if (result.code !== 0 || !dir.startsWith('/tmp/skep-stage.')) throw skepError('PROVISION_STEP_FAILED', 'Preparing a staging folder', result.stderr.trim() || 'mktemp failed');
  return dir;
}

async function mustSucceed(step: string, run: Promise<{ code: number | null; stderr: string; stdout: string }>): Promise<string> {
  const result = await run;
  if (result.code !== 0) throw skepError('PROVISION_STEP_FAILED', step, lastLines(result.stderr || result.stdout) || `exit status ${result.code}`);
  return result.stdout;
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' / ');
}

export function supervisorScript(nodePath: string): string {
  return `#!/bin/sh
# Keeps the Skep daemon running where there is no systemd: restarts it whenever it exits.
# Started with setsid; stopped with SIGTERM to the pid in ${REMOTE.supervisorPid}.
mkdir -p ${REMOTE.runDir}
echo $$ > ${REMOTE.supervisorPid}
child=
trap 'trap - TERM INT; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"; rm -f ${REMOTE.supervisorPid}; exit 0' TERM INT
while :; do
  ${nodePath} ${DAEMON_NODE_FLAGS.join(' ')} ${REMOTE.bundle} daemon --data-dir ${REMOTE.dataDir} --control ${REMOTE.control} >>${REMOTE.daemonLog} 2>&1 &
  child=$!
  wait "$child"
  sleep 2
done
`;
}

export function systemdUnit(nodePath: string): string {
  return `[Unit]
Description=Skep node (swarm agent)
After=network-online.target docker.service
Wants=network-online.target

[Service]
ExecStart=${nodePath} ${DAEMON_NODE_FLAGS.join(' ')} ${REMOTE.bundle} daemon --data-dir ${REMOTE.dataDir} --control ${REMOTE.control}
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
`;
}

const WAIT_FOR_SOCKET = `i=0; while [ ! -S ${REMOTE.socket} ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done; [ -S ${REMOTE.socket} ] || { echo "the agent did not open ${REMOTE.socket}; see ${REMOTE.daemonLog}" >&2; exit 1; }`;

const STOP_AGENT = `
if [ -d /run/systemd/system ] && [ -f ${REMOTE.unit} ]; then systemctl stop ${REMOTE.unitName} 2>/dev/null || true; fi
if [ -f ${REMOTE.supervisorPid} ]; then
  p=$(cat ${REMOTE.supervisorPid})
  kill -TERM "$p" 2>/dev/null
  i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  rm -f ${REMOTE.supervisorPid}
fi
rm -f ${REMOTE.socket}
`;

function startAgent(init: MachineFacts['init']): string {
  if (init === 'systemd') return `systemctl restart ${REMOTE.unitName} && ${WAIT_FOR_SOCKET}`;
  return `mkdir -p ${REMOTE.runDir} && chmod 0700 ${REMOTE.runDir}
if [ -f ${REMOTE.supervisorPid} ] && kill -0 "$(cat ${REMOTE.supervisorPid})" 2>/dev/null; then echo "the agent is already running"; else
  setsid -f ${REMOTE.supervisor} </dev/null >/dev/null 2>&1
fi
${WAIT_FOR_SOCKET}`;
}

export const STEP_TITLES: Record<PlanStepId, string> = {
  'install-node': 'Installing Node.js',
  'install-docker': 'Installing Docker Engine',
  'copy-bundle': 'Copying the agent',
  'install-service': 'Installing the service',
  'start-agent': 'Starting the agent',
  'restart-agent': 'Restarting the agent',
  join: 'Joining the swarm',
};

export async function runStep(step: PlanStepId, context: InstallContext): Promise<void> {
  const { remote, facts, onLine } = context;
  const title = STEP_TITLES[step];
  const nodePath = facts.node.path || '/usr/bin/node';
  switch (step) {
    case 'install-node':
      await mustSucceed(title, remote.root('DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs', [], onLine));
      return;
    case 'install-docker':
      // Debian's package; started by systemd where there is one, by hand otherwise (as LAB-NOTES' hosts).
      await mustSucceed(
        title,
        remote.root(
          'DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io && if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then systemctl enable --now docker; else (setsid -f dockerd >/var/log/dockerd.log 2>&1 </dev/null); fi',
          [],
          onLine,
        ),
      );
      return;
    case 'copy-bundle': {
      const stage = await context.stage();
      await remote.session.writeFile(`${stage}/skep.mjs`, context.bundle.bytes, 0o600);
      // Renamed into place only once its sha256 matches: a dropped connection leaves the old file or the new one.
      const result = await remote.root(
        `set -e; install -d -m 0755 ${REMOTE.dir}; install -m 0755 "$1/skep.mjs" ${REMOTE.bundle}.new; rm -f "$1/skep.mjs"
H=$(sha256sum ${REMOTE.bundle}.new | cut -d' ' -f1); echo "sha256=$H"
if [ "$H" = "$2" ]; then mv -f ${REMOTE.bundle}.new ${REMOTE.bundle}; else rm -f ${REMOTE.bundle}.new; exit 3; fi`,
        [stage, context.bundle.sha256],
        onLine,
      );
      const actual = /sha256=(\w+)/.exec(result.stdout)?.[1] ?? '';
      if (result.code === 3) throw skepError('PROVISION_BUNDLE_CORRUPT', context.bundle.sha256, actual);
      if (result.code !== 0) throw skepError('PROVISION_STEP_FAILED', title, lastLines(result.stderr || result.stdout) || `exit status ${result.code}`);
      return;
    }
    case 'install-service': {
      const stage = await context.stage();
      if (facts.init === 'systemd') {
        await remote.session.writeFile(`${stage}/skep.service`, systemdUnit(nodePath), 0o600);
        await mustSucceed(title, remote.root(`set -e; install -m 0644 "$1/skep.service" ${REMOTE.unit}; rm -f "$1/skep.service"; install -d -m 0700 ${REMOTE.dataDir}; systemctl daemon-reload; systemctl enable ${REMOTE.unitName}`, [stage], onLine));
      } else {
        await remote.session.writeFile(`${stage}/supervise.sh`, supervisorScript(nodePath), 0o600);
        await mustSucceed(title, remote.root(`set -e; install -d -m 0755 ${REMOTE.dir}; install -m 0755 "$1/supervise.sh" ${REMOTE.supervisor}; rm -f "$1/supervise.sh"; install -d -m 0700 ${REMOTE.dataDir}`, [stage], onLine));
      }
      return;
    }
    case 'start-agent':
      await mustSucceed(title, remote.root(startAgent(facts.init), [], onLine));
      return;
    case 'restart-agent':
      await mustSucceed(title, remote.root(`${STOP_AGENT}\n${startAgent(facts.init)}`, [], onLine));
      return;
    case 'join': {
      const stage = await context.stage();
      await remote.session.writeFile(`${stage}/token`, context.join.token + '\n', 0o600);
      // The token moves to a root-only file and is removed when the join ends, however it ends.
      await mustSucceed(
        title,
        remote.root(
          `trap 'rm -f ${REMOTE.tokenFile}' EXIT HUP INT TERM
install -d -m 0700 ${REMOTE.dataDir} && install -m 0600 -o root -g root "$1/token" ${REMOTE.tokenFile}; rc=$?; rm -f "$1/token"; [ $rc -eq 0 ] || exit $rc
"$2" ${REMOTE.bundle} -H ${REMOTE.control} swarm join --token-file ${REMOTE.tokenFile} \${3:+--advertise-addr "$3"} "$4"`,
          [stage, nodePath, context.join.advertiseAddr, context.join.managerAddr],
          onLine,
        ),
      );
      return;
    }
  }
}

export interface RemovalReport {
  readonly removed: string[];
  readonly left: string[];
}

/** Leaves the swarm (best effort: the manager removes the node anyway), stops and deletes the agent. */
export async function removeAgent(remote: Remote, facts: MachineFacts, onLine: (line: string) => void): Promise<RemovalReport> {
  const nodePath = facts.node.path || '/usr/bin/node';
  const removed: string[] = [];
  const left: string[] = [];
  if (facts.skep.nodeId) {
    const leave = await remote.root(`"$1" ${REMOTE.bundle} -H ${REMOTE.control} swarm leave --force`, [nodePath], onLine);
    if (leave.code === 0) removed.push(`swarm membership (node ${facts.skep.nodeId})`);
    else left.push(`the node could not leave the swarm itself (${lastLines(leave.stderr)}); the manager removed it`);
  }
  await mustSucceed(
    'Removing the agent',
    remote.root(
      `${STOP_AGENT}
if [ -f ${REMOTE.unit} ]; then systemctl disable ${REMOTE.unitName} 2>/dev/null || true; rm -f ${REMOTE.unit}; systemctl daemon-reload 2>/dev/null || true; fi
rm -rf ${REMOTE.dir} ${REMOTE.dataDir} ${REMOTE.runDir}
find /tmp -maxdepth 1 -name 'skep-stage.*' -exec rm -rf {} + 2>/dev/null; true`,
      [],
      onLine,
    ),
  );
  removed.push('the agent (stopped)', facts.init === 'systemd' ? REMOTE.unit : REMOTE.supervisor, REMOTE.dir, `${REMOTE.dataDir} (the node's keys and state)`, REMOTE.runDir);
  if (facts.docker.present) left.push(`Docker Engine ${facts.docker.version} (installed, untouched)`);
  if (facts.node.path) left.push(`Node.js ${facts.node.version} (installed, untouched)`);
  return { removed, left };
}
