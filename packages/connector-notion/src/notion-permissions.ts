import type { DocumentPermission } from '@tributary/core';
import type { NotionPage } from './notion-api-types.js';
import type { NotionConfig, NotionCredentials } from './notion-settings.js';

/**
 * What the connector knows about readers beyond the page itself: the installation (its owner)
 * and what the host asserts (`config.readers`).
 */
export interface NotionPermissionContext {
  credentials: NotionCredentials;
  readers?: NotionConfig['readers'];
}

/**
 * Who can read the page, as far as anything certain can be said. Notion's API has no sharing
 * endpoint: it does not say which members, guests, groups or teamspaces can read a page. So the
 * list holds only principals known to read it, and is left unset (stored as "ACL not known",
 * which `source` permission mode hides) when there are none:
 * - `anyone`: the page is published to the web (`public_url`).
 * - the user who installed a public integration (OAuth, `owner.type: 'user'`): Notion lets a user
 *   share with an integration only pages that user can open, and the integration sees nothing
 *   else. (Their access removed later from a page the integration keeps is not visible here.)
 * - `config.readers`: principals the host asserts, e.g. its e-mail domain for an open workspace.
 * Never listed: `created_by` / `last_edited_by` (they may have lost access since; they are in the
 * metadata), people properties (assigning someone grants no access), workspace membership (a
 * member's private pages and closed teamspaces are not readable by every member).
 */
export function permissionsOf(
  page: NotionPage,
  context: NotionPermissionContext,
): DocumentPermission[] | undefined {
  const permissions: DocumentPermission[] = [];
  if (page.public_url) permissions.push({ type: 'anyone', role: 'reader' });
  const { credentials } = context;
  if (credentials.type === 'oauth' && credentials.owner?.type === 'user') {
    const { userId, email, name } = credentials.owner;
    if (userId || email) {
      permissions.push({
        type: 'user',
        ...(userId ? { id: userId } : {}),
        ...(email ? { email } : {}),
        ...(name ? { displayName: name } : {}),
        role: 'reader',
      });
    }
  }
  for (const reader of context.readers ?? []) permissions.push({ ...reader });
  return permissions.length > 0 ? permissions : undefined;
}
