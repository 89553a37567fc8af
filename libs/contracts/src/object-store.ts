/** Where runners keep what a session leaves behind, in the NATS object store. */
export const OUTPUT_BUCKET = 'hub-session-output';

export const logObjectName = (sessionId: string) => `${sessionId}/log`;
export const outputObjectName = (sessionId: string, path: string) => `${sessionId}/output/${path}`;
