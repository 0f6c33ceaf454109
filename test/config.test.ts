import { describe, expect, it } from 'vitest';
import { ConfigError, flagName, loadConfig } from '../engine/config.ts';

describe('config', () => {
  it('has the defaults of CONTRACT.md and is frozen', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ mqttPort: 1883, httpPort: 8080, databaseUrl: null, adminToken: null, redisUrl: null, allowAnonymous: false, maxPacketBytes: 262144 });
    expect(c.dataDir).toMatch(/\/data$/);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ PANTAU_MQTT_PORT: 'abc' }, 'PANTAU_MQTT_PORT'],
    [{ PANTAU_HTTP_PORT: '70000' }, 'PANTAU_HTTP_PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ PANTAU_ADMIN_TOKEN: 'short' }, 'PANTAU_ADMIN_TOKEN'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ PANTAU_ALLOW_ANONYMOUS: 'maybe' }, 'PANTAU_ALLOW_ANONYMOUS'],
    [{ PANTAU_MAX_PACKET_BYTES: '12' }, 'PANTAU_MAX_PACKET_BYTES'],
    [{ PANTAU_ISPU_WINDOWS_H: 'pm1=24' }, 'PANTAU_ISPU_WINDOWS_H'],
    [{ PANTAU_ISPU_WINDOWS_H: 'o3=0' }, 'PANTAU_ISPU_WINDOWS_H'],
    [{ PANTAU_AIR_ALERT_MIN_RANK: '9' }, 'PANTAU_AIR_ALERT_MIN_RANK'],
    [{ PANTAU_WEBHOOK_RETRY_BASE_MS: 'soon' }, 'PANTAU_WEBHOOK_RETRY_BASE_MS'],
  ])('names the variable of a wrong value: %j', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`));
  });

  it('reads ISPU averaging windows per pollutant, 24 h unless named', () => {
    const c = loadConfig({ PANTAU_ISPU_WINDOWS_H: 'o3=8, co=8' });
    expect(c.ispuWindowsH).toEqual({ pm10: 24, pm25: 24, so2: 24, co: 8, o3: 8, no2: 24, hc: 24 });
  });

  it('reads values and lets flags override the environment', () => {
    const c = loadConfig({ PANTAU_MQTT_PORT: '1884', DATABASE_URL: 'postgres://u:p@h:5432/db', PANTAU_ALLOW_ANONYMOUS: '1' }, ['--mqtt-port', '0', '--http-port=9090']);
    expect(c).toMatchObject({ mqttPort: 0, httpPort: 9090, databaseUrl: 'postgres://u:p@h:5432/db', allowAnonymous: true });
    expect(flagName('PANTAU_MQTT_PORT')).toBe('--mqtt-port');
    expect(flagName('DATABASE_URL')).toBe('--database-url');
  });

  it('refuses a flag without its value', () => {
    expect(() => loadConfig({}, ['--mqtt-port'])).toThrow(/PANTAU_MQTT_PORT/);
  });
});
