import { decodeMessage } from '../decode/index.ts';
import type { Stage } from '../context.ts';

/** Payload -> fixes, readings and status reports in the one model, plus a reason for whatever is not. */
export const decode: Stage = (msg) => {
  msg.decoded = decodeMessage(msg.kind, msg.device.id, msg.payload, msg.nowMs);
};
