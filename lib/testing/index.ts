export * from './in-memory-crm.adapter';
