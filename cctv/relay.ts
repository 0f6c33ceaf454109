// The RTSP relay: one ffmpeg (node-rtsp-stream's Mpeg1Muxer) per camera while anyone watches, its MPEG-TS fanned
// out to the camera's WebSocket viewers. Each viewer gets JSMpeg's 8-byte header first, then the stream.
// The process stops when the last viewer has been gone for the idle grace; an unexpected exit while viewers remain
// is restarted with exponential backoff; a camera that gives no video is reported to its viewers, never thrown.
import { WebSocket } from 'ws';
import type { Logger } from '../engine/log.ts';
import type { Metrics } from '../engine/metrics.ts';
import { ffmpegProblem, spawnMpeg1Muxer, type Muxer, type SpawnMuxer } from './ffmpeg.ts';
import { jsmpegHeader, redactUrlPasswords, sequenceHeaderSize, stderrVideoSize, type VideoSize } from './mpeg.ts';

/** What a viewer is told before its WebSocket closes: `{"error": CODE, "message"}` as a text frame, then this close code. */
export const STREAM_ERRORS = {
  /** no video from the camera: refused, timed out, or gave up after restarts */
  CAMERA_UNREACHABLE: 1011,
  /** the ffmpeg binary is missing (Debian package ffmpeg, or FFMPEG_PATH) */
  FFMPEG_MISSING: 1011,
  /** PANTAU_CAMERA_MAX_STREAMS cameras are being relayed already (1013: try again later) */
  STREAM_LIMIT: 1013,
  /** the camera was deleted while being watched */
  CAMERA_REMOVED: 1001,
  /** the engine is stopping */
  SHUTTING_DOWN: 1001,
  /** the viewer's operator token was rotated or deleted, or its role changed (1008: policy violation) */
  UNAUTHORIZED: 1008,
} as const;
export type StreamErrorCode = keyof typeof STREAM_ERRORS;

export interface RelayOptions {
  ffmpegPath: string;
  /** cameras relayed at once (ffmpeg processes, counting those in their idle grace) */
  maxStreams: number;
  /** ffmpeg keeps running this long after the last viewer left */
  idleGraceMs: number;
  /** no video for this long, at start or later, ends the process (unreachable at start, restarted later) */
  noVideoTimeoutMs: number;
  restartBaseMs: number;
  restartMaxMs: number;
  /** consecutive restarts without video before the viewers are told the camera is unreachable */
  restartMaxAttempts: number;
  fps: number;
  videoKbps: number;
}

export interface StreamCamera {
  id: string;
  rtspUrl: string;
}

/** A viewer falling this far behind skips chunks (JSMpeg resyncs on the next packets) rather than growing memory. */
const MAX_BUFFERED_BYTES = 2 * 1024 * 1024;
/** ffmpeg's stderr lines logged per camera per window; the rest are counted. */
const LOG_LINES_PER_WINDOW = 20;
const LOG_WINDOW_MS = 60_000;
/** SIGKILL when SIGTERM has not ended ffmpeg after this long. */
const KILL_AFTER_MS = 3000;
/** Pings detect viewers whose connection died without a close. */
const PING_INTERVAL_MS = 30_000;
/** stderr lines kept to explain a failure */
const TAIL_LINES = 6;

interface Proc {
  muxer: Muxer;
  pid: number | null;
  gotData: boolean;
  /** killed by the relay to stop it; its exit is expected */
  stopping: boolean;
  /** killed by the watchdog for sending no video */
  silent: boolean;
  ended: boolean;
  watchdog: NodeJS.Timeout | null;
  killTimer: NodeJS.Timeout | null;
  exited: Promise<void>;
  markExited: () => void;
}

interface ViewerState {
  headerSent: boolean;
  alive: boolean;
}

interface Relay {
  camera: StreamCamera;
  viewers: Map<WebSocket, ViewerState>;
  proc: Proc | null;
  size: VideoSize | null;
  /** some process of this relay has delivered video */
  everStreamed: boolean;
  /** consecutive processes that ended before any video */
  failures: number;
  closed: boolean;
  graceTimer: NodeJS.Timeout | null;
  restartTimer: NodeJS.Timeout | null;
  stderrPartial: string;
  stderrTail: string[];
  logWindowStart: number;
  logged: number;
  suppressed: number;
}

export interface StreamStatus {
  streaming: boolean;
  viewers: number;
  pid: number | null;
}

