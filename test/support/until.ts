/** Resolves once `cond()` holds, checking every 5 ms; rejects after `seconds`. */
export async function until(cond: () => boolean, seconds = 10, what = "condition"): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
