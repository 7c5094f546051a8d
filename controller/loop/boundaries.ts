import type { Policy } from "../policy/index.js";
import { activeWindow, upcomingWindow } from "../scaling/schedule.js";

/**
 * When a pool's schedules change what the scaler decides: each occurrence's start, its end,
 * and its pre-warm point (start − lead, lead = coldStart + nodeProvisioning, from when the
 * tritonscale scaler raises its floor). Computed with the pure schedule code
 * (scaling/schedule.ts), which stays the one source of truth for what is active; the loop
 * wakes at these times so a boundary is acted on at once, not at the next sync period.
 *
 * Worked example: schedule `0 8 * * MON-FRI` Europe/Berlin, duration 10h, coldStart 90 s,
 * nodeProvisioning 2m: on Monday 2026-01-05 the boundaries are 06:56:30 UTC (pre-warm),
 * 07:00 UTC (start, 08:00 in Berlin) and 17:00 UTC (end).
 */

/** Seconds new capacity takes, by which the scaler pre-warms ahead of a schedule. */
export function prewarmLeadSeconds(policy: Policy): number {
  const s = policy.spec.scaling;
  return s.coldStartSeconds + s.nodeProvisioningSeconds;
}

/**
 * The earliest schedule boundary of the pool in (now, now + horizonSeconds], or undefined.
 */
export function nextBoundary(
  policy: Policy,
  now: number,
  horizonSeconds: number,
): number | undefined {
  const lead = prewarmLeadSeconds(policy);
  const until = now + horizonSeconds;
  let best: number | undefined;
  const consider = (t: number): void => {
    if (t > now && t <= until && (best === undefined || t < best)) best = t;
  };
  for (const s of policy.spec.scaling.schedules) {
    const active = activeWindow(s, now);
    if (active) consider(active.end);
    // Starts whose pre-warm point or start falls within the horizon.
    let from = now;
    for (let i = 0; i < 4; i++) {
      const next = upcomingWindow(s, from, horizonSeconds + lead);
      if (next === undefined || next.start - lead > until) break;
      consider(next.start - lead);
      consider(next.start);
      consider(next.end);
      from = next.start;
    }
  }
  return best;
}
