import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { EventOf, EVENTS, RPC, RpcRequest } from '@hub/contracts';
import { NotificationDeliveries, RecordNotifications } from '@hub/notifications';

/** Outbound notifications: the events they are made of (through the registry's own durables), and their deliveries (request/reply). */
@Controller()
export class NotificationsController {
  constructor(
    private readonly recordNotifications: RecordNotifications,
    private readonly deliveries: NotificationDeliveries,
  ) {}

  @EventPattern(EVENTS.sessionStatusChanged)
  onSessionStatusChanged(@Payload() event: EventOf<'session.status-changed'>) {
    return this.recordNotifications.execute(event);
  }

  @EventPattern(EVENTS.orchestrationFinished)
  onOrchestrationFinished(@Payload() event: EventOf<'orchestration.finished'>) {
    return this.recordNotifications.execute(event);
  }

  @EventPattern(EVENTS.orchestrationBudgetThreshold)
  onOrchestrationBudgetThreshold(@Payload() event: EventOf<'orchestration.budget-threshold'>) {
    return this.recordNotifications.execute(event);
  }

  @EventPattern(EVENTS.sessionRateLimited)
  onSessionRateLimited(@Payload() event: EventOf<'session.rate-limited'>) {
    return this.recordNotifications.execute(event);
  }

  @MessagePattern(RPC.notificationDeliveries)
  onNotificationDeliveries(@Payload() query: RpcRequest<typeof RPC.notificationDeliveries>) {
    return this.deliveries.list(query);
  }
}
