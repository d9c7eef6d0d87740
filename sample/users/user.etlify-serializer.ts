import { Injectable } from '@nestjs/common';
import { CrmPayload, EtlifySerializer } from 'nestjs-etlify';
import type { User } from './user.entity';

@Injectable()
export class UserEtlifySerializer implements EtlifySerializer<User> {
  readonly version = 1;

  toCrmPayload(user: User): CrmPayload {
    return {
      email: user.email,
      firstname: user.firstName,
      lastname: user.lastName,
      company: user.company?.name ?? null,
    };
  }
}
