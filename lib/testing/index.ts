import { claimModuleFormat } from '../module-format.util';

claimModuleFormat();

export * from './in-memory-crm.adapter';
export * from './crm-adapter-contract';
export * from './hubspot-sandbox/hubspot-sandbox';
