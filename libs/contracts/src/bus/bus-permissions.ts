import { EVENT_CATALOG, EVENT_STREAM, EventSubject } from '../events/event-catalog';
import { LIVE_LOG_STREAM } from '../logs/live-log.schemas';
import { OUTPUT_BUCKET, OUTPUT_BUCKET_ACCESS } from '../object-store';
import { RPC_CATALOG, RpcSubject } from '../rpc/rpc-catalog';
import { INSTALLATION_BUCKET, RUNNERS_BUCKET } from '../runners/runner-heartbeat.schemas';
import { IMAGE_REFUSALS_BUCKET } from '../runners/image-refusals';
import { BUS_PRINCIPALS, busInboxPrefix, type BusPrincipal } from './bus-principals';

/** What one principal may do on NATS: the subjects it may publish and subscribe to. */
export interface BusPermissions {
  publish: string[];
  subscribe: string[];
  /** It answers requests: it may publish to the reply subject of a request it received, and nowhere else beyond `publish`. */
  allowResponses: boolean;
}

/**
 * What a principal may do with a JetStream stream. `read`: look it up, open consumers on it
 * (ephemeral, ordered or durable), pull and acknowledge; `manage` adds creating, updating and
 * purging it. Deleting a consumer is part of `read` for services (their ordered consumers delete
 * themselves) and withheld from integrations, so that an integration cannot remove a service's durable.
 */
type StreamAccess = 'read' | 'manage';

const OUTPUT_STREAM = `OBJ_${OUTPUT_BUCKET}`;

/** The KV buckets (each a stream `KV_<name>`, its keys the subjects `$KV.<name>.<key>`), with who writes and reads each. */
const KV_BUCKETS = [RUNNERS_BUCKET, INSTALLATION_BUCKET, IMAGE_REFUSALS_BUCKET];

/**
 * The subjects each principal may publish and subscribe to, derived from the contracts: the event
 * catalog (who publishes, who consumes, who watches live), the RPC catalog (who answers, who calls),
 * and who writes and reads the log stream and the output bucket. Everything else is refused by the
 * server. nats-server's config is generated from this (libs/infra), and nothing else lists subjects.
 */
export function busPermissions(principal: BusPrincipal): BusPermissions {
  const events = Object.entries(EVENT_CATALOG) as [EventSubject, (typeof EVENT_CATALOG)[EventSubject]][];
  const rpcs = Object.entries(RPC_CATALOG) as [RpcSubject, (typeof RPC_CATALOG)[RpcSubject]][];
  const answers = rpcs.filter(([, rpc]) => rpc.respondedBy === principal).map(([subject]) => subject);

  const publish = [
    ...events.filter(([, event]) => event.publishedBy === principal).map(([subject]) => subject),
    ...rpcs.filter(([, rpc]) => (rpc.calledBy as readonly string[]).includes(principal)).map(([subject]) => subject),
    ...(LIVE_LOG_STREAM.writtenBy === principal ? LIVE_LOG_STREAM.subjects : []),
    ...(OUTPUT_BUCKET_ACCESS.writtenBy === principal ? [`$O.${OUTPUT_BUCKET}.>`] : []),
    ...KV_BUCKETS.filter((bucket) => bucket.writtenBy === principal).map((bucket) => `$KV.${bucket.name}.>`),
  ];
  const streams = streamAccessOf(principal);
  if (streams.size > 0) publish.push('$JS.API.INFO', '$JS.API.STREAM.NAMES');
  for (const [stream, access] of streams) publish.push(...jetStreamApi(stream, access, principal !== 'integrations'));

  const subscribe = [
    `${busInboxPrefix(principal)}.>`,
    ...answers,
    ...events.filter(([, event]) => ('watchedBy' in event ? (event.watchedBy as readonly string[]) : []).includes(principal)).map(([subject]) => subject),
  ];
  return { publish: unique(publish), subscribe: unique(subscribe), allowResponses: answers.length > 0 };
}

