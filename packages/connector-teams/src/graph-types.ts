// zod schemas of the Graph resources the connector reads, as documented (only the fields used;
// everything else passes through untouched).
import { z } from 'zod';

const identity = z.object({ id: z.string().nullish(), displayName: z.string().nullish() }).passthrough();

export const teamSchema = z.object({ id: z.string(), displayName: z.string().nullish() }).passthrough();
export type GraphTeam = z.infer<typeof teamSchema>;

export const channelSchema = z
  .object({
    id: z.string(),
    displayName: z.string().nullish(),
    membershipType: z.string().nullish(),
    webUrl: z.string().nullish(),
  })
  .passthrough();
export type GraphChannel = z.infer<typeof channelSchema>;

/** conversationMember (aadUserConversationMember). */
export const memberSchema = z
  .object({
    id: z.string().nullish(),
    userId: z.string().nullish(),
    email: z.string().nullish(),
    displayName: z.string().nullish(),
    roles: z.array(z.string()).nullish(),
  })
  .passthrough();
export type GraphMember = z.infer<typeof memberSchema>;

export const chatMessageSchema = z
  .object({
    id: z.string(),
    replyToId: z.string().nullish(),
    messageType: z.string().nullish(),
    createdDateTime: z.string().nullish(),
    lastModifiedDateTime: z.string().nullish(),
    lastEditedDateTime: z.string().nullish(),
    deletedDateTime: z.string().nullish(),
    subject: z.string().nullish(),
    webUrl: z.string().nullish(),
    from: z.object({ user: identity.nullish(), application: identity.nullish() }).passthrough().nullish(),
    body: z
      .object({ contentType: z.string().nullish(), content: z.string().nullish() })
      .passthrough()
      .nullish(),
    attachments: z
      .array(
        z
          .object({
            id: z.string().nullish(),
            contentType: z.string().nullish(),
            contentUrl: z.string().nullish(),
            name: z.string().nullish(),
          })
          .passthrough(),
      )
      .nullish(),
    mentions: z
      .array(
        z
          .object({
            id: z.number().nullish(),
            mentionText: z.string().nullish(),
            mentioned: z.object({ user: identity.nullish() }).passthrough().nullish(),
          })
          .passthrough(),
      )
      .nullish(),
    '@removed': z.object({ reason: z.string().nullish() }).passthrough().nullish(),
  })
  .passthrough();
export type GraphChatMessage = z.infer<typeof chatMessageSchema>;

/** callTranscript / callRecording (same shape for what is read here). */
export const meetingArtifactSchema = z
  .object({
    id: z.string(),
    meetingId: z.string().nullish(),
    createdDateTime: z.string().nullish(),
    endDateTime: z.string().nullish(),
    contentCorrelationId: z.string().nullish(),
    transcriptContentUrl: z.string().nullish(),
    recordingContentUrl: z.string().nullish(),
    meetingOrganizer: z.object({ user: identity.nullish() }).passthrough().nullish(),
    '@removed': z.object({ reason: z.string().nullish() }).passthrough().nullish(),
  })
  .passthrough();
export type GraphMeetingArtifact = z.infer<typeof meetingArtifactSchema>;

const participant = z
  .object({
    upn: z.string().nullish(),
    role: z.string().nullish(),
    identity: z.object({ user: identity.nullish() }).passthrough().nullish(),
  })
  .passthrough();

export const onlineMeetingSchema = z
  .object({
    id: z.string(),
    subject: z.string().nullish(),
    startDateTime: z.string().nullish(),
    endDateTime: z.string().nullish(),
    joinWebUrl: z.string().nullish(),
    participants: z
      .object({ organizer: participant.nullish(), attendees: z.array(participant).nullish() })
      .passthrough()
      .nullish(),
  })
  .passthrough();
export type GraphOnlineMeeting = z.infer<typeof onlineMeetingSchema>;

export const subscriptionSchema = z
  .object({
    id: z.string(),
    resource: z.string(),
    changeType: z.string(),
    notificationUrl: z.string().nullish(),
    lifecycleNotificationUrl: z.string().nullish(),
    expirationDateTime: z.string(),
  })
  .passthrough();
export type GraphSubscription = z.infer<typeof subscriptionSchema>;

export const anyObject = z.object({}).passthrough();
