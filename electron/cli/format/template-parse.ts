// The parser of Go's text/template language, for the part Docker's `--format` uses: text and
// actions with trim markers and comments; fields, chains, variables, literals, functions and
// pipelines; if / else if / else, range (with $i, $v :=, else, break, continue), with.
// Errors read as Go's ("template: :LINE: …") so a person can look them up.

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export interface Position {
  readonly line: number;
  /** Byte offset within the line, zero-based, as Go's ErrorContext counts it. */
  readonly col: number;
  /** The source of the node, for "executing … at <…>". */
  readonly text: string;
}

export type Arg =
  | { readonly kind: 'dot'; readonly pos: Position }
  | { readonly kind: 'field'; readonly names: readonly string[]; readonly pos: Position }
  | { readonly kind: 'variable'; readonly name: string; readonly names: readonly string[]; readonly pos: Position }
  | { readonly kind: 'identifier'; readonly name: string; readonly pos: Position }
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null; readonly pos: Position }
  | { readonly kind: 'pipe'; readonly pipe: Pipe; readonly names: readonly string[]; readonly pos: Position };

export interface Command {
  readonly args: readonly Arg[];
  readonly pos: Position;
}

export interface Pipe {
  readonly decl: readonly string[];
  /** `=` rather than `:=`. */
  readonly assign: boolean;
  readonly cmds: readonly Command[];
}

export type TemplateNode =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'action'; readonly pipe: Pipe }
  | { readonly kind: 'if' | 'with' | 'range'; readonly pipe: Pipe; readonly list: readonly TemplateNode[]; readonly elseList: readonly TemplateNode[] }
  | { readonly kind: 'break' | 'continue'; readonly pos: Position };

// ---- lexer ----

type TokenKind = 'field' | 'dot' | 'variable' | 'identifier' | 'string' | 'number' | 'char' | 'lparen' | 'rparen' | 'pipe' | 'declare' | 'assign' | 'comma';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly offset: number;
  /** Whether whitespace came before it (a chain `.a.b` or `(x).f` has none). */
  readonly spaced: boolean;
}

const SPACE = /[ \t\r\n]/;
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

function unquote(raw: string): string {
  if (raw.startsWith('`')) return raw.slice(1, -1);
  try {
    // Go's escapes are JSON's plus \a \b \f \v \x.. \' and octal; JSON covers what formats use.
    return JSON.parse(raw.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\'/g, "'")) as string;
  } catch {
    throw new TemplateError(`invalid syntax ${raw}`);
  }
}

interface Action {
  readonly tokens: readonly Token[];
  readonly offset: number;
}

type Piece = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'action'; readonly action: Action };

function lexAction(source: string, start: number, end: number, fail: (offset: number, message: string) => never): Token[] {
  const tokens: Token[] = [];
  let i = start;
  let spaced = true;
  while (i < end) {
    const c = source[i] as string;
    if (SPACE.test(c)) {
      spaced = true;
      i++;
      continue;
    }
    const begin = i;
    const push = (kind: TokenKind, to: number): void => {
      tokens.push({ kind, text: source.slice(begin, to), offset: begin, spaced });
      spaced = false;
      i = to;
    };
    const identEnd = (from: number): number => {
      let j = from;
      while (j < end && IDENT_PART.test(source[j] as string)) j++;
      return j;
    };
    if (c === '.') {
      const next = source[i + 1];
      if (next !== undefined && IDENT_START.test(next)) push('field', identEnd(i + 1));
      else if (next !== undefined && /[0-9]/.test(next)) push('number', numberEnd(source, i, end));
      else push('dot', i + 1);
    } else if (c === '$') push('variable', identEnd(i + 1));
    else if (IDENT_START.test(c)) push('identifier', identEnd(i));
    else if (c === '"' || c === '`' || c === "'") {
      let j = i + 1;
      while (j < end && source[j] !== c) {
        if (c !== '`' && source[j] === '\\') j++;
        if (c !== '`' && source[j] === '\n') fail(i, 'unterminated quoted string');
        j++;
      }
      if (j >= end) fail(i, c === '`' ? 'unterminated raw quoted string' : 'unterminated quoted string');
      push(c === "'" ? 'char' : 'string', j + 1);
    } else if (/[0-9+-]/.test(c)) push('number', numberEnd(source, i, end));
    else if (c === '(') push('lparen', i + 1);
    else if (c === ')') push('rparen', i + 1);
    else if (c === '|') push('pipe', i + 1);
    else if (c === ',') push('comma', i + 1);
    else if (c === ':' && source[i + 1] === '=') push('declare', i + 2);
    else if (c === '=') push('assign', i + 1);
    else fail(i, `unexpected ${JSON.stringify(c)} in command`);
  }
  return tokens;
}

function numberEnd(source: string, start: number, end: number): number {
  let j = start;
  if (source[j] === '+' || source[j] === '-') j++;
  while (j < end && /[0-9a-fA-FxXoObB._eEpP]/.test(source[j] as string)) {
    if (/[eEpP]/.test(source[j] as string) && /[+-]/.test(source[j + 1] ?? '')) j++;
    j++;
  }
  return j;
}

