import { CrmValidationError } from '../errors/crm.error';
import type { CrmPropertyDefinition } from './crm-property.interface';
import { toCheckedProperties } from './payload-properties.util';
import { plainNumber, toCrmString } from './value-conversion.util';

const defs: CrmPropertyDefinition[] = [
  { name: 'firstname', type: 'string', maxLength: 10 },
  { name: 'amount', type: 'number' },
  { name: 'vip', type: 'bool' },
  { name: 'born', type: 'date' },
  { name: 'seen', type: 'datetime' },
  {
    name: 'stage',
    type: 'enumeration',
    fieldType: 'select',
    options: [{ value: 'lead' }, { value: 'customer' }],
  },
  {
    name: 'tags',
    type: 'enumeration',
    fieldType: 'checkbox',
    options: [{ value: 'a' }, { value: 'b' }, { value: 'c' }],
  },
  { name: 'domain_guess', type: 'string', readOnly: true },
  { name: 'score', type: 'number', calculated: true },
];
const schema = new Map(defs.map((d) => [d.name, d]));

function rejected(payload: Record<string, any>): CrmValidationError {
  try {
    toCheckedProperties('contacts', payload, schema);
  } catch (error) {
    if (error instanceof CrmValidationError) return error;
    throw error;
  }
  throw new Error('expected a CrmValidationError');
}

describe('toCheckedProperties', () => {
  it('converts Dates, booleans, numbers and lists into the strings HubSpot stores', () => {
    expect(
      toCheckedProperties(
        'contacts',
        {
          vip: true,
          amount: 1e21,
          born: new Date('1990-05-01T00:00:00Z'),
          seen: new Date('2026-01-02T03:04:05.006Z'),
          tags: ['a', 'c'],
          firstname: null,
        },
        schema,
      ),
    ).toEqual({
      vip: 'true',
      amount: '1000000000000000000000',
      born: '1990-05-01',
      seen: '2026-01-02T03:04:05.006Z',
      tags: 'a;c',
      firstname: '',
    });
  });

  it.each([
    [{ nope: 'x' }, 'nope', 'UNKNOWN_PROPERTY'],
    [{ domain_guess: 'x' }, 'domain_guess', 'READ_ONLY'],
    [{ score: 3 }, 'score', 'CALCULATED'],
    [{ stage: 'bogus' }, 'stage', 'INVALID_OPTION'],
    [{ tags: 'a,b' }, 'tags', 'MULTI_VALUE_NOT_SEMICOLON_JOINED'],
    [{ tags: 'a; b' }, 'tags', 'MULTI_VALUE_NOT_SEMICOLON_JOINED'],
    [{ tags: 'a;z' }, 'tags', 'INVALID_OPTION'],
    [{ amount: 'lots' }, 'amount', 'NOT_A_NUMBER'],
    [{ amount: '0x1F' }, 'amount', 'NOT_A_NUMBER'],
    [{ vip: 'yes' }, 'vip', 'NOT_A_BOOLEAN'],
    [{ born: 'yesterday' }, 'born', 'NOT_A_DATE'],
    [
      { born: new Date('2024-01-02T10:00:00Z') },
      'born',
      'DATE_NOT_AT_UTC_MIDNIGHT',
    ],
    [{ born: '1704189600000' }, 'born', 'DATE_NOT_AT_UTC_MIDNIGHT'],
    [{ seen: 'soon' }, 'seen', 'NOT_A_DATETIME'],
    [{ firstname: 'x'.repeat(11) }, 'firstname', 'TOO_LONG'],
    [{ firstname: { a: 1 } }, 'firstname', 'UNSUPPORTED_VALUE'],
    [{ amount: Number.NaN }, 'amount', 'UNSUPPORTED_VALUE'],
  ])('rejects %j: %s breaks %s', (payload, property, rule) => {
    const error = rejected(payload);
    expect([error.property, error.rule]).toEqual([property, rule]);
    expect(error.message).toContain(`"${property}"`);
    expect(error.message).toContain(rule);
    expect(error.retryable).toBe(false);
  });

  it('accepts "" (clear) for every writable property and names every problem of a payload', () => {
    expect(
      toCheckedProperties('contacts', { vip: '', born: '', stage: '' }, schema),
    ).toEqual({
      vip: '',
      born: '',
      stage: '',
    });
    const error = rejected({ nope: 1, vip: 'maybe' });
    expect(error.problems?.map((p) => p.rule)).toEqual([
      'UNKNOWN_PROPERTY',
      'NOT_A_BOOLEAN',
    ]);
    expect(error.message).toContain('and 1 more: vip NOT_A_BOOLEAN');
  });

  it('without a schema only converts (HubSpot validates)', () => {
    expect(
      toCheckedProperties(
        'contacts',
        { anything: new Date(0), n: -2.5e-8 },
        null,
      ),
    ).toEqual({
      anything: '1970-01-01T00:00:00.000Z',
      n: '-0.000000025',
    });
  });
});

describe('value conversion', () => {
  it('never writes numbers in exponent form', () => {
    expect([1e21, 1.5e-7, -3e25, 42, 0.1].map(plainNumber)).toEqual([
      '1000000000000000000000',
      '0.00000015',
      '-30000000000000000000000000',
      '42',
      '0.1',
    ]);
  });

  it('writes a Date for a date property as YYYY-MM-DD only at midnight UTC', () => {
    const date: CrmPropertyDefinition = { name: 'd', type: 'date' };
    expect(toCrmString('d', new Date('2024-02-03T00:00:00Z'), date)).toBe(
      '2024-02-03',
    );
    expect(toCrmString('d', new Date('2024-02-03T05:00:00Z'), date)).toBe(
      '2024-02-03T05:00:00.000Z',
    );
  });
});
