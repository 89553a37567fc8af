import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditLog } from './audit-log';

/** The audit log, in the registry's process: written after each audited write (by the app's interceptor), and listed. */
@Module({})
export class AuditModule {
  static forRoot(dataSource: DataSource): DynamicModule {
    return {
      module: AuditModule,
      providers: [{ provide: DataSource, useValue: dataSource }, AuditLog],
      exports: [AuditLog],
    };
  }
}
