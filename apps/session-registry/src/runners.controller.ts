import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RPC, RunnerList } from '@hub/contracts';
import { RunnerQueries } from '@hub/registry';

/** The runners the registry knows, alive or lost (readiness and `GET /api/v1/runners` ask). */
@Controller()
export class RunnersController {
  constructor(private readonly runners: RunnerQueries) {}

  @MessagePattern(RPC.listRunners)
  onListRunners(): Promise<RunnerList> {
    return this.runners.list();
  }
}
