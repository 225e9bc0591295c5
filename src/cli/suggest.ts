/** The CLI's did-you-mean is the project's one (src/suggest.ts), shared with config errors. */
export { closest, didYouMean } from '../suggest.js';
