// The camera relay's lifecycle without ffmpeg: a fake muxer stands in for node-rtsp-stream's Mpeg1Muxer, viewers are
// real WebSockets on loopback. (test/e2e/cctv.test.ts runs the same against a real RTSP server and ffmpeg.)
import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { CameraStreams, type RelayOptions } from '../cctv/relay.ts';
import { ffmpegProblem, spawnMpeg1Muxer, type MuxerOptions } from '../cctv/ffmpeg.ts';
import { jsmpegHeader, redactUrlPasswords, sequenceHeaderSize, stderrVideoSize } from '../cctv/mpeg.ts';
import { createMetrics } from '../engine/metrics.ts';
import { createLogger } from '../engine/log.ts';
import { loadConfig } from '../engine/config.ts';

class FakeProcess extends EventEmitter {
  static nextPid = 900_000;
  readonly pid = FakeProcess.nextPid++;
  readonly signals: string[] = [];
  alive = true;
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(signal);
    if (this.alive) {
      this.alive = false;
      setImmediate(() => this.emit('exit', null, signal));
    }
    return true;
  }
  exit(code: number): void {
    this.alive = false;
    this.emit('exit', code, null);
  }
}

class FakeMuxer extends EventEmitter {
  readonly stream = new FakeProcess();
  readonly spawnedAt = Date.now();
  constructor(readonly opts: MuxerOptions) {
    super();
  }
  video(chunk: Buffer): void {
    this.emit('mpeg1data', chunk);
  }
  stderr(text: string): void {
    this.emit('ffmpegStderr', Buffer.from(text));
  }
}

/** `packets` MPEG-TS packets (0x47 every 188 bytes); with a size, the first carries an MPEG-1 sequence header. */
function tsChunk(packets: number, size?: { width: number; height: number }, fill = 0): Buffer {
  const b = Buffer.alloc(188 * packets, fill);
  for (let i = 0; i < packets; i++) b[i * 188] = 0x47;
  if (size) {
    b.set([0x00, 0x00, 0x01, 0xb3, size.width >> 4, ((size.width & 0x0f) << 4) | (size.height >> 8), size.height & 0xff], 20);
  }
  return b;
}

interface Viewer {
  server: WebSocket;
  client: WebSocket;
  messages: Array<{ binary: boolean; data: Buffer }>;
  closed: Promise<{ code: number; reason: string }>;
}

let wss: WebSocketServer;
let port = 0;
beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  port = (wss.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise((r) => wss.close(r));
});

