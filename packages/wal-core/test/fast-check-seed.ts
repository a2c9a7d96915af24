// Every fast-check property in this package runs from a fixed seed by default, so that `npm test` is
// reproducible (a red CI is a real regression, not a lucky draw). WALNUT_FUZZ_SEED=random explores new
// inputs; WALNUT_FUZZ_SEED=<n> replays the seed a failure printed.
import fc from 'fast-check';

const seed = process.env.WALNUT_FUZZ_SEED;
if (seed !== 'random') fc.configureGlobal({ seed: seed === undefined ? 20261124 : Number(seed) });
