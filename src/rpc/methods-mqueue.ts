/**
 * Kamailio's mqueue RPC methods, on ptimer's queues (src/modules/mqueue/mqueue_mod.c):
 *
 *   mqueue.get_size NAME   -> { name, size }
 *   mqueue.get_sizes       -> [{ name, size }, ...]   (one record per queue in BINRPC)
 *   mqueue.fetch NAME      -> { key, val }            (takes the oldest item; 404 "Empty queue")
 *
 * and ptimer's own, so that a queue can be fed from outside under `ptimer run`:
 *
 *   ptimer.push NAME VALUE [KEY] -> { name, size }   (500 when the queue is full: nothing changed)
 *   ptimer.queues                -> [{ name, size, bytes, capacity, maxBytes, maxage, pushed,
 *                                     taken, refused, expired }]  (what `ptimer top` shows)
 *
 * fetch takes as the host does (no timer's limit applies; an item older than the queue's maxage
 * is dropped and handed to the expired listeners, not fetched). A value given as bytes comes back
 * as its UTF-8 text. An item without a key is fetched with key "" (mqueue's items always have one).
 */
import { DataMethodError, queueParam, textParam, type DataMethod } from './data-methods.js';

export const MQUEUE_METHODS: Readonly<Record<string, DataMethod>> = {
  'mqueue.get_size': {
    params: 'queue',
    help: 'The number of items in a queue: { name, size }.',
    read: true,
    names: ['queue'],
    call(data, [name]) {
      const q = queueParam('mqueue.get_size', data, name);
      return { name: q.name, size: q.size };
    },
  },
  'mqueue.get_sizes': {
    params: '',
    help: 'The number of items in every queue: [{ name, size }, ...].',
    read: true,
    names: [],
    call(data) {
      return data.queueNames.map((name) => ({ name, size: data.queue(name).size }));
    },
  },
  'mqueue.fetch': {
    params: 'queue',
    help: 'Takes the oldest item of a queue: { key, val } (404 when the queue is empty). No timer limit applies; items past maxage are dropped, not fetched.',
    read: false,
    names: ['queue'],
    call(data, [name]) {
      const q = queueParam('mqueue.fetch', data, name);
      const [item] = q.take(1);
      if (!item) throw new DataMethodError(404, `mqueue.fetch: Empty queue (${JSON.stringify(q.name)} holds no items)`);
      const val =
        typeof item.value === 'string'
          ? item.value
          : Buffer.from(item.value.buffer, item.value.byteOffset, item.value.length).toString('utf8');
      return { key: item.key ?? '', val };
    },
  },
  'ptimer.queues': {
    params: '',
    help: 'Every queue with its bounds and counts since it was made: [{ name, size, bytes, capacity, maxBytes, maxage (seconds, 0: none), pushed, taken, refused (full), expired }].',
    read: true,
    names: [],
    call(data) {
      return data.queueNames.map((name) => {
        const { maxAgeNs, ...s } = data.queue(name).stats();
        return { ...s, maxage: maxAgeNs / 1e9 };
      });
    },
  },
  'ptimer.push': {
    params: 'queue, value [, key]',
    help: "Queues a value (a string) at the back of a queue, under a key if given (the queue's addmode applies): { name, size }. Refused (500) when the queue is full; nothing changes then.",
    read: false,
    names: ['queue', 'value', 'key'],
    call(data, [name, value, key]) {
      const q = queueParam('ptimer.push', data, name);
      const text = textParam('ptimer.push', 'value', value)!;
      const k = textParam('ptimer.push', 'key', key, false);
      let pushed: boolean;
      try {
        pushed = q.push(text, k);
      } catch (err) {
        throw new DataMethodError(400, `ptimer.push: ${(err as Error).message}`);
      }
      if (!pushed)
        throw new DataMethodError(
          500,
          `ptimer.push: queue ${JSON.stringify(q.name)} is full (${q.size} of ${q.capacity} items, ${q.bytesUsed} of ${q.maxBytes} bytes); nothing was pushed`,
        );
      return { name: q.name, size: q.size };
    },
  },
};
