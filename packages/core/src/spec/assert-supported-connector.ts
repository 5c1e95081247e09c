import { UnsupportedConnectorError } from '../errors/unsupported-connector-error.js';
import type { ConnectorV1 } from './v1/connector-v1.js';

/** Specification versions this copy of `@tributary/core` runs. */
export const SUPPORTED_SPECIFICATION_VERSIONS = ['v1'] as const;

/**
 * Checks that `value` is a connector this version of core can run, and narrows its type. Throws
 * `UnsupportedConnectorError` naming the problem: not an object, an unknown
 * `specificationVersion` (a plugin built for a newer core), or missing members.
 */
export function assertSupportedConnector(value: unknown): asserts value is ConnectorV1 {
  if (typeof value !== 'object' || value === null) {
    throw new UnsupportedConnectorError({
      message: `expected a connector object but got ${value === null ? 'null' : typeof value}`,
      hint: 'Pass the object returned by the plugin factory, e.g. createNotionConnector(settings)',
    });
  }
  const candidate = value as Partial<Record<keyof ConnectorV1, unknown>>;
  const type = typeof candidate.type === 'string' ? candidate.type : undefined;
  const version = candidate.specificationVersion;
  if (!(SUPPORTED_SPECIFICATION_VERSIONS as readonly unknown[]).includes(version)) {
    throw new UnsupportedConnectorError({
      connector: type,
      message:
        version === undefined
          ? 'the connector has no specificationVersion, so it was not built with defineConnector'
          : `the connector implements specification ${JSON.stringify(version)}, but this @tributary/core supports ${SUPPORTED_SPECIFICATION_VERSIONS.join(', ')}`,
      hint:
        version === undefined
          ? 'Build it with defineConnector from @tributary/core'
          : 'Upgrade @tributary/core, or install a version of the connector plugin built for this core',
    });
  }
  const missing = (
    ['type', 'check', 'sync', 'configSchema', 'credentialsSchema', 'capabilities'] as const
  ).filter((member) => candidate[member] === undefined || candidate[member] === null);
  if (missing.length > 0) {
    throw new UnsupportedConnectorError({
      connector: type,
      message: `the connector is missing ${missing.join(', ')}`,
      hint: 'Build it with defineConnector from @tributary/core, which fills the optional members',
    });
  }
}
