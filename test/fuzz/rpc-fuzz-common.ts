/**
 * What the two JSON-RPC fuzz suites (rpc-http.fuzz.ts, rpc-socket.fuzz.ts) share: the
 * generators of messages (requests with random methods, params and ids, batches, random
 * JSON, truncated JSON, garbage bytes, deep nesting, over-long batches) and the oracle,
 * which says from the JSON-RPC 2.0 rules alone which answers a message must get (none, one
 * with a given id, or a batch with given ids, in order) and which error codes each may
 * carry, and checks that an answer is a valid JSON-RPC 2.0 response.
 */
import fc from 'fast-check';
import { RPC_METHODS } from '../../src/rpc/dispatcher.js';

export type Id = string | number | null;

/** The answers one message must get. `codes`: the error codes allowed; `maySucceed`: a result is allowed instead. */
export type Expected =
  | { kind: 'none' }
  | { kind: 'one'; id: Id; codes: number[]; maySucceed: boolean }
  | { kind: 'batch'; items: Array<{ id: Id; codes: number[]; maySucceed: boolean }> };

export const MAX_BATCH = 1000;
const KNOWN = Object.keys(RPC_METHODS);
/** A known method may be refused for its arguments (400) or an unknown timer or method name (404), never 500 here. */
const CALL_CODES = [400, 404];

// ---------------------------------------------------------------------------------------
// Generators

const json = fc.jsonValue({ maxDepth: 3 });
const nested = (depth: number) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown;

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KNOWN) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('ptimer.LIST', 'ptimer.', 'system.listmethods', '__proto__', 'constructor', 'toString'),
  },
  { weight: 1, arbitrary: json },
);
const timer = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('queue', 'solo') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 1, arbitrary: json },
);
const worker = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -2, max: 4 }) },
  { weight: 1, arbitrary: json },
  { weight: 1, arbitrary: fc.double() },
);
const params = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.tuple(timer) },
  { weight: 3, arbitrary: fc.tuple(timer, worker) },
  { weight: 2, arbitrary: fc.record({ timer, worker }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.record({ method: fc.constantFrom(...KNOWN, 'nope') }) },
  { weight: 1, arbitrary: fc.array(json, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 3 }) },
  { weight: 1, arbitrary: json },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 3000 }).map(nested) },
);
const id = fc.oneof(
  { weight: 4, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: json },
);
const jsonrpc = fc.oneof({ weight: 10, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: json });
const request = fc.oneof(
  { weight: 8, arbitrary: fc.record({ jsonrpc, method, params, id }, { requiredKeys: ['jsonrpc', 'method'] }) },
  { weight: 1, arbitrary: fc.record({ jsonrpc, method, params, id, extra: json }, { requiredKeys: [] }) },
);

/** A message as bytes: mostly JSON-RPC-shaped, some of it anything at all. */
export const message: fc.Arbitrary<Buffer> = fc
  .oneof(
    { weight: 40, arbitrary: request.map((r) => JSON.stringify(r)) },
    {
      weight: 15,
      arbitrary: fc
        .array(fc.oneof({ weight: 6, arbitrary: request }, { weight: 1, arbitrary: json }), { maxLength: 25 })
        .map((b) => JSON.stringify(b)),
    },
    { weight: 5, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
    {
      weight: 5,
      arbitrary: request.map((r) => JSON.stringify(r)).chain((t) => fc.nat(t.length).map((n) => t.slice(0, n))),
    },
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: MAX_BATCH + 1, max: MAX_BATCH + 300 })
        .map((n) =>
          JSON.stringify(
            Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', method: 'system.listMethods', id: i })),
          ),
        ),
    },
  )
  .map((m) => (typeof m === 'string' ? Buffer.from(m, 'utf8') : m));

// ---------------------------------------------------------------------------------------
// Oracle

