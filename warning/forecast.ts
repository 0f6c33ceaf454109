// Flood-wave propagation along gauge chains: an upstream gauge above NORMAL forecasts every gauge downstream of
// it (transitively) at ts + cumulative travel time (domain/README.md, flood gates: Katulampa -> Depok ~3 h ->
// Manggarai ~6 h). Pure: state changes only through statusChanged().

export interface GaugeLink {
  from: string;
  to: string;
  travelS: number;
}

/** times in epoch ms; travelS is the cumulative (shortest) travel time from upstream to target */
export interface Forecast {
  target: string;
  upstreamId: string;
  upstreamLevel: string;
  raisedTs: number;
  expectedAtTs: number;
  travelS: number;
}

export type ForecastChange =
  | { kind: 'forecast'; active: true; forecast: Forecast }
  | { kind: 'forecast'; active: false; target: string; reason: 'withdrawn' | 'arrived'; ts: number };

/** The shape of domain/jakarta-gauges.json that links are read from. */
export interface GaugesJson {
  gauges: ReadonlyArray<{ id: string; downstream?: ReadonlyArray<{ id: string; travel_h: number }> }>;
}

export function linksFromGauges(json: GaugesJson): GaugeLink[] {
  const links: GaugeLink[] = [];
  for (const gauge of json.gauges) {
    for (const down of gauge.downstream ?? []) {
      links.push({ from: gauge.id, to: down.id, travelS: down.travel_h * 3600 });
    }
  }
  return links;
}

interface Reach {
  target: string;
  travelS: number;
}

export class ForecastBook {
  /** every gauge downstream of a gauge, by shortest cumulative travel, nearest first */
  private readonly reach = new Map<string, Reach[]>();
  private readonly levelRank: (status: string) => number;
  /** last status seen per gauge; absent = NORMAL */
  private readonly statuses = new Map<string, string>();
  /** per target, the forecast from each upstream source */
  private readonly sources = new Map<string, Map<string, Forecast>>();
  /** per target, the aggregate last emitted */
  private readonly shown = new Map<string, Forecast>();

