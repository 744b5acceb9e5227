// Facts about a machine, read without changing anything: one shell script run as the login user
// (prints key=value lines), and a second one with root rights for what only root may read (is the
// agent running, which swarm is it in). Parsing is pure, so it is tested on captured output.
import type { MachineFacts, SudoMode } from '../../shared/provision.js';
import { REMOTE } from './layout.js';

/**
 * Read-only probe, as the login user. `$1`/`$2`: the manager's host and port to try reaching;
 * `$3`: the sha256 of the bundle we would install (the installed version is asked only when it differs).
 */
export const USER_FACTS_SCRIPT = `
echo "clock.ms=$(date +%s%3N)"
if [ -r /etc/os-release ]; then . /etc/os-release; fi
echo "os.id=\${ID:-}"; echo "os.like=\${ID_LIKE:-}"; echo "os.name=\${PRETTY_NAME:-}"; echo "os.version=\${VERSION_ID:-}"
echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"
echo "arch=$(uname -m)"; echo "kernel=$(uname -r)"
echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || echo 0)"
echo "mem.kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null)"
echo "disk.kb=$(df -Pk /var/lib 2>/dev/null | awk 'NR==2 {print $4}')"
if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=other; fi
echo "user=$(id -un)"; echo "uid=$(id -u)"; echo "groups=$(id -nG)"
if command -v sudo >/dev/null 2>&1; then
  if sudo -n true >/dev/null 2>&1; then echo sudo=nopasswd; else echo sudo=asks; fi
else echo sudo=absent; fi
D=$(command -v docker 2>/dev/null)
if [ -n "$D" ]; then
  echo docker.present=1
  case "$(readlink -f "$D")" in /snap/*) echo docker.snap=1 ;; esac
  [ -d /snap/docker ] && echo docker.snap=1
  V=$(docker version --format '{{.Server.Version}}' 2>/dev/null) && echo "docker.reachable=1" && echo "docker.version=$V"
  [ -z "$V" ] && echo "docker.version=$(docker --version 2>/dev/null | sed -n 's/^Docker version \\([^,]*\\).*/\\1/p')"
fi
N=$(command -v node 2>/dev/null || command -v nodejs 2>/dev/null)
if [ -n "$N" ]; then echo "node.path=$N"; echo "node.version=$("$N" --version 2>/dev/null)"; fi
if [ -r /sys/fs/cgroup/cgroup.controllers ]; then
  grep -qw memory /sys/fs/cgroup/cgroup.controllers && echo cgroup.memory=1
elif awk '$1 == "memory" && $4 == 1 {found=1} END {exit !found}' /proc/cgroups 2>/dev/null; then echo cgroup.memory=1; fi
if [ -f ${REMOTE.bundle} ]; then
  H=$(sha256sum ${REMOTE.bundle} | cut -d' ' -f1); echo "skep.sha256=$H"
  [ -n "$N" ] && [ "$H" != "$3" ] && echo "skep.version=$("$N" ${REMOTE.bundle} --version 2>/dev/null)"
fi
if [ -n "$N" ] && [ -n "$1" ]; then
  "$N" -e 'const s=require("net").connect(Number(process.argv[2]),process.argv[1]);s.setTimeout(3000);const done=(r)=>{console.log("reach="+r);process.exit(0)};s.on("connect",()=>done(1));s.on("error",()=>done(0));s.on("timeout",()=>done(0))' "$1" "$2"
fi
`;

/** Asks the agent's control socket for its swarm status (the API's own frames, shared/wire.ts). */
const ASK_STATUS = `const s=require("net").connect(process.argv[1]);let b="";const out=(r)=>{console.log("skep.nodeId="+(r.nodeId||""));console.log("skep.clusterId="+(r.clusterId||""));console.log("skep.role="+(r.role||""));process.exit(0)};s.on("connect",()=>s.write(JSON.stringify({id:1,method:"getSwarmStatus",params:[]})+"\\n"));s.on("data",(d)=>{b+=d;let i;while((i=b.indexOf("\\n"))>=0){const f=JSON.parse(b.slice(0,i));b=b.slice(i+1);if(f.id===1)out(f.ok?f.result:{})}});s.on("error",()=>process.exit(0));setTimeout(()=>process.exit(0),5000)`;

