/** A serializer that did not answer within `serializerTimeoutMs`; its record fails, the others go on. */
export class SerializerTimeoutError extends Error {
  override readonly name = 'SerializerTimeoutError';
}
