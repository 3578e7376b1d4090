import { describe, expect, it } from 'vitest';
import { isSupportedTimeZone } from './datetime.js';

describe('time zones', () => {
  it('knows which time zones it can use', () => {
    expect(isSupportedTimeZone('UTC')).toBe(true);
    expect(isSupportedTimeZone('Europe/Berlin')).toBe(true);
    expect(isSupportedTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});
