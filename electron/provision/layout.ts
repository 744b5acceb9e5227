// Where Skep puts itself on a machine it adds. Everything it creates is under these paths, so
// removal can name exactly what it deletes. The control socket is the daemon's default for root.
export const REMOTE = {
  dir: '/opt/skep',
  bundle: '/opt/skep/skep.mjs',
  supervisor: '/opt/skep/supervise.sh',
  dataDir: '/var/lib/skep',
  tokenFile: '/var/lib/skep/join-token',
  daemonLog: '/var/lib/skep/daemon.log',
  runDir: '/run/skep',
  control: 'unix:///run/skep/skep.sock',
  socket: '/run/skep/skep.sock',
  supervisorPid: '/run/skep/supervisor.pid',
  unit: '/etc/systemd/system/skep.service',
  unitName: 'skep.service',
} as const;

/**
 * Node's flags for `skep daemon` where Skep starts it (the systemd unit, the supervisor script).
 * An idle node allocates little, so it trades a little GC work for memory: V8 lets the young
 * generation's semi-spaces grow to 16 MiB after a burst (a join, a flood of writes) and keeps them;
 * 1 MiB holds a daemon's short-lived garbage. --optimize-for-size makes the heap grow in smaller
 * steps. Together ~2–4 MiB less resident per daemon (electron/node/README.md, "Memory"). Not
 * --lite-mode: it turns WebAssembly off, which ssh2 and Node's fetch need; not
 * --max-old-space-size: a swarm's store has no fixed size, and a manager that hits it dies.
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size'] as const;

/** One argument for `sh -c`, quoted so the shell passes it through untouched. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
