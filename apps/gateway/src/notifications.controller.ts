import { Controller, Get, Query } from '@nestjs/common';
import { ListNotificationDeliveriesQuery, ListNotificationDeliveriesQuerySchema, NotificationDeliveryPage } from '@hub/contracts';
import { API_PREFIX, ZodValidationPipe } from '@hub/gateway-http';
import { HubApi } from '@hub/hub-api';

/** Outbound notifications: what became of each delivery to the operator's webhooks (read only; webhooks are not configured here). */
@Controller(`${API_PREFIX}/notifications`)
export class NotificationsController {
  constructor(private readonly hub: HubApi) {}

  @Get('deliveries')
  deliveries(
    @Query(new ZodValidationPipe(ListNotificationDeliveriesQuerySchema)) query: ListNotificationDeliveriesQuery,
  ): Promise<NotificationDeliveryPage> {
    return this.hub.listNotificationDeliveries(query);
  }
}
