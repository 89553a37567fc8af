/**
 * What the janitor sees of a container engine: every container of one Hub deployment (labelled
 * `hub.installation`), whichever runner made it, and when each started and finished. The Docker
 * implementation is DockerContainerEngine, which labels every container it creates with its
 * installation id.
 */
export interface InstalledContainer {
  containerId: string;
  /** Its hub.runner label: the runner that made it (null: none). */
  runnerId: string | null;
  /** Its hub.session label: a session's container, or a session's helper (its egress bridge). */
  sessionId: string | null;
  /** Its hub.helper label: what a helper container is for (null: a session's container). */
  helper: string | null;
  /** Docker's state: `created`, `running`, `paused`, `restarting`, `exited`, `dead`, `removing`. */
  state: string;
  createdAt: Date;
}

export interface ContainerTimes {
  /** null: never started. */
  startedAt: Date | null;
  /** null: not finished (still running, or never started). */
  finishedAt: Date | null;
}

export interface InstallationContainers {
  /** Every container labelled `hub.installation=<installationId>` (sessions' and helpers'), on this engine. */
  listInstallationContainers(installationId: string): Promise<InstalledContainer[]>;
  /** When the container started and finished; null when it no longer exists. */
  containerTimes(containerId: string): Promise<ContainerTimes | null>;
  /** Removes the container (forced). No error if it is already gone. */
  remove(containerId: string): Promise<void>;
}
