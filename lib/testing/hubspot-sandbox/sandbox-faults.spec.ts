import { isWrite, SandboxFaults, seededRandom } from './sandbox-faults';
import type { SandboxRequestInfo } from './sandbox-options.interface';

const req = (method: string, path: string): SandboxRequestInfo => ({
  method,
  path,
  query: new URLSearchParams(),
  headers: {},
});

describe('SandboxFaults', () => {
  it('draws the same sequence for the same seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('matches scripted faults by method and path boundary, the given number of times', () => {
    const faults = new SandboxFaults(1, undefined);
    faults.inject({
      kind: '500',
      times: 2,
      method: 'post',
      path: '/crm/v3/objects/contacts',
    });
    expect(faults.pick(req('GET', '/crm/v3/objects/contacts'))).toBeUndefined();
    expect(
      faults.pick(req('POST', '/crm/v3/objects/contactsx')),
    ).toBeUndefined();
    expect(
      faults.pick(req('POST', '/crm/v3/objects/contacts/batch/upsert'))?.kind,
    ).toBe('500');
    expect(faults.pick(req('POST', '/crm/v3/objects/contacts'))?.kind).toBe(
      '500',
    );
    expect(
      faults.pick(req('POST', '/crm/v3/objects/contacts')),
    ).toBeUndefined();
  });

  it('restarts the random sequence on reset', () => {
    const faults = new SandboxFaults(9, { rate: 0.5, kinds: ['500', '503'] });
    const run = () =>
      Array.from(
        { length: 20 },
        () => faults.pick(req('GET', '/x'))?.kind ?? 'ok',
      );
    const first = run();
    faults.reset();
    expect(run()).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['ok', '500', '503']));
  });

  it('tells writes from reads, and plays ghost writes only on writes', () => {
    expect(isWrite(req('POST', '/crm/v3/objects/contacts/batch/upsert'))).toBe(
      true,
    );
    expect(isWrite(req('PATCH', '/crm/objects/2026-03/contacts/1'))).toBe(true);
    expect(isWrite(req('POST', '/crm/v3/objects/contacts/search'))).toBe(false);
    expect(isWrite(req('POST', '/crm/v3/objects/contacts/batch/read'))).toBe(
      false,
    );
    expect(isWrite(req('GET', '/crm/v3/objects/contacts/1'))).toBe(false);

    const faults = new SandboxFaults(3, [
      { rate: 1, path: '/crm/v3/objects/deals', kinds: ['503'] },
      { rate: 1, kinds: ['500'], ghostRate: 1 },
    ]);
    expect(faults.pick(req('GET', '/crm/v3/objects/deals/1'))).toEqual({
      kind: '503',
    });
    expect(faults.pick(req('POST', '/crm/v3/objects/contacts'))).toEqual({
      kind: '500',
      afterWrite: true,
    });
    expect(faults.pick(req('GET', '/crm/v3/objects/contacts'))).toEqual({
      kind: '500',
    });

    const scripted = new SandboxFaults(1, undefined);
    scripted.inject({ kind: 'reset', afterWrite: true }, true);
    expect(
      scripted.pick(req('GET', '/crm/v3/objects/contacts')),
    ).toBeUndefined();
    expect(scripted.pick(req('DELETE', '/crm/v3/objects/contacts/1'))).toEqual({
      kind: 'reset',
      afterWrite: true,
    });
  });
});
