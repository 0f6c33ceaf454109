// Tests and benchmarks draw from the simulators' seeded PRNG (mulberry32), so a seed means the same everywhere.
export { mulberry32 as seededRandom } from '../../simulators/random.ts';
