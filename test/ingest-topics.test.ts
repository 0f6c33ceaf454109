// Topic parsing and building against CONTRACT.md's topic table.
import { describe, expect, it } from 'vitest';
import {
  deviceFilter,
  isTopicLevel,
  owntracksTopic,
  parseTopic,
  positionsTopic,
  positionTopic,
  readingTopic,
  rejectsTopic,
  senmlTopic,
  statusTopic,
  topicDeviceId,
  topicDeviceKind,
  topicReject,
  type ParsedTopic,
} from '../ingest/topics.ts';

describe('parseTopic', () => {
  const table: Array<[string, ParsedTopic | null]> = [
    ['pantau/v1/vehicles/amb-07/position', { kind: 'position', vehicleId: 'amb-07' }],
    ['pantau/v1/vehicles/amb-07/positions', { kind: 'positions', vehicleId: 'amb-07' }],
    ['pantau/v1/vehicles/amb-07/status', { kind: 'status', vehicleId: 'amb-07' }],
    ['pantau/v1/sensors/katulampa/reading', { kind: 'reading', sensorId: 'katulampa' }],
    ['pantau/v1/sensors/katulampa/senml', { kind: 'senml', sensorId: 'katulampa' }],
    ['owntracks/jane/phone', { kind: 'owntracks', key: 'jane/phone' }],
    ['owntracks/jane/phone/event', { kind: 'owntracks', key: 'jane/phone', sub: 'event' }],
    ['pantau/v1/devices/amb-07/rejects', { kind: 'rejects', deviceId: 'amb-07' }],
    ['pantau/v1/devices/amb-07/commands', { kind: 'device_inbox', deviceId: 'amb-07' }],
    ['pantau/v1/devices/amb-07/a/b', { kind: 'device_inbox', deviceId: 'amb-07' }],
    ['pantau/v1/devices/amb-07/#', { kind: 'device_inbox', deviceId: 'amb-07' }],
    // not contract topics
    ['pantau/v1/vehicles/amb-07', null],
    ['pantau/v1/vehicles/amb-07/position/extra', null],
    ['pantau/v1/vehicles/amb-07/speed', null],
    ['pantau/v1/vehicles//position', null],
    ['pantau/v1/vehicles/+/position', null],
    ['pantau/v1/sensors/katulampa/positions', null],
    ['pantau/v2/vehicles/amb-07/position', null],
    ['/pantau/v1/vehicles/amb-07/position', null],
    ['pantau/v1/alerts/water_level/katulampa', null],
    ['pantau/v1/devices/+/#', null],
    ['owntracks/jane', null],
    ['owntracks/+/+', null],
    ['owntracks//phone', null],
    ['', null],
    ['#', null],
  ];
  it.each(table)('%s', (topic, expected) => {
    expect(parseTopic(topic)).toEqual(expected);
  });

  it('round-trips the builders', () => {
    expect(parseTopic(positionTopic('v1'))).toEqual({ kind: 'position', vehicleId: 'v1' });
    expect(parseTopic(positionsTopic('v1'))).toEqual({ kind: 'positions', vehicleId: 'v1' });
    expect(parseTopic(statusTopic('v1'))).toEqual({ kind: 'status', vehicleId: 'v1' });
    expect(parseTopic(readingTopic('s1'))).toEqual({ kind: 'reading', sensorId: 's1' });
    expect(parseTopic(senmlTopic('s1'))).toEqual({ kind: 'senml', sensorId: 's1' });
    expect(parseTopic(owntracksTopic('jane', 'phone'))).toEqual({ kind: 'owntracks', key: 'jane/phone' });
    expect(parseTopic(rejectsTopic('d1'))).toEqual({ kind: 'rejects', deviceId: 'd1' });
    expect(rejectsTopic('d1')).toBe('pantau/v1/devices/d1/rejects');
    expect(deviceFilter('d1')).toBe('pantau/v1/devices/d1/#');
  });
});

describe('topic helpers', () => {
  it('isTopicLevel refuses separators, wildcards and empty ids', () => {
    expect(isTopicLevel('amb-07')).toBe(true);
    for (const bad of ['', 'a/b', 'a+', '#', 'a\u0000b']) expect(isTopicLevel(bad)).toBe(false);
  });

  it('names the kind of device and the id a topic belongs to', () => {
    expect(topicDeviceKind(parseTopic('pantau/v1/vehicles/v1/position')!)).toBe('vehicle');
    expect(topicDeviceKind(parseTopic('owntracks/jane/phone')!)).toBe('vehicle');
    expect(topicDeviceKind(parseTopic('pantau/v1/sensors/s1/senml')!)).toBe('sensor');
    expect(topicDeviceKind(parseTopic('pantau/v1/devices/s1/rejects')!)).toBeNull();
    expect(topicDeviceId(parseTopic('pantau/v1/sensors/s1/senml')!)).toBe('s1');
    expect(topicDeviceId(parseTopic('owntracks/jane/phone')!)).toBeNull();
  });

  it('topicReject: UNKNOWN_TOPIC for non-data topics, WRONG_KIND for the other kind of device', () => {
    expect(topicReject(parseTopic('pantau/v1/vehicles/v1/position'), 'vehicle')).toBeNull();
    expect(topicReject(parseTopic('pantau/v1/sensors/s1/reading'), 'sensor')).toBeNull();
    expect(topicReject(parseTopic('pantau/v1/vehicles/v1/speed'), 'vehicle')?.code).toBe('UNKNOWN_TOPIC');
    expect(topicReject(parseTopic('pantau/v1/devices/v1/rejects'), 'vehicle')?.code).toBe('UNKNOWN_TOPIC');
    expect(topicReject(parseTopic('pantau/v1/vehicles/s1/position'), 'sensor')?.code).toBe('WRONG_KIND');
    expect(topicReject(parseTopic('pantau/v1/sensors/v1/reading'), 'vehicle')?.code).toBe('WRONG_KIND');
  });
});
