import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.js';

describe('query log and metrics configuration', () => {
  it('defaults: query log on, metrics off', () => {
    const c = loadConfig({}, {});
    expect(c).toMatchObject({
      queryLog: true,
      queryLogMaxFileBytes: 64 * 1024 * 1024,
      queryLogKeepFiles: 10,
      queryLogMaxTextBytes: 4096,
      metricsPort: null,
      metricsHost: '127.0.0.1',
    });
  });

  it('metricsPort: flag over environment over file over default', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-cfg-'));
    try {
      const file = path.join(dir, 'config.json');
      fs.writeFileSync(file, JSON.stringify({ metricsPort: 9100, metricsHost: '0.0.0.0', queryLogKeepFiles: 3 }));
      expect(loadConfig({ config: file }, {})).toMatchObject({ metricsPort: 9100, metricsHost: '0.0.0.0', queryLogKeepFiles: 3 });
      expect(loadConfig({ config: file }, { TENANTGATE_METRICS_PORT: '9200' }).metricsPort).toBe(9200);
      expect(loadConfig({ config: file, metricsPort: '9300' }, { TENANTGATE_METRICS_PORT: '9200' }).metricsPort).toBe(9300);
      expect(() => loadConfig({ metricsPort: 'x' }, {})).toThrow(ConfigError);
      fs.writeFileSync(file, JSON.stringify({ queryLogMaxFileBytes: 10 }));
      expect(() => loadConfig({ config: file }, {})).toThrow(/queryLogMaxFileBytes/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
