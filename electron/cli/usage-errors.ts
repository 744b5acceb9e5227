// A wrong command line answered as Docker's CLI answers it (docker/cli cli/cobra.go FlagErrorFunc,
// cli/required.go): the problem, the command's usage line, and where to read more. Commander
// reports the problem; this turns it into the catalog's words instead of commander's own.
import { CommanderError, type Command } from 'commander';
import type { SkepError } from '../../shared/errors.js';
import { cliError } from './output.js';

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

function useLine(command: Command): string {
  const usage = command.usage();
  return `${commandPath(command)}${usage ? ' ' + usage : ''}`;
}

/** Exit statuses Docker uses: 125 for a flag error, 1 for the rest, 0 after help or version. */
export interface UsageFailure {
  readonly error?: SkepError;
  readonly exitCode: number;
}

export function usageFailure(command: Command, error: CommanderError): UsageFailure {
  const path = commandPath(command);
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  switch (error.code) {
    case 'commander.help':
    case 'commander.helpDisplayed':
    case 'commander.version':
      return { exitCode: 0 };
    case 'commander.unknownOption': {
      const detail = quoted.startsWith('--') ? `unknown flag: ${quoted}` : `unknown shorthand flag: '${quoted.slice(1, 2)}' in ${quoted}`;
      return { error: cliError('FLAG_ERROR', detail, useLine(command), path), exitCode: 125 };
    }
    case 'commander.optionMissingArgument': {
      const flag = quoted.split(/[ ,]/).find((part) => part.startsWith('--')) ?? quoted;
      return { error: cliError('FLAG_ERROR', `flag needs an argument: ${flag}`, useLine(command), path), exitCode: 125 };
    }
    case 'commander.invalidArgument': {
      const flag = quoted.split(/[ ,]/).find((part) => part.startsWith('--')) ?? quoted;
      const value = /argument '([^']*)'/.exec(error.message)?.[1] ?? '';
      const why = error.message.split('. ').slice(1).join('. ');
      return { error: cliError('FLAG_ERROR', `invalid argument "${value}" for "${flag}" flag: ${why}`.trim(), useLine(command), path), exitCode: 125 };
    }
    case 'commander.missingArgument': {
      const declared = command.registeredArguments;
      const required = declared.filter((a) => a.required).length;
      const variadic = declared.some((a) => a.variadic);
      return { error: variadic ? cliError('ARGS_AT_LEAST', path, required, useLine(command)) : cliError('ARGS_EXACTLY', path, required, useLine(command)), exitCode: 1 };
    }
    case 'commander.excessArguments': {
      const declared = command.registeredArguments.length;
      return { error: declared === 0 ? cliError('ARGS_NONE', path, useLine(command)) : cliError('ARGS_EXACTLY', path, declared, useLine(command)), exitCode: 1 };
    }
    case 'commander.unknownCommand': {
      const word = quoted || error.message;
      return { error: cliError('UNKNOWN_COMMAND', `${path} ${word}`), exitCode: 1 };
    }
    default:
      return { error: cliError('FLAG_ERROR', error.message.replace(/^error: /, ''), useLine(command), path), exitCode: 1 };
  }
}

/** Every command stops commander from printing and exiting, and throws the catalog's error instead. */
export function useDockerUsageErrors(command: Command, onFailure: (failure: UsageFailure) => never): void {
  command.configureOutput({ outputError: () => undefined });
  command.showHelpAfterError(false);
  command.exitOverride((error) => onFailure(usageFailure(command, error)));
  for (const sub of command.commands) useDockerUsageErrors(sub, onFailure);
}

export { CommanderError };
