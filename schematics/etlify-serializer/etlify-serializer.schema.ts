/** Options of the `etlify-serializer` schematic; mirrors schema.json. */
export interface EtlifySerializerOptions {
  name: string;
  path?: string;
  sourceRoot?: string;
  language?: string;
  flat?: boolean;
  spec?: boolean;
  specFileSuffix?: string;
  skipImport?: boolean;
  module?: string;
}
