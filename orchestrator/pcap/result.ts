// Errors for capture files and packet headers. Like the MH codec's Decoded<T>:
// wire input never throws; the error names the field and the byte offset
// (from the start of the file for file structure, of the packet for headers).

export type CaptureErrorCode =
  | 'truncated' // fewer bytes than a header or length field announces
  | 'bad-magic' // not a pcap / pcapng file, or a section with an unknown byte order
  | 'bad-length' // a length field that is impossible (too small, not aligned, inconsistent)
  | 'bad-value' // a field with a value we cannot accept
  | 'unsupported'; // valid, but not something pmiplab reads (e.g. an unknown linktype)

export interface CaptureError {
  code: CaptureErrorCode;
  field: string;
  offset: number;
  detail?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: CaptureError };

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });

export const fail = (code: CaptureErrorCode, field: string, offset: number, detail?: string): { ok: false; error: CaptureError } => ({
  ok: false,
  error: detail === undefined ? { code, field, offset } : { code, field, offset, detail },
});

export function formatCaptureError(e: CaptureError): string {
  return `${e.code} at ${e.field} (offset ${e.offset})${e.detail ? `: ${e.detail}` : ''}`;
}
