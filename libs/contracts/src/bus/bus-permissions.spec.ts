import { EVENT_CATALOG, EventSubject } from '../events/event-catalog';
import { RPC_CATALOG, RpcSubject } from '../rpc/rpc-catalog';
import { busPermissions } from './bus-permissions';
import { BUS_PRINCIPALS, BUS_SERVICES } from './bus-principals';

describe('busPermissions', () => {
  const events = Object.keys(EVENT_CATALOG) as EventSubject[];
  const rpcs = Object.keys(RPC_CATALOG) as RpcSubject[];

  it('lets each event be published by its publisher alone', () => {
    for (const subject of events) {
      const publishers = BUS_PRINCIPALS.filter((principal) => busPermissions(principal).publish.includes(subject));
      expect({ subject, publishers }).toEqual({ subject, publishers: [EVENT_CATALOG[subject].publishedBy] });
    }
  });

  it('keeps container.exited to the runner: the resolver, the gateway and integrations may not publish it', () => {
    for (const principal of ['dependency-resolver', 'gateway', 'session-registry', 'integrations'] as const) {
      expect(busPermissions(principal).publish).not.toContain('container.exited');
      expect(busPermissions(principal).publish.some((subject) => subject.endsWith('>') && !subject.startsWith('$'))).toBe(false);
    }
    expect(busPermissions('container-runner').publish).toContain('container.exited');
  });

  it('lets a request subject be sent by its callers and answered (subscribed) by its responder only', () => {
    for (const subject of rpcs) {
      const { respondedBy, calledBy } = RPC_CATALOG[subject];
      const senders = BUS_PRINCIPALS.filter((principal) => busPermissions(principal).publish.includes(subject));
      const listeners = BUS_PRINCIPALS.filter((principal) => busPermissions(principal).subscribe.includes(subject));
      expect({ subject, senders: [...senders].sort() }).toEqual({ subject, senders: [...calledBy].sort() });
      expect({ subject, listeners }).toEqual({ subject, listeners: [respondedBy] });
    }
    expect(busPermissions('session-registry').allowResponses).toBe(true);
    expect(busPermissions('gateway').allowResponses).toBe(false);
  });

  it('gives each principal its own inbox and no one another', () => {
    for (const principal of BUS_PRINCIPALS) {
      const inboxes = busPermissions(principal).subscribe.filter((subject) => subject.startsWith('_INBOX'));
      expect(inboxes).toEqual([`_INBOX.${principal}.>`]);
    }
  });

  it('lets the gateway watch the events ?wait= waits for, and read the streams, without publishing any event', () => {
    const gateway = busPermissions('gateway');
    expect(gateway.subscribe).toEqual(expect.arrayContaining(['session.status-changed', 'orchestration.finished', 'orchestration.result']));
    expect(gateway.publish.filter((subject) => events.includes(subject as EventSubject))).toEqual([]);
    expect(gateway.publish).toEqual(
      expect.arrayContaining(['$JS.API.CONSUMER.CREATE.HUB_EVENTS.>', '$JS.API.CONSUMER.MSG.NEXT.HUB_LOGS.*', '$JS.API.STREAM.INFO.OBJ_hub-session-output']),
    );
    expect(gateway.publish).not.toContain('$JS.API.STREAM.PURGE.HUB_EVENTS');
    expect(gateway.publish.some((subject) => subject.startsWith('$O.') || subject.startsWith('logs.'))).toBe(false);
  });

  it('lets the runner write the output bucket and the log stream, and no one else', () => {
    for (const principal of BUS_PRINCIPALS) {
      const writes = busPermissions(principal).publish.filter((subject) => subject.startsWith('$O.') || subject.startsWith('logs.'));
      expect({ principal, writes }).toEqual({
        principal,
        writes: principal === 'container-runner' ? ['logs.>', '$O.hub-session-output.>'] : [],
      });
    }
  });

  it('gives integrations HUB_EVENTS to read and nothing else: no event, no request, no stream change, no consumer deletion', () => {
    const { publish, subscribe, allowResponses } = busPermissions('integrations');
    expect(publish.every((subject) => subject.startsWith('$JS.'))).toBe(true);
    expect(publish.filter((subject) => /^\$JS\.API\.(STREAM|CONSUMER|DIRECT)\./.test(subject) && !subject.includes('HUB_EVENTS'))).toEqual(['$JS.API.STREAM.NAMES']);
    expect(publish.some((subject) => /STREAM\.(CREATE|UPDATE|PURGE|DELETE|MSG\.DELETE)|CONSUMER\.DELETE/.test(subject))).toBe(false);
    expect(subscribe).toEqual(['_INBOX.integrations.>']);
    expect(allowResponses).toBe(false);
  });

  it('never gives a service a wildcard over the whole bus', () => {
    for (const principal of BUS_SERVICES) {
      const { publish, subscribe } = busPermissions(principal);
      expect([...publish, ...subscribe]).not.toEqual(expect.arrayContaining(['>']));
      expect(publish).not.toContain('$JS.API.>');
    }
  });
});
