import type { HostileRequest } from './hostile-request';
import { isResponse, type Outcome } from './raw-client';

interface RouteTally {
  sent: number;
  statuses: Map<string, number>;
  ms: number[];
}

/** Requests sent per route, answers per status (or `reset` / `timeout`), latencies. */
export class Tally {
  private readonly routes = new Map<string, RouteTally>();

  record(request: HostileRequest, outcome: Outcome): void {
    const route: RouteTally = this.routes.get(request.route) ?? { sent: 0, statuses: new Map(), ms: [] };
    this.routes.set(request.route, route);
    const label = isResponse(outcome) ? String(outcome.status) : outcome.failure;
    route.sent++;
    route.statuses.set(label, (route.statuses.get(label) ?? 0) + 1);
    route.ms.push(outcome.ms);
  }

  get total(): number {
    return [...this.routes.values()].reduce((sum, route) => sum + route.sent, 0);
  }

  /** A table of routes and an overall status histogram, for the test's output. */
  report(): string {
    const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
    const overall = new Map<string, number>();
    const lines = [...this.routes.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, route]) => {
        const sorted = [...route.ms].sort((a, b) => a - b);
        const statuses = [...route.statuses.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([status, count]) => {
            overall.set(status, (overall.get(status) ?? 0) + count);
            return `${status}×${count}`;
          })
          .join(' ');
        const latency = `p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted[sorted.length - 1]} ms`;
        return `${String(route.sent).padStart(6)}  ${name.padEnd(52)} ${latency}   ${statuses}`;
      });
    const histogram = [...overall.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ');
    return [`${this.total} hostile requests, per route:`, ...lines, `status codes: ${histogram}`].join('\n');
  }
}
