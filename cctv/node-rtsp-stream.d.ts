// Types for node-rtsp-stream 0.0.x's Mpeg1Muxer (CommonJS, ships none). Only what Pantau uses.
// mpeg1muxer.js spawns `ffmpeg -i URL -f mpegts -codec:v mpeg1video [ffmpegOptions] -` at construction.

declare module 'node-rtsp-stream/mpeg1muxer.js' {
  import type { ChildProcess } from 'node:child_process';
  import type { EventEmitter } from 'node:events';

  interface Mpeg1MuxerOptions {
    url: string;
    ffmpegPath: string;
    /** flag -> value, appended after the muxer's own output options; '' for a flag without a value */
    ffmpegOptions?: Record<string, string>;
  }
  /** Emits 'mpeg1data' (Buffer of MPEG-TS), 'ffmpegStderr' (Buffer) and 'exitWithError' (exit code 1). */
  interface Mpeg1Muxer extends EventEmitter {
    readonly stream: ChildProcess;
    readonly url: string;
    readonly spawnOptions: string[];
  }
  const Mpeg1Muxer: new (options: Mpeg1MuxerOptions) => Mpeg1Muxer;
  export default Mpeg1Muxer;
}
