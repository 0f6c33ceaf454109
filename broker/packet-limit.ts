// A maximum MQTT packet size. aedes has no such option, so the client's mqtt-packet parser is
// checked as soon as it has read a packet's Remaining Length (MQTT-2.2.3), before the body is
// buffered: an oversized packet closes the connection without reading it.
import type { Client } from 'aedes';

interface ParserInternals {
  packet: { length: number };
  _parseLength(): boolean;
}

export function limitPacketSize(client: Client, maxBytes: number, onTooLarge: (bytes: number) => void): void {
  const parser = (client as unknown as { _parser?: ParserInternals })._parser;
  if (!parser || typeof parser._parseLength !== 'function') {
    throw new Error('aedes client has no mqtt-packet parser to limit: check the aedes version against broker/packet-limit.ts');
  }
  const parseLength = parser._parseLength;
  parser._parseLength = function limitedParseLength(this: ParserInternals) {
    const complete = parseLength.call(this);
    if (complete && this.packet.length > maxBytes) {
      onTooLarge(this.packet.length);
      client.close();
      return false; // stop parsing this connection's buffer
    }
    return complete;
  };
}
