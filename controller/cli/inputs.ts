import { readFile } from "node:fs/promises";
import { type LatencyProfile, parseProfile } from "../simulate/profile.js";

/** A profile from the command line: a spec such as `linear:a=4,b=2.2`, or a CSV file to read. */
export async function loadProfile(spec: string): Promise<LatencyProfile> {
  if (/^[a-z]+:/.test(spec) || spec === "default") return parseProfile(spec, "--profile");
  return parseProfile(await readFile(spec, "utf8"), spec);
}
