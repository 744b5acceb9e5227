// The value syntaxes of Docker's `service create|update` flags, parsed as docker/cli and Go parse
// them (time.ParseDuration, strconv, opts.NanoCPUs, go-units RAMInBytes, opts.MountOpt,
// swarmopts.PortOpt, ValidateEnv, ValidateLabel) and refused with their words. A refusal is an
// InvalidArgumentError carrying the catalog's text: the usage layer turns it into Docker's
// `invalid argument "V" for "--flag" flag: …`, exit status 125, before anything reaches the daemon.
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { skepError, type ERROR_CATALOG, type ErrorCode } from '../../shared/errors.js';
import type { Mount, PortConfig } from '../../shared/services.js';

function invalid<C extends ErrorCode>(code: C, ...args: Parameters<(typeof ERROR_CATALOG)[C]['text']>): InvalidArgumentError {
  return new InvalidArgumentError(skepError(code, ...args).message);
}

// ---- Go's time.ParseDuration ----

/** Milliseconds per unit (Go's units, µ in both spellings). */
const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** time.ParseDuration: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` ("1m30s", "100ms", "-5s"), in milliseconds. */
export function parseGoDuration(value: string): number {
  let rest = value;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid('GO_DURATION_INVALID', value);
  let total = 0;
  while (rest !== '') {
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    const [whole = '', fraction] = [number[1], number[2]];
    if (whole === '' && (fraction === undefined || fraction === '')) throw invalid('GO_DURATION_INVALID', value);
    rest = rest.slice(number[0].length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === '') throw invalid('GO_DURATION_MISSING_UNIT', value);
    const scale = DURATION_UNITS[unit];
    if (scale === undefined) throw invalid('GO_DURATION_UNKNOWN_UNIT', unit, value);
    rest = rest.slice(unit.length);
    total += Number(`${whole || '0'}.${fraction ?? ''}0`) * scale;
  }
  // Skep keeps durations in milliseconds; Go's range (±292 years) is far beyond any flag's use.
  return sign * Math.round(total * 1e6) / 1e6;
}

/** opts.DurationOpt: any Go duration, negative ones included (the daemon refuses those it must). */
export function durationFlag(value: string): number {
  return Math.round(parseGoDuration(value));
}

/** opts.PositiveDurationOpt (the --health-* durations). */
export function positiveDurationFlag(value: string): number {
  const ms = parseGoDuration(value);
  if (ms < 0) throw invalid('DURATION_NEGATIVE');
  // Kept below a millisecond as it is, so the daemon's "cannot be less than 1ms" can be said.
  return ms > 0 && ms < 1 ? ms : Math.round(ms);
}

// ---- strconv ----

/** strconv.ParseUint(s, 0, 64): decimal, 0x, 0o, 0b or a leading-0 octal, underscores between digits. */
export function uintFlag(value: string): number {
  const prefix = /^0[xXoObB]/.exec(value)?.[0];
  const octal = prefix === undefined && value.length > 1 && value.startsWith('0');
  const radix = prefix === undefined ? (octal ? 8 : 10) : ({ x: 16, o: 8, b: 2 } as Record<string, number>)[prefix[1]!.toLowerCase()]!;
  const body = prefix ? value.slice(2) : octal ? value.slice(1) : value;
  const digit = radix === 16 ? '[0-9a-fA-F]' : radix === 8 ? '[0-7]' : radix === 2 ? '[01]' : '[0-9]';
  // Underscores only between digits, or right after a base prefix (Go's underscoreOK).
  const grammar = new RegExp(`^${prefix || octal ? '_?' : ''}${digit}+(_${digit}+)*$`);
  if (!grammar.test(body)) throw invalid('GO_PARSE_NUMBER', 'ParseUint', value, 'invalid syntax');
  const digits = body.replace(/_/g, '');
  const big = radix === 10 ? BigInt(digits) : BigInt(`0${radix === 16 ? 'x' : radix === 8 ? 'o' : 'b'}${digits}`);
  // Past 2^53 no count Skep keeps means anything; Go's own limit (2^64) is reported the same way.
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid('GO_PARSE_NUMBER', 'ParseUint', value, 'value out of range');
  return Number(big);
}

/** strconv.ParseInt(s, 0, 64) (pflag's IntVar: --health-retries). */
export function intFlag(value: string): number {
  const negative = value.startsWith('-');
  const unsigned = value.replace(/^[-+]/, '');
  let magnitude: number;
  try {
    magnitude = uintFlag(unsigned);
  } catch (error) {
    const outOfRange = error instanceof InvalidArgumentError && error.message.endsWith('value out of range');
    throw invalid('GO_PARSE_NUMBER', 'ParseInt', value, outOfRange ? 'value out of range' : 'invalid syntax');
  }
  return negative ? -magnitude : magnitude;
}

/** strconv.ParseFloat(s, 32) (--update-max-failure-ratio). */
export function floatFlag(value: string): number {
  const decimal = /^[-+]?(\d+(_\d+)*\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)$/;
  const special = /^[-+]?(inf|infinity|nan)$/i;
  if (!decimal.test(value) && !special.test(value)) throw invalid('GO_PARSE_NUMBER', 'ParseFloat', value, 'invalid syntax');
  if (special.test(value)) return /nan/i.test(value) ? Number.NaN : value.startsWith('-') ? -Infinity : Infinity;
  const number = Math.fround(Number(value.replace(/_/g, '')));
  if (!Number.isFinite(number)) throw invalid('GO_PARSE_NUMBER', 'ParseFloat', value, 'value out of range');
  return number;
}

// ---- docker/cli opts ----

/** opts.ParseCPUs: a rational number ("1.5", "3/2", "1e-3") times 10^9, which must be whole. */
export function nanoCpusFlag(value: string): number {
  const fraction = /^([-+]?\d+)\/(\d+)$/.exec(value);
  let nano: number;
  if (fraction) {
    if (Number(fraction[2]) === 0) throw invalid('CPUS_NOT_RATIONAL', value);
    nano = (Number(fraction[1]) * 1e9) / Number(fraction[2]);
  } else if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) {
    nano = Number(value) * 1e9;
  } else {
    throw invalid('CPUS_NOT_RATIONAL', value);
  }
  const whole = Math.round(nano);
  // big.Rat is exact; a binary float is off by far less than a thousandth of a nano-CPU.
  if (Math.abs(nano - whole) > 1e-3) throw invalid('CPUS_TOO_PRECISE');
  return whole;
}

/** go-units RAMInBytes ("64m", "1g", "512MiB"): binary units, an optional "i" and "b". */
export function memoryBytesFlag(value: string): number {
  const match = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value);
  if (!match) throw invalid('SIZE_INVALID', value);
  const size = Number.parseFloat(match[1]!);
  const power = ['', 'k', 'm', 'g', 't', 'p'].indexOf((match[2] ?? '').toLowerCase());
  return Math.trunc(size * 1024 ** power);
}

/** opts.ValidateEnv: a name is needed; `NAME` alone takes its value from this shell, as Docker's CLI does. */
export function envFlag(value: string): string {
  const at = value.indexOf('=');
  const name = at < 0 ? value : value.slice(0, at);
  if (name === '') throw invalid('ENV_INVALID', value);
  if (at >= 0) return value;
  const inherited = process.env[name];
  return inherited === undefined ? value : `${name}=${inherited}`;
}

const WHITESPACE = /[ \t\n\v\f\r]/;

/** opts.ValidateLabel: `key[=value]`, a key with no whitespace. */
export function labelFlag(value: string): string {
  const key = (value.includes('=') ? value.slice(0, value.indexOf('=')) : value).replace(/^[ \t\n\v\f\r]+/, '');
  if (key === '') throw invalid('LABEL_INVALID', value);
  if (WHITESPACE.test(key)) throw invalid('LABEL_WHITESPACE', key);
  return value;
}

/** placementPrefOpts.Set: `spread=<descriptor>`, the only strategy Swarm has. */
export function placementPrefFlag(value: string): string {
  const at = value.indexOf('=');
  if (at <= 0) throw invalid('PLACEMENT_PREFERENCE_FORMAT');
  const strategy = value.slice(0, at);
  if (strategy !== 'spread') throw invalid('PLACEMENT_PREFERENCE_INVALID', strategy);
  return value.slice(at + 1);
}

/** One record of Go's encoding/csv: commas separate fields, double quotes may wrap one. */
function csvFields(value: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === '"' && value[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

function mountBool(key: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw invalid('MOUNT_BOOL_INVALID', key, raw);
}

/** Mount types Docker knows; Skep runs bind and volume mounts. */
const DOCKER_MOUNT_TYPES = new Set(['bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image']);

/** opts.MountOpt.Set: `type=bind|volume,source=…,target=…[,readonly]` (aliases src, dst, destination, ro). */
export function mountFlag(value: string): Mount {
  const trimmed = value.trim();
  if (trimmed === '') throw invalid('MOUNT_VALUE_EMPTY');
  let type = 'volume';
  let source = '';
  let target = '';
  let readOnly = false;
  for (const field of csvFields(trimmed)) {
    const at = field.indexOf('=');
    const rawKey = at < 0 ? field : field.slice(0, at);
    const raw = at < 0 ? undefined : field.slice(at + 1);
    if (rawKey.trim() !== rawKey) throw invalid('MOUNT_OPTION_WHITESPACE', rawKey.trim(), field);
    if (raw !== undefined) {
      if (raw.trim() === '') throw invalid('MOUNT_FIELD_VALUE_EMPTY', rawKey);
      if (raw.trim() !== raw) throw invalid('MOUNT_VALUE_WHITESPACE', rawKey, field);
    }
    const key = rawKey.toLowerCase();
    if (raw === undefined && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive', 'bind-create-src'].includes(key)) throw invalid('MOUNT_FIELD_NOT_PAIR', field);
    switch (key) {
      case 'type':
        type = raw!.toLowerCase();
        break;
      case 'source':
      case 'src':
        source = !path.isAbsolute(raw!) && raw!.startsWith('.') ? path.resolve(raw!) : raw!;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = raw!;
        break;
      case 'readonly':
      case 'ro':
        readOnly = mountBool(key, raw);
        break;
      default:
        throw invalid('MOUNT_OPTION_UNKNOWN', key, field);
    }
  }
  if (type === '') throw invalid('MOUNT_TYPE_REQUIRED');
  if (!DOCKER_MOUNT_TYPES.has(type)) throw invalid('MOUNT_TYPE_INVALID', type);
  if (type !== 'bind' && type !== 'volume') throw invalid('MOUNT_TYPE_UNSUPPORTED', type);
  return { type, source, target, readOnly };
}

function portNumber(field: 'target' | 'published', raw: string): number {
  if (!/^\d+$/.test(raw)) throw invalid('PORT_NUMBER_INVALID', field, raw, 'invalid syntax');
  const port = Number(raw);
  if (port > 65535) throw invalid('PORT_NUMBER_INVALID', field, raw, 'value out of range');
  return port;
}

/** swarmopts.PortOpt.Set: `published=8080,target=80[,protocol=udp][,mode=host]` or `[8080:]80[/udp]`; host mode only. */
export function portFlag(value: string): PortConfig {
  let published = 0;
  let target = 0;
  let protocol: PortConfig['protocol'] = 'tcp';
  if (/\w+=\w+(,\w+=\w+)*/.test(value)) {
    for (const field of csvFields(value)) {
      const lower = field.toLowerCase();
      const at = lower.indexOf('=');
      if (at <= 0) throw invalid('PORT_FIELD_INVALID', field);
      const key = lower.slice(0, at);
      const raw = lower.slice(at + 1);
      if (key === 'protocol') {
        if (raw !== 'tcp' && raw !== 'udp' && raw !== 'sctp') throw invalid('PORT_PROTOCOL_INVALID', raw);
        protocol = raw;
      } else if (key === 'mode') {
        if (raw === 'ingress') throw invalid('PORT_MODE_INGRESS');
        if (raw !== 'host') throw invalid('PORT_MODE_INVALID', raw);
      } else if (key === 'target') target = portNumber('target', raw);
      else if (key === 'published') published = portNumber('published', raw);
      else throw invalid('PORT_FIELD_KEY_INVALID', key);
    }
    if (target === 0) throw invalid('PORT_TARGET_MISSING');
  } else {
    const match = /^(?:(\d+):)?(\d+)(?:\/(tcp|udp|sctp))?$/.exec(value);
    if (!match) throw invalid('PORT_SPEC_INVALID', value);
    published = match[1] === undefined ? 0 : portNumber('published', match[1]);
    target = portNumber('target', match[2]!);
    protocol = (match[3] as PortConfig['protocol'] | undefined) ?? 'tcp';
  }
  return { protocol, targetPort: target, publishedPort: published, publishMode: 'host' };
}

/** Docker's ConvertKVStringsToMap: `key=value`, a bare key is an empty value. */
export function keyValues(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    out[at < 0 ? entry : entry.slice(0, at)] = at < 0 ? '' : entry.slice(at + 1);
  }
  return out;
}
