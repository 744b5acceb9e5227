// Executes Go text/template for Docker's `--format`: Go's builtins (and, or, not, len, index,
// slice, print, printf, println, eq, ne, lt, le, gt, ge) plus the functions a caller adds
// (Docker's: json, split, join, title, lower, upper, pad, truncate — see docker-funcs.ts).
import { GoMap, goSprint, goSprintMany, isStruct, isTrue, NO_VALUE, type GoMethod } from './go-values.js';
import { parseTemplate, TemplateError, type Arg, type Command, type Pipe, type Position, type TemplateNode } from './template-parse.js';

export { TemplateError } from './template-parse.js';

export type TemplateFunction = (...args: unknown[]) => unknown;
export type FunctionMap = Readonly<Record<string, TemplateFunction>>;

export interface ExecuteOptions {
  /** Go's Option("missingkey=error"): a missing map key is an error, not "<no value>". */
  readonly missingKeyError?: boolean;
}

/** Thrown by a function to report a wrong call; the executor adds where it happened. */
export class CallError extends Error {}

function typeName(value: unknown): string {
  if (value === null || value === undefined || value === NO_VALUE) return 'interface {}';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float64';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return '[]interface {}';
  if (value instanceof Map) return 'map[string]interface {}';
  if (value instanceof Date) return 'time.Time';
  const named = (value as { [TYPE_NAME]?: string })[TYPE_NAME];
  return named ?? 'struct';
}

/** Names a struct-like context's Go type in error messages (e.g. "*node.nodeContext"). */
export const TYPE_NAME: unique symbol = Symbol('go type name');

function basicKind(value: unknown): 'string' | 'number' | 'boolean' | 'nil' | 'other' {
  if (value === null || value === undefined || value === NO_VALUE) return 'nil';
  const kind = typeof value;
  return kind === 'string' || kind === 'number' || kind === 'boolean' ? kind : 'other';
}

function compare(name: string, a: unknown, b: unknown): number {
  const ka = basicKind(a);
  const kb = basicKind(b);
  // Since Go 1.18, eq and ne compare anything with nil.
  if ((ka === 'nil' || kb === 'nil') && (name === 'eq' || name === 'ne')) return ka === kb ? 0 : 1;
  if (ka !== kb || ka === 'other' || ka === 'nil') {
    if (name === 'eq' || name === 'ne') {
      if (ka === 'nil' && kb === 'nil') return 0;
      if (ka === 'other' || kb === 'other') throw new CallError(`error calling ${name}: non-comparable types ${typeName(a)}: ${typeName(b)}`);
      throw new CallError(`error calling ${name}: incompatible types for comparison`);
    }
    throw new CallError(`error calling ${name}: ${ka === kb ? 'invalid type for comparison' : 'incompatible types for comparison'}`);
  }
  if (ka === 'boolean' && name !== 'eq' && name !== 'ne') throw new CallError(`error calling ${name}: invalid type for comparison`);
  const x = a as string | number | boolean;
  const y = b as string | number | boolean;
  return x === y ? 0 : x < y ? -1 : 1;
}

function arity(name: string, args: readonly unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    throw new CallError(`wrong number of args for ${name}: want ${min === max ? min : `at least ${min}`} got ${args.length}`);
  }
}

function toInt(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new CallError(`error calling ${name}: cannot index slice/array with type ${typeName(value)}`);
  return value;
}

function indexOne(item: unknown, key: unknown): unknown {
  if (item instanceof Map) {
    if (typeof key !== 'string') throw new CallError(`error calling index: value has type ${typeName(key)}; should be string`);
    return item.has(key) ? item.get(key) : item instanceof GoMap ? item.zero : NO_VALUE;
  }
  if (Array.isArray(item) || typeof item === 'string') {
    const i = toInt('index', key);
    if (i < 0 || i >= item.length) throw new CallError(`error calling index: index out of range: ${i}`);
    return typeof item === 'string' ? item.charCodeAt(i) : item[i];
  }
  if (item === null || item === NO_VALUE || item === undefined) throw new CallError('error calling index: index of untyped nil');
  throw new CallError(`error calling index: can't index item of type ${typeName(item)}`);
}

