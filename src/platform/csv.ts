/**
 * CSV as RFC 4180 defines it, plus what spreadsheets actually write: fields separated by commas,
 * records by CRLF, LF or a lone CR; a field may be quoted, and inside quotes a doubled quote is one
 * quote and commas and line breaks are data; a UTF-8 byte order mark before the first record is
 * dropped. A file ending with a line break has no empty last record.
 *
 * Records are numbered from 1 in file order (a record with a line break inside quotes is still one
 * record), so an error can name the row a spreadsheet shows. A record that breaks the quoting rules
 * carries `error` and is still returned, so the rest of the file can be judged; an unterminated
 * quote swallows the rest of the file and is reported with `unterminated: true`.
 */
export interface CsvRecord {
  /** 1-based position in the file. */
  number: number;
  fields: string[];
  error?: string;
  unterminated?: boolean;
}

const QUOTE = 34; // "
const COMMA = 44; // ,
const CR = 13;
const LF = 10;

export function* parseCsv(text: string): Generator<CsvRecord> {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  let number = 0;
  while (i < n) {
    number += 1;
    const fields: string[] = [];
    let error: string | undefined;
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === QUOTE) {
        let out = "";
        let from = i + 1;
        for (;;) {
          const close = text.indexOf('"', from);
          if (close === -1) {
            yield {
              number,
              fields: [...fields, out + text.slice(from)],
              error: "quoted field is never closed",
              unterminated: true,
            };
            return;
          }
          out += text.slice(from, close);
          if (text.charCodeAt(close + 1) === QUOTE) {
            out += '"';
            from = close + 2;
            continue;
          }
          i = close + 1;
          break;
        }
        // Anything between the closing quote and the next separator is not CSV.
        const end = fieldEnd(text, i);
        if (end > i) {
          error ??= `unexpected text after the closing quote of field ${fields.length + 1}`;
          out += text.slice(i, end);
          i = end;
        }
        value = out;
      } else {
        const end = fieldEnd(text, i);
        value = text.slice(i, end);
        if (value.includes('"')) error ??= `a quote inside unquoted field ${fields.length + 1} (quote the whole field)`;
        i = end;
      }
      fields.push(value);
      const c = text.charCodeAt(i);
      if (c === COMMA) {
        i += 1;
        continue;
      }
      // End of record: CRLF, LF, CR or the end of the text.
      if (c === CR) i += text.charCodeAt(i + 1) === LF ? 2 : 1;
      else if (c === LF) i += 1;
      break;
    }
    yield error ? { number, fields, error } : { number, fields };
  }
}

/** Index of the comma, CR or LF that ends the field starting at `from` (or the end of the text). */
function fieldEnd(text: string, from: number): number {
  for (let j = from; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === COMMA || c === CR || c === LF) return j;
  }
  return text.length;
}

/** A record of one empty field: a blank line, which imports skip. */
export function isBlankRecord(record: CsvRecord): boolean {
  return record.fields.length === 1 && record.fields[0] === "";
}

/** Spreadsheets run cells starting with these as formulas (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[-+]?\d+(\.\d+)?%?$/;

/**
 * One field for a CSV written by this service: quoted when it holds a comma, quote or line break;
 * a text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) is prefixed
 * with `'` so it stays text — plain numbers such as `-5` are left alone.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  if (FORMULA_START.test(s) && !PLAIN_NUMBER.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (CRLF-terminated, as RFC 4180 writes records). */
export function csvLine(values: readonly (string | number | null | undefined)[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}