async function viewer(): Promise<Viewer> {
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const messages: Viewer['messages'] = [];
  client.on('message', (data: Buffer, binary) => messages.push({ binary, data }));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => client.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await once(client, 'open');
  return { server: await serverSide, client, messages, closed };
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const BASE: RelayOptions = {
  ffmpegPath: '/usr/bin/ffmpeg', maxStreams: 2, idleGraceMs: 50, noVideoTimeoutMs: 2000, restartBaseMs: 20, restartMaxMs: 80, restartMaxAttempts: 3, fps: 25, videoKbps: 800,
};
const CAM = { id: 'cam-a', rtspUrl: 'rtsp://admin:hunter2@10.0.0.9:554/stream1' };

const running: CameraStreams[] = [];
function setup(overrides: Partial<RelayOptions> = {}, spawn?: (o: MuxerOptions) => FakeMuxer) {
  const muxers: FakeMuxer[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const metrics = createMetrics();
  const streams = new CameraStreams(
    { ...BASE, ...overrides },
    createLogger('debug', (line) => logs.push(JSON.parse(line))),
    metrics,
    spawn ??
      ((o) => {
        const m = new FakeMuxer(o);
        muxers.push(m);
        return m;
      }),
    async () => null,
  );
  running.push(streams);
  return { streams, muxers, logs, metrics };
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
  vi.restoreAllMocks();
});

const errorFrame = (v: Viewer) => {
  const text = v.messages.find((m) => !m.binary);
  return text ? (JSON.parse(text.data.toString()) as { error: string; message: string }) : null;
};

describe('relay: one ffmpeg per camera, fanned out', () => {
  it('sends the JSMpeg header first, then the MPEG-TS, to every viewer of one ffmpeg', async () => {
    const { streams, muxers, metrics } = setup();
    const v1 = await viewer();
    streams.watch(CAM, v1.server);
    await waitFor('spawn', () => muxers.length === 1);
    const m = muxers[0]!;
    expect(m.opts).toEqual({ url: CAM.rtspUrl, ffmpegPath: '/usr/bin/ffmpeg', fps: 25, videoKbps: 800 });
    m.stderr("Input #0, rtsp, from 'rtsp://admin:hunter2@10.0.0.9:554/stream1':\n    Stream #0:0: Video: h264 (Main), yuv420p(progressive), 320x240 [SAR 1:1 DAR 4:3], 15 fps\n");
    const first = tsChunk(3, { width: 320, height: 240 });
    m.video(first);
    const v2 = await viewer();
    streams.watch(CAM, v2.server);
    const second = tsChunk(2, undefined, 7);
    m.video(second);
    await waitFor('messages', () => v1.messages.length === 3 && v2.messages.length === 2);
    expect(v1.messages.map((x) => x.data)).toEqual([jsmpegHeader(320, 240), first, second]);
    expect(v2.messages.map((x) => x.data)).toEqual([jsmpegHeader(320, 240), second]);
    expect(v1.messages.every((x) => x.binary)).toBe(true);
    expect(muxers).toHaveLength(1);
    expect(streams.status('cam-a')).toEqual({ streaming: true, viewers: 2, pid: m.stream.pid });
    expect(await metrics.registry.getSingleMetricAsString('pantau_camera_viewers')).toMatch(/pantau_camera_viewers 2/);
  });

  it('reads the picture size from the MPEG-1 sequence header when stderr has not told it, and sends nothing before', async () => {
    const { streams, muxers } = setup();
    const v = await viewer();
    streams.watch(CAM, v.server);
    await waitFor('spawn', () => muxers.length === 1);
    muxers[0]!.video(tsChunk(2)); // PAT/PMT: no picture yet
    const withHeader = tsChunk(4, { width: 640, height: 360 });
    muxers[0]!.video(withHeader);
    await waitFor('messages', () => v.messages.length === 2);
    expect(v.messages[0]!.data).toEqual(Buffer.from([0x6a, 0x73, 0x6d, 0x70, 0x02, 0x80, 0x01, 0x68]));
    expect(v.messages[1]!.data).toEqual(withHeader);
  });

  it('stops ffmpeg when the last viewer has been gone for the grace period, and keeps it for a viewer back in time', async () => {
    const { streams, muxers, metrics } = setup({ idleGraceMs: 200 });
    const v1 = await viewer();
    streams.watch(CAM, v1.server);
    await waitFor('spawn', () => muxers.length === 1);
    const m = muxers[0]!;
    m.video(tsChunk(1, { width: 320, height: 240 }));
    v1.client.close();
    await waitFor('viewer gone', () => streams.status('cam-a').viewers === 0);
    await new Promise((r) => setTimeout(r, 50));
    const v2 = await viewer();
    streams.watch(CAM, v2.server);
    await new Promise((r) => setTimeout(r, 250));
    expect(m.stream.signals).toEqual([]);
    expect(muxers).toHaveLength(1);
    // a returning viewer gets the header at once, before the next chunk
    await waitFor('header', () => v2.messages.length === 1);
    expect(v2.messages[0]!.data).toEqual(jsmpegHeader(320, 240));
    const leftAt = Date.now();
    v2.client.close();
    await waitFor('stopped', () => m.stream.signals.length > 0);
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(190);
    expect(m.stream.signals).toEqual(['SIGTERM']);
    await waitFor('slot freed', () => streams.status('cam-a').pid === null);
    expect(await metrics.registry.getSingleMetricAsString('pantau_camera_streams')).toMatch(/pantau_camera_streams 0/);
  });
});

describe('relay: failures', () => {
  it('restarts ffmpeg with exponential backoff while viewers remain, then tells them CAMERA_UNREACHABLE', async () => {
    const { streams, muxers, metrics, logs } = setup({ restartBaseMs: 40, restartMaxMs: 200, restartMaxAttempts: 3 });
    const v = await viewer();
    streams.watch(CAM, v.server);
    await waitFor('spawn', () => muxers.length === 1);
    muxers[0]!.video(tsChunk(1, { width: 320, height: 240 }));
    muxers[0]!.stream.exit(0); // the camera ended its session after streaming
    await waitFor('restart 1', () => muxers.length === 2);
    muxers[1]!.stderr('[tcp @ 0x55] Connection to tcp://10.0.0.9:554?timeout=0 failed: Connection refused\nrtsp://admin:hunter2@10.0.0.9:554/stream1: Connection refused\n');
    muxers[1]!.stream.exit(1);
    await waitFor('restart 2', () => muxers.length === 3);
    muxers[2]!.stream.exit(1);
    await waitFor('restart 3', () => muxers.length === 4);
    muxers[3]!.stream.exit(1);
    const closed = await v.closed;
    expect(closed).toEqual({ code: 1011, reason: 'CAMERA_UNREACHABLE' });
    const err = errorFrame(v)!;
    expect(err.error).toBe('CAMERA_UNREACHABLE');
    expect(err.message).toMatch(/cam-a could not be reached \(after 3 restarts\)/);
    const gaps = muxers.slice(1).map((m, i) => m.spawnedAt - muxers[i]!.spawnedAt);
    // base, then doubling per consecutive failure: 40, 80, 160 ms (timers fire no earlier)
    expect(gaps[0]).toBeGreaterThanOrEqual(38);
    expect(gaps[1]).toBeGreaterThanOrEqual(78);
    expect(gaps[2]).toBeGreaterThanOrEqual(158);
    // the header went out once; a restart does not repeat it
    expect(v.messages.filter((m) => m.binary && m.data.subarray(0, 4).toString() === 'jsmp')).toHaveLength(1);
    expect(await metrics.registry.getSingleMetricAsString('pantau_camera_ffmpeg_restarts_total')).toMatch(/ 3$/m);
    expect(JSON.stringify(logs)).not.toContain('hunter2');
    expect(streams.status('cam-a')).toEqual({ streaming: false, viewers: 0, pid: null });
  });

  it('tells the viewer at once when the first start gives no video, with ffmpeg\'s reason and no password, and does not retry', async () => {
    const { streams, muxers, logs } = setup();
    const v = await viewer();
    streams.watch(CAM, v.server);
    await waitFor('spawn', () => muxers.length === 1);
    muxers[0]!.stderr('rtsp://admin:hunter2@10.0.0.9:554/stream1: Connection refused');
    muxers[0]!.stream.exit(1);
    expect(await v.closed).toEqual({ code: 1011, reason: 'CAMERA_UNREACHABLE' });
    expect(errorFrame(v)).toEqual({ error: 'CAMERA_UNREACHABLE', message: 'camera cam-a could not be reached: rtsp://admin:***@10.0.0.9:554/stream1: Connection refused' });
    expect(v.messages).toHaveLength(1); // the error frame is the only message
    await new Promise((r) => setTimeout(r, 100));
    expect(muxers).toHaveLength(1);
    expect(JSON.stringify(logs)).not.toContain('hunter2');
  });

  it('ends a start that sends no video within the timeout', async () => {
    const { streams, muxers } = setup({ noVideoTimeoutMs: 150 });
    const v = await viewer();
    streams.watch(CAM, v.server);
    await waitFor('spawn', () => muxers.length === 1);
    expect(await v.closed).toEqual({ code: 1011, reason: 'CAMERA_UNREACHABLE' });
    expect(errorFrame(v)!.message).toBe('camera cam-a could not be reached: no video for 150 ms');
    expect(muxers[0]!.stream.signals).toEqual(['SIGTERM']);
  });

  it('refuses a viewer of one camera too many with STREAM_LIMIT, and gives an idle slot to a new camera', async () => {
    const { streams, muxers } = setup({ maxStreams: 2, idleGraceMs: 60_000 });
    const a = await viewer();
    streams.watch({ id: 'a', rtspUrl: 'rtsp://h/a' }, a.server);
    const b = await viewer();
    streams.watch({ id: 'b', rtspUrl: 'rtsp://h/b' }, b.server);
    const c = await viewer();
    streams.watch({ id: 'c', rtspUrl: 'rtsp://h/c' }, c.server);
    expect(await c.closed).toEqual({ code: 1013, reason: 'STREAM_LIMIT' });
    expect(errorFrame(c)!.message).toMatch(/all 2 camera streams are in use \(PANTAU_CAMERA_MAX_STREAMS\)/);
    // a second viewer of a camera already relayed is not a new stream
    const a2 = await viewer();
    streams.watch({ id: 'a', rtspUrl: 'rtsp://h/a' }, a2.server);
    await waitFor('spawns', () => muxers.length === 2);
    expect(streams.status('a').viewers).toBe(2);
    b.client.close();
    await waitFor('b idle', () => streams.status('b').viewers === 0);
    const c2 = await viewer();
    streams.watch({ id: 'c', rtspUrl: 'rtsp://h/c' }, c2.server);
    await waitFor('c started', () => muxers.length === 3);
    expect(muxers[1]!.opts.url).toBe('rtsp://h/b');
    expect(muxers[1]!.stream.signals).toEqual(['SIGTERM']);
    expect(muxers[2]!.opts.url).toBe('rtsp://h/c');
  });

  it('closes the viewers of a removed camera, and every viewer and ffmpeg on close', async () => {
    const { streams, muxers } = setup();
    const v = await viewer();
    streams.watch(CAM, v.server);
    const w = await viewer();
    streams.watch({ id: 'cam-b', rtspUrl: 'rtsp://h/b' }, w.server);
    await waitFor('spawns', () => muxers.length === 2);
    streams.closeCamera('cam-a');
    expect(await v.closed).toEqual({ code: 1001, reason: 'CAMERA_REMOVED' });
    expect(muxers[0]!.stream.signals).toEqual(['SIGTERM']);
    await streams.close();
    expect(await w.closed).toEqual({ code: 1001, reason: 'SHUTTING_DOWN' });
    expect(muxers[1]!.stream.alive).toBe(false);
    const late = await viewer();
    streams.watch(CAM, late.server);
    expect((await late.closed).reason).toBe('SHUTTING_DOWN');
  });
});

describe('relay: ffmpeg itself', () => {
  it('says which Debian package to install when ffmpeg is missing', async () => {
    expect(await ffmpegProblem('/nonexistent/ffmpeg')).toBe("ffmpeg was not found at /nonexistent/ffmpeg: install Debian's ffmpeg package (apt-get install -y ffmpeg) or set FFMPEG_PATH");
    expect(await ffmpegProblem('ffmpeg', '/nonexistent-a:/nonexistent-b')).toMatch(/apt-get install -y ffmpeg/);
    expect(await ffmpegProblem(process.execPath)).toBeNull();
    const streams = new CameraStreams({ ...BASE, ffmpegPath: '/nonexistent/ffmpeg' }, createLogger('silent'), createMetrics());
    running.push(streams);
    const v = await viewer();
    streams.watch(CAM, v.server);
    expect(await v.closed).toEqual({ code: 1011, reason: 'FFMPEG_MISSING' });
    expect(errorFrame(v)!.message).toMatch(/install Debian's ffmpeg package \(apt-get install -y ffmpeg\)/);
  });

  it('survives a spawn of a binary that is not there (ENOENT from node-rtsp-stream\'s muxer)', async () => {
    const streams = new CameraStreams({ ...BASE, ffmpegPath: '/nonexistent/ffmpeg' }, createLogger('silent'), createMetrics(), spawnMpeg1Muxer, async () => null);
    running.push(streams);
    const v = await viewer();
    streams.watch(CAM, v.server);
    expect(await v.closed).toEqual({ code: 1011, reason: 'FFMPEG_MISSING' });
    expect(errorFrame(v)!.message).toMatch(/ENOENT.*apt-get install -y ffmpeg/);
  });

  it('keeps Mpeg1Muxer quiet: an exit with code 1 prints nothing on the process stderr', async () => {
    const stderr = vi.spyOn(process.stderr, 'write');
    const consoleError = vi.spyOn(console, 'error');
    const logs: Array<Record<string, unknown>> = [];
    // /bin/false stands in for an ffmpeg that fails at once (exit code 1, mpeg1muxer.js's console.error case)
    const streams = new CameraStreams({ ...BASE, ffmpegPath: '/bin/false' }, createLogger('debug', (l) => logs.push(JSON.parse(l))), createMetrics(), spawnMpeg1Muxer, async () => null);
    running.push(streams);
    const v = await viewer();
    streams.watch(CAM, v.server);
    expect(await v.closed).toEqual({ code: 1011, reason: 'CAMERA_UNREACHABLE' });
    expect(errorFrame(v)!.message).toBe('camera cam-a could not be reached: ffmpeg exited with code 1');
    expect(consoleError).not.toHaveBeenCalled();
    expect(stderr.mock.calls.filter(([chunk]) => /RTSP stream|ffmpeg/.test(String(chunk)))).toEqual([]);
    expect(logs.some((l) => l.msg === 'camera stream failed' && l.code === 'CAMERA_UNREACHABLE')).toBe(true);
  });

  it('logs ffmpeg\'s stderr at debug level, a limited number of lines per camera', async () => {
    const { streams, muxers, logs } = setup();
    const v = await viewer();
    streams.watch(CAM, v.server);
    await waitFor('spawn', () => muxers.length === 1);
    for (let i = 0; i < 100; i++) muxers[0]!.stderr(`[rtsp @ 0x1] line ${i} from rtsp://admin:hunter2@10.0.0.9/x\r`);
    const lines = logs.filter((l) => l.msg === 'ffmpeg');
    expect(lines).toHaveLength(20);
    expect(lines.every((l) => l.level === 'debug' && l.camera === 'cam-a')).toBe(true);
    expect(lines[0]!.line).toBe('[rtsp @ 0x1] line 0 from rtsp://admin:***@10.0.0.9/x');
    expect(JSON.stringify(logs)).not.toContain('hunter2');
  });
});

describe('MPEG helpers', () => {
  it('parse sizes from ffmpeg lines and sequence headers, and redact URL passwords', () => {
    expect(stderrVideoSize('  Stream #0:0: Video: h264 (High) (avc1 / 0x31637661), yuv420p, 1920x1080 [SAR 1:1 DAR 16:9], 25 fps')).toEqual({ width: 1920, height: 1080 });
    expect(stderrVideoSize('  Stream #0:1: Audio: aac, 48000 Hz, stereo')).toBeNull();
    expect(sequenceHeaderSize(tsChunk(2, { width: 704, height: 576 }))).toEqual({ width: 704, height: 576 });
    expect(sequenceHeaderSize(tsChunk(2))).toBeNull();
    expect(redactUrlPasswords("from 'rtsp://admin:p@ss:w0rd@10.1.2.3:554/Streaming/Channels/101'")).toBe("from 'rtsp://admin:***@10.1.2.3:554/Streaming/Channels/101'");
    expect(redactUrlPasswords('rtsp://10.1.2.3/live and rtsp://viewer@cam/x')).toBe('rtsp://10.1.2.3/live and rtsp://viewer@cam/x');
  });
});

describe('CCTV config', () => {
  it('has defaults, takes FFMPEG_PATH and its flag, and names the variable of a wrong value', () => {
    const c = loadConfig({});
    expect([c.ffmpegPath, c.cameraFps, c.cameraMaxStreams, c.cameraIdleGraceMs, c.cameraAttachCount, c.cameraAttachRadiusM]).toEqual(['/usr/bin/ffmpeg', 25, 8, 15_000, 3, 1000]);
    expect(loadConfig({ FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg' }).ffmpegPath).toBe('/opt/ffmpeg/bin/ffmpeg');
    expect(loadConfig({}, ['--ffmpeg-path', '/usr/local/bin/ffmpeg', '--camera-fps=30']).cameraFps).toBe(30);
    expect(() => loadConfig({ PANTAU_CAMERA_FPS: '15' })).toThrow(/^PANTAU_CAMERA_FPS: expected one of 24, 25, 30, 50, 60/);
    expect(() => loadConfig({ PANTAU_CAMERA_MAX_STREAMS: '0' })).toThrow(/^PANTAU_CAMERA_MAX_STREAMS:/);
  });
});
