// CCTV tiles: the cameras nearest to the selected dispatch or alert (the API attaches them), or a camera clicked
// on the map, played with JSMpeg through the engine's relay by the reusable player /web/camera-player.js.
import { describeError, type Api } from './api.ts';
import { esc, formatDistance } from './legend.ts';
import type { AttachedCamera } from './types.ts';

interface PlayerStatus {
  state: 'connecting' | 'playing' | 'reconnecting' | 'error' | 'stopped';
  width?: number;
  height?: number;
  error?: string;
  message?: string;
}
interface Player {
  stop(): void;
}
declare global {
  interface Window {
    PantauCamera?: { play(canvas: HTMLCanvasElement, opts: { camera: string; token: string; onStatus(s: PlayerStatus): void }): Player };
  }
}

const MAX_TILES = 4;
let scripts: Promise<void> | null = null;

/** JSMpeg (from npm, served by the engine) and the camera player, loaded the first time a camera plays. */
function loadPlayer(): Promise<void> {
  const load = (src: string) =>
    new Promise<void>((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = () => resolve();
      s.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.append(s);
    });
  scripts ??= load('/web/vendor/jsmpeg.min.js').then(() => load('/web/camera-player.js'));
  return scripts;
}

export class CctvPanel {
  private players: Player[] = [];
  private key = '';

  constructor(
    private readonly root: HTMLElement,
    private readonly title: HTMLElement,
    private readonly api: Api,
  ) {
    this.showMessage('Select a dispatch, an alert or a camera on the map to see the cameras near it.');
  }

  private stopAll(): void {
    for (const p of this.players) p.stop();
    this.players = [];
  }

  showMessage(text: string): void {
    this.stopAll();
    this.key = '';
    this.root.innerHTML = `<p class="empty" data-testid="cctv-empty">${esc(text)}</p>`;
  }

  /** Plays up to four cameras; `context` says why these ("near dispatch dsp_...") */
  show(context: string, cameras: readonly AttachedCamera[], emptyText: string): void {
    const key = context + '|' + cameras.map((c) => c.id).join(',');
    this.title.textContent = context;
    if (key === this.key) return;
    if (cameras.length === 0) {
      this.showMessage(emptyText);
      this.key = key;
      return;
    }
    this.stopAll();
    this.key = key;
    const list = cameras.slice(0, MAX_TILES);
    this.root.innerHTML = list
      .map(
        (c) =>
          `<figure class="tile" data-testid="camera-tile" data-camera-id="${esc(c.id)}" data-state="connecting"><canvas width="320" height="240"></canvas>` +
          `<figcaption><b>${esc(c.name)}</b>${c.distance_m ? ` · ${formatDistance(c.distance_m)}` : ''}<span class="tile-status">connecting</span></figcaption></figure>`,
      )
      .join('');
    void this.start(key, list);
  }

  private async start(key: string, list: readonly AttachedCamera[]): Promise<void> {
    try {
      await loadPlayer();
    } catch (err) {
      this.root.querySelectorAll<HTMLElement>('[data-testid="camera-tile"]').forEach((t) => this.setState(t, 'error', describeError(err)));
      return;
    }
    if (key !== this.key || !window.PantauCamera) return;
    for (const c of list) {
      const tile = this.root.querySelector<HTMLElement>(`[data-testid="camera-tile"][data-camera-id="${CSS.escape(c.id)}"]`);
      if (!tile) continue;
      const canvas = tile.querySelector('canvas')!;
      this.players.push(
        window.PantauCamera.play(canvas, {
          camera: c.id,
          token: this.api.token,
          onStatus: (s) => {
            if (s.state === 'playing') this.setState(tile, 'playing', `live ${s.width}x${s.height}`);
            else if (s.state === 'error') this.setState(tile, 'error', `${s.error}: ${s.message}`);
            else this.setState(tile, s.state, s.state);
          },
        }),
      );
    }
  }

  private setState(tile: HTMLElement, state: string, text: string): void {
    tile.dataset.state = state;
    const label = tile.querySelector('.tile-status');
    if (label) label.textContent = text;
  }
}
