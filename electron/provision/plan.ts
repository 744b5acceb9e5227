// The plan: facts in, steps out, each with why. Pure, so every "stop before changing anything"
// rule is tested without a machine. Nothing runs until the person agrees to what this returns.
import { ERROR_CATALOG } from '../../shared/errors.js';
import type { InstallPlan, MachineFacts, PlanStep } from '../../shared/provision.js';
import type { NodeRole } from '../../shared/types.js';
import { nodeMajor } from './facts.js';
import { REMOTE } from './layout.js';

export const SUPPORTED_ARCHITECTURES = ['x86_64', 'aarch64', 'armv7l'] as const;
const DEBIAN_LIKE = ['debian', 'raspbian', 'ubuntu'];
export const MINIMUM_NODE_MAJOR = 18;
/** Node certificates are checked against both clocks; a minute apart is the most they bear. */
export const MAX_CLOCK_OFFSET_MS = 60_000;

export interface PlanInput {
  readonly facts: MachineFacts;
  readonly role: NodeRole;
  readonly bundle: { readonly version: string; readonly sha256: string };
  readonly swarm: { readonly clusterId: string; readonly managerAddr: string };
  readonly installMissing: boolean;
  /** The sudo password was given (needed to read root-only facts when sudo asks for one). */
  readonly sudoPasswordGiven: boolean;
}

export function sudoersLine(user: string): string {
  return `${user} ALL=(ALL:ALL) ALL`;
}

function stop(code: keyof typeof ERROR_CATALOG, message: string): InstallPlan {
  return { stop: { code, message }, steps: [], notes: [], upToDate: false };
}

function unsupported(reason: string): InstallPlan {
  return stop('PROVISION_UNSUPPORTED', ERROR_CATALOG.PROVISION_UNSUPPORTED.text(reason));
}

export function isDebianLike(facts: MachineFacts): boolean {
  const ids = [facts.os.id, ...facts.os.idLike.split(/\s+/)];
  return ids.some((id) => DEBIAN_LIKE.includes(id));
}

export function planInstall(input: PlanInput): InstallPlan {
  const { facts } = input;
  if (!isDebianLike(facts)) {
    return unsupported(`${facts.os.name || facts.os.id || 'an unknown system'} is not a Debian-like system (Skep installs on Debian, Ubuntu and Raspberry Pi OS)`);
  }
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(facts.architecture)) {
    return unsupported(`the ${facts.architecture || 'unknown'} architecture is not supported (Skep runs on ${SUPPORTED_ARCHITECTURES.join(', ')})`);
  }
  if (facts.sudo === 'none') {
    return stop('PROVISION_NO_SUDO', ERROR_CATALOG.PROVISION_NO_SUDO.text(facts.user, sudoersLine(facts.user)));
  }
  if (facts.docker.snap) {
    return unsupported('Docker Engine is installed as a snap, whose confinement breaks bind mounts; install Debian\'s docker.io instead');
  }
  const nodeVersion = nodeMajor(facts.node.version);
  if (facts.node.path && nodeVersion < MINIMUM_NODE_MAJOR) {
    return unsupported(`Node.js ${facts.node.version || '(unknown version)'} is too old (Skep needs ${MINIMUM_NODE_MAJOR} or newer)`);
  }
  if (!facts.node.path && !input.installMissing) {
    return stop('PROVISION_NEEDS_CONSENT', ERROR_CATALOG.PROVISION_NEEDS_CONSENT.text(`Node.js ${MINIMUM_NODE_MAJOR} or newer`));
  }
  if (Math.abs(facts.clockOffsetMs) > MAX_CLOCK_OFFSET_MS) {
    return unsupported(`its clock is ${Math.round(facts.clockOffsetMs / 1000)} s off this machine's (certificates need less than a minute); set up NTP there`);
  }
  if (facts.reachesManager === false) {
    return unsupported(`it can't reach the manager at ${input.swarm.managerAddr} (a firewall, or another network?)`);
  }
  if (facts.skep.known && facts.skep.clusterId && facts.skep.clusterId !== input.swarm.clusterId) {
    return stop('SWARM_EXISTS', ERROR_CATALOG.SWARM_EXISTS.text());
  }

  const notes: string[] = [];
  if (!facts.docker.present && !input.installMissing) notes.push('Docker Engine is not installed: the node joins, but runs no tasks until it is (apt-get install docker.io, or add it again with consent to install what is missing).');
  else if (!facts.docker.reachable) notes.push(`Docker Engine ${facts.docker.version} is installed; Skep's agent talks to it as root.`);
  if (facts.docker.present) notes.push(`Docker Engine ${facts.docker.version} is left as it is (not restarted, not reconfigured).`);
  if (!facts.cgroupMemory) notes.push('The kernel\'s memory cgroup is off: memory limits won\'t apply (on a Raspberry Pi add cgroup_enable=memory to cmdline.txt).');
  if (facts.sudo === 'password') notes.push('sudo asks for a password: it is given once to sudo on stdin, never stored.');
  if (facts.sudo === 'password' && !facts.skep.known && !input.sudoPasswordGiven) notes.push('Whether Skep already runs there is read with root rights, once the sudo password is given.');

  const steps: PlanStep[] = [];
  if (!facts.node.path) steps.push({ id: 'install-node', title: 'Install Node.js', why: `Skep's agent runs on Node.js ${MINIMUM_NODE_MAJOR}+; installed from the distribution's packages (apt-get install nodejs), as agreed.` });
  if (!facts.docker.present && input.installMissing) {
    steps.push({ id: 'install-docker', title: 'Install Docker Engine', why: 'Tasks run as containers on the machine\'s own engine; installed from the distribution\'s packages (apt-get install docker.io) and started, as agreed.' });
  }
  const bundleChanged = facts.skep.bundleSha256 !== input.bundle.sha256;
  if (bundleChanged) {
    steps.push({
      id: 'copy-bundle',
      title: facts.skep.bundleSha256 ? `Replace the agent ${facts.skep.installedVersion} with ${input.bundle.version}` : `Copy the agent ${input.bundle.version}`,
      why: `One JavaScript file, ${REMOTE.bundle}, copied over SFTP and checked by its sha256.`,
    });
  }
  if (bundleChanged || !facts.skep.running) {
    steps.push(
      facts.init === 'systemd'
        ? { id: 'install-service', title: 'Install the systemd unit', why: `${REMOTE.unit} keeps the agent running and starts it at boot.` }
        : { id: 'install-service', title: 'Install the supervisor', why: `No systemd here: ${REMOTE.supervisor} restarts the agent when it exits.` },
    );
  }
  if (!facts.skep.running) steps.push({ id: 'start-agent', title: 'Start the agent', why: `skep daemon, with its data in ${REMOTE.dataDir}.` });
  else if (bundleChanged) steps.push({ id: 'restart-agent', title: 'Restart the agent', why: 'It runs the old version.' });
  const joined = facts.skep.known && facts.skep.nodeId !== '' && facts.skep.clusterId === input.swarm.clusterId;
  if (!joined) {
    steps.push({ id: 'join', title: `Join the swarm as a ${input.role}`, why: `With the ${input.role} join token, passed through a root-only file that is removed after the join; the manager is ${input.swarm.managerAddr}.` });
  }
  return { steps, notes, upToDate: steps.length === 0 };
}