function split(source: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let trimNext = false;
  const lineOf = (offset: number): number => source.slice(0, offset).split('\n').length;
  const fail = (offset: number, message: string): never => {
    throw new TemplateError(`template: :${lineOf(offset)}: ${message}`);
  };
  while (i <= source.length) {
    const open = source.indexOf('{{', i);
    let text = source.slice(i, open < 0 ? source.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) pieces.push({ kind: 'text', text });
      break;
    }
    let inner = open + 2;
    if (source[inner] === '-' && SPACE.test(source[inner + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      inner += 2;
    }
    if (text) pieces.push({ kind: 'text', text });
    // Find the closing delimiter outside quoted strings.
    let j = inner;
    let close = -1;
    while (j < source.length) {
      const c = source[j];
      if (c === '"' || c === '`' || c === "'") {
        const q = c;
        j++;
        while (j < source.length && source[j] !== q) j += q !== '`' && source[j] === '\\' ? 2 : 1;
        j++;
        continue;
      }
      if (source.startsWith('/*', j)) {
        const endComment = source.indexOf('*/', j + 2);
        if (endComment < 0) fail(j, 'unclosed comment');
        j = endComment + 2;
        continue;
      }
      if (source.startsWith('}}', j)) {
        close = j;
        break;
      }
      j++;
    }
    if (close < 0) fail(open, 'unclosed action');
    let innerEnd = close;
    if (source[close - 1] === '-' && SPACE.test(source[close - 2] ?? '') && close - 2 >= inner) {
      innerEnd = close - 2;
      trimNext = true;
    }
    const body = source.slice(inner, innerEnd).trim();
    if (body.startsWith('/*')) {
      if (!body.endsWith('*/')) fail(inner, 'comment ends before closing delimiter');
    } else {
      const tokens = lexAction(source, inner, innerEnd, fail);
      if (tokens.length === 0) fail(open, 'missing value for command');
      pieces.push({ kind: 'action', action: { tokens, offset: open } });
    }
    i = close + 2;
  }
  return pieces;
}

// ---- parser ----

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);

