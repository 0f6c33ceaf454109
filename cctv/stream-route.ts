// GET /api/v1/cameras/{id}/stream as a WebSocket on the API's own HTTP server (its 'upgrade' event, shared with
// MQTT at /mqtt). The handshake is authenticated like the API (any operator role): `Authorization: Bearer` or, for
// browsers, whose WebSocket cannot send headers, `?access_token=`. A refused handshake is an HTTP error with the
// API's JSON error body; problems after it reach the viewer as a frame (see STREAM_ERRORS).
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Registry } from '../engine/registry.ts';
import type { Logger } from '../engine/log.ts';
import type { Cameras } from './cameras.ts';
import { closeWith, type CameraStreams } from './relay.ts';
import { ERRORS, type ErrorCode } from '../api/errors.ts';

const STREAM_PATH = /^\/api\/v1\/cameras\/([^/]+)\/stream\/?$/;

export interface StreamRouteDeps {
  registry: Registry;
  cameras: Cameras;
  streams: CameraStreams;
  log: Logger;
}

export interface StreamRoute {
  /** true when this path is a camera stream (the upgrade is then this route's) */
  matches(pathname: string): boolean;
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** drops every viewer connection that is still open (after CameraStreams.close has said goodbye) */
  close(): void;
}

export function cameraStreamRoute(deps: StreamRouteDeps): StreamRoute {
  // Viewers send nothing but control frames.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  /** each open viewer's operator: a viewer whose token or role changed is closed (registry.onOperatorChanged) */
  const operatorOf = new Map<WebSocket, string>();
  deps.registry.onOperatorChanged((id) => {
    for (const [ws, opId] of operatorOf) {
      if (opId === id) closeWith(ws, 'UNAUTHORIZED', 'the token was rotated or revoked, or its role changed; connect again with a valid token');
    }
  });

  const refuse = (socket: Duplex, code: ErrorCode, message: string) => {
    const body = JSON.stringify({ error: code, message });
    const status = ERRORS[code];
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  };

  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let id: string;
    try {
      id = decodeURIComponent(STREAM_PATH.exec(url.pathname)![1]!);
    } catch {
      return refuse(socket, 'BAD_QUERY', 'the camera id in the path is not valid percent-encoding');
    }
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : (url.searchParams.get('access_token') ?? '').trim();
    if (!token) return refuse(socket, 'UNAUTHORIZED', 'send Authorization: Bearer <token> or ?access_token=<token>');
    // Never log the token or the query that carries it.
    const op = await deps.registry.authenticateOperator(token);
    if (!op) return refuse(socket, 'UNAUTHORIZED', 'unknown or revoked token');
    const camera = deps.cameras.get(id);
    if (!camera) return refuse(socket, 'CAMERA_NOT_FOUND', `no camera ${id}`);
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      deps.log.debug({ camera: id, operator: op.id }, 'camera viewer connected');
      operatorOf.set(ws, op.id);
      ws.once('close', () => operatorOf.delete(ws));
      deps.streams.watch(camera, ws);
    });
  };

  return {
    matches: (pathname) => STREAM_PATH.test(pathname),
    handle(req, socket, head) {
      socket.on('error', () => socket.destroy());
      upgrade(req, socket, head).catch((err: Error) => {
        deps.log.error({ err: err.message }, 'camera stream handshake failed');
        if (!socket.destroyed) refuse(socket, 'INTERNAL', 'internal error; see the engine log');
      });
    },
    close() {
      for (const ws of wss.clients) ws.terminate();
    },
  };
}
