import { z } from 'zod';
import { formatEgressDestination, MAX_EGRESS_DESTINATION_LENGTH, parseEgressDestination } from './egress-destination';

/** At most this many destinations a session may name. */
export const MAX_SESSION_EGRESS = 50;
/** At most this many destinations a session's egress record names; the rest are counted together. */
export const MAX_EGRESS_ENTRIES = 50;

/** A destination as a session names it (`host`, `host:port`, `host:*`, `*.domain`), kept as `host:port`. */
export const EgressDestinationSchema = z
  .string()
  .max(MAX_EGRESS_DESTINATION_LENGTH)
  .transform((value, ctx) => {
    const parsed = parseEgressDestination(value);
    if (parsed.ok) return formatEgressDestination(parsed.destination);
    ctx.issues.push({ code: 'custom', message: parsed.message, input: value });
    return z.NEVER;
  });

/**
 * The destinations a session may reach through Hub's egress proxy, within what its image is allowed
 * (HUB_EGRESS): a session asking for more is refused when created. Absent: its image's allowance.
 */
export const SessionEgressRequestSchema = z
  .array(EgressDestinationSchema)
  .max(MAX_SESSION_EGRESS)
  .describe(
    "Destinations the agent may reach through Hub's egress proxy (host, host:port, host:* or *.domain; port 443 when none is given), " +
      "within what the runner allows its image (HUB_EGRESS). Default: the image's allowance; [] for none",
  );

/** One destination an attempt asked the proxy for: how often, whether it was let through (or why not), and the bytes. */
export const EgressEntrySchema = z.object({
  /** `host:port` as the agent asked for it (cut to 300 characters). */
  destination: z.string().max(300),
  allowed: z.boolean(),
  /** Why it was refused (null when allowed). */
  reason: z.string().max(300).nullable(),
  /** Connections (tunnels and plain HTTP requests) asked for. */
  connections: z.number().int().nonnegative(),
  /** Bytes received from the destination, and sent to it. */
  bytesIn: z.number().int().nonnegative(),
  bytesOut: z.number().int().nonnegative(),
});
export type EgressEntry = z.infer<typeof EgressEntrySchema>;

/** The destinations beyond the first MAX_EGRESS_ENTRIES, counted together. */
export const EgressOthersSchema = z.object({
  destinations: z.number().int().nonnegative(),
  connections: z.number().int().nonnegative(),
  refused: z.number().int().nonnegative(),
  bytesIn: z.number().int().nonnegative(),
  bytesOut: z.number().int().nonnegative(),
});

/** What an attempt's agent reached, or tried to, through the egress proxy: bounded whatever it did. */
export const EgressTrafficSchema = z.object({
  destinations: z.array(EgressEntrySchema).max(MAX_EGRESS_ENTRIES),
  /** Those beyond the first MAX_EGRESS_ENTRIES (null when none). */
  others: EgressOthersSchema.nullable(),
});
export type EgressTraffic = z.infer<typeof EgressTrafficSchema>;