/** With root rights, read-only: is the agent running, and which swarm it is in. `$1`: node's path. */
export const ROOT_FACTS_SCRIPT = `
if [ -d /run/systemd/system ] && systemctl is-active --quiet ${REMOTE.unitName} 2>/dev/null; then echo skep.running=1
elif [ -f ${REMOTE.supervisorPid} ] && kill -0 "$(cat ${REMOTE.supervisorPid})" 2>/dev/null; then echo skep.running=1; fi
if [ -S ${REMOTE.socket} ]; then "$1" -e '${ASK_STATUS}' ${REMOTE.socket}; fi
echo root.ok=1
`;

export type RawFacts = ReadonlyMap<string, string>;

export function parseKeyValues(output: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of output.split('\n')) {
    const equals = line.indexOf('=');
    if (equals <= 0) continue;
    values.set(line.slice(0, equals).trim(), line.slice(equals + 1).trim());
  }
  return values;
}

/** Sudo as the probe saw it: `asks` means a password is wanted, or no sudo at all (sudo can't tell us which). */
export function sudoModeOf(raw: RawFacts): SudoMode {
  if (raw.get('uid') === '0') return 'root';
  const sudo = raw.get('sudo');
  if (sudo === 'nopasswd') return 'nopasswd';
  if (sudo !== 'asks') return 'none';
  // Without the password sudo answers "a password is required" either way; the admin groups decide.
  const groups = (raw.get('groups') ?? '').split(/\s+/);
  return groups.some((g) => g === 'sudo' || g === 'wheel' || g === 'admin') ? 'password' : 'none';
}

function number(raw: RawFacts, key: string): number {
  const value = Number(raw.get(key) ?? '');
  return Number.isFinite(value) ? value : 0;
}

/** The machine's clock minus ours, taking the probe's midpoint as the moment it read its clock. */
export function clockOffset(user: RawFacts, startedMs: number, endedMs: number): number {
  const remote = Number(user.get('clock.ms') ?? '');
  return Number.isFinite(remote) && remote > 0 ? Math.round(remote - (startedMs + endedMs) / 2) : 0;
}

export function factsFrom(user: RawFacts, root: RawFacts | undefined, clockOffsetMs: number): MachineFacts {
  const reach = user.get('reach');
  return {
    hostname: user.get('hostname') ?? '',
    os: { id: user.get('os.id') ?? '', idLike: user.get('os.like') ?? '', name: user.get('os.name') ?? '', version: user.get('os.version') ?? '' },
    architecture: user.get('arch') ?? '',
    kernel: user.get('kernel') ?? '',
    cpus: number(user, 'cpus'),
    memoryBytes: number(user, 'mem.kb') * 1024,
    diskFreeBytes: number(user, 'disk.kb') * 1024,
    init: user.get('init') === 'systemd' ? 'systemd' : 'other',
    user: user.get('user') ?? '',
    sudo: sudoModeOf(user),
    docker: {
      present: user.get('docker.present') === '1',
      version: user.get('docker.version') ?? '',
      snap: user.get('docker.snap') === '1',
      reachable: user.get('docker.reachable') === '1',
    },
    node: { path: user.get('node.path') ?? '', version: user.get('node.version') ?? '' },
    cgroupMemory: user.get('cgroup.memory') === '1',
    clockOffsetMs,
    skep: {
      installedVersion: user.get('skep.version') ?? '',
      bundleSha256: user.get('skep.sha256') ?? '',
      running: root?.get('skep.running') === '1',
      nodeId: root?.get('skep.nodeId') ?? '',
      clusterId: root?.get('skep.clusterId') ?? '',
      known: root?.get('root.ok') === '1',
    },
    reachesManager: reach === undefined ? null : reach === '1',
  };
}

/** `v18.19.0` → 18; 0 when unknown. */
export function nodeMajor(version: string): number {
  const match = /^v?(\d+)\./.exec(version);
  return match ? Number(match[1]) : 0;
}
