/**
 * One call of Prometheus's HTTP API (`/api/v1/query`, `/api/v1/query_range`), shared by the
 * Prometheus MetricsSource, the front door and the history rebuild: the request with its
 * timeout, an answer read up to a size limit, and the `status` / `resultType` envelope
 * checked. Every failure rejects with one message naming Prometheus and, for an answer it
 * refused, the query.
 */

/** PromQL string literal. */
export const promString = (s: string): string => JSON.stringify(s);

/** A sample value as Prometheus writes it (`+Inf`, `-Inf`, `NaN` included). */
export function promNumber(s: string): number {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  return Number(s);
}

/** How long a call may take and how much of an answer it reads. */
export interface PromCallLimits {
  readonly timeoutMs: number;
  /** Largest answer read, bytes. @default unbounded */
  readonly maxBytes?: number;
}

/**
 * Calls `endpoint` with `params` (whose `query` is the PromQL) and returns its `result`
 * array, which must be of `resultType`.
 */
export async function promApiCall<T>(
  base: string,
  endpoint: "query" | "query_range",
  params: Readonly<Record<string, string>> & { readonly query: string },
  resultType: "vector" | "matrix",
  limits: PromCallLimits,
  signal?: AbortSignal,
): Promise<T[]> {
  const url = `${base.replace(/\/+$/, "")}/api/v1/${endpoint}?${new URLSearchParams(params)}`;
  const what = `querying Prometheus at ${base}`;
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
      headers: { Accept: "application/json" },
    });
    text = await boundedText(res, limits.maxBytes, what);
  } catch (e) {
    const err = e as Error;
    if (err.message.startsWith(what)) throw err;
    const why =
      err.name === "TimeoutError"
        ? `no answer within ${limits.timeoutMs} ms`
        : `${err.message}${err.cause ? ` (${(err.cause as Error).message})` : ""}`;
    throw new Error(`${what}: ${why}`);
  }
  let parsed: {
    status?: string;
    error?: string;
    data?: { resultType?: string; result?: T[] };
  };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${what}: HTTP ${res.status}, not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (
    parsed.status !== "success" ||
    parsed.data?.resultType !== resultType ||
    !Array.isArray(parsed.data.result)
  ) {
    throw new Error(
      `${what}: HTTP ${res.status}, ${parsed.status ?? "no status"}: ${parsed.error ?? `result type ${parsed.data?.resultType}`} (query ${params.query})`,
    );
  }
  return parsed.data.result;
}

/** Reads at most `maxBytes` of a response body (all of it when undefined), else rejects. */
async function boundedText(
  res: Response,
  maxBytes: number | undefined,
  what: string,
): Promise<string> {
  if (maxBytes === undefined) return res.text();
  const reader = res.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`${what}: the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
