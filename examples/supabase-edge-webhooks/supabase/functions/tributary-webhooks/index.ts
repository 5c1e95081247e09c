// biome-ignore-all lint/suspicious/noUndeclaredEnvVars: Supabase function secrets, not inputs of a turbo task
// A Supabase Edge Function (Deno) that receives provider webhooks for every Tributary connector:
// POST https://<project>.supabase.co/functions/v1/tributary-webhooks/<connector id>
// It answers handshakes, verifies signatures over the raw body and records each event once, then
// answers at once. It does not process anything: `tributary worker` (or createWorker) queues what
// was recorded on its next scheduler pass (`webhookSweepGraceSeconds`) and does the work.
import { createClient } from 'npm:@supabase/supabase-js@2';
import { createGoogleDriveConnector } from 'npm:@tributary/connector-google-drive';
import {
  createConnectorManager,
  createWebhookEndpoint,
  readConnectorSecrets,
  secretKeyRingFromEnv,
} from 'npm:@tributary/core';
import { createSupabaseRepository } from 'npm:@tributary/core/supabase';

// The service role key: recording events and reading webhook secrets are server-side operations.
const supabase = createClient(
  Deno.env.get('SUPABASE_URL') ?? '',
  Deno.env.get('SUPABASE_SERVICE_ROLE_KEY') ?? '',
  {
    auth: { persistSession: false, autoRefreshToken: false },
  },
);
const repository = createSupabaseRepository(supabase);
// TRIBUTARY_SECRET_KEYS as a function secret: `supabase secrets set TRIBUTARY_SECRET_KEYS=...`.
const keyRing = secretKeyRingFromEnv({ TRIBUTARY_SECRET_KEYS: Deno.env.get('TRIBUTARY_SECRET_KEYS') });
// Secrets are envelope-encrypted before they leave the function, as everywhere in Tributary.
const connectors = createConnectorManager({ repository, keyRing });
const plugins = new Map([[createGoogleDriveConnector().type, createGoogleDriveConnector()]]);

const endpoint = createWebhookEndpoint({
  repository,
  maxBodyBytes: 256 * 1024,
  rateLimit: { requestsPerSecond: 20, burst: 50 },
  async resolve(connectorId) {
    const row = await repository.getConnector(connectorId);
    const connector = row ? plugins.get(row.connectorType) : undefined;
    if (!row || !connector) return undefined;
    const { webhookSecret } = await readConnectorSecrets(repository, keyRing, connectorId);
    return { connector, secret: webhookSecret };
  },
  // Notion reveals its verification token in the first delivery: store it as the webhook secret.
  async onRevealedSecret(connectorId, secret) {
    const row = await repository.getConnector(connectorId);
    const connector = row ? plugins.get(row.connectorType) : undefined;
    if (connector) await connectors.setSecrets(connector, connectorId, { webhookSecret: secret });
  },
});

Deno.serve((request) => endpoint(request));
