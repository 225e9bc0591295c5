/**
 * JSON-RPC over real HTTP, fuzzed: 10,000 requests under `npm run fuzz` (a tenth in
 * `npm test`) to a server on 127.0.0.1 (port 0) over a fake TimerControl - random
 * requests, methods, params and ids, batches, random and truncated JSON, garbage bytes,
 * any Content-Type, now and then another path or HTTP method, or raw garbage instead of
 * HTTP. For each: the server does not crash (no internal error reported, every request
 * answered), and the answer is what JSON-RPC 2.0 says (rpc-fuzz-common.ts: valid
 * responses, ids that match, only the documented error codes, 204 for notifications only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { startHttpServer } from '../../src/rpc/http-server.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';
import { fuzzRuns } from '../support/fuzz-scale.js';
import { answerProblems, expectFor, message, outcomeSummary, show } from './rpc-fuzz-common.js';

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'image/png',
];

type Case =
  | { kind: 'rpc'; body: Buffer; contentType: string | undefined }
  | { kind: 'elsewhere'; method: string; path: string; body: Buffer }
  | { kind: 'raw'; bytes: Buffer };

const rpcCase = fc.record({
  kind: fc.constant('rpc' as const),
  body: message,
  contentType: fc.oneof(
    fc.constantFrom(...CONTENT_TYPES),
    fc.constant(undefined),
    fc.string({ maxLength: 30 }).filter((s) => /^[\x21-\x7e]+$/.test(s)),
  ),
});
const elsewhereCase = fc.record({
  kind: fc.constant('elsewhere' as const),
  method: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'POST'),
  path: fc.constantFrom('/RPC', '/', '/rpc/x', '/metrics', '/nothing', '/RPC?x=1'),
  body: message,
});
// Garbage where the request line should be: Node's parser refuses it, and the answer must still be a JSON-RPC error.
const rawCase = fc.record({
  kind: fc.constant('raw' as const),
  bytes: fc
    .oneof(
      fc.uint8Array({ minLength: 1, maxLength: 80 }).map((a) => Buffer.from(a)),
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => Buffer.from(`${s} /RPC HTTP/1.1\r\n`)),
    )
    .map((b) => Buffer.concat([Buffer.from([0x01]), b, Buffer.from('\r\n\r\n')])),
});
const anyCase: fc.Arbitrary<Case> = fc.oneof(
  { weight: 90, arbitrary: rpcCase },
  { weight: 6, arbitrary: elsewhereCase },
  { weight: 4, arbitrary: rawCase },
);

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

function post(port: number, agent: Agent, c: Exclude<Case, { kind: 'raw' }>): Promise<Answer> {
  const headers: Record<string, string | number> = { 'Content-Length': c.body.length };
  if (c.kind === 'rpc' && c.contentType !== undefined) headers['Content-Type'] = c.contentType;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: c.kind === 'rpc' ? 'POST' : c.method,
        path: c.kind === 'rpc' ? '/RPC' : c.path,
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            contentType: res.headers['content-type'],
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(c.body);
  });
}

/** Raw bytes on a fresh connection; everything the server sends until it closes. */
function raw(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(bytes);
  });
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** The single JSON-RPC error an HTTP-level refusal carries: id null, code = the status. */
function refusalProblems(status: number, body: string, allowed: number[]): string[] {
  if (!allowed.includes(status)) return [`HTTP ${status}, expected one of ${allowed.join(', ')}`];
  const parsed = parseJson(body);
  if (!parsed.ok) return [`HTTP ${status} with a body that is not JSON: ${show(body)}`];
  return answerProblems({ kind: 'one', id: null, codes: [status === 413 ? -32600 : status], maySucceed: false }, [
    parsed.value,
  ]);
}

async function check(port: number, agent: Agent, c: Case): Promise<string[]> {
  if (c.kind === 'raw') {
    const text = await raw(port, c.bytes);
    const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([^]*?)\r\n\r\n([^]*)$/.exec(text);
    if (!m) return [`raw garbage: not an HTTP answer: ${show(text)}`];
    if (!/content-type: application\/json/i.test(m[2]!))
      return [`raw garbage: HTTP ${m[1]} without a JSON body: ${show(text)}`];
    const parsed = parseJson(m[3]!);
    if (!parsed.ok) return [`raw garbage: HTTP ${m[1]} with a body that is not JSON: ${show(m[3])}`];
    return answerProblems({ kind: 'one', id: null, codes: [-32600], maySucceed: false }, [parsed.value]);
  }
  const res = await post(port, agent, c);
  if (c.kind === 'elsewhere') {
    const path = c.path.split('?')[0];
    if ((path === '/RPC' || path === '/rpc') && c.method === 'POST') return rpcProblems(c.body, res);
    // This server has no /metrics: anything but POST /RPC is 405 there, 404 elsewhere.
    return refusalProblems(res.status, res.body, path === '/RPC' || path === '/rpc' ? [405] : [404]);
  }
  return rpcProblems(c.body, res);
}

function rpcProblems(body: Buffer, res: Answer): string[] {
  if (body.length > 1024 * 1024) return refusalProblems(res.status, res.body, [413]);
  const expected = expectFor(body.toString('utf8'));
  if (res.status === 204)
    return expected.kind === 'none' && res.body === '' ? [] : [`HTTP 204 where an answer was due (${expected.kind})`];
  if (res.status !== 200) return [`HTTP ${res.status}: ${show(res.body)}`];
  if (!/^application\/json/.test(res.contentType ?? '')) return [`Content-Type ${show(res.contentType)}`];
  const parsed = parseJson(res.body);
  if (!parsed.ok) return [`the answer is not JSON: ${show(res.body)}`];
  return answerProblems(expected, [parsed.value]);
}

test('JSON-RPC over HTTP, fuzzed: no crash, every answer valid JSON-RPC 2.0 with the documented codes', async () => {
  const runs = fuzzRuns(10_000);
  const control = new FakeControl([
    { name: 'queue', nworkers: 3 },
    { name: 'solo', nworkers: 1 },
  ]);
  const crashes: unknown[] = [];
  const dispatcher = new RpcDispatcher(control, { onInternalError: (err) => crashes.push(err) });
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, dispatcher, onError: (err) => crashes.push(err) });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let requests = 0;
  let invalid = 0;
  const t0 = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(anyCase, async (c) => {
        requests++;
        let problems: string[];
        try {
          problems = await check(server.port, agent, c);
        } catch (err) {
          crashes.push(err);
          throw err;
        }
        if (crashes.length > 0) throw new Error(`the server reported an internal error: ${show(String(crashes[0]))}`);
        if (problems.length > 0) {
          invalid++;
          throw new Error(
            `${problems.join('; ')} (sent ${show(c.kind === 'raw' ? c.bytes.toString('latin1') : c.body.toString('utf8'))})`,
          );
        }
      }),
      { numRuns: runs },
    );
  } finally {
    agent.destroy();
    await server.close();
    console.log(
      `rpc-http fuzz: ${requests} requests, ${crashes.length} crashes, ${invalid} invalid answers (${Date.now() - t0} ms)`,
    );
    console.log(`rpc-http fuzz: responses checked by outcome: ${outcomeSummary()}`);
  }
  assert.equal(crashes.length, 0);
  assert.equal(invalid, 0);
});
