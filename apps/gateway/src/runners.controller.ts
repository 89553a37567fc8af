import { Controller, Get } from '@nestjs/common';
import { RunnerList } from '@hub/contracts';
import { API_PREFIX } from '@hub/gateway-http';
import { HubApi } from '@hub/hub-api';

/** The runners the registry knows: alive or lost, labels, slots, last seen, the sessions each holds. */
@Controller(`${API_PREFIX}/runners`)
export class RunnersController {
  constructor(private readonly hub: HubApi) {}

  @Get()
  list(): Promise<RunnerList> {
    return this.hub.listRunners();
  }
}
