// Push notifications: changes.watch channels (create, renew before expiry, stop), the webhooks
// member (channel token and id verified, the `sync` message ignored), and the debouncer that turns
// a burst of notifications into one incremental sync.
import { WebhookVerificationError } from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createChannelId,
  createGoogleDriveChannels,
  createSyncDebouncer,
  googleDriveWebhooks,
  isOwnChannelId,
  MAX_CHANGES_CHANNEL_TTL_MS,
} from '../src/index.js';
import { type DriveHarness, pipeline, startDriveHarness } from './support/drive-harness.js';
import type { FakeDrive } from './support/fake-drive-server.js';

const SECRET = 'webhook-secret-0123456789abcdef';
const ADDRESS = 'https://hooks.example.com/tributary/google_drive';

let harness: DriveHarness;
let fake: FakeDrive;
beforeEach(async () => {
  harness = await startDriveHarness();
  fake = harness.fake;
});
afterEach(() => harness.close());

const channels = () =>
  createGoogleDriveChannels({ credentials: harness.serviceAccount, settings: harness.settings });

describe('changes.watch channels', () => {
  it('creates a channel carrying the secret as its token, capped at one week', async () => {
    const channel = await channels().watch({
      address: ADDRESS,
      secret: SECRET,
      ttlMs: 30 * 24 * 3600 * 1000,
    });
    expect(isOwnChannelId(channel.id, SECRET)).toBe(true);
    expect(fake.channel(channel.id)).toMatchObject({
      token: SECRET,
      address: ADDRESS,
      resourceId: channel.resourceId,
    });
    expect(channel.expiration).toBeLessThanOrEqual(Date.now() + MAX_CHANGES_CHANNEL_TTL_MS);
    expect(fake.callCount('changes.getStartPageToken')).toBe(1);
    expect(fake.callCount('changes.watch')).toBe(1);
  });

  it('renews before expiry (new channel first, then the old one stopped) and stops channels', async () => {
    const manager = channels();
    const channel = await manager.watch({ address: ADDRESS, secret: SECRET, pageToken: '1' });
    expect(manager.needsRenewal(channel)).toBe(false);
    expect(manager.needsRenewal(channel, { now: channel.expiration - 30 * 60 * 1000 })).toBe(true);
    expect(
      manager.needsRenewal(channel, { now: channel.expiration - 3 * 3600 * 1000, marginMs: 4 * 3600 * 1000 }),
    ).toBe(true);
    const renewed = await manager.renew(channel, { secret: SECRET, pageToken: '1' });
    expect(renewed.id).not.toBe(channel.id);
    expect(fake.channel(renewed.id)).toBeDefined();
    expect(fake.channel(channel.id)).toBeUndefined();
    await manager.stop(renewed);
    expect(fake.channel(renewed.id)).toBeUndefined();
    // Already gone (404): not an error.
    await manager.stop(renewed);
    expect(fake.callCount('channels.stop')).toBe(3);
  });

  it('refuses bad credentials with an InvalidConfigError naming the field', () => {
    expect(() => createGoogleDriveChannels({ credentials: { type: 'oauth2', clientId: 'x' } })).toThrow(
      /clientSecret/,
    );
  });
});

describe('webhooks', () => {
  it('verifies the channel token and id, ignores the sync message, maps changes to an incremental sync', async () => {
    const connector = harness.connector();
    const webhooks = connector.webhooks;
    if (!webhooks) throw new Error('no webhooks member');
    expect(connector.capabilities.webhooks).toBe(true);
    const channel = await channels().watch({ address: ADDRESS, secret: SECRET });

    const sync = fake.notification(channel.id, 'sync');
    expect(await webhooks.handshake(sync, SECRET)).toBeNull();
    await webhooks.verify(sync, SECRET);
    expect(await webhooks.parse(sync)).toEqual([]);

    const change = fake.notification(channel.id, 'change');
    await webhooks.verify(change, SECRET);
    expect(await webhooks.parse(change)).toEqual([
      {
        eventId: `${channel.id}:2`,
        eventType: 'changes.change',
        action: { kind: 'sync', mode: 'incremental' },
      },
    ]);
  });

  it('refuses a wrong token, a foreign channel id and missing headers', async () => {
    const channel = await channels().watch({ address: ADDRESS, secret: SECRET });
    const good = fake.notification(channel.id, 'update');
    const refuse = (headers: Record<string, string>) => {
      try {
        googleDriveWebhooks.verify({ ...good, headers }, SECRET);
        return undefined;
      } catch (error) {
        return error;
      }
    };
    expect(refuse(good.headers)).toBeUndefined();
    const wrongToken = refuse({ ...good.headers, 'x-goog-channel-token': 'guess' });
    expect(WebhookVerificationError.isInstance(wrongToken)).toBe(true);
    expect(String((wrongToken as Error).message)).not.toContain(SECRET);
    const foreign = refuse({ ...good.headers, 'x-goog-channel-id': createChannelId('another-secret') });
    expect(WebhookVerificationError.isInstance(foreign)).toBe(true);
    const { 'x-goog-channel-token': _token, ...withoutToken } = good.headers;
    expect(WebhookVerificationError.isInstance(refuse(withoutToken))).toBe(true);
    expect(
      WebhookVerificationError.isInstance(refuse({ ...good.headers, 'x-goog-resource-state': 'exploded' })),
    ).toBe(true);
  });
});

describe('debounced push sync', () => {
  it('coalesces a burst into one run, and a trigger during a run into exactly one more', async () => {
    vi.useFakeTimers();
    try {
      let release: (() => void) | undefined;
      let runs = 0;
      const debouncer = createSyncDebouncer({
        waitMs: 1000,
        run: () => {
          runs += 1;
          return new Promise<void>((resolve) => {
            release = resolve;
          });
        },
      });
      for (let index = 0; index < 10; index++) {
        debouncer.trigger();
        await vi.advanceTimersByTimeAsync(100);
      }
      expect(runs).toBe(0);
      await vi.advanceTimersByTimeAsync(1000);
      expect(runs).toBe(1);
      debouncer.trigger();
      debouncer.trigger();
      await vi.advanceTimersByTimeAsync(5000);
      expect(runs).toBe(1);
      release?.();
      await vi.advanceTimersByTimeAsync(0);
      expect(runs).toBe(2);
      release?.();
      await debouncer.flush();
      expect(debouncer.runs).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a burst of notifications for an edit becomes one incremental sync that picks it up', async () => {
    const folder = fake.addFolder('F', fake.rootFolderId);
    const file = fake.addFile({ name: 'a.txt', parent: folder, content: 'first text' });
    const run = pipeline(harness, { folderIds: [folder] }, harness.serviceAccount);
    await run.sync();
    const channel = await channels().watch({ address: ADDRESS, secret: SECRET });
    const connector = harness.connector();
    const webhooks = connector.webhooks;
    if (!webhooks) throw new Error('no webhooks member');
    const summaries: string[] = [];
    const debouncer = createSyncDebouncer({
      waitMs: 60_000,
      run: async () => {
        const summary = await run.sync();
        summaries.push(`${summary.mode}:${summary.counts.updated}`);
      },
    });
    fake.updateContent(file, 'second text');
    for (const state of ['sync', 'update', 'change', 'update', 'change']) {
      const request = fake.notification(channel.id, state);
      await webhooks.verify(request, SECRET);
      for (const event of await webhooks.parse(request)) {
        if (event.action.kind === 'sync') debouncer.trigger();
      }
    }
    await debouncer.flush();
    expect(summaries).toEqual(['incremental:1']);
    debouncer.cancel();
  });
});