export class CameraStreams {
  private readonly relays = new Map<string, Relay>();
  private readonly exits = new Set<Promise<void>>();
  private readonly pinger: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly opts: RelayOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly spawnMuxer: SpawnMuxer = spawnMpeg1Muxer,
    private readonly checkFfmpeg: (path: string) => Promise<string | null> = ffmpegProblem,
  ) {
    this.pinger = setInterval(() => this.ping(), PING_INTERVAL_MS);
    this.pinger.unref();
  }

  /** Adds a viewer to the camera's relay, starting ffmpeg when it is the first. Problems go to the viewer, not the caller. */
  watch(camera: StreamCamera, ws: WebSocket): void {
    if (this.closing) return this.refuse(ws, 'SHUTTING_DOWN', 'the engine is stopping');
    let relay = this.relays.get(camera.id);
    if (!relay) {
      if (this.relays.size >= this.opts.maxStreams) this.evictIdle();
      if (this.relays.size >= this.opts.maxStreams) {
        return this.refuse(ws, 'STREAM_LIMIT', `all ${this.opts.maxStreams} camera streams are in use (PANTAU_CAMERA_MAX_STREAMS); try again when another camera's viewers leave`);
      }
      relay = this.newRelay(camera);
      void this.start(relay);
    }
    if (relay.graceTimer) {
      clearTimeout(relay.graceTimer);
      relay.graceTimer = null;
    }
    const state: ViewerState = { headerSent: false, alive: true };
    const theRelay = relay;
    relay.viewers.set(ws, state);
    ws.on('close', () => this.leave(theRelay, ws));
    ws.on('pong', () => (state.alive = true));
    // a protocol error closes the socket, and 'close' follows; without a listener it would be thrown
    ws.on('error', () => undefined);
    if (relay.size) this.sendHeader(ws, state, relay.size);
    this.gauges();
  }

  /** Closes the viewers of a deleted camera and stops its process. */
  closeCamera(id: string): void {
    const relay = this.relays.get(id);
    if (relay) this.fail(relay, 'CAMERA_REMOVED', `camera ${id} was removed`);
  }

  status(id: string): StreamStatus {
    const relay = this.relays.get(id);
    return { streaming: relay?.proc?.gotData === true, viewers: relay?.viewers.size ?? 0, pid: relay?.proc?.pid ?? null };
  }

  /** Closes every viewer and stops every ffmpeg, waiting (bounded by the SIGKILL fallback) for them to exit. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.pinger);
    for (const relay of [...this.relays.values()]) {
      for (const ws of relay.viewers.keys()) closeWith(ws, 'SHUTTING_DOWN');
      relay.viewers.clear();
      this.stop(relay);
    }
    await Promise.all([...this.exits]);
  }

  private newRelay(camera: StreamCamera): Relay {
    const relay: Relay = {
      camera: { id: camera.id, rtspUrl: camera.rtspUrl }, viewers: new Map(), proc: null, size: null, everStreamed: false, failures: 0, closed: false,
      graceTimer: null, restartTimer: null, stderrPartial: '', stderrTail: [], logWindowStart: Date.now(), logged: 0, suppressed: 0,
    };
    this.relays.set(camera.id, relay);
    return relay;
  }

  private async start(relay: Relay): Promise<void> {
    const problem = await this.checkFfmpeg(this.opts.ffmpegPath);
    if (relay.closed) return;
    if (problem) return this.fail(relay, 'FFMPEG_MISSING', problem);
    this.spawn(relay);
  }

  private spawn(relay: Relay): void {
    const id = relay.camera.id;
    let muxer: Muxer;
    try {
      muxer = this.spawnMuxer({ url: relay.camera.rtspUrl, ffmpegPath: this.opts.ffmpegPath, fps: this.opts.fps, videoKbps: this.opts.videoKbps });
    } catch (err) {
      return this.fail(relay, 'CAMERA_UNREACHABLE', `ffmpeg could not be started for camera ${id}: ${redactUrlPasswords((err as Error).message)}`);
    }
    let markExited = () => undefined as void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const proc: Proc = { muxer, pid: muxer.stream.pid ?? null, gotData: false, stopping: false, silent: false, ended: false, watchdog: null, killTimer: null, exited, markExited };
    this.exits.add(exited);
    void exited.then(() => this.exits.delete(exited));
    relay.proc = proc;
    relay.stderrTail = [];
    relay.stderrPartial = '';
    const child = muxer.stream;
    child.on('error', (err: NodeJS.ErrnoException) => {
      // 'error' also reports a failed kill of a running process; only a process that never started has ended
      if (proc.pid === null) this.ended(relay, proc, err, null, null);
      else this.log.warn({ camera: id, pid: proc.pid, err: err.message }, 'ffmpeg process error');
    });
    child.on('exit', (code: number | null, signal: NodeJS.Signals | null) => this.ended(relay, proc, null, code, signal));
    muxer.on('mpeg1data', (chunk: Buffer) => this.data(relay, proc, chunk));
    muxer.on('ffmpegStderr', (chunk: Buffer) => this.stderr(relay, proc, chunk));
    proc.watchdog = setTimeout(() => {
      if (proc.ended || proc.stopping) return;
      proc.silent = true;
      this.kill(proc);
    }, this.opts.noVideoTimeoutMs);
    this.log.info({ camera: id, pid: proc.pid, viewers: relay.viewers.size }, 'camera stream starting');
    this.gauges();
  }

  private data(relay: Relay, proc: Proc, chunk: Buffer): void {
    if (relay.proc !== proc || proc.stopping) return;
    proc.watchdog?.refresh();
    if (!proc.gotData) {
      proc.gotData = true;
      if (relay.failures > 0 || relay.everStreamed) this.log.info({ camera: relay.camera.id, pid: proc.pid }, 'camera stream resumed');
      relay.failures = 0;
      relay.everStreamed = true;
    }
    if (!relay.size) this.learnSize(relay, sequenceHeaderSize(chunk));
    // Nothing goes out before the header: the chunks before the first sequence header hold no picture anyway.
    if (!relay.size) return;
    for (const [ws, state] of relay.viewers) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (!state.headerSent) this.sendHeader(ws, state, relay.size);
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.metrics.cameraChunksSkipped.inc();
        continue;
      }
      ws.send(chunk, { binary: true });
    }
  }

  private learnSize(relay: Relay, size: VideoSize | null): void {
    if (!size || relay.size) return;
    relay.size = size;
    for (const [ws, state] of relay.viewers) this.sendHeader(ws, state, size);
  }

  private sendHeader(ws: WebSocket, state: ViewerState, size: VideoSize): void {
    if (state.headerSent || ws.readyState !== WebSocket.OPEN) return;
    state.headerSent = true;
    ws.send(jsmpegHeader(size.width, size.height), { binary: true });
  }

  /** ffmpeg's stderr to the engine log at debug level, rate-limited per camera; never to the process's stderr. */
  private stderr(relay: Relay, proc: Proc, chunk: Buffer): void {
    if (relay.proc !== proc) return;
    const lines = (relay.stderrPartial + chunk.toString('utf8')).split(/\r\n|\r|\n/);
    relay.stderrPartial = lines.pop() ?? '';
    if (relay.stderrPartial.length > 4096) {
      lines.push(relay.stderrPartial.slice(0, 4096));
      relay.stderrPartial = '';
    }
    for (const raw of lines) this.stderrLine(relay, proc, raw);
  }

  private stderrLine(relay: Relay, proc: Proc, raw: string): void {
    const line = redactUrlPasswords(raw.trim());
    if (!line) return;
    relay.stderrTail.push(line);
    if (relay.stderrTail.length > TAIL_LINES) relay.stderrTail.shift();
    if (!relay.size) this.learnSize(relay, stderrVideoSize(line));
    const now = Date.now();
    if (now - relay.logWindowStart >= LOG_WINDOW_MS) {
      if (relay.suppressed > 0) this.log.debug({ camera: relay.camera.id, suppressed: relay.suppressed }, 'ffmpeg stderr lines not logged (rate limit)');
      relay.logWindowStart = now;
      relay.logged = 0;
      relay.suppressed = 0;
    }
    if (relay.logged < LOG_LINES_PER_WINDOW) {
      relay.logged++;
      this.log.debug({ camera: relay.camera.id, pid: proc.pid, line }, 'ffmpeg');
    } else {
      relay.suppressed++;
    }
  }

  private ended(relay: Relay, proc: Proc, err: NodeJS.ErrnoException | null, code: number | null, signal: NodeJS.Signals | null): void {
    if (proc.ended) return;
    proc.ended = true;
    if (proc.watchdog) clearTimeout(proc.watchdog);
    if (proc.killTimer) clearTimeout(proc.killTimer);
    proc.markExited();
    if (relay.proc !== proc) return;
    relay.proc = null;
    this.gauges();
    if (proc.stopping || relay.closed) return;
    if (relay.stderrPartial.trim()) this.stderrLine(relay, proc, relay.stderrPartial);
    relay.stderrPartial = '';
    const id = relay.camera.id;
    if (relay.viewers.size === 0) return this.stop(relay);
    if (err?.code === 'ENOENT' || err?.code === 'EACCES') {
      return this.fail(relay, 'FFMPEG_MISSING', `ffmpeg could not be run from ${this.opts.ffmpegPath} (${err.code}): install Debian's ffmpeg package (apt-get install -y ffmpeg) or set FFMPEG_PATH`);
    }
    const why = proc.silent
      ? `no video for ${this.opts.noVideoTimeoutMs} ms`
      : err
        ? err.message
        : (lastError(relay.stderrTail) ?? `ffmpeg exited with ${signal ? `signal ${signal}` : `code ${code}`}`);
    if (!proc.gotData) {
      relay.failures++;
      // At the first start the viewer is told at once; a camera that has streamed gets its restarts first.
      if (!relay.everStreamed || relay.failures >= this.opts.restartMaxAttempts) {
        const after = relay.everStreamed ? ` (after ${relay.failures} restarts)` : '';
        return this.fail(relay, 'CAMERA_UNREACHABLE', `camera ${id} could not be reached${after}: ${why}`);
      }
    }
    const delayMs = Math.min(this.opts.restartMaxMs, this.opts.restartBaseMs * 2 ** relay.failures);
    this.metrics.cameraRestarts.inc();
    this.log.warn({ camera: id, pid: proc.pid, code, signal, reason: why, attempt: relay.failures + 1, restart_in_ms: delayMs }, 'camera stream ended unexpectedly; restarting');
    relay.restartTimer = setTimeout(() => {
      relay.restartTimer = null;
      if (!relay.closed && relay.viewers.size > 0 && relay.proc === null) this.spawn(relay);
    }, delayMs);
  }

  private leave(relay: Relay, ws: WebSocket): void {
    if (!relay.viewers.delete(ws)) return;
    this.gauges();
    if (relay.viewers.size > 0 || relay.closed) return;
    relay.graceTimer = setTimeout(() => this.stop(relay), this.opts.idleGraceMs);
  }

  /** Ends the relay: timers, the process (SIGTERM, then SIGKILL), its slot. Viewers must have been dealt with. */
  private stop(relay: Relay): void {
    if (relay.closed) return;
    relay.closed = true;
    if (relay.graceTimer) clearTimeout(relay.graceTimer);
    if (relay.restartTimer) clearTimeout(relay.restartTimer);
    if (this.relays.get(relay.camera.id) === relay) this.relays.delete(relay.camera.id);
    const proc = relay.proc;
    if (proc) {
      proc.stopping = true;
      this.kill(proc);
    }
    this.log.info({ camera: relay.camera.id, pid: proc?.pid ?? null }, 'camera stream stopped');
    this.gauges();
  }

  private kill(proc: Proc): void {
    if (proc.ended) return;
    try {
      proc.muxer.stream.kill('SIGTERM');
    } catch {
      // already gone
    }
    proc.killTimer ??= setTimeout(() => {
      try {
        if (!proc.ended) proc.muxer.stream.kill('SIGKILL');
      } catch {
        // already gone
      }
    }, KILL_AFTER_MS);
  }

  private fail(relay: Relay, code: StreamErrorCode, message: string): void {
    this.metrics.cameraStreamErrors.inc({ code });
    this.log.warn({ camera: relay.camera.id, code, message, viewers: relay.viewers.size }, 'camera stream failed');
    for (const ws of relay.viewers.keys()) closeWith(ws, code, message);
    relay.viewers.clear();
    this.stop(relay);
  }

  private refuse(ws: WebSocket, code: StreamErrorCode, message: string): void {
    this.metrics.cameraStreamErrors.inc({ code });
    this.log.info({ code, message }, 'camera viewer refused');
    closeWith(ws, code, message);
  }

  /** A relay in its idle grace (nobody watching) gives its slot to a camera somebody wants to watch. */
  private evictIdle(): void {
    for (const relay of this.relays.values()) {
      if (relay.viewers.size === 0) return this.stop(relay);
    }
  }

  private ping(): void {
    for (const relay of this.relays.values()) {
      for (const [ws, state] of relay.viewers) {
        if (!state.alive) {
          ws.terminate();
          continue;
        }
        state.alive = false;
        ws.ping();
      }
    }
  }

  private gauges(): void {
    this.metrics.cameraStreams.set(this.relays.size);
    let viewers = 0;
    for (const relay of this.relays.values()) viewers += relay.viewers.size;
    this.metrics.cameraViewers.set(viewers);
  }
}

/** The error frame (JSON text) and the close; with no message, only the close. */
export function closeWith(ws: WebSocket, code: StreamErrorCode, message?: string): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  if (message !== undefined) ws.send(JSON.stringify({ error: code, message }));
  ws.close(STREAM_ERRORS[code], code);
}

/** The last stderr line that reads like ffmpeg's reason for giving up (it prints it last). */
function lastError(tail: readonly string[]): string | null {
  for (let i = tail.length - 1; i >= 0; i--) {
    const line = tail[i]!;
    if (!/^(frame=|video:|Press \[q\]|Stream mapping|Exiting normally)/.test(line)) return line.length > 300 ? line.slice(0, 300) + '...' : line;
  }
  return null;
}
