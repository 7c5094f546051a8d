/**
 * Retries for calls to the Kubernetes API: which failures are worth another try, how long
 * to wait (exponential backoff with full jitter, injectable randomness and sleep), and
 * errors that say what was being done (`applying ScaledObject vision/yolo: 409 Conflict: …`).
 *
 * The one place that reads a failed call: {@link apiFailure} (the client's ApiException, a
 * network error, a timeout, or a {@link KubeCallError} wrapping any of them),
 * {@link classify} (what to do about it) and {@link isNotFound}; the rest of kube/ asks
 * these, never the error's fields.
 */

/** Options of {@link withRetries}. */
export interface RetryOptions {
  /** Tries in all, the first included. @default 6 */
  readonly attempts?: number;
  /** Backoff before the second try, in ms; doubles each try. @default 200 */
  readonly baseDelayMs?: number;
  /** Cap of one backoff, in ms. @default 10000 */
  readonly maxDelayMs?: number;
  /** A call that has not answered after this many ms counts as failed (retryable). @default 30000 */
  readonly timeoutMs?: number;
  /** Uniform in [0, 1): the jitter. @default Math.random */
  readonly random?: () => number;
  /** Waits `ms` (tests pass a recorder that resolves at once). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How a failed call is handled. */
export type FailureClass =
  /** 409: the object changed under us; re-read it, then try again at once. */
  | "conflict"
  /** 429, 5xx, a timeout or a dropped connection: back off, then try again. */
  | "transient"
  /** Anything else (400, 403, 404, 415, 422 ...): retrying cannot help. */
  | "permanent";

/** What a failed Kubernetes call tells: HTTP code, Status reason and message, Retry-After. */
export interface ApiFailure {
  /** HTTP status, or undefined for a network error or timeout. */
  readonly code?: number;
  readonly reason?: string;
  readonly message: string;
  /** Seconds from a `Retry-After` header. */
  readonly retryAfterSeconds?: number;
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);

/** A call that did not answer within {@link RetryOptions.timeoutMs}. */
export class CallTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "CallTimeout";
  }
}

/**
 * Reads an error from @kubernetes/client-node (an ApiException whose `body` is the Status
 * JSON text, or a fetch/network error) into an {@link ApiFailure}; a {@link KubeCallError}
 * (what {@link withRetries} throws) gives the failure it wraps.
 */
export function apiFailure(err: unknown): ApiFailure {
  if (err instanceof KubeCallError) return err.failure;
  if (err instanceof CallTimeout) return { message: err.message };
  const e = err as {
    code?: unknown;
    body?: unknown;
    headers?: Record<string, string>;
    message?: string;
    errno?: string;
    type?: string;
  };
  if (typeof e.code === "number") {
    let status: { reason?: string; message?: string } = {};
    if (typeof e.body === "string") {
      try {
        status = JSON.parse(e.body) as typeof status;
      } catch {
        status = { message: e.body.slice(0, 500) };
      }
    } else if (typeof e.body === "object" && e.body !== null) status = e.body as typeof status;
    const retryAfter = Number(e.headers?.["retry-after"] ?? Number.NaN);
    return {
      code: e.code,
      ...(status.reason ? { reason: status.reason } : {}),
      message: status.message ?? "(no message)",
      ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}),
    };
  }
  return { message: e.message ?? String(err) };
}

/** Whether the API server answered 404 Not Found (the object, or the kind, is not there). */
export function isNotFound(err: unknown): boolean {
  return apiFailure(err).code === 404;
}

/** Whether the API server answered 409 Conflict (a stale resourceVersion, or an existing name). */
export function isConflict(err: unknown): boolean {
  return apiFailure(err).code === 409;
}

/** Which way a failure goes (see {@link FailureClass}). */
export function classify(err: unknown): FailureClass {
  if (err instanceof CallTimeout) return "transient";
  const f = apiFailure(err);
  if (isConflict(err)) return "conflict";
  if (f.code === 429 || (f.code !== undefined && f.code >= 500)) return "transient";
  if (f.code !== undefined) return "permanent";
  const e = err as { code?: unknown; errno?: unknown; type?: unknown; name?: string };
  const code = String(e.code ?? e.errno ?? "");
  // node-fetch wraps socket errors as FetchError (type "system") and aborted bodies.
  if (NETWORK_CODES.has(code) || e.type === "system" || e.name === "FetchError") {
    return "transient";
  }
  return "permanent";
}

/**
 * The wait before try `attempt + 1` (attempt counts from 0): "full jitter",
 * `random × min(max, base × 2^attempt)`, but never less than the server's Retry-After.
 * Example with the defaults: the waits are drawn from [0, 200), [0, 400), [0, 800) … ms,
 * capped at [0, 10 s).
 */
export function backoffMs(
  attempt: number,
  options: RetryOptions,
  retryAfterSeconds?: number,
): number {
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 10_000;
  const random = options.random ?? Math.random;
  const jittered = Math.floor(random() * Math.min(max, base * 2 ** attempt));
  return Math.max(jittered, (retryAfterSeconds ?? 0) * 1000);
}

/** An error that says what was being done, then the API server's answer. */
export class KubeCallError extends Error {
  constructor(
    readonly action: string,
    readonly failure: ApiFailure,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    const what =
      failure.code !== undefined
        ? `${failure.code} ${failure.reason ?? ""}`.trim()
        : "no answer from the API server";
    super(
      `${action}: ${what}: ${failure.message}${attempts > 1 ? ` (after ${attempts} tries)` : ""}`,
      options,
    );
    this.name = "KubeCallError";
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CallTimeout(ms)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Counts of what {@link withRetries} did, for logs, metrics and tests. */
export interface RetryStats {
  /** Calls made, first tries included. */
  calls: number;
  conflicts: number;
  transient: number;
  /** Total backoff asked of `sleep`, in ms. */
  sleptMs: number;
}

/** A fresh {@link RetryStats}. */
export function retryStats(): RetryStats {
  return { calls: 0, conflicts: 0, transient: 0, sleptMs: 0 };
}

/**
 * Runs `call` until it succeeds, retrying as {@link classify} says: a conflict runs
 * `onConflict` (re-read) and tries again at once; a transient failure backs off. After
 * `attempts` tries, or on a permanent failure, throws a {@link KubeCallError} naming
 * `action`.
 */
export async function withRetries<T>(
  action: string,
  call: () => Promise<T>,
  options: RetryOptions = {},
  hooks: { onConflict?: () => Promise<void>; stats?: RetryStats } = {},
): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 6);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const timeout = options.timeoutMs ?? 30_000;
  let backoffs = 0;
  for (let attempt = 1; ; attempt++) {
    if (hooks.stats) hooks.stats.calls++;
    try {
      return await withTimeout(call(), timeout);
    } catch (err) {
      const kind = classify(err);
      if (kind === "permanent" || attempt >= attempts) {
        throw new KubeCallError(action, apiFailure(err), attempt, { cause: err });
      }
      if (kind === "conflict") {
        if (hooks.stats) hooks.stats.conflicts++;
        try {
          await hooks.onConflict?.();
        } catch (readErr) {
          // The re-read failing is itself retried by the next try (or reported by it).
          if (classify(readErr) === "permanent" && !isNotFound(readErr)) {
            throw new KubeCallError(action, apiFailure(readErr), attempt, { cause: readErr });
          }
        }
        continue;
      }
      if (hooks.stats) hooks.stats.transient++;
      const ms = backoffMs(backoffs++, options, apiFailure(err).retryAfterSeconds);
      if (hooks.stats) hooks.stats.sleptMs += ms;
      await sleep(ms);
    }
  }
}
