export {
  createFolderConnector,
  DEFAULT_CHECKPOINT_EVERY,
  FILES_NAMESPACE,
  FOLDER_CONNECTOR_TYPE,
  type FolderConfig,
  type FolderConnectorSettings,
  type FolderCursor,
  folderConfigSchema,
  guessMimeType,
} from './folder-connector.ts';
