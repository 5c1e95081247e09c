import { hasErrorMarker, TributaryError } from '../errors/tributary-error.js';

const marker = Symbol.for('tributary.error.connector_type_mismatch');

/** A stored connector row belongs to another plugin than the one given (`connector_type` differs). */
export class ConnectorTypeMismatchError extends TributaryError {
  readonly [marker] = true;
  readonly connectorId: string;
  readonly storedType: string;
  readonly pluginType: string;
  readonly isRetryable = false;

  constructor(options: { connectorId: string; storedType: string; pluginType: string }) {
    super({
      code: 'connector_type_mismatch',
      connector: options.pluginType,
      message: `connector ${options.connectorId} is of type "${options.storedType}", not "${options.pluginType}"`,
      hint: `Use the ${options.storedType} plugin for this connector, or create a ${options.pluginType} connector`,
    });
    this.connectorId = options.connectorId;
    this.storedType = options.storedType;
    this.pluginType = options.pluginType;
  }

  static override isInstance(error: unknown): error is ConnectorTypeMismatchError {
    return hasErrorMarker(error, marker);
  }
}
