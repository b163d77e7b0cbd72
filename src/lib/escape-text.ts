/**
 * Client-supplied text made safe for any log viewer (request and admin audit events alike): control characters (C0, DEL, C1) and
 * backslashes are escaped as `\xNN` / `\\`, lone surrogates replaced, and the result capped
 * at `max` characters with a trailing `…` when cut.
 */
export function escapeText(s: string, max: number): string {
  let out = '';
  for (const ch of s.toWellFormed()) {
    const c = ch.codePointAt(0)!;
    const piece = c < 0x20 || (c >= 0x7f && c <= 0x9f) ? `\\x${c.toString(16).padStart(2, '0')}` : ch === '\\' ? '\\\\' : ch;
    if (out.length + piece.length > max) return `${out}…`;
    out += piece;
  }
  return out;
}
