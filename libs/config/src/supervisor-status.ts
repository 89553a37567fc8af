/**
 * What the Hub stack's supervisor (libs/infra HubService) tells each service it starts, through its
 * environment, so the service can report it in its health: how often it was restarted and how its
 * previous process ended.
 */
export const SUPERVISOR_ENV = {
  /** Restarts so far (0 on the first start). Set only when the stack restarts the service. */
  restarts: 'HUB_SUPERVISOR_RESTARTS',
  /** JSON { pid, code, signal, at } of the previous process, absent on the first start. */
  lastExit: 'HUB_SUPERVISOR_LAST_EXIT',
  /** The service's log file. */
  logFile: 'HUB_SUPERVISOR_LOG_FILE',
} as const;

export interface SupervisorStatus {
  /** False when the service was started by hand (nothing restarts it). */
  supervised: boolean;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
  logFile?: string;
}

/** Reads what the supervisor passed (once, at boot). Malformed values count as absent. */
export function readSupervisorStatus(env: NodeJS.ProcessEnv = process.env): SupervisorStatus {
  const restarts = Number.parseInt(env[SUPERVISOR_ENV.restarts] ?? '', 10);
  const status: SupervisorStatus = { supervised: Number.isInteger(restarts) && restarts >= 0, restarts: Math.max(0, restarts || 0) };
  const logFile = env[SUPERVISOR_ENV.logFile];
  if (logFile) status.logFile = logFile;
  try {
    const exit = JSON.parse(env[SUPERVISOR_ENV.lastExit] ?? '');
    if (exit && typeof exit.at === 'string') {
      status.lastExit = {
        code: typeof exit.code === 'number' ? exit.code : null,
        signal: typeof exit.signal === 'string' ? exit.signal : null,
        at: exit.at,
      };
    }
  } catch {
    // first start: no previous exit
  }
  return status;
}

/**
 * The health check each service adds to its health answer (HealthCheck's shape): always ok, since a
 * service that answers is up; the detail says how often the stack restarted it and why it last stopped.
 */
export function supervisorHealthCheck(status: SupervisorStatus): { name: string; ok: boolean; detail: string } {
  if (!status.supervised) {
    return {
      name: 'restarts',
      ok: true,
      detail: "not started by npm run hub's stack: restarting it is up to what started it (compose's restart policy, systemd)",
    };
  }
  const times = `${status.restarts} time${status.restarts === 1 ? '' : 's'}`;
  const last = status.lastExit
    ? `; last exit: ${status.lastExit.signal ? `killed by ${status.lastExit.signal}` : `exit code ${status.lastExit.code}`} at ${status.lastExit.at}`
    : '';
  return { name: 'restarts', ok: true, detail: `restarted ${times} by the stack${last}` };
}

/** The message a service sends its supervisor once it takes work (see signalReady). */
export const READY_SIGNAL = { hub: 'ready' } as const;

/** Whether a message received from a service's IPC channel is its READY_SIGNAL. */
export function isReadySignal(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { hub?: unknown }).hub === READY_SIGNAL.hub;
}

/**
 * Tells the stack's supervisor (libs/infra HubService, which starts each service with an IPC
 * channel) that this service now takes work: its consumers are bound, or its HTTP port listens.
 * Nothing happens when the service was started by hand.
 */
export function signalReady(): void {
  process.send?.(READY_SIGNAL);
}