/** fmt.Sprintf for the verbs formats use: %v %s %d %q %t %x %X %f %e %g %c %%, with flags, width, precision. */
export function goSprintf(format: string, args: readonly unknown[]): string {
  let next = 0;
  return format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (_match, flags: string, width: string | undefined, precision: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (next >= args.length) return `%!${verb}(MISSING)`;
    const value = args[next++];
    let text: string;
    switch (verb) {
      case 'v':
      case 's':
        text = goSprint(value);
        if (precision !== undefined && verb === 's') text = [...text].slice(0, Number(precision)).join('');
        break;
      case 'q':
        text = JSON.stringify(goSprint(value));
        break;
      case 'd':
        text = typeof value === 'number' && Number.isInteger(value) ? String(value) : `%!d(${typeName(value)}=${goSprint(value)})`;
        break;
      case 't':
        text = typeof value === 'boolean' ? String(value) : `%!t(${typeName(value)}=${goSprint(value)})`;
        break;
      case 'x':
      case 'X':
        text = typeof value === 'number' ? Math.trunc(value).toString(16) : Buffer.from(goSprint(value), 'utf8').toString('hex');
        if (verb === 'X') text = text.toUpperCase();
        break;
      case 'f':
      case 'F':
        text = typeof value === 'number' ? value.toFixed(precision === undefined ? 6 : Number(precision)) : `%!f(${typeName(value)}=${goSprint(value)})`;
        break;
      case 'e':
        text = typeof value === 'number' ? value.toExponential(precision === undefined ? 6 : Number(precision)).replace(/e([+-])(\d)$/, 'e$10$2') : `%!e(${typeName(value)}=${goSprint(value)})`;
        break;
      case 'g':
        text = goSprint(value);
        break;
      case 'c':
        text = typeof value === 'number' ? String.fromCodePoint(value) : `%!c(${typeName(value)}=${goSprint(value)})`;
        break;
      default:
        text = `%!${verb}(${typeName(value)}=${goSprint(value)})`;
    }
    if (flags.includes('+') && typeof value === 'number' && value >= 0 && 'dfeg'.includes(verb)) text = '+' + text;
    const w = width === undefined ? 0 : Number(width);
    const length = [...text].length;
    if (length < w) {
      const fill = w - length;
      if (flags.includes('-')) text += ' '.repeat(fill);
      else if (flags.includes('0') && typeof value === 'number') text = (text.startsWith('-') ? '-' : '') + '0'.repeat(fill) + text.replace(/^-/, '');
      else text = ' '.repeat(fill) + text;
    }
    return text;
  }) + (next < args.length ? `%!(EXTRA ${args.slice(next).map((a) => `${typeName(a)}=${goSprint(a)}`).join(', ')})` : '');
}

/** Go's predefined functions (text/template's builtins), except html, js, urlquery and call. */
export const BUILTINS: FunctionMap = {
  and: (...args) => {
    arity('and', args, 1, Infinity);
    for (const arg of args) if (!isTrue(arg)) return arg;
    return args[args.length - 1];
  },
  or: (...args) => {
    arity('or', args, 1, Infinity);
    for (const arg of args) if (isTrue(arg)) return arg;
    return args[args.length - 1];
  },
  not: (...args) => {
    arity('not', args, 1);
    return !isTrue(args[0]);
  },
  len: (...args) => {
    arity('len', args, 1);
    const item = args[0];
    if (typeof item === 'string') return Buffer.byteLength(item, 'utf8');
    if (Array.isArray(item)) return item.length;
    if (item instanceof Map) return item.size;
    throw new CallError(`error calling len: len of type ${typeName(item)}`);
  },
  index: (...args) => {
    arity('index', args, 1, Infinity);
    let item = args[0];
    for (const key of args.slice(1)) item = indexOne(item, key);
    return item;
  },
  slice: (...args) => {
    arity('slice', args, 1, 4);
    const item = args[0];
    if (!Array.isArray(item) && typeof item !== 'string') throw new CallError(`error calling slice: can't slice item of type ${typeName(item)}`);
    const bounds = args.slice(1).map((a) => toInt('slice', a));
    const [from = 0, to = item.length] = bounds;
    if (from < 0 || to > item.length || from > to) throw new CallError(`error calling slice: index out of range: ${to > item.length ? to : from}`);
    return item.slice(from, to);
  },
  print: (...args) => goSprintMany(args),
  printf: (...args) => {
    arity('printf', args, 1, Infinity);
    if (typeof args[0] !== 'string') throw new CallError(`wrong type for value; expected string; got ${typeName(args[0])}`);
    return goSprintf(args[0], args.slice(1));
  },
  println: (...args) => args.map(goSprint).join(' ') + '\n',
  eq: (...args) => {
    arity('eq', args, 2, Infinity);
    return args.slice(1).some((b) => compare('eq', args[0], b) === 0);
  },
  ne: (...args) => {
    arity('ne', args, 2);
    return compare('ne', args[0], args[1]) !== 0;
  },
  lt: (...args) => {
    arity('lt', args, 2);
    return compare('lt', args[0], args[1]) < 0;
  },
  le: (...args) => {
    arity('le', args, 2);
    return compare('le', args[0], args[1]) <= 0;
  },
  gt: (...args) => {
    arity('gt', args, 2);
    return compare('gt', args[0], args[1]) > 0;
  },
  ge: (...args) => {
    arity('ge', args, 2);
    return compare('ge', args[0], args[1]) >= 0;
  },
};

