// ffmpeg for the relay: node-rtsp-stream's Mpeg1Muxer spawns it; here, where it is and how it is asked.
import fs from 'node:fs';
import path from 'node:path';
import type { EventEmitter } from 'node:events';
import Mpeg1Muxer from 'node-rtsp-stream/mpeg1muxer.js';

/** What the relay needs of ffmpeg's ChildProcess. */
export interface MuxerProcess {
  readonly pid?: number | undefined;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** What the relay needs of a muxer: MPEG-TS out ('mpeg1data'), ffmpeg's stderr ('ffmpegStderr') and the process. */
export interface Muxer extends EventEmitter {
  readonly stream: MuxerProcess;
}

export interface MuxerOptions {
  url: string;
  ffmpegPath: string;
  fps: number;
  videoKbps: number;
}

export type SpawnMuxer = (opts: MuxerOptions) => Muxer;

/** Output options after the muxer's `-f mpegts -codec:v mpeg1video` (JSMpeg's README recommends no B-frames and a short mux delay). */
export function ffmpegOutputOptions(fps: number, videoKbps: number): Record<string, string> {
  return {
    '-an': '', // video only: a control-room wall is muted, and MP2 audio would cost CPU per stream
    '-b:v': `${videoKbps}k`,
    '-r': String(fps), // MPEG-1 allows only 23.976-60 fps steps; cameras often send 12.5 or 15
    '-bf': '0',
    '-muxdelay': '0.001',
    '-nostats': '', // no progress line twice a second on stderr
    '-hide_banner': '', // nor the build configuration at each start
  };
}

/** Spawns ffmpeg through node-rtsp-stream's Mpeg1Muxer, without the muxer's console output. */
export const spawnMpeg1Muxer: SpawnMuxer = (opts) => {
  const muxer = new Mpeg1Muxer({ url: opts.url, ffmpegPath: opts.ffmpegPath, ffmpegOptions: ffmpegOutputOptions(opts.fps, opts.videoKbps) });
  // mpeg1muxer.js's only 'exit' listener does console.error('RTSP stream exited with error') on code 1; the relay
  // reports exits itself, through the engine's logger. Removed synchronously, before any exit can be emitted.
  muxer.stream.removeAllListeners('exit');
  return muxer;
};

/** null when ffmpeg can be run from this path (or name on PATH); otherwise what to do about it. */
export async function ffmpegProblem(ffmpegPath: string, envPath = process.env.PATH ?? ''): Promise<string | null> {
  const candidates = ffmpegPath.includes('/') ? [ffmpegPath] : envPath.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, ffmpegPath));
  for (const candidate of candidates) {
    try {
      await fs.promises.access(candidate, fs.constants.X_OK);
      if ((await fs.promises.stat(candidate)).isFile()) return null;
    } catch {
      // next candidate
    }
  }
  return `ffmpeg was not found at ${ffmpegPath}: install Debian's ffmpeg package (apt-get install -y ffmpeg) or set FFMPEG_PATH`;
}
