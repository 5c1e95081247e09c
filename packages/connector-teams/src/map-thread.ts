import { createHash } from 'node:crypto';
import { type DocumentPermission, htmlToMarkdownText, type SourceDocument } from '@tributary/core';
import type { GraphChatMessage, GraphMember } from './graph-types.js';
import { channelExternalId, threadExternalId } from './teams-ids.js';

export interface ThreadContext {
  teamId: string;
  teamName: string;
  channelId: string;
  channelName: string;
  /** Channel members as permissions; `undefined` when not captured. */
  permissions: readonly DocumentPermission[] | undefined;
}

/** A root message that is gone: deleted in Teams, or reported `@removed` by the delta. */
export function isRemoved(message: GraphChatMessage): boolean {
  return Boolean(message.deletedDateTime) || Boolean(message['@removed']);
}

/** Only user messages are content; system events (member added, channel renamed) are not. */
export function isUserMessage(message: GraphChatMessage): boolean {
  return (message.messageType ?? 'message') === 'message';
}

/**
 * The thread's version: the root's last change, the number of live replies and the latest reply's
 * change. A new, edited or deleted reply changes it, so the pipeline skips exactly the threads that
 * did not change.
 */
export function threadVersion(root: GraphChatMessage, replies: readonly GraphChatMessage[]): string {
  let latest = '';
  for (const reply of replies) {
    const stamp = reply.lastModifiedDateTime ?? reply.createdDateTime ?? '';
    if (stamp > latest) latest = stamp;
  }
  return `${root.lastModifiedDateTime ?? root.createdDateTime ?? ''}|${replies.length}|${latest}`;
}

/** A short, order-independent digest of an ACL (compared to tell a membership change). */
export function permissionsFingerprint(permissions: readonly DocumentPermission[]): string {
  const lines = permissions.map((p) => `${p.type}|${p.id ?? ''}|${p.email ?? ''}|${p.role}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

/** Channel members as permissions: owners as `owner`, everyone else as `reader`. */
export function memberPermissions(members: readonly GraphMember[]): DocumentPermission[] {
  const permissions: DocumentPermission[] = [];
  for (const member of members) {
    if (!member.userId && !member.email) continue;
    permissions.push({
      type: 'user',
      ...(member.userId ? { id: member.userId } : {}),
      ...(member.email ? { email: member.email.toLowerCase() } : {}),
      ...(member.displayName ? { displayName: member.displayName } : {}),
      role: member.roles?.includes('owner') ? 'owner' : 'reader',
    });
  }
  return permissions;
}

/**
 * A standard channel's threads as readable by the team's Microsoft 365 group (the team id is the
 * group id), for `channelPermissions: 'team'`: who is in the group comes from group membership sync.
 */
export function teamPermissions(teamId: string): DocumentPermission[] {
  return [{ type: 'group', id: teamId, role: 'reader' }];
}

/**
 * One document per thread: a root message with its replies, in order, as Markdown. A thread is
 * the unit people read and answer in; a reply alone ("yes, ship it") means nothing without the
 * question, and one document per message would embed thousands of fragments that search cannot
 * tell apart. The content is built from what the listing already fetched (no extra call).
 */
export async function mapThread(
  context: ThreadContext,
  root: GraphChatMessage,
  allReplies: readonly GraphChatMessage[],
): Promise<SourceDocument> {
  const replies = allReplies
    .filter((reply) => !isRemoved(reply) && isUserMessage(reply))
    .sort((a, b) => (a.createdDateTime ?? '').localeCompare(b.createdDateTime ?? ''));
  const rootText = await messageMarkdown(root);
  const title = threadTitle(context, root, rootText);
  const parts = [`# ${title}`, '', await messageBlock(root, rootText)];
  for (const reply of replies)
    parts.push('', '---', '', await messageBlock(reply, await messageMarkdown(reply)));
  const authors = new Set<string>();
  for (const message of [root, ...replies]) {
    const name = authorOf(message);
    if (name) authors.add(name);
  }
  let modifiedAt = root.lastModifiedDateTime ?? root.createdDateTime ?? undefined;
  for (const reply of replies) {
    const stamp = reply.lastModifiedDateTime ?? reply.createdDateTime ?? undefined;
    if (stamp && (!modifiedAt || stamp > modifiedAt)) modifiedAt = stamp;
  }
  return {
    externalId: threadExternalId(context.teamId, context.channelId, root.id),
    parentExternalId: channelExternalId(context.teamId, context.channelId),
    title,
    mimeType: 'text/markdown',
    externalUrl: root.webUrl ?? undefined,
    // The ACL is part of the version: a membership change alone re-stores the thread with it.
    version: `${threadVersion(root, replies)}${context.permissions ? `|acl:${permissionsFingerprint(context.permissions)}` : ''}`,
    modifiedAt,
    metadata: {
      source: 'channel_thread',
      teamId: context.teamId,
      teamName: context.teamName,
      channelId: context.channelId,
      channelName: context.channelName,
      rootMessageId: root.id,
      replyCount: replies.length,
      authors: [...authors],
      createdAt: root.createdDateTime ?? null,
    },
    ...(context.permissions ? { permissions: context.permissions } : {}),
    content: { kind: 'text', text: parts.join('\n') },
  };
}

function threadTitle(context: ThreadContext, root: GraphChatMessage, rootText: string): string {
  const subject = root.subject?.trim();
  const lead = subject || rootText.replace(/\s+/g, ' ').trim().slice(0, 80) || 'Thread';
  return `${context.teamName} / ${context.channelName}: ${lead}`;
}

function authorOf(message: GraphChatMessage): string | undefined {
  return message.from?.user?.displayName ?? message.from?.application?.displayName ?? undefined;
}

async function messageBlock(message: GraphChatMessage, text: string): Promise<string> {
  const author = authorOf(message) ?? 'Unknown';
  const when = message.createdDateTime
    ? ` · ${message.createdDateTime.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}`
    : '';
  const lines = [`**${author}**${when}`, '', text];
  const links = (message.attachments ?? [])
    .filter((attachment) => attachment.contentUrl && /^https?:\/\//i.test(attachment.contentUrl))
    .map(
      (attachment) =>
        `- [${(attachment.name ?? 'attachment').replace(/[[\]]/g, '')}](${attachment.contentUrl})`,
    );
  if (links.length > 0) lines.push('', 'Attachments:', ...links);
  return lines.join('\n').trimEnd();
}

/** A message body as Markdown: mentions as `@Name`, inline attachment markers dropped. */
export async function messageMarkdown(message: GraphChatMessage): Promise<string> {
  const content = message.body?.content ?? '';
  if ((message.body?.contentType ?? 'text').toLowerCase() !== 'html') return content.trim();
  const names = new Map<string, string>();
  for (const mention of message.mentions ?? []) {
    const name = mention.mentioned?.user?.displayName ?? mention.mentionText;
    if (mention.id !== null && mention.id !== undefined && name) names.set(String(mention.id), name);
  }
  const html = content
    .replace(/<at\b[^>]*\bid=["']?(\d+)["']?[^>]*>([\s\S]*?)<\/at>/gi, (_match, id: string, text: string) => {
      const name = names.get(id) ?? text.replace(/<[^>]*>/g, '');
      return `@${name}`;
    })
    .replace(/<attachment\b[^>]*>\s*<\/attachment>/gi, '');
  return (await htmlToMarkdownText(html)).trim();
}
