/**
 * Thrown by an event handler to say "not now": JetStreamServer hands the event back to the same
 * durable after `delayMs` (a nak with that delay), without counting it as a failure. A runner
 * throws it for a retry whose backoff has not yet run out.
 */
export class DeferredDelivery extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'DeferredDelivery';
  }
}
