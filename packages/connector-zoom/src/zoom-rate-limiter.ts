import { type Clock, type RateLimiter, TokenBucket } from '@tributary/core';
import {
  DEFAULT_RATE_LIMIT_FRACTION,
  ZOOM_CONNECTOR_TYPE,
  ZOOM_PLAN_LIMITS,
  type ZoomCategoryLimits,
  type ZoomConnectorSettings,
  type ZoomRateCategory,
} from './zoom-settings.js';

const CATEGORIES: readonly ZoomRateCategory[] = ['light', 'medium', 'heavy', 'download'];

/** `zoom:<account>:<category>`: the key every Zoom request acquires a token under. */
export function rateLimitKey(accountKey: string, category: ZoomRateCategory): string {
  return `${ZOOM_CONNECTOR_TYPE}:${accountKey}:${category}`;
}

/** The per-second budget of each category for one connector: the plan's limit times the fraction. */
export function effectiveLimits(settings: ZoomConnectorSettings): ZoomCategoryLimits {
  const fraction = settings.rateLimitFraction ?? DEFAULT_RATE_LIMIT_FRACTION;
  if (!(fraction > 0 && fraction <= 1)) {
    throw new RangeError(
      `[tributary] [zoom] rateLimitFraction must be in (0, 1], got ${fraction}. Use e.g. 0.5 to leave half of the account's limits to other apps.`,
    );
  }
  const base = { ...ZOOM_PLAN_LIMITS[settings.plan ?? 'pro'], ...settings.limits };
  const limits = {} as Record<ZoomRateCategory, number>;
  for (const category of CATEGORIES) {
    const perSecond = base[category];
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) {
      throw new RangeError(
        `[tributary] [zoom] limits.${category} must be a positive number, got ${perSecond}.`,
      );
    }
    limits[category] = perSecond * fraction;
  }
  return limits;
}

/**
 * The default, in-process limiter: one token bucket per account and category (read from the key's
 * last segment), refilled at that category's share. The burst is one second's worth, so a quiet
 * connector cannot fire a second's budget twice. A limiter shared across processes implements
 * the same `RateLimiter` interface (pass it as `settings.rateLimiter`).
 */
export function createZoomRateLimiter(settings: ZoomConnectorSettings, clock?: Clock): RateLimiter {
  const limits = effectiveLimits(settings);
  const buckets = new Map<string, TokenBucket>();
  return {
    acquire(key, signal) {
      let bucket = buckets.get(key);
      if (!bucket) {
        const category = key.slice(key.lastIndexOf(':') + 1) as ZoomRateCategory;
        const perSecond = limits[category] ?? limits.light;
        bucket = new TokenBucket({ requestsPerSecond: perSecond, burst: Math.max(1, perSecond), clock });
        buckets.set(key, bucket);
      }
      return bucket.take(1, signal);
    },
  };
}
