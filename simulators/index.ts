// Public surface of the simulators: the city model, the stations, the runner and the load generator.
export * from './city.ts';
export * from './stations.ts';
export * from './payloads.ts';
export * from './runner.ts';
export * from './load.ts';
export { LatencyHistogram } from './histogram.ts';
export { mulberry32, Rng } from './random.ts';
export { buildRoadGraph, haversineM, shortestPath, type RoadGraph } from './roads.ts';
export * from './flood.ts';