class BreakSignal {}
class ContinueSignal {}

/** A parsed template, ready to execute on any data with the functions it was parsed with. */
export class Template {
  private readonly nodes: readonly TemplateNode[];
  private readonly functions: FunctionMap;

  constructor(source: string, functions: FunctionMap = {}) {
    this.functions = { ...BUILTINS, ...functions };
    this.nodes = parseTemplate(source, new Set(Object.keys(this.functions)));
  }

  /** The same template with some functions replaced (Docker's header functions for a table's header). */
  withFunctions(overrides: FunctionMap): Template {
    const copy = Object.create(Template.prototype) as Template;
    Object.assign(copy, { nodes: this.nodes, functions: { ...this.functions, ...overrides } });
    return copy;
  }

  execute(data: unknown, options: ExecuteOptions = {}): string {
    return new Execution(this.functions, data, options).run(this.nodes);
  }
}

class Execution {
  private out = '';
  private readonly variables: { name: string; value: unknown }[];

  constructor(
    private readonly functions: FunctionMap,
    root: unknown,
    private readonly options: ExecuteOptions,
  ) {
    this.variables = [{ name: '$', value: root }];
  }

  run(nodes: readonly TemplateNode[]): string {
    this.walk(this.variables[0]?.value, nodes);
    return this.out;
  }

  private fail(pos: Position, message: string): never {
    throw new TemplateError(`template: :${pos.line}:${pos.col}: executing "" at <${pos.text}>: ${message}`);
  }

