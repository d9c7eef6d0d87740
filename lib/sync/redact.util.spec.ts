import { parseErrorBody } from '../adapters/hubspot/hubspot-errors.util';
import { MAX_KEPT_BODY_CHARS, SecretRedactor } from './redact.util';

const TOKEN = `CiQ2YjEyLTRmZTMtYmQ4/OAUTH+style_${'a1B2c3D4e5F6g7H8'.repeat(8)}==`;

function leaks(text: string): string[] {
  const found: string[] = [];
  for (let i = 0; i + 12 <= TOKEN.length; i++) {
    if (text.includes(TOKEN.slice(i, i + 12)))
      found.push(TOKEN.slice(i, i + 12));
  }
  return found;
}

describe('SecretRedactor', () => {
  const redactor = new SecretRedactor(TOKEN);

  it.each([
    ['whole', (t: string) => `Authorization: Bearer ${t} was refused`],
    [
      'a 151-character fragment',
      (t: string) => `<p>token=${t.slice(20, 171)}</p>`,
    ],
    [
      'URL-encoded',
      (t: string) => `GET /x?access_token=${encodeURIComponent(t)}`,
    ],
    [
      'base64',
      (t: string) => `hdr: ${Buffer.from(`Bearer ${t}`).toString('base64')}`,
    ],
    [
      'base64url',
      (t: string) => `h=${Buffer.from(`x${t}`).toString('base64url')}`,
    ],
    [
      'split by markup and line breaks',
      (t: string) => `<td>${t.slice(0, 40)}</td>\n<td>${t.slice(40, 90)}</td>`,
    ],
    [
      'split with spaces',
      (t: string) => t.slice(30, 120).replace(/(.{10})/g, '$1 '),
    ],
  ])('blanks an echo of the token: %s', (_, shape) => {
    const text = shape(TOKEN);
    const clean = redactor.redact(text);
    expect(clean).toContain('[redacted]');
    expect(leaks(clean)).toEqual([]);
    // Shapes that re-encode the token: decoded, they must not give it back either.
    expect(
      leaks(decodeURIComponent(clean.replace(/%(?![0-9A-F]{2})/gi, ''))),
    ).toEqual([]);
  });

  it('leaves text without an echo alone, and short coincidences (< 12 characters) too', () => {
    const text = `HubSpot 502 on POST /crm/objects: ${TOKEN.slice(5, 16)} Bad gateway`;
    expect(redactor.redact(text)).toBe(text);
  });

  it('blanks credential-shaped text that is not its own token too (one redactor for both)', () => {
    const other = 'pat-na1-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
    expect(redactor.redact(`proxy saw Authorization: Bearer ${other}`)).toBe(
      'proxy saw Authorization: Bearer [redacted]',
    );
    expect(redactor.redact(`retry with ${other}`)).toBe(
      'retry with [redacted]',
    );
  });

  it('keeps a bounded excerpt of an HTML error page, redacted before it is cut', () => {
    const page = `<html><body><h1>502</h1><pre>${'x'.repeat(180)} Authorization: Bearer ${TOKEN}</pre>${'y'.repeat(5000)}</body></html>`;
    const body = parseErrorBody(page, redactor);
    expect(body.message!.length).toBeLessThanOrEqual(MAX_KEPT_BODY_CHARS + 1);
    expect(leaks(body.message!)).toEqual([]);
    const json = parseErrorBody(
      { message: `echo ${TOKEN}`, errors: [{ message: TOKEN.slice(3, 40) }] },
      redactor,
    );
    expect(leaks(JSON.stringify(json))).toEqual([]);
  });
});
