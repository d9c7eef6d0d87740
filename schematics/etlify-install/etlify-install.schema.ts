/** Options of the `etlify-install` schematic (alias `etlify`); mirrors schema.json. */
export interface EtlifyInstallOptions {
  module?: string;
  sourceRoot?: string;
  crm?: string;
  tokenVariable?: string;
  config?: boolean;
}
