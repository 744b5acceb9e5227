// Runs before `npm test`: makes sure the system programs the suites drive are here.
// On Debian as root (a fresh lab machine, CI) it installs what is missing from Debian's packages;
// elsewhere it says what to install, and the suites that need it print why they skip or fail.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDS = [
  { what: 'Chromium (e2e tests)', package: 'chromium', present: () => Boolean(process.env.CHROMIUM_PATH) || ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].some(existsSync) },
  { what: 'Docker Engine (engine and workload tests)', package: 'docker.io', present: () => onPath('dockerd') },
  { what: 'a static busybox (the engine tests\' local images)', package: 'busybox-static', present: () => existsSync('/bin/busybox') },
  { what: 'a registry on loopback (the engine tests\' pulls)', package: 'docker-registry', present: () => onPath('docker-registry') },
  { what: 'OpenSSH server (lab hosts)', package: 'openssh-server', present: () => existsSync('/usr/sbin/sshd') },
  { what: 'OpenSSH client tools (lab host keys)', package: 'openssh-client', present: () => onPath('ssh-keygen') },
  { what: 'sudo (lab users)', package: 'sudo', present: () => onPath('sudo') },
  { what: 'iproute2 (lab namespaces)', package: 'iproute2', present: () => onPath('ip') },
  { what: 'iptables (lab bridge forwarding)', package: 'iptables', present: () => onPath('iptables') },
];

function onPath(program) {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

const missing = NEEDS.filter((need) => !need.present());
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && onPath('apt-get')) {
  const packages = missing.map((need) => need.package);
  console.log(`Installing test prerequisites from Debian's packages: ${packages.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
} else {
  for (const need of missing) console.warn(`Missing: ${need.what} — install "${need.package}" (or your platform's equivalent).`);
}
