// Types for geojson-validation 1.x (CommonJS, ships none). Only what Pantau calls.
// With `trace` true each check returns its list of problems (empty = valid); without it, a boolean.

declare module 'geojson-validation' {
  interface GeojsonValidation {
    isFeature(object: unknown, trace: true): string[];
    isFeature(object: unknown, trace?: false): boolean;
    isPolygon(object: unknown, trace: true): string[];
    isPolygon(object: unknown, trace?: false): boolean;
    isMultiPolygon(object: unknown, trace: true): string[];
    isMultiPolygon(object: unknown, trace?: false): boolean;
  }
  const gjv: GeojsonValidation;
  export default gjv;
}
