/* global window, JSMpeg, WebSocket, location, setTimeout, clearTimeout */
// Plays a Pantau camera in a <canvas> with JSMpeg (load /web/vendor/jsmpeg.min.js first). Reusable by the dashboard:
//   const player = PantauCamera.play(canvas, { camera: 'cam-01', token, onStatus: (s) => ... });  player.stop();
// onStatus receives { state: 'connecting' | 'playing' | 'reconnecting' | 'error' | 'stopped', width?, height?, error?, message? }.
(function (root) {
  'use strict';

  function streamUrl(camera, token) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/api/v1/cameras/${encodeURIComponent(camera)}/stream?access_token=${encodeURIComponent(token)}`;
  }

  // A JSMpeg source over Pantau's stream WebSocket: the 8-byte "jsmp" header gives the picture size, binary frames go
  // to the demuxer, and a text frame is Pantau's {"error", "message"} sent just before it closes.
  function pantauSource(onStatus) {
    return class PantauSource {
      constructor(url, options) {
        this.url = url;
        this.options = options;
        this.streaming = true;
        this.destination = null;
        this.established = false;
        this.completed = false;
        this.progress = 0;
        this.socket = null;
        this.retry = null;
        this.stopped = false;
        this.failed = false;
      }

      connect(destination) {
        this.destination = destination;
      }

      start() {
        this.established = false;
        this.progress = 0;
        const socket = new WebSocket(this.url);
        socket.binaryType = 'arraybuffer';
        this.socket = socket;
        onStatus({ state: 'connecting' });
        socket.onmessage = (ev) => {
          if (typeof ev.data === 'string') {
            let body;
            try {
              body = JSON.parse(ev.data);
            } catch {
              body = { error: 'UNKNOWN', message: String(ev.data) };
            }
            this.failed = true;
            onStatus({ state: 'error', error: body.error, message: body.message });
            return;
          }
          const bytes = new Uint8Array(ev.data);
          if (bytes.length === 8 && bytes[0] === 0x6a && bytes[1] === 0x73 && bytes[2] === 0x6d && bytes[3] === 0x70) {
            onStatus({ state: 'playing', width: (bytes[4] << 8) | bytes[5], height: (bytes[6] << 8) | bytes[7] });
            return;
          }
          if (!this.established) {
            this.established = true;
            this.progress = 1;
            if (this.options.hookOnEstablished) this.options.hookOnEstablished();
          }
          if (this.destination) this.destination.write(ev.data);
        };
        socket.onclose = (ev) => {
          if (this.socket !== socket || this.stopped || this.failed) return;
          // a handshake refused with 401/404 shows here as 1006; the page checks the camera with fetch first
          onStatus({ state: 'reconnecting', code: ev.code });
          this.retry = setTimeout(() => this.start(), 3000);
        };
      }

      resume() {}

      destroy() {
        this.stopped = true;
        clearTimeout(this.retry);
        if (this.socket) this.socket.close();
      }
    };
  }

  function play(canvas, opts) {
    const onStatus = opts.onStatus || function () {};
    const player = new JSMpeg.Player(streamUrl(opts.camera, opts.token), {
      canvas: canvas,
      source: pantauSource(onStatus),
      audio: false,
      autoplay: true,
      pauseWhenHidden: false,
      videoBufferSize: 1024 * 1024,
    });
    return {
      player: player,
      stop: function () {
        player.destroy();
        onStatus({ state: 'stopped' });
      },
    };
  }

  root.PantauCamera = { play: play, streamUrl: streamUrl };
})(typeof window !== 'undefined' ? window : globalThis);
