import type { Socket } from 'node:net';
import { MAX_EGRESS_ENTRIES, type EgressEntry, type EgressTraffic } from '@hub/contracts';

/** Destinations remembered one by one per session; past them, connections are counted together. */
const MAX_TRACKED = 1_000;
const MAX_DESTINATION_CHARS = 300;

interface Entry {
  destination: string;
  allowed: boolean;
  reason: string | null;
  connections: number;
  bytesIn: number;
  bytesOut: number;
  /** Connections to the destination still open: their bytes are read from the sockets. */
  open: Set<Socket>;
}

/**
 * One session's record of its egress, as the proxy saw it: each destination asked for (in the order
 * first asked), let through or refused with why, its connections and the bytes each way (counted on
 * the proxy's sockets to the destination, so always as of now). Bounded whatever the agent does.
 */
export class EgressTally {
  private readonly entries = new Map<string, Entry>();
  private readonly untracked = { destinations: 0, connections: 0, refused: 0, bytesIn: 0, bytesOut: 0 };

  /** A connection refused before anything was sent; true the first time this destination is refused. */
  refused(destination: string, reason: string): boolean {
    const entry = this.entryOf(destination, false, reason);
    if (!entry) {
      this.untracked.connections++;
      this.untracked.refused++;
      return false;
    }
    entry.connections++;
    return entry.connections === 1;
  }

  /** A connection let through to the destination, on `socket` (counted until it closes). */
  opened(destination: string, socket: Socket): void {
    const entry = this.entryOf(destination, true, null);
    if (!entry) {
      this.untracked.connections++;
      socket.once('close', () => {
        this.untracked.bytesIn += socket.bytesRead;
        this.untracked.bytesOut += socket.bytesWritten;
      });
      return;
    }
    entry.connections++;
    entry.open.add(socket);
    socket.once('close', () => {
      entry.open.delete(socket);
      entry.bytesIn += socket.bytesRead;
      entry.bytesOut += socket.bytesWritten;
    });
  }

  /** What is recorded so far, bounded as `container.exited` carries it. */
  summary(): EgressTraffic {
    const all = [...this.entries.values()].map(toEntry);
    const shown = all.slice(0, MAX_EGRESS_ENTRIES);
    const rest = all.slice(MAX_EGRESS_ENTRIES);
    const others = rest.reduce(
      (sum, e) => ({
        destinations: sum.destinations + 1,
        connections: sum.connections + e.connections,
        refused: sum.refused + (e.allowed ? 0 : e.connections),
        bytesIn: sum.bytesIn + e.bytesIn,
        bytesOut: sum.bytesOut + e.bytesOut,
      }),
      { ...this.untracked },
    );
    return { destinations: shown, others: others.connections || others.destinations ? others : null };
  }

  private entryOf(destination: string, allowed: boolean, reason: string | null): Entry | null {
    const shown = destination.slice(0, MAX_DESTINATION_CHARS);
    const key = `${allowed}:${shown}`;
    const found = this.entries.get(key);
    if (found) return found;
    // Past MAX_TRACKED, a new destination's connections and bytes are counted in `others`, not it.
    if (this.entries.size >= MAX_TRACKED) return null;
    const entry: Entry = { destination: shown, allowed, reason: reason?.slice(0, MAX_DESTINATION_CHARS) ?? null, connections: 0, bytesIn: 0, bytesOut: 0, open: new Set() };
    this.entries.set(key, entry);
    return entry;
  }
}

function toEntry(entry: Entry): EgressEntry {
  let { bytesIn, bytesOut } = entry;
  for (const socket of entry.open) {
    bytesIn += socket.bytesRead;
    bytesOut += socket.bytesWritten;
  }
  return { destination: entry.destination, allowed: entry.allowed, reason: entry.reason, connections: entry.connections, bytesIn, bytesOut };
}
