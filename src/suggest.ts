/**
 * Did-you-mean, for the command line and for config errors: the closest known word by edit distance (leven), when
 * it is close enough to be a slip of the keyboard rather than another word. Leading dashes
 * of flags are not counted, and a word without a dot is also compared with the part of a
 * method name after its dot (`lsit` -> `ptimer.list`).
 */
import leven from 'leven';

/**
 * At most this many edits, at most a third of the word's length, and fewer edits than the word
 * has letters: `stat` -> `start`, `rnu` -> `run`, but not `fish` -> `bash`, `-o` -> `-D` or
 * `x` -> `rpc` (a different short word, not a slip).
 */
const MAX_DISTANCE = 3;
/** A bound: nobody mistypes 200 characters. */
const MAX_WORD = 200;

const bare = (w: string) => w.replace(/^-+/, '').toLowerCase();

/** One swap of neighbours (`rnu` for `run`) counts as one edit, as a typist makes it. */
function isSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const diff: number[] = [];
  for (let i = 0; i < a.length && diff.length <= 2; i++) if (a[i] !== b[i]) diff.push(i);
  return diff.length === 2 && diff[1] === diff[0]! + 1 && a[diff[0]!] === b[diff[1]] && a[diff[1]] === b[diff[0]!];
}

function distance(word: string, candidate: string): number {
  const w = bare(word);
  const c = bare(candidate);
  let d = isSwap(w, c) ? 1 : leven(w, c);
  if (!w.includes('.') && c.includes('.')) {
    const tail = c.slice(c.lastIndexOf('.') + 1);
    d = Math.min(d, isSwap(w, tail) ? 1 : leven(w, tail));
  }
  return d;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** The candidate closest to `word`, or undefined when none is close. Ties go to the longer common prefix. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length === 0 || word.length > MAX_WORD) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (
      d < bestDistance ||
      (d === bestDistance &&
        best !== undefined &&
        commonPrefix(bare(word), bare(candidate)) > commonPrefix(bare(word), bare(best)))
    ) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best === undefined || best === word) return undefined;
  const length = bare(word).length;
  const limit = Math.min(MAX_DISTANCE, Math.max(1, Math.floor(length / 3)));
  return bestDistance <= limit && bestDistance < length ? best : undefined;
}

/** ` (did you mean 'X'?)`, or '' when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const match = closest(word, candidates);
  return match === undefined ? '' : ` (did you mean '${match}'?)`;
}
