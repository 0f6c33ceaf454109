// CCTV end to end: a real RTSP server on loopback (GStreamer's test pattern as H.264, test/e2e/rtsp-server.py), the
// engine's relay running real ffmpeg through node-rtsp-stream's Mpeg1Muxer, and a WebSocket viewer.
// Needs Debian's packages (README, Development): a missing one FAILS these tests with the package to install.
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import type { Engine } from '../../engine/engine.ts';
import { loadConfig } from '../../engine/config.ts';
import { ffmpegProblem } from '../../cctv/ffmpeg.ts';
import { sequenceHeaderSize } from '../../cctv/mpeg.ts';
import { auth, startTestEngine } from '../helpers/engine.ts';
import { startRtspServer, type RtspServer } from '../helpers/rtsp.ts';

const GRACE_MS = 1500;

let engine: Engine;
let rtsp: RtspServer | null = null;
let rtspPort = 0;
/** A missing tool, kept so that every test FAILS with it (a throwing beforeAll would only mark them skipped). */
let missingTool: Error | null = null;
const needTools = () => {
  if (missingTool) throw missingTool;
};

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Watch {
  ws: WebSocket;
  messages: Array<{ binary: boolean; data: Buffer }>;
  bytes: () => number;
  closed: Promise<{ code: number; reason: string }>;
}
function watch(cameraId: string): Watch {
  const ws = new WebSocket(`ws://127.0.0.1:${engine.ports.http}/api/v1/cameras/${cameraId}/stream?access_token=${encodeURIComponent(auth.authorization.slice(7))}`);
  const messages: Watch['messages'] = [];
  ws.on('message', (data: Buffer, binary) => messages.push({ binary, data }));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return { ws, messages, bytes: () => messages.reduce((n, m) => n + m.data.length, 0), closed };
}

beforeAll(async () => {
  const ffmpegPath = loadConfig(process.env).ffmpegPath;
  const problem = await ffmpegProblem(ffmpegPath);
  if (problem) return void (missingTool = new Error(problem));
  try {
    rtsp = await startRtspServer();
    rtspPort = rtsp.port;
  } catch (err) {
    return void (missingTool = err as Error);
  }
  engine = await startTestEngine({ ffmpegPath, cameraIdleGraceMs: GRACE_MS, cameraRestartBaseMs: 300, cameraNoVideoTimeoutMs: 15_000 });
  const dead = await closedPort();
  for (const [id, url] of [
    ['cam-pattern', `rtsp://viewer:Rahasia1@127.0.0.1:${rtspPort}/test`],
    ['cam-dead', `rtsp://127.0.0.1:${dead}/nothing`],
  ]) {
    const res = await engine.app.inject({ method: 'POST', url: '/api/v1/cameras', headers: auth, payload: { id, name: id, lat: -6.2, lon: 106.8, rtsp_url: url } });
    expect(res.statusCode, res.body).toBe(201);
  }
});
afterAll(async () => {
  await engine?.close();
  rtsp?.stop();
});

