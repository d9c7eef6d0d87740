import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { CrmPayload, EtlifySerializer } from 'nestjs-etlify';
import { Repository } from 'typeorm';
import { Investment } from '../investments/investment.entity';
import type { User } from './user.entity';

/**
 * A serializer is a provider like any other: this one asks the database for the user's total,
 * so it is right whether or not the caller loaded the investments relation.
 */
@Injectable()
export class UserEtlifySerializer implements EtlifySerializer<User> {
  readonly version = 1;

  constructor(
    @InjectRepository(Investment)
    private readonly investments: Repository<Investment>,
  ) {}

  async toCrmPayload(user: User): Promise<CrmPayload> {
    const total = await this.investments.sum('amount', {
      user: { id: user.id },
    });
    return {
      email: user.email,
      firstname: user.firstName,
      lastname: user.lastName,
      // The company is an association (see User), not a text property.
      hs_lead_status: user.leadStatus,
      total_invested: total ?? 0,
    };
  }
}
