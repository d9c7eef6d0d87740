/**
 * Map key of a CRM and a type (entity or CRM object type), plus any further parts. The parts are
 * joined with NUL, which no CRM, entity or property name holds, so different parts never collide.
 */
export function crmTypeKey(
  crm: string,
  type: string,
  ...rest: string[]
): string {
  return [crm, type, ...rest].join('\u0000');
}