describe('CCTV relay against a real RTSP server', () => {
  it('delivers the JSMpeg header then MPEG-TS, one ffmpeg for two viewers, gone after the last leaves and the grace passes', async () => {
    needTools();
    const stderr = vi.spyOn(process.stderr, 'write');
    const consoleError = vi.spyOn(console, 'error');
    const a = watch('cam-pattern');
    await waitFor('200 kB of video', () => a.bytes() > 200_000, 30_000);

    const [header, ...rest] = a.messages;
    expect(header!.binary).toBe(true);
    expect(header!.data.length).toBe(8);
    expect(header!.data.subarray(0, 4).toString('ascii')).toBe('jsmp');
    expect([header!.data.readUInt16BE(4), header!.data.readUInt16BE(6)]).toEqual([320, 240]);
    const ts = Buffer.concat(rest.map((m) => m.data));
    expect(rest.every((m) => m.binary)).toBe(true);
    const packets = Math.floor(ts.length / 188);
    expect(packets).toBeGreaterThan(500);
    for (let i = 0; i < packets; i++) if (ts[i * 188] !== 0x47) throw new Error(`no 0x47 sync byte at packet ${i} (offset ${i * 188})`);
    expect(sequenceHeaderSize(ts)).toEqual({ width: 320, height: 240 });

    const { pid } = engine.cameraStreams.status('cam-pattern');
    expect(pid).toBeGreaterThan(0);
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toEqual(expect.arrayContaining(['-codec:v', 'mpeg1video', '-f', 'mpegts', '-r', '25']));
    const listed = (await engine.app.inject({ url: '/api/v1/cameras/cam-pattern', headers: auth })).json();
    expect(listed).toMatchObject({ streaming: true, viewers: 1, rtsp_url: `rtsp://viewer:***@127.0.0.1:${rtspPort}/test` });

    const b = watch('cam-pattern');
    await waitFor('second viewer video', () => b.bytes() > 20_000, 15_000);
    expect(b.messages[0]!.data.subarray(0, 4).toString('ascii')).toBe('jsmp');
    expect(engine.cameraStreams.status('cam-pattern')).toMatchObject({ pid, viewers: 2 });

    a.ws.close();
    b.ws.close();
    await Promise.all([a.closed, b.closed]);
    const leftAt = Date.now();
    await waitFor('viewers gone', () => engine.cameraStreams.status('cam-pattern').viewers === 0, 5000);
    await new Promise((r) => setTimeout(r, GRACE_MS / 3));
    expect(alive(pid!), 'ffmpeg still running inside the grace period').toBe(true);
    await waitFor(`ffmpeg pid ${pid} to exit`, () => !alive(pid!), GRACE_MS + 8000);
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(GRACE_MS - 50);
    expect(engine.cameraStreams.status('cam-pattern')).toEqual({ streaming: false, viewers: 0, pid: null });

    // ffmpeg's stderr went to the engine's logger, never to this process's stderr
    expect(consoleError).not.toHaveBeenCalled();
    expect(stderr.mock.calls.filter(([chunk]) => /ffmpeg|RTSP|Input #0|Stream #0/.test(String(chunk)))).toEqual([]);
    vi.restoreAllMocks();
  });

  it('restarts ffmpeg that dies while a viewer watches, and the video goes on', async () => {
    needTools();
    const v = watch('cam-pattern');
    await waitFor('video', () => v.bytes() > 50_000, 30_000);
    const first = engine.cameraStreams.status('cam-pattern').pid!;
    process.kill(first, 'SIGKILL');
    await waitFor('a new ffmpeg', () => {
      const { pid } = engine.cameraStreams.status('cam-pattern');
      return pid !== null && pid !== first;
    }, 10_000);
    const before = v.bytes();
    await waitFor('video after the restart', () => v.bytes() > before + 50_000, 30_000);
    expect(v.messages.filter((m) => m.data.subarray(0, 4).toString('ascii') === 'jsmp')).toHaveLength(1);
    expect(await engine.metrics.registry.getSingleMetricAsString('pantau_camera_ffmpeg_restarts_total')).toMatch(/ 1$/m);
    v.ws.close();
    await v.closed;
  });

  it('tells the viewer of an unreachable camera CAMERA_UNREACHABLE, then closes, and leaves no ffmpeg', async () => {
    needTools();
    const v = watch('cam-dead');
    const closed = await v.closed;
    expect(closed).toEqual({ code: 1011, reason: 'CAMERA_UNREACHABLE' });
    expect(v.messages).toHaveLength(1);
    expect(v.messages[0]!.binary).toBe(false);
    const body = JSON.parse(v.messages[0]!.data.toString());
    expect(body.error).toBe('CAMERA_UNREACHABLE');
    expect(body.message).toMatch(/^camera cam-dead could not be reached: .*Connection refused/);
    expect(engine.cameraStreams.status('cam-dead')).toEqual({ streaming: false, viewers: 0, pid: null });
  });
});
