/**
 * Counters that wrap (issue 16, defect 6), started near 2^31: the doorbell's message count and
 * the DECIDED word of a worker's commands go on past the wrap, instead of spinning or hanging.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlBlock, SEQ_MAX, nextSeq, seqReached } from '../../src/runtime/control-block.js';
import { Doorbell } from '../../src/runtime/thread-doorbell.js';

test('the doorbell: a thread counting what it took matches SENT across its Int32 wrap', () => {
  const bell = new Doorbell();
  const start = 2 ** 31 - 3; // three messages before SENT wraps to negative
  bell.words[1] = start;
  let received = start;
  for (let i = 0; i < 6; i++) {
    bell.posted();
    assert.notEqual(received, bell.sent, 'one message to take');
    received = Doorbell.count(received);
    assert.equal(received, bell.sent, `after message ${i + 1} (SENT ${bell.sent})`);
  }
  assert.ok(bell.sent < 0, 'SENT has wrapped');
});

test('DECIDED: commands are claimed and withdrawn past 2^30 and 2^31 commands, and none hangs', () => {
  const block = ControlBlock.allocate();
  const DECIDED = 6;
  for (const before of [SEQ_MAX - 3, 2 ** 29]) {
    Atomics.store(block.ints, DECIDED, before << 1);
    let seq = before;
    for (let i = 0; i < 8; i++) {
      seq = nextSeq(seq);
      assert.ok(seq >= 1 && seq <= SEQ_MAX);
      const won = i % 3 === 2 ? block.withdraw(seq) : block.claim(seq);
      assert.ok(won, `command ${seq} (after ${before}) decided`);
      assert.equal(block.decidedSeq, seq);
      assert.ok(Atomics.load(block.ints, DECIDED) >= 0, 'the word stays a positive Int32');
      assert.equal(block.claim(seq), false, 'decided once only');
    }
  }
  // Past the wrap, 1 follows SEQ_MAX, and a command is reached by the ones decided after it.
  assert.equal(nextSeq(SEQ_MAX), 1);
  assert.ok(seqReached(2, SEQ_MAX - 1));
  assert.ok(seqReached(SEQ_MAX, SEQ_MAX));
  assert.ok(!seqReached(SEQ_MAX - 1, 2));
  assert.ok(!seqReached(0, 1), 'nothing decided yet reaches nothing');
});

test('a JavaScript sequence number past 2^31 (what the main thread counted before) would not be claimable: nextSeq never goes there', () => {
  let seq = SEQ_MAX - 1;
  for (let i = 0; i < 4; i++) seq = nextSeq(seq);
  assert.ok(seq < 2 ** 30);
  assert.equal((seq << 1) >>> 1, seq, 'seq << 1 round-trips through the Int32 word');
});
