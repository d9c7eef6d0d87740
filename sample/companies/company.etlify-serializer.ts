import { Injectable } from '@nestjs/common';
import { CrmPayload, EtlifySerializer } from 'nestjs-etlify';
import type { Company } from './company.entity';

@Injectable()
export class CompanyEtlifySerializer implements EtlifySerializer<Company> {
  readonly version = 1;

  toCrmPayload(company: Company): CrmPayload {
    return { name: company.name, domain: company.domain };
  }
}
