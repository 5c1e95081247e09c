// Listing windows: every window Zoom is asked for is within one calendar month (Zoom's rule), the
// windows cover [from, to] without gaps or overlaps, whatever the start day (February included).
import { describe, expect, it } from 'vitest';
import { addDays, windowAt, windowCount } from '../src/zoom-cursor.js';

function withinOneMonth(from: string, to: string): boolean {
  const limit = new Date(`${from}T00:00:00Z`);
  limit.setUTCMonth(limit.getUTCMonth() + 1);
  return Date.parse(`${to}T00:00:00Z`) <= limit.getTime();
}

describe('windows', () => {
  it('stay within one month and tile the range, for every start day of a leap and a common year', () => {
    for (const year of [2027, 2028]) {
      for (let offset = 0; offset < 366; offset++) {
        const from = addDays(`${year}-01-01`, offset);
        const to = addDays(from, 400);
        const count = windowCount(from, to);
        let expected = from;
        for (let index = 0; index < count; index++) {
          const window = windowAt(from, to, index);
          expect(window.from).toBe(expected);
          expect(withinOneMonth(window.from, window.to), `${window.from}..${window.to}`).toBe(true);
          expected = addDays(window.to, 1);
        }
        expect(expected).toBe(addDays(to, 1));
      }
    }
  });

  it('a one-day range is one window', () => {
    expect(windowCount('2026-02-10', '2026-02-10')).toBe(1);
    expect(windowAt('2026-02-10', '2026-02-10', 0)).toEqual({ from: '2026-02-10', to: '2026-02-10' });
  });
});
