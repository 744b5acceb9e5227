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

/** One argument for `sh -c`, quoted so the shell passes it through untouched. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
