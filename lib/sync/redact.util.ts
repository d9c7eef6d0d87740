/** The one redactor: what is stored, logged or thrown never carries a credential. */

/** Shortest echo of the token that counts as a leak: 12 characters, in any shape. */
export const SECRET_FRAGMENT_LENGTH = 12;
/** What replaces a leaked fragment. */
export const REDACTED = '[redacted]';
/** Longest stretch of a response body kept in an error message (after redaction). */
export const MAX_KEPT_BODY_CHARS = 300;
/** Longest stretch of a body read for redaction; the rest is dropped unread. */
const MAX_SCANNED_BODY_CHARS = 64 * 1024;

/**
 * Finds echoes of a secret in text the CRM sent back (gateway error pages, reflected headers) and
 * blanks them: any run of 12+ characters of the token, of its URL-encoded form or of its base64 /
 * base64url encodings (at each of the three byte alignments), also when the echo is split by
 * spaces, line breaks, markup or percent-escapes of separators. Shorter fragments cannot identify
 * the token and are left alone.
 */
export class SecretRedactor {
  readonly #grams = new Set<string>();

  constructor(secret: string) {
    for (const variant of variantsOf(secret)) {
      for (let i = 0; i + SECRET_FRAGMENT_LENGTH <= variant.length; i++) {
        this.#grams.add(variant.slice(i, i + SECRET_FRAGMENT_LENGTH));
      }
    }
  }

  /** `text` with every echo of the secret, and anything credential-shaped, replaced by `[redacted]`. */
  redact(text: string): string {
    return redactSecrets(this.blankEchoes(text));
  }

  private blankEchoes(text: string): string {
    if (!this.#grams.size || text.length < SECRET_FRAGMENT_LENGTH) return text;
    const hits = new Uint8Array(text.length);
    let any = this.mark(text, identity(text), hits);
    // Split echoes: the same search over the text with separators (space, markup, %XX) dropped.
    any = this.mark(text, skeleton(text), hits) || any;
    if (!any) return text;
    let out = '';
    for (let i = 0; i < text.length;) {
      if (!hits[i]) {
        out += text[i++];
        continue;
      }
      while (i < text.length && hits[i]) i++;
      out += REDACTED;
    }
    return out;
  }

  /** Redacts, then keeps at most `max` characters (a kept body is bounded). */
  excerpt(text: string, max = MAX_KEPT_BODY_CHARS): string {
    const clean = this.redact(text.slice(0, MAX_SCANNED_BODY_CHARS));
    return clean.length > max ? `${clean.slice(0, max)}…` : clean;
  }

  /** Marks the original positions of every 12-gram of `view` that belongs to the secret. */
  private mark(
    text: string,
    view: { chars: string; at: number[] },
    hits: Uint8Array,
  ): boolean {
    let any = false;
    const { chars, at } = view;
    for (let i = 0; i + SECRET_FRAGMENT_LENGTH <= chars.length; i++) {
      if (!this.#grams.has(chars.slice(i, i + SECRET_FRAGMENT_LENGTH)))
        continue;
      any = true;
      const from = at[i];
      const to = at[i + SECRET_FRAGMENT_LENGTH - 1];
      for (let k = from; k <= to && k < text.length; k++) hits[k] = 1;
    }
    return any;
  }
}

function variantsOf(secret: string): string[] {
  if (!secret) return [];
  const out = new Set<string>([secret, encodeURIComponent(secret)]);
  const bytes = Buffer.from(secret, 'utf8');
  for (let shift = 0; shift < 3 && shift < bytes.length; shift++) {
    const part = bytes.subarray(shift);
    // The last group depends on what follows the echo: drop it, the rest is fixed.
    for (const encoded of [
      part.toString('base64'),
      part.toString('base64url'),
    ]) {
      out.add(encoded.replace(/=+$/, '').slice(0, -4));
    }
  }
  for (const v of [...out]) out.add(v.replace(/[^A-Za-z0-9]/g, ''));
  return [...out].filter((v) => v.length >= SECRET_FRAGMENT_LENGTH);
}

function identity(text: string): { chars: string; at: number[] } {
  return { chars: text, at: Array.from({ length: text.length }, (_, i) => i) };
}

/** Only letters and digits, with each one's position in the original text. */
function skeleton(text: string): { chars: string; at: number[] } {
  let chars = '';
  const at: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      i += 2;
      continue;
    }
    if (c === '<') {
      const end = text.indexOf('>', i);
      if (end !== -1 && end - i < 200) {
        i = end;
        continue;
      }
    }
    if (/[A-Za-z0-9]/.test(c)) {
      chars += c;
      at.push(i);
    }
  }
  return { chars, at };
}

/**
 * Strips anything credential-shaped from a message before it is stored or logged. Used alone where
 * no secret is known; SecretRedactor adds the echoes of a known one.
 */
export function redactSecrets(message: string): string {
  return message
    .replace(/(bearer\s+)[^\s"',]+/gi, `$1${REDACTED}`)
    .replace(/\bpat-[a-z0-9]+-[0-9a-f-]{8,}\b/gi, REDACTED)
    .replace(/(access_?token["'=:\s]+)[^\s"',&]+/gi, `$1${REDACTED}`);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error)
    return redactSecrets(`${error.name}: ${error.message}`);
  return redactSecrets(String(error));
}
