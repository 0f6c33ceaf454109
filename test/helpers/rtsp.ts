// GStreamer's test pattern as H.264 over RTSP on loopback (test/e2e/rtsp-server.py), for tests that need video.
// Rejects with a message naming the Debian packages when something is missing.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3'; // Debian's, where python3-gi lives (not a pyenv python3 earlier on PATH)
const SERVER_SCRIPT = fileURLToPath(new URL('../e2e/rtsp-server.py', import.meta.url));
export const RTSP_PACKAGES = 'python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly';

export interface RtspServer {
  port: number;
  /** rtsp://127.0.0.1:PORT/test */
  url: string;
  stop(): void;
}

export function startRtspServer(): Promise<RtspServer> {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(PYTHON)) return reject(new Error(`${PYTHON} is missing: install Debian's python3-gi and the RTSP server (apt-get install -y ${RTSP_PACKAGES})`));
    const child: ChildProcess = spawn(PYTHON, [SERVER_SCRIPT, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), url: `rtsp://127.0.0.1:${m[1]}/test`, stop: () => void child.kill() });
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => reject(new Error(`could not start the RTSP test server: ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`the RTSP test server exited (${code}) before listening: ${err.trim() || out.trim()} (apt-get install -y ${RTSP_PACKAGES})`)));
  });
}
