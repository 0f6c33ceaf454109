// The server of bench/http-cost.ts, in a process of its own so that its CPU can be read apart from the HTTP client's:
// Pantau's API base and live-vehicle routes (the replica's) over a real index, and the same routes over an index that
// answers without searching. Prints "listening <port>" when ready.
//
//   node --import tsx bench/http-cost-server.ts VEHICLES

import { createApiBase } from '../api/app.ts';
import { liveVehiclesRoutes } from '../api/vehicles.ts';
import { VehicleIndex, type NearestHit } from '../geo/vehicle-index.ts';
import { VEHICLE_TYPES } from '../ingest/model.ts';
import { seededRandom } from '../test/helpers/seeded-random.ts';
import { BENCH_ADMIN_TOKEN } from './proc.ts';

const vehicleCount = Number(process.argv[2] ?? 100_000);
const rand = seededRandom(20261123);
const now = Date.now();
const vehicles = new VehicleIndex();
// As bench/http.ts seeds the engine: uniform over Jakarta, every type in turn, all available, fresh fixes.
for (let i = 0; i < vehicleCount; i++) {
  vehicles.upsert({
    id: `seed-${i}`, type: VEHICLE_TYPES[i % VEHICLE_TYPES.length]!, status: 'available',
    lat: -6.37 + rand() * 0.28, lon: 106.68 + rand() * 0.3, ts: now, speedKmh: rand() * 50, heading: null, accuracyM: 5 + rand() * 10,
  });
}

// The stand-in answers 5 vehicles taken in turn from a pool, fresh result objects each time, as the index would.
const pool = [...vehicles.all()].filter((_, i) => i % 17 === 0);
let next = 0;
const noSearch = {
  nearest(): NearestHit[] {
    const out: NearestHit[] = [];
    for (let i = 0; i < 5; i++) out.push({ vehicle: pool[next++ % pool.length]!, distanceM: 100 + i * 37.3 });
    return out;
  },
} as unknown as VehicleIndex;

const eta = { roadFactor: 1.4, speedsKmh: { ambulance: 40, garbage_truck: 20, blue_crew_truck: 25, fire_truck: 35, police: 40, other: 30 } };
const admin = { id: 'admin', role: 'admin' as const };
const app = await createApiBase({ version: 'bench', log: console, authenticate: (t) => (t === BENCH_ADMIN_TOKEN ? admin : null), description: 'bench/http-cost.ts' });
await app.register(liveVehiclesRoutes({ vehicles, eta, fences: null, missing: () => 'no such vehicle' }), { prefix: '/api/v1' });
await app.register(liveVehiclesRoutes({ vehicles: noSearch, eta, fences: null, missing: () => 'no such vehicle' }), { prefix: '/no-search/api/v1' });
// The replica's /healthz, same shape and schema (engine/replica.ts).
app.get('/healthz', { schema: { tags: ['operations'] } }, async () => ({
  status: 'ok', role: 'replica', engine: 'http://127.0.0.1:8080', ports: { http: 0 }, versions: { pantau: 'bench', node: process.versions.node }, uptime_s: Math.round(process.uptime()),
}));
// /healthz's answer after spinning `us` microseconds: what a given amount of route work costs in throughput.
app.get<{ Querystring: { us: number } }>('/spin', { schema: { querystring: { type: 'object', properties: { us: { type: 'number', minimum: 0, maximum: 1000, default: 10 } } } } }, async (req) => {
  const until = process.hrtime.bigint() + BigInt(Math.round(req.query.us * 1000));
  while (process.hrtime.bigint() < until);
  return { status: 'ok' };
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`listening ${new URL(address).port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
