// The camera registry: stored in the database, held in memory with an rbush for nearest queries.
import type { Db } from '../store/db.ts';
import { deleteCamera, insertCamera, listCameras, type CameraRow } from '../store/cameras.ts';
import { PointIndex, type PointHit } from '../geo/point-index.ts';

export type Camera = Readonly<CameraRow>;

export class CameraExistsError extends Error {
  constructor(readonly id: string) {
    super(`camera ${id} exists`);
  }
}

export class Cameras {
  private readonly index = new PointIndex<Camera>();

  constructor(private readonly db: Db) {}

  /** Restores the registry from the database (on start). */
  async load(): Promise<void> {
    this.index.load(await listCameras(this.db));
  }

  get size(): number {
    return this.index.size;
  }

  get(id: string): Camera | undefined {
    return this.index.get(id);
  }

  /** Every camera, by id. */
  list(): Camera[] {
    return [...this.index.all()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async create(c: Omit<CameraRow, 'createdAt'>): Promise<Camera> {
    if (this.index.get(c.id)) throw new CameraExistsError(c.id);
    const row = await insertCamera(this.db, c);
    if (!row) throw new CameraExistsError(c.id);
    this.index.upsert(Object.freeze(row));
    return row;
  }

  async remove(id: string): Promise<boolean> {
    const gone = await deleteCamera(this.db, id);
    this.index.remove(id);
    return gone;
  }

  /** The k cameras nearest to (lat, lon), nearest first by great-circle metres; ties by id. */
  nearest(lat: number, lon: number, k: number, maxDistanceM?: number): PointHit<Camera>[] {
    return this.index.nearest(lat, lon, k, maxDistanceM);
  }
}
