/** Options of the `etlify-migration` schematic; mirrors schema.json. */
export interface EtlifyMigrationOptions {
  name?: string;
  path?: string;
  sourceRoot?: string;
  timestamp?: number;
}
