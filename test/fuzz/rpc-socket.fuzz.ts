/**
 * JSON-RPC over the Unix socket, fuzzed: 5,000 cases under `npm run fuzz` (a tenth in
 * `npm test`), each a fresh connection that sends one to three messages (the generators of
 * rpc-fuzz-common.ts: requests, batches, random and truncated JSON, garbage bytes, which
 * may hold newlines of their own) separated by LF or CRLF, with or without a final
 * newline, then half-closes. The server must answer every line it was sent as JSON-RPC 2.0
 * says (in any order, as the socket answers when ready), carry only the documented error
 * codes, report no internal error, and close the connection once done.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { RpcDispatcher } from '../../src/rpc/dispatcher.js';
import { startSocketServer } from '../../src/rpc/socket-server.js';
import { FakeControl } from '../fixtures/cli/fake-control.js';
import { fuzzRuns } from '../support/fuzz-scale.js';
import { answerProblems, expectFor, message, outcomeSummary, show, type Expected } from './rpc-fuzz-common.js';

const dir = mkdtempSync(join(tmpdir(), 'ptimer-rpc-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const socketCase = fc.record({
  messages: fc.array(message, { minLength: 1, maxLength: 3 }),
  separator: fc.constantFrom('\n', '\r\n'),
  finalNewline: fc.boolean(),
});

/** The bytes one case sends. */
function bytesOf(c: { messages: Buffer[]; separator: string; finalNewline: boolean }): Buffer {
  const sep = Buffer.from(c.separator);
  const parts: Buffer[] = [];
  c.messages.forEach((m, i) => {
    if (i > 0) parts.push(sep);
    parts.push(m);
  });
  if (c.finalNewline) parts.push(sep);
  return Buffer.concat(parts);
}

/** What the server must answer to `bytes`: one expectation per line it will see (LF-separated, a trailing CR dropped, blank lines skipped). */
function expectedFor(bytes: Buffer): Expected[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, start)) {
    lines.push(bytes.subarray(start, nl));
    start = nl + 1;
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return lines
    .map((l) => l.toString('utf8').replace(/\r$/, ''))
    .filter((text) => text.trim() !== '')
    .map(expectFor)
    .filter((e) => e.kind !== 'none');
}

/** Sends `bytes`, half-closes, and collects every answer line until the server closes. */
function exchange(path: string, bytes: Buffer): Promise<{ lines: string[]; rest: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('the server did not finish within 10 s')));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const lines = text.split('\n');
      const rest = lines.pop()!;
      resolve({ lines, rest });
      socket.destroy();
    });
    socket.end(bytes);
  });
}

/** Matches answers to expectations in any order; what is left over on either side is a problem. */
function matchProblems(expected: Expected[], lines: string[]): string[] {
  const open = [...expected];
  const problems: string[] = [];
  for (const line of lines) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`an answer line that is not JSON: ${show(line)}`);
      continue;
    }
    const at = open.findIndex((e) => answerProblems(e, [value]).length === 0);
    if (at === -1) {
      const closest = open.length > 0 ? answerProblems(open[0]!, [value]).join('; ') : 'nothing more was due';
      problems.push(`an answer that matches nothing due: ${show(value)} (${closest})`);
    } else {
      open.splice(at, 1);
    }
  }
  for (const e of open) problems.push(`no answer for ${show(e)}`);
  return problems;
}

test('JSON-RPC over the Unix socket, fuzzed: no crash, every line answered as JSON-RPC 2.0 with the documented codes', async () => {
  const runs = fuzzRuns(5_000);
  const control = new FakeControl([
    { name: 'queue', nworkers: 3 },
    { name: 'solo', nworkers: 1 },
  ]);
  const crashes: unknown[] = [];
  const dispatcher = new RpcDispatcher(control, { onInternalError: (err) => crashes.push(err) });
  const path = join(dir, 'fuzz.sock');
  const server = await startSocketServer({ path, dispatcher, onError: (err) => crashes.push(err) });
  let cases = 0;
  let lines = 0;
  let invalid = 0;
  const t0 = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(socketCase, async (c) => {
        cases++;
        const bytes = bytesOf(c);
        const expected = expectedFor(bytes);
        lines += expected.length;
        let answer: { lines: string[]; rest: string };
        try {
          answer = await exchange(path, bytes);
        } catch (err) {
          crashes.push(err);
          throw err;
        }
        if (crashes.length > 0) throw new Error(`the server reported an internal error: ${show(String(crashes[0]))}`);
        const problems = matchProblems(expected, answer.lines);
        if (answer.rest !== '') problems.push(`an answer without its newline: ${show(answer.rest)}`);
        if (problems.length > 0) {
          invalid++;
          throw new Error(`${problems.join('; ')} (sent ${show(bytes.toString('utf8'))})`);
        }
      }),
      { numRuns: runs },
    );
  } finally {
    await server.close();
    console.log(
      `rpc-socket fuzz: ${cases} requests (connections), ${lines} answered lines, ${crashes.length} crashes, ${invalid} invalid answers (${Date.now() - t0} ms)`,
    );
    console.log(`rpc-socket fuzz: responses checked by outcome: ${outcomeSummary()}`);
  }
  assert.equal(crashes.length, 0);
  assert.equal(invalid, 0);
});
