// Running things on the machine: as the login user, or as root through sudo. The sudo password,
// when there is one, goes to `sudo -S` on stdin and nowhere else (not argv, not logs, not errors);
// `-k` makes sudo read it every time, so it can never fall through to the command's own stdin.
import { skepError } from '../../shared/errors.js';
import type { SudoMode } from '../../shared/provision.js';
import { shellQuote } from './layout.js';
import type { CommandResult, SshSession } from './ssh.js';

export interface Remote {
  readonly session: SshSession;
  /** Runs a script as the login user; extra arguments become $1, $2, … */
  user(script: string, args?: readonly string[], onLine?: (line: string) => void): Promise<CommandResult>;
  /** Runs a script as root. */
  root(script: string, args?: readonly string[], onLine?: (line: string) => void): Promise<CommandResult>;
}

function shCommand(script: string, args: readonly string[]): string {
  return ['sh', '-c', shellQuote(script), 'sh', ...args.map(shellQuote)].join(' ');
}

export function remote(session: SshSession, sudo: SudoMode, sudoPassword: string | undefined, user: string): Remote {
  const asRoot = (script: string, args: readonly string[], onLine?: (line: string) => void): Promise<CommandResult> => {
    const command = shCommand(script, args);
    const lines = onLine ? { onLine } : {};
    if (sudo === 'root') return session.exec(command, lines);
    if (sudo === 'nopasswd') return session.exec(`sudo -n ${command}`, lines);
    if (sudo === 'password') {
      if (sudoPassword === undefined) throw skepError('PROVISION_SUDO_PASSWORD_NEEDED', user);
      return session.exec(`sudo -k -S -p '' ${command}`, { ...lines, stdin: sudoPassword + '\n' });
    }
    throw skepError('PROVISION_NO_SUDO', user, `${user} ALL=(ALL:ALL) ALL`);
  };
  return {
    session,
    user: (script, args = [], onLine) => session.exec(shCommand(script, args), onLine ? { onLine } : {}),
    root: (script, args = [], onLine) => asRoot(script, args, onLine),
  };
}

/** Checks a sudo password once, reading sudo's own words to tell "wrong password" from "no sudo". */
export async function checkSudoPassword(session: SshSession, password: string): Promise<'ok' | 'wrong' | 'not-allowed'> {
  // One line on stdin, then EOF: a wrong password fails at once instead of being asked again.
  const result = await session.exec(`sudo -k -S -p '' true`, { stdin: password + '\n' });
  if (result.code === 0) return 'ok';
  if (/not in the sudoers|may not run sudo|not allowed/i.test(result.stderr)) return 'not-allowed';
  return 'wrong';
}
