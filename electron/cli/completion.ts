// `skep completion bash|zsh|fish`: a completion script for the shell, as `docker completion` prints
// one. Commands and flags come from the command tree itself; node names from `skep node ls`.
import type { Command, Option } from 'commander';

interface Entry {
  /** "node ls" — the words after `skep`. */
  readonly path: string;
  readonly subcommands: readonly string[];
  readonly flags: readonly string[];
  readonly description: string;
  /** Whether its arguments are nodes (completed from `skep node ls`). */
  readonly takesNodes: boolean;
}

function entries(command: Command, prefix: string[] = []): Entry[] {
  const visible = command.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
  const flags = (command.options as readonly Option[]).filter((o) => !o.hidden).flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
  const path = prefix.join(' ');
  const takesNodes = prefix[0] === 'node' && ['inspect', 'promote', 'demote', 'rm', 'update'].includes(prefix[1] ?? '');
  const own: Entry = { path, subcommands: visible.flatMap((c) => [c.name(), ...c.aliases()]), flags: [...flags, '--help'], description: command.description(), takesNodes };
  return [own, ...visible.flatMap((c) => entries(c, [...prefix, c.name()]))];
}

const NODE_NAMES = "skep node ls --format '{{.Hostname}}' 2>/dev/null";

function bash(tree: Entry[]): string {
  const known = '|' + tree.map((e) => e.path).join('|') + '|';
  const cases = tree
    .map((e) => `    "${e.path}") words="${[...e.subcommands, ...e.flags].join(' ')}"${e.takesNodes ? '; nodes=1' : ''} ;;`)
    .join('\n');
  return `# bash completion for skep (skep completion bash)
_skep() {
  local cur path="" words="" nodes=0 i known="${known}"
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) path="\${path:+$path }\${COMP_WORDS[i]}" ;; esac
  done
  # Words that are not commands (node names, flag values) drop off the end.
  while [[ -n "$path" && "$known" != *"|$path|"* ]]; do
    if [[ "$path" == *" "* ]]; then path="\${path% *}"; else path=""; fi
  done
  case "$path" in
${cases}
  esac
  if [[ $nodes == 1 && "$cur" != -* ]]; then words="$(${NODE_NAMES})"; fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _skep skep
`;
}

function zsh(tree: Entry[]): string {
  return `#compdef skep
# zsh completion for skep (skep completion zsh)
autoload -U bashcompinit && bashcompinit
${bash(tree)}`;
}

function fish(tree: Entry[]): string {
  const lines = ['# fish completion for skep (skep completion fish)', 'complete -c skep -f'];
  for (const entry of tree) {
    const words = entry.path === '' ? [] : entry.path.split(' ');
    const condition = words.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${words[words.length - 1]}`;
    for (const sub of entry.subcommands) lines.push(`complete -c skep -n '${condition}' -a ${sub}`);
    for (const flag of entry.flags) {
      lines.push(flag.startsWith('--') ? `complete -c skep -n '${condition}' -l ${flag.slice(2)}` : `complete -c skep -n '${condition}' -s ${flag.slice(1)}`);
    }
    if (entry.takesNodes) lines.push(`complete -c skep -n '${condition}' -a '(${NODE_NAMES})'`);
  }
  return lines.join('\n') + '\n';
}

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

export function completionScript(root: Command, shell: CompletionShell): string {
  const tree = entries(root);
  return shell === 'bash' ? bash(tree) : shell === 'zsh' ? zsh(tree) : fish(tree);
}
