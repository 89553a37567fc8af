/**
 * A refusal an entrance answers itself, with its HTTP status (401, 413, 415...): not one of the
 * error codes services exchange over NATS (a HubError), but its message is meant for the caller all
 * the same. The gateway answers it as `{ error: code, message }`; the MCP tools pass the message on;
 * the HTTP implementation of HubApi rebuilds it from such an answer.
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}
