// Great-circle distances on a sphere of the mean Earth radius, in metres.

/** Mean Earth radius R1 of IUGG (Moritz, Geodetic Reference System 1980), metres. */
export const EARTH_RADIUS_M = 6371008.8;

const RAD = Math.PI / 180;

/** haversin(theta) = sin^2(theta / 2). */
function hav(thetaRad: number): number {
  const s = Math.sin(thetaRad / 2);
  return s * s;
}

/** Central angle's haversine -> metres. Clamped: rounding can push h a hair past 1 near antipodes. */
export function havToM(h: number): number {
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(h >= 1 ? 1 : h));
}

/**
 * Haversine distance in metres when cos(lat1) is already known (a query point reused against many candidates).
 * Gives bit-identical results to haversineM for the same inputs.
 */
export function haversineCosM(lat1: number, lon1: number, cosLat1: number, lat2: number, lon2: number): number {
  return havToM(hav((lat2 - lat1) * RAD) + cosLat1 * Math.cos(lat2 * RAD) * hav((lon2 - lon1) * RAD));
}

/** Great-circle (haversine) distance in metres between two WGS84 points treated as on a sphere. */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  return haversineCosM(lat1, lon1, Math.cos(lat1 * RAD), lat2, lon2);
}

/**
 * A lower bound of the haversine of the central angle (sin^2(angle / 2), 0..1) from (lat, lon) to any point of the
 * lon/lat box: the ordering key of best-first search, cheaper than metres (no asin) and monotone in them.
 * Not the distance to the clamped lon/lat: west or east of a box, the closest point of the nearer bounding meridian
 * can lie poleward of the clamped latitude (great circles bulge toward the pole), so that meridian's vertex is used,
 * as in geokdbush's boxDist (github.com/mourner/geokdbush). Longitude gaps are folded to [0, 180] degrees, so boxes
 * next to the antimeridian are measured the short way. The result is shaved by a relative 1e-10 so that rounding
 * never makes it exceed a true distance.
 */
export function boxMinHav(
  lat: number,
  lon: number,
  sinLat: number,
  cosLat: number,
  minLon: number,
  minLat: number,
  maxLon: number,
  maxLat: number,
): number {
  let h: number;
  if (lon >= minLon && lon <= maxLon) {
    // Due north or south of the box: along the meridian.
    if (lat < minLat) h = hav((minLat - lat) * RAD);
    else if (lat > maxLat) h = hav((lat - maxLat) * RAD);
    else return 0;
  } else {
    // Every point of the box is at least as far in longitude as the nearer bounding meridian.
    let dWest = Math.abs(lon - minLon);
    if (dWest > 180) dWest = 360 - dWest;
    let dEast = Math.abs(lon - maxLon);
    if (dEast > 180) dEast = 360 - dEast;
    const havDLon = hav((dWest < dEast ? dWest : dEast) * RAD);
    const cosDLon = 1 - 2 * havDLon;
    if (cosDLon > 0) {
      // The meridian's point nearest to the query (its vertex) is on this half of the great circle; distance grows
      // monotonically away from it, so the nearest point of the edge is the vertex or the edge end closer to it.
      const vertexLat = Math.atan2(sinLat, cosLat * cosDLon) / RAD;
      if (vertexLat > minLat && vertexLat < maxLat) {
        // Cross-track: sin(angle) = cos(lat) sin(dLon); hav = (1 - cos(angle)) / 2, written without cancellation.
        const x = cosLat * cosLat * 4 * havDLon * (1 - havDLon);
        h = x / (2 * (1 + Math.sqrt(1 - x)));
      } else {
        const edgeLat = vertexLat <= minLat ? minLat : maxLat;
        h = havPartial(havDLon, cosLat, lat, edgeLat);
      }
    } else {
      // 90 degrees or more apart: the vertex is on the other half; the nearest point is one of the edge's ends.
      h = Math.min(havPartial(havDLon, cosLat, lat, minLat), havPartial(havDLon, cosLat, lat, maxLat));
    }
  }
  h -= h * 1e-10 + 1e-16;
  return h <= 0 ? 0 : h;
}

function havPartial(havDLon: number, cosLat1: number, lat1: number, lat2: number): number {
  return cosLat1 * Math.cos(lat2 * RAD) * havDLon + hav((lat1 - lat2) * RAD);
}

/** A lower bound, in metres, of the great-circle distance from (lat, lon) to any point of the lon/lat box. */
export function boxMinDistanceM(
  lat: number,
  lon: number,
  cosLat: number,
  minLon: number,
  minLat: number,
  maxLon: number,
  maxLat: number,
): number {
  return havToM(boxMinHav(lat, lon, Math.sin(lat * RAD), cosLat, minLon, minLat, maxLon, maxLat));
}

/**
 * The haversine of the central angle of a distance in metres, rounded up a little so that
 * `bound > metresToHavCeil(m)` proves every point behind the bound is farther than m metres.
 */
export function metresToHavCeil(metres: number): number {
  if (!(metres < Math.PI * EARTH_RADIUS_M)) return Infinity;
  return hav(metres / EARTH_RADIUS_M) * (1 + 1e-9) + 1e-16;
}