  private walk(dot: unknown, nodes: readonly TemplateNode[]): void {
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          this.out += node.text;
          break;
        case 'action': {
          const value = this.pipeline(dot, node.pipe);
          if (node.pipe.decl.length === 0) this.out += goSprint(value);
          break;
        }
        case 'if':
        case 'with': {
          const mark = this.variables.length;
          const value = this.pipeline(dot, node.pipe);
          if (isTrue(value)) this.walk(node.kind === 'with' ? value : dot, node.list);
          else this.walk(dot, node.elseList);
          this.variables.length = mark;
          break;
        }
        case 'range':
          this.range(dot, node);
          break;
        case 'break':
          throw new BreakSignal();
        case 'continue':
          throw new ContinueSignal();
      }
    }
  }

  private range(dot: unknown, node: Extract<TemplateNode, { kind: 'if' | 'with' | 'range' }>): void {
    const mark = this.variables.length;
    const pipe: Pipe = { ...node.pipe, decl: [] };
    const value = this.pipeline(dot, pipe);
    const items: [unknown, unknown][] =
      Array.isArray(value) ? value.map((v, i) => [i, v])
      : value instanceof GoMap ? value.sortedKeys().map((k) => [k, value.get(k)])
      : value instanceof Map ? [...value.entries()]
      : typeof value === 'number' && Number.isInteger(value) ? Array.from({ length: Math.max(0, value) }, (_v, i) => [i, i])
      : value === null || value === undefined || value === NO_VALUE ? []
      : this.fail(node.pipe.cmds[0]?.pos ?? { line: 1, col: 0, text: '' }, `range can't iterate over ${goSprint(value)}`);
    if (items.length === 0) {
      this.walk(dot, node.elseList);
      return;
    }
    for (const [key, element] of items) {
      const [first, second] = node.pipe.decl;
      if (second !== undefined && first !== undefined) this.variables.push({ name: first, value: key }, { name: second, value: element });
      else if (first !== undefined) this.variables.push({ name: first, value: element });
      try {
        this.walk(element, node.list);
      } catch (signal) {
        if (signal instanceof BreakSignal) break;
        if (!(signal instanceof ContinueSignal)) throw signal;
      } finally {
        this.variables.length = mark;
      }
    }
    this.variables.length = mark;
  }

  private pipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = undefined;
    pipe.cmds.forEach((cmd, i) => {
      value = this.command(dot, cmd, i > 0, value);
    });
    const [name] = pipe.decl;
    if (pipe.decl.length === 1 && name !== undefined) {
      if (pipe.assign) this.assign(name, value, pipe.cmds[0]?.pos);
      else this.variables.push({ name, value });
    }
    return value;
  }

  private assign(name: string, value: unknown, pos: Position | undefined): void {
    for (let i = this.variables.length - 1; i >= 0; i--) {
      const variable = this.variables[i];
      if (variable?.name === name) {
        variable.value = value;
        return;
      }
    }
    this.fail(pos ?? { line: 1, col: 0, text: name }, `undefined variable: ${name}`);
  }

  private variable(name: string, pos: Position): unknown {
    for (let i = this.variables.length - 1; i >= 0; i--) {
      const variable = this.variables[i];
      if (variable?.name === name) return variable.value;
    }
    return this.fail(pos, `undefined variable: ${name}`);
  }

  private command(dot: unknown, cmd: Command, hasFinal: boolean, final: unknown): unknown {
    const [first, ...rest] = cmd.args as [Arg, ...Arg[]];
    const extra = (): unknown[] => [...rest.map((arg) => this.argument(dot, arg)), ...(hasFinal ? [final] : [])];
    switch (first.kind) {
      case 'field':
        return this.chain(dot, first.names, first.pos, extra(), cmd.pos);
      case 'variable':
        return this.chain(this.variable(first.name, first.pos), first.names, first.pos, extra(), cmd.pos, first.names.length === 0);
      case 'pipe':
        return this.chain(this.pipeline(dot, first.pipe), first.names, first.pos, extra(), cmd.pos, first.names.length === 0);
      case 'identifier': {
        const fn = this.functions[first.name] as TemplateFunction;
        try {
          return fn(...extra());
        } catch (error) {
          if (error instanceof TemplateError) throw error;
          return this.fail(cmd.pos, error instanceof CallError ? error.message : `error calling ${first.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      case 'dot':
      case 'literal':
        if (first.kind === 'literal' && first.value === null) this.fail(cmd.pos, 'nil is not a command');
        if (rest.length > 0 || hasFinal) this.fail(cmd.pos, `can't give argument to non-function ${first.pos.text}`);
        return first.kind === 'dot' ? dot : first.value;
    }
  }

  private argument(dot: unknown, arg: Arg): unknown {
    switch (arg.kind) {
      case 'dot':
        return dot;
      case 'literal':
        return arg.value;
      case 'field':
        return this.chain(dot, arg.names, arg.pos, [], arg.pos);
      case 'variable':
        return this.chain(this.variable(arg.name, arg.pos), arg.names, arg.pos, [], arg.pos, arg.names.length === 0);
      case 'pipe':
        return this.chain(this.pipeline(dot, arg.pipe), arg.names, arg.pos, [], arg.pos, arg.names.length === 0);
      case 'identifier': {
        const fn = this.functions[arg.name] as TemplateFunction;
        try {
          return fn();
        } catch (error) {
          return this.fail(arg.pos, error instanceof Error ? error.message : String(error));
        }
      }
    }
  }

  /** Evaluates `receiver.a.b.c`, giving `args` to the last element (a method) when there are any. */
  private chain(receiver: unknown, names: readonly string[], pos: Position, args: unknown[], cmdPos: Position, plain = false): unknown {
    if (plain) {
      if (args.length > 0) this.fail(cmdPos, `can't give argument to non-function ${pos.text}`);
      return receiver;
    }
    let value = receiver;
    names.forEach((name, i) => {
      value = this.field(value, name, i === names.length - 1 ? args : [], pos, cmdPos);
    });
    return value;
  }

  private field(receiver: unknown, name: string, args: unknown[], pos: Position, cmdPos: Position): unknown {
    if (receiver instanceof Map) {
      if (args.length > 0) this.fail(cmdPos, `${name} is not a method but has arguments`);
      if (receiver.has(name)) return receiver.get(name);
      if (this.options.missingKeyError) this.fail(pos, `map has no entry for key "${name}"`);
      return NO_VALUE;
    }
    if (isStruct(receiver) && Object.hasOwn(receiver, name)) {
      const member = receiver[name];
      if (typeof member === 'function') {
        try {
          return (member as GoMethod).apply(receiver, args);
        } catch (error) {
          return this.fail(pos, `error calling ${name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (args.length > 0) this.fail(cmdPos, `${name} has arguments but cannot be invoked as function`);
      // A nil field reads as Go's zero value of its kind when printed: <nil>.
      return member === undefined ? null : member;
    }
    if (receiver === null || receiver === undefined || receiver === NO_VALUE) return this.fail(pos, `nil pointer evaluating ${typeName(receiver)}.${name}`);
    return this.fail(pos, `can't evaluate field ${name} in type ${typeName(receiver)}`);
  }
}