/** Every principal's permissions: what nats-server's `authorization { users }` is generated from. */
export function allBusPermissions(): Record<BusPrincipal, BusPermissions> {
  return Object.fromEntries(BUS_PRINCIPALS.map((principal) => [principal, busPermissions(principal)])) as Record<
    BusPrincipal,
    BusPermissions
  >;
}

/**
 * The streams a principal touches. HUB_EVENTS: managed by every service that publishes an event or
 * consumes one through a durable (each ensures the stream at boot), read by integrations (their
 * durables) and by its other readers (the gateway's SSE). HUB_LOGS, the output bucket and the KV
 * buckets (runners' heartbeats, the installation id): managed by their writer, read by their readers;
 * a reader of the output bucket may also create it (the client creates a missing bucket when it opens
 * it, and the gateway may open it before any runner has).
 */
function streamAccessOf(principal: BusPrincipal): Map<string, StreamAccess> {
  const access = new Map<string, StreamAccess>();
  const grant = (stream: string, level: StreamAccess) => {
    if (access.get(stream) !== 'manage') access.set(stream, level);
  };
  for (const event of Object.values(EVENT_CATALOG)) {
    const consumers = event.consumedBy.map(consumerName);
    if (event.publishedBy === principal) grant(EVENT_STREAM.name, 'manage');
    if (consumers.includes(principal)) grant(EVENT_STREAM.name, principal === 'integrations' ? 'read' : 'manage');
  }
  if ((EVENT_STREAM.readBy as readonly string[]).includes(principal)) grant(EVENT_STREAM.name, 'read');
  if (LIVE_LOG_STREAM.writtenBy === principal) grant(LIVE_LOG_STREAM.name, 'manage');
  if ((LIVE_LOG_STREAM.readBy as readonly string[]).includes(principal)) grant(LIVE_LOG_STREAM.name, 'read');
  if (OUTPUT_BUCKET_ACCESS.writtenBy === principal) grant(OUTPUT_STREAM, 'manage');
  if ((OUTPUT_BUCKET_ACCESS.readBy as readonly string[]).includes(principal)) grant(OUTPUT_STREAM, 'read');
  for (const bucket of KV_BUCKETS) {
    if (bucket.writtenBy === principal) grant(`KV_${bucket.name}`, 'manage');
    if ((bucket.readBy as readonly string[]).includes(principal)) grant(`KV_${bucket.name}`, 'read');
  }
  return access;
}

/** 'container-runner (one durable shared by all runners)' → 'container-runner'. */
function consumerName(entry: string): string {
  return entry.split(' ')[0] ?? entry;
}

/** The JetStream API requests (and acks) `access` on `stream` takes. */
function jetStreamApi(stream: string, access: StreamAccess, mayDeleteConsumers: boolean): string[] {
  const api = '$JS.API';
  const read = [
    `${api}.STREAM.INFO.${stream}`,
    `${api}.STREAM.MSG.GET.${stream}`,
    `${api}.DIRECT.GET.${stream}`,
    `${api}.DIRECT.GET.${stream}.>`,
    `${api}.CONSUMER.CREATE.${stream}`,
    `${api}.CONSUMER.CREATE.${stream}.>`,
    `${api}.CONSUMER.DURABLE.CREATE.${stream}.*`,
    `${api}.CONSUMER.INFO.${stream}.*`,
    `${api}.CONSUMER.MSG.NEXT.${stream}.*`,
    `${api}.CONSUMER.NAMES.${stream}`,
    `${api}.CONSUMER.LIST.${stream}`,
    ...(mayDeleteConsumers ? [`${api}.CONSUMER.DELETE.${stream}.*`] : []),
    `$JS.ACK.${stream}.>`,
  ];
  if (access === 'read') return stream === OUTPUT_STREAM ? [...read, `${api}.STREAM.CREATE.${stream}`] : read;
  return [
    ...read,
    `${api}.STREAM.CREATE.${stream}`,
    `${api}.STREAM.UPDATE.${stream}`,
    `${api}.STREAM.PURGE.${stream}`,
    `${api}.STREAM.MSG.DELETE.${stream}`,
  ];
}

const unique = (subjects: string[]) => [...new Set(subjects)];