/** The answers the text of one message (an HTTP body, a socket line) must get. */
export function expectFor(text: string): Expected {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'one', id: null, codes: [-32700], maySucceed: false };
  }
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > MAX_BATCH)
      return { kind: 'one', id: null, codes: [-32600], maySucceed: false };
    const items = value.map(expectRequest).filter((e): e is NonNullable<typeof e> => e !== undefined);
    return items.length === 0 ? { kind: 'none' } : { kind: 'batch', items };
  }
  const one = expectRequest(value);
  return one ? { kind: 'one', ...one } : { kind: 'none' };
}

function expectRequest(r: unknown): { id: Id; codes: number[]; maySucceed: boolean } | undefined {
  const invalid = (id: Id) => ({ id, codes: [-32600], maySucceed: false });
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return invalid(null);
  const req = r as Record<string, unknown>;
  const hasId = Object.hasOwn(req, 'id');
  const idOk =
    !hasId || req.id === null || typeof req.id === 'string' || (typeof req.id === 'number' && Number.isFinite(req.id));
  if (!idOk) return invalid(null);
  const rid = hasId ? (req.id as Id) : null;
  if (req.jsonrpc !== '2.0' || typeof req.method !== 'string') return invalid(rid);
  if (req.params !== undefined && (typeof req.params !== 'object' || req.params === null)) return invalid(rid);
  if (!hasId) return undefined; // a notification: no answer
  if (!KNOWN.includes(req.method)) return { id: rid, codes: [-32601], maySucceed: false };
  return { id: rid, codes: CALL_CODES, maySucceed: true };
}

/** How many responses of each outcome were checked (`result`, or the error code), for the summary line. */
export const outcomes = new Map<string, number>();

export function outcomeSummary(): string {
  return [...outcomes]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

/** What is wrong with `value` as the response to a request of id `id`; empty when nothing. */
export function responseProblems(value: unknown, want: { id: Id; codes: number[]; maySucceed: boolean }): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`not a response object: ${show(value)}`];
  const r = value as Record<string, unknown>;
  const outcome = Object.hasOwn(r, 'result') ? 'result' : String((r.error as { code?: unknown } | null)?.code);
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  if (r.jsonrpc !== '2.0') problems.push(`jsonrpc is ${show(r.jsonrpc)}`);
  if (!Object.hasOwn(r, 'id')) problems.push('no id');
  else if (r.id !== want.id) problems.push(`id ${show(r.id)}, expected ${show(want.id)}`);
  const extra = Object.keys(r).filter((k) => !['jsonrpc', 'id', 'result', 'error'].includes(k));
  if (extra.length > 0) problems.push(`unexpected members ${extra.join(', ')}`);
  const hasResult = Object.hasOwn(r, 'result');
  const hasError = Object.hasOwn(r, 'error');
  if (hasResult === hasError) problems.push(hasResult ? 'both result and error' : 'neither result nor error');
  if (hasResult && !want.maySucceed) problems.push(`a result where an error ${want.codes.join('|')} was due`);
  if (hasError) {
    const e = r.error as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null) problems.push(`error is ${show(e)}`);
    else {
      if (!Number.isInteger(e.code)) problems.push(`error.code ${show(e.code)} is not an integer`);
      else if (!want.codes.includes(e.code as number))
        problems.push(`error.code ${String(e.code)}, expected one of ${want.codes.join(', ')}`);
      if (typeof e.message !== 'string' || e.message === '') problems.push(`error.message ${show(e.message)}`);
    }
  }
  return problems.map((p) => `${p} (answer ${show(value)})`);
}

/** What is wrong with the answer text(s) to one message; `answers` are parsed JSON values. */
export function answerProblems(expected: Expected, answers: unknown[]): string[] {
  if (expected.kind === 'none') return answers.length === 0 ? [] : [`no answer was due, got ${show(answers)}`];
  if (answers.length !== 1) return [`one answer was due, got ${answers.length}: ${show(answers)}`];
  const answer = answers[0];
  if (expected.kind === 'one') return responseProblems(answer, expected);
  if (!Array.isArray(answer)) return [`a batch answer was due, got ${show(answer)}`];
  if (answer.length !== expected.items.length)
    return [`${expected.items.length} responses were due, got ${answer.length}: ${show(answer)}`];
  return answer.flatMap((a, i) => responseProblems(a, expected.items[i]!));
}

export function show(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
