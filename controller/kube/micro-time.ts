/**
 * Kubernetes `MicroTime` (metav1.MicroTime): RFC 3339 in UTC with exactly six fractional
 * digits, e.g. `2026-12-01T23:34:00.123456Z`. Lease `renewTime`/`acquireTime` and
 * events.k8s.io `eventTime` are MicroTimes; the API server rejects three digits, which is
 * what @kubernetes/client-node 1.x sends for a `Date`, so the controller sends these
 * preformatted strings (the client passes strings through untouched).
 */

const MICRO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Formats seconds since the Unix epoch as a MicroTime, rounded to the microsecond.
 *
 * @example formatMicroTime(1_700_000_000.25) === "2023-11-14T22:13:20.250000Z"
 */
export function formatMicroTime(seconds: number): string {
  if (!Number.isFinite(seconds)) {
    throw new RangeError(`a MicroTime needs a finite time in seconds. Received: ${seconds}`);
  }
  const micros = Math.round(seconds * 1e6);
  const wholeSeconds = Math.floor(micros / 1e6);
  const fraction = micros - wholeSeconds * 1e6;
  const base = new Date(wholeSeconds * 1000).toISOString().slice(0, 19);
  return `${base}.${String(fraction).padStart(6, "0")}Z`;
}

/**
 * Seconds since the Unix epoch of an RFC 3339 time (any number of fractional digits, as the
 * API server and client may return), or undefined when `text` is not one.
 */
export function parseMicroTime(text: unknown): number | undefined {
  if (text instanceof Date) return text.getTime() / 1000;
  if (typeof text !== "string") return undefined;
  const m = MICRO_TIME.exec(text);
  if (m === null) return undefined;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(whole)) return undefined;
  const digits = m[2] ?? "";
  const fraction = digits === "" ? 0 : Number(`0.${digits}`);
  return whole / 1000 + fraction;
}

/** Whether `text` is a MicroTime as the API server requires it (six fractional digits). */
export function isMicroTime(text: unknown): boolean {
  return (
    typeof text === "string" &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/.test(text) &&
    parseMicroTime(text) !== undefined
  );
}