  constructor(links: GaugeLink[], levelRank: (status: string) => number) {
    this.levelRank = levelRank;
    const edges = new Map<string, Map<string, number>>();
    for (const link of links) {
      if (typeof link.from !== 'string' || link.from === '' || typeof link.to !== 'string' || link.to === '') {
        throw new RangeError(`link ids must be non-empty strings: ${JSON.stringify(link)}`);
      }
      if (!Number.isFinite(link.travelS) || link.travelS < 0) {
        throw new RangeError(`link ${link.from} -> ${link.to}: travelS must be a finite number >= 0, got ${link.travelS}`);
      }
      const out = edges.get(link.from) ?? new Map<string, number>();
      // A repeated link keeps its shortest travel time, as two paths would.
      out.set(link.to, Math.min(out.get(link.to) ?? Infinity, link.travelS));
      edges.set(link.from, out);
    }

    // Depth-first over the DAG, memoising each gauge's reach; a gauge met again on the current path is a cycle.
    const onPath: string[] = [];
    const memo = new Map<string, Map<string, number>>();
    const visit = (id: string): Map<string, number> => {
      const done = memo.get(id);
      if (done) return done;
      const at = onPath.indexOf(id);
      if (at >= 0) throw new RangeError(`gauge links form a cycle: ${[...onPath.slice(at), id].join(' -> ')}`);
      onPath.push(id);
      const best = new Map<string, number>();
      const relax = (target: string, travelS: number): void => {
        if (travelS < (best.get(target) ?? Infinity)) best.set(target, travelS);
      };
      for (const [next, travelS] of edges.get(id) ?? []) {
        relax(next, travelS);
        for (const [further, moreS] of visit(next)) relax(further, travelS + moreS);
      }
      onPath.pop();
      memo.set(id, best);
      return best;
    };
    for (const id of edges.keys()) {
      const best = visit(id);
      const list = [...best].map(([target, travelS]) => ({ target, travelS }));
      list.sort((a, b) => a.travelS - b.travelS || (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
      this.reach.set(id, list);
    }
  }

  /**
   * A gauge's observed status. Changes come as: the gauge's own forecast ending ('arrived'), then its
   * downstream targets' aggregates, nearest first. A repeated status changes nothing.
   */
  statusChanged(gaugeId: string, status: string, ts: number): ForecastChange[] {
    const prev = this.statuses.get(gaugeId);
    if (prev === status || (prev === undefined && this.levelRank(status) <= 0)) return [];
    this.statuses.set(gaugeId, status);
    const above = this.levelRank(status) > 0;
    const changes: ForecastChange[] = [];

    if (above) {
      // Observed at a level: the observation replaces every forecast the gauge had.
      this.sources.delete(gaugeId);
      if (this.shown.delete(gaugeId)) changes.push({ kind: 'forecast', active: false, target: gaugeId, reason: 'arrived', ts });
    }
    // Falling back to NORMAL raises nothing for the gauge itself: only later upstream changes do.

    for (const { target, travelS } of this.reach.get(gaugeId) ?? []) {
      let fromSources = this.sources.get(target);
      if (above) {
        // A target observed above NORMAL gets no forecast; gauges past it still do (they are in our reach).
        if (this.isAbove(target)) continue;
        if (!fromSources) this.sources.set(target, (fromSources = new Map()));
        // A crest already on its way keeps coming: while the upstream gauge stays above NORMAL, a
        // lower level there keeps the forecast of its peak (level and arrival); a higher one replaces it.
        const previous = fromSources.get(gaugeId);
        if (previous && this.levelRank(previous.upstreamLevel) >= this.levelRank(status)) continue;
        fromSources.set(gaugeId, { target, upstreamId: gaugeId, upstreamLevel: status, raisedTs: ts, expectedAtTs: ts + travelS * 1000, travelS });
      } else {
        if (!fromSources?.delete(gaugeId)) continue;
        if (fromSources.size === 0) this.sources.delete(target);
      }
      const change = this.reaggregate(target, ts);
      if (change) changes.push(change);
    }
    return changes;
  }

  /** the forecast shown for a target: the highest upstream level, ties to the earliest arrival */
  active(target: string): Forecast | null {
    const shown = this.shown.get(target);
    return shown ? { ...shown } : null;
  }

  /** every shown forecast, earliest arrival first */
  all(): Forecast[] {
    return [...this.shown.values()]
      .map((f) => ({ ...f }))
      .sort((a, b) => a.expectedAtTs - b.expectedAtTs || (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  }

  private isAbove(gaugeId: string): boolean {
    const status = this.statuses.get(gaugeId);
    return status !== undefined && this.levelRank(status) > 0;
  }

  private reaggregate(target: string, ts: number): ForecastChange | null {
    let best: Forecast | null = null;
    for (const f of this.sources.get(target)?.values() ?? []) {
      if (!best || this.better(f, best)) best = f;
    }
    const shown = this.shown.get(target);
    if (!best) {
      if (!shown) return null;
      this.shown.delete(target);
      return { kind: 'forecast', active: false, target, reason: 'withdrawn', ts };
    }
    if (shown && sameForecast(shown, best)) return null;
    this.shown.set(target, best);
    return { kind: 'forecast', active: true, forecast: { ...best } };
  }

  /** higher level, then earlier arrival, then upstream id (only so the choice is deterministic) */
  private better(a: Forecast, b: Forecast): boolean {
    const byLevel = this.levelRank(a.upstreamLevel) - this.levelRank(b.upstreamLevel);
    if (byLevel !== 0) return byLevel > 0;
    if (a.expectedAtTs !== b.expectedAtTs) return a.expectedAtTs < b.expectedAtTs;
    return a.upstreamId < b.upstreamId;
  }
}

function sameForecast(a: Forecast, b: Forecast): boolean {
  return (
    a.upstreamId === b.upstreamId &&
    a.upstreamLevel === b.upstreamLevel &&
    a.raisedTs === b.raisedTs &&
    a.expectedAtTs === b.expectedAtTs &&
    a.travelS === b.travelS
  );
}
