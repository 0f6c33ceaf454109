// Every API error: a code, its HTTP status, in one place (DESIGN.md). Bodies are
// {"error": CODE, "message", "details"?} (CONTRACT.md).
export const ERRORS = {
  VALIDATION_FAILED: 400,
  INVALID_GEOMETRY: 400,
  BAD_QUERY: 400,
  NOT_ON_REPLICA: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  DEVICE_NOT_FOUND: 404,
  VEHICLE_NOT_FOUND: 404,
  SENSOR_NOT_FOUND: 404,
  DISPATCH_NOT_FOUND: 404,
  GEOFENCE_NOT_FOUND: 404,
  ALERT_NOT_FOUND: 404,
  SUBSCRIBER_NOT_FOUND: 404,
  CAMERA_NOT_FOUND: 404,
  OPERATOR_NOT_FOUND: 404,
  DEVICE_EXISTS: 409,
  NO_VEHICLE_AVAILABLE: 409,
  INVALID_TRANSITION: 409,
  OWNTRACKS_TAKEN: 409,
  CAMERA_EXISTS: 409,
  OPERATOR_EXISTS: 409,
  LAST_ADMIN: 409,
  PAYLOAD_TOO_LARGE: 413,
  UPGRADE_REQUIRED: 426,
  NOT_READY: 503,
  ENGINE_UNREACHABLE: 503,
  DASHBOARD_NOT_BUILT: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.statusCode = ERRORS[code];
  }
}

/** The JSON schema of an error body, for the OpenAPI document. */
export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' }, details: {} },
} as const;
