/**
 * What the controller needs to know of a failed Kubernetes API call: its HTTP status and
 * whether retrying can help. @kubernetes/client-node 1.x throws `ApiException` (`code`,
 * `body`) from typed APIs, and the watch reports errors with `statusCode` or `code`.
 */

/** The HTTP status of an API error, or undefined for a network error or a bug. */
export function statusCodeOf(e: unknown): number | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const r = e as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } };
  for (const c of [r.code, r.statusCode, r.response?.statusCode]) {
    if (typeof c === "number" && c >= 100 && c < 600) return c;
  }
  return undefined;
}

/** Whether the error is an abort (an informer's `stop()`, an aborted request). */
export function isAbortError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const r = e as { name?: unknown; type?: unknown; code?: unknown };
  return r.name === "AbortError" || r.type === "aborted" || r.code === "ABORT_ERR";
}

/**
 * The message of an API error in one line: the Status `message` the API server sent when
 * there is one (`modelpools.tritonscale.io "x" not found`), else the error's own message.
 */
export function apiErrorMessage(e: unknown): string {
  if (typeof e === "object" && e !== null) {
    const body = (e as { body?: unknown }).body;
    let parsed: unknown = body;
    if (typeof body === "string") {
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = undefined;
      }
    }
    const message = (parsed as { message?: unknown } | undefined)?.message;
    const code = statusCodeOf(e);
    if (typeof message === "string" && message !== "") {
      return code === undefined ? message : `${code}: ${message}`;
    }
    if (e instanceof Error) return e.message.split("\n")[0] ?? e.message;
  }
  return String(e);
}
