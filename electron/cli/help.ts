// `--help` in Docker's layout (docker/cli cli/cobra.go usageTemplate, pflag's FlagUsages):
// Usage, the description, Aliases, Options or Commands, and "Run '… COMMAND --help'".
import type { Command, Help, Option } from 'commander';

/** pflag's value type names, as Docker's help shows them ("--format string", "-f, --filter filter"). */
function valueType(option: Option): string {
  if (!option.required && !option.optional) return '';
  const name = option.flags.match(/[<[]([^>\]]+)[>\]]/)?.[1] ?? 'string';
  return ['filter', 'list', 'int', 'string'].includes(name) ? name : 'string';
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** pflag FlagUsages: flags sorted by name, usage aligned after the longest flag, continuation lines indented. */
export function flagUsages(options: readonly Option[]): string {
  const visible = options.filter((o) => !o.hidden && o.long !== '--help').sort((a, b) => (a.name() < b.name() ? -1 : 1));
  const lefts = visible.map((option) => {
    const type = valueType(option);
    const flags = option.short ? `  ${option.short}, ${option.long}` : `      ${option.long}`;
    return flags + (type ? ` ${type}` : '');
  });
  const width = Math.max(0, ...lefts.map((l) => l.length));
  return visible
    .map((option, i) => {
      const left = lefts[i] as string;
      let usage = option.description;
      const def = option.defaultValue as unknown;
      if (typeof def === 'string' && def !== '') usage += ` (default "${def}")`;
      else if (typeof def === 'number') usage += ` (default ${def})`;
      const indent = ' '.repeat(width + 3);
      return `${left}${' '.repeat(width - left.length + 3)}${usage.split('\n').join('\n' + indent)}`;
    })
    .join('\n');
}

export function dockerHelp(command: Command, _helper: Help): string {
  const path = commandPath(command);
  const subcommands = command.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
  const lines: string[] = [];
  const usage = command.usage();
  lines.push(subcommands.length > 0 && command.parent ? `Usage:  ${path} COMMAND` : `Usage:  ${path}${usage ? ' ' + usage : ''}`, '');
  lines.push(command.description());
  const aliases = command.aliases();
  if (aliases.length > 0) {
    const parent = command.parent ? commandPath(command.parent) + ' ' : '';
    lines.push('', 'Aliases:', `  ${[path, ...aliases.map((a) => parent + a)].join(', ')}`);
  }
  const options = command.options as readonly Option[];
  if (command.parent && options.some((o) => !o.hidden && o.long !== '--help')) lines.push('', 'Options:', flagUsages(options));
  if (subcommands.length > 0) {
    const width = Math.max(...subcommands.map((c) => c.name().length));
    lines.push('', command.parent ? 'Commands:' : 'Commands:');
    for (const sub of [...subcommands].sort((a, b) => (a.name() < b.name() ? -1 : 1))) lines.push(`  ${sub.name().padEnd(width)}   ${sub.description()}`);
  }
  if (!command.parent && options.some((o) => !o.hidden)) lines.push('', 'Global Options:', flagUsages(options));
  if (subcommands.length > 0) lines.push('', `Run '${path} COMMAND --help' for more information on a command.`);
  return lines.join('\n') + '\n';
}

/** Gives `command` and everything under it Docker's help layout, and hides commander's own help flag. */
export function useDockerHelp(command: Command): void {
  command.configureHelp({ formatHelp: dockerHelp });
  command.helpOption('-h, --help', 'Print usage');
  command.helpCommand(false);
  for (const sub of command.commands) useDockerHelp(sub);
}