export function parseTemplate(source: string, functions: ReadonlySet<string>): TemplateNode[] {
  const pieces = split(source);
  let index = 0;
  const position = (offset: number, text: string): Position => {
    const before = source.slice(0, offset);
    const lastNewline = before.lastIndexOf('\n');
    return { line: before.split('\n').length, col: lastNewline < 0 ? offset : offset - lastNewline - 1, text };
  };
  const lineError = (offset: number, message: string): TemplateError => new TemplateError(`template: :${position(offset, '').line}: ${message}`);

  function parsePipe(tokens: readonly Token[], context: string, offset: number, allowDecl: boolean): Pipe {
    let at = 0;
    let decl: string[] = [];
    let assign = false;
    if (allowDecl && tokens[0]?.kind === 'variable') {
      // `$x :=`, `$x =`, or (in range) `$i, $v :=`.
      const second = tokens[1];
      if (second?.kind === 'declare' || second?.kind === 'assign') {
        decl = [tokens[0].text];
        assign = second.kind === 'assign';
        at = 2;
      } else if (second?.kind === 'comma' && tokens[2]?.kind === 'variable' && (tokens[3]?.kind === 'declare' || tokens[3]?.kind === 'assign')) {
        if (context !== 'range') throw lineError(offset, `too many declarations in ${context}`);
        decl = [tokens[0].text, tokens[2].text];
        assign = tokens[3].kind === 'assign';
        at = 4;
      }
    }
    const cmds: Command[] = [];
    let args: Arg[] = [];
    const endCommand = (): void => {
      const first = args[0];
      if (!first) throw lineError(offset, `missing value for ${context}`);
      cmds.push({ args, pos: { ...first.pos, text: args.map((arg) => arg.pos.text).join(' ') } });
      args = [];
    };
    while (at < tokens.length) {
      if ((tokens[at] as Token).kind === 'pipe') {
        endCommand();
        at++;
        continue;
      }
      const [arg, next] = parseOperand(tokens, at, offset);
      args.push(arg);
      at = next;
    }
    endCommand();
    return { decl, assign, cmds };
  }

  function chainNames(tokens: readonly Token[], at: number): [string[], number] {
    const names: string[] = [];
    while (tokens[at]?.kind === 'field' && !(tokens[at] as Token).spaced) {
      names.push((tokens[at] as Token).text.slice(1));
      at++;
    }
    return [names, at];
  }

  function parseOperand(tokens: readonly Token[], at: number, offset: number): [Arg, number] {
    const token = tokens[at] as Token;
    const pos = position(token.offset, token.text);
    switch (token.kind) {
      case 'dot':
        return [{ kind: 'dot', pos }, at + 1];
      case 'field': {
        const [more, next] = chainNames(tokens, at + 1);
        const names = [token.text.slice(1), ...more];
        return [{ kind: 'field', names, pos: position(token.offset, '.' + names.join('.')) }, next];
      }
      case 'variable': {
        const [names, next] = chainNames(tokens, at + 1);
        return [{ kind: 'variable', name: token.text, names, pos: position(token.offset, [token.text, ...names].join('.')) }, next];
      }
      case 'identifier': {
        if (token.text === 'true' || token.text === 'false') return [{ kind: 'literal', value: token.text === 'true', pos }, at + 1];
        if (token.text === 'nil') return [{ kind: 'literal', value: null, pos }, at + 1];
        if (KEYWORDS.has(token.text)) throw lineError(offset, `unexpected <${token.text}> in command`);
        if (!functions.has(token.text)) throw lineError(offset, `function "${token.text}" not defined`);
        return [{ kind: 'identifier', name: token.text, pos }, at + 1];
      }
      case 'string':
        return [{ kind: 'literal', value: unquote(token.text), pos }, at + 1];
      case 'char':
        return [{ kind: 'literal', value: unquote(`"${token.text.slice(1, -1)}"`).codePointAt(0) ?? 0, pos }, at + 1];
      case 'number': {
        const value = Number(token.text.replace(/_/g, ''));
        if (Number.isNaN(value)) throw lineError(offset, `bad number syntax: "${token.text}"`);
        return [{ kind: 'literal', value, pos }, at + 1];
      }
      case 'lparen': {
        let depth = 1;
        let close = at + 1;
        while (close < tokens.length && depth > 0) {
          const kind = (tokens[close] as Token).kind;
          if (kind === 'lparen') depth++;
          if (kind === 'rparen') depth--;
          if (depth > 0) close++;
        }
        if (depth > 0) throw lineError(offset, 'unclosed left paren');
        const pipe = parsePipe(tokens.slice(at + 1, close), 'parenthesized pipeline', offset, false);
        const [names, next] = chainNames(tokens, close + 1);
        const end = tokens[close] as Token;
        return [{ kind: 'pipe', pipe, names, pos: position(token.offset, source.slice(token.offset, end.offset + 1) + names.map((n) => '.' + n).join('')) }, next];
      }
      case 'rparen':
        throw lineError(offset, 'unexpected right paren');
      default:
        throw lineError(offset, `unexpected "${token.text}" in operand`);
    }
  }

  /** Parses pieces until one of `stops` (an `end` or `else` action); returns the list and the stop. */
  let rangeDepth = 0;

  function parseList(stops: readonly string[]): [TemplateNode[], Action | undefined] {
    const list: TemplateNode[] = [];
    while (index < pieces.length) {
      const piece = pieces[index++] as Piece;
      if (piece.kind === 'text') {
        list.push({ kind: 'text', text: piece.text });
        continue;
      }
      const { tokens, offset } = piece.action;
      const head = tokens[0] as Token;
      const keyword = head.kind === 'identifier' && KEYWORDS.has(head.text) ? head.text : undefined;
      if (keyword === 'end' || keyword === 'else') {
        if (!stops.includes(keyword)) throw lineError(offset, `unexpected {{${keyword}}}`);
        return [list, piece.action];
      }
      if (keyword === 'if' || keyword === 'with' || keyword === 'range') {
        list.push(parseControl(keyword, tokens.slice(1), offset));
      } else if (keyword === 'break' || keyword === 'continue') {
        if (rangeDepth === 0) throw lineError(offset, `{{${keyword}}} outside {{range}}`);
        list.push({ kind: keyword, pos: position(offset, keyword) });
      } else if (keyword) {
        throw lineError(offset, `{{${keyword}}} is not supported in --format`);
      } else {
        list.push({ kind: 'action', pipe: parsePipe(tokens, 'command', offset, true) });
      }
    }
    if (stops.length > 0) throw new TemplateError(`template: :${position(source.length, '').line}: unexpected EOF`);
    return [list, undefined];
  }

  function parseControl(kind: 'if' | 'with' | 'range', tokens: readonly Token[], offset: number): TemplateNode {
    const pipe = parsePipe(tokens, kind, offset, true);
    if (kind === 'range') rangeDepth++;
    const [list, stop] = parseList(['end', 'else']);
    if (kind === 'range') rangeDepth--;
    let elseList: TemplateNode[] = [];
    if (stop && (stop.tokens[0] as Token).text === 'else') {
      const rest = stop.tokens.slice(1);
      const chained = rest[0];
      if (chained?.kind === 'identifier' && (chained.text === 'if' || chained.text === 'with') && kind !== 'range') {
        // `else if` / `else with`: a nested control that shares this one's {{end}}.
        elseList = [parseControl(chained.text, rest.slice(1), stop.offset)];
        return { kind, pipe, list, elseList };
      }
      if (rest.length > 0) throw lineError(stop.offset, `unexpected "${rest[0]?.text}" in else`);
      [elseList] = parseList(['end']);
    }
    return { kind, pipe, list, elseList };
  }

  return parseList([])[0];
}
