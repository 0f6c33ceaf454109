// Bytes of the JSMpeg wire format and what Pantau reads out of ffmpeg's output.

/** JSMpeg's stream header, as node-rtsp-stream's VideoStream sends it first: struct { char magic[4] = "jsmp"; uint16 width, height; } big-endian. */
export function jsmpegHeader(width: number, height: number): Buffer {
  const header = Buffer.alloc(8);
  header.write('jsmp', 0, 'ascii');
  header.writeUInt16BE(width & 0xffff, 4);
  header.writeUInt16BE(height & 0xffff, 6);
  return header;
}

export interface VideoSize {
  width: number;
  height: number;
}

/**
 * The picture size of the first MPEG-1 sequence header (start code 00 00 01 B3, then 12 bits of width and 12 of
 * height; ISO/IEC 11172-2 2.4.2.3) in a chunk of MPEG-TS, or null. ffmpeg's mpegts muxer puts the header right after
 * the PES header of a GOP's first packet, so it does not straddle a 188-byte packet in practice.
 */
export function sequenceHeaderSize(chunk: Buffer): VideoSize | null {
  for (let i = chunk.indexOf(SEQUENCE_HEADER); i >= 0 && i + 7 <= chunk.length; i = chunk.indexOf(SEQUENCE_HEADER, i + 1)) {
    const width = (chunk[i + 4]! << 4) | (chunk[i + 5]! >> 4);
    const height = ((chunk[i + 5]! & 0x0f) << 8) | chunk[i + 6]!;
    if (width > 0 && height > 0) return { width, height };
  }
  return null;
}
const SEQUENCE_HEADER = Buffer.from([0x00, 0x00, 0x01, 0xb3]);

/**
 * The size in an ffmpeg stream line such as `Stream #0:0: Video: h264 (Main), yuv420p(progressive), 1920x1080 [SAR 1:1 ...`
 * (what VideoStream reads too). Whole numbers only, so a codec tag like `0x31637661` never matches.
 */
export function stderrVideoSize(line: string): VideoSize | null {
  const m = /Video: .*?(?<![\w.])(\d{2,5})x(\d{2,5})(?![\w.])/.exec(line);
  if (!m) return null;
  const width = Number(m[1]);
  const height = Number(m[2]);
  return width > 0 && height > 0 ? { width, height } : null;
}

/** A URL's password replaced by `***` (`rtsp://admin:***@10.1.2.3/stream1`), in any text: for logs, errors and the API. */
export function redactUrlPasswords(text: string): string {
  // greedy up to the last @ before the path: a password may hold an unescaped @
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s/@:'"]*):[^\s/'"]*@/gi, '$1:***@');
}
