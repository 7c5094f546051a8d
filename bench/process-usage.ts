/**
 * Preloaded into a benchmarked child process (`node --import <this file> ...`): at exit it
 * writes one line to standard error, `process-usage {"maxRssKb":…,"cpuMs":…}`, its peak
 * resident set size and CPU time (user + system), for bench/simulate-speed.ts.
 */
process.on("exit", () => {
  const u = process.resourceUsage();
  process.stderr.write(
    `\nprocess-usage ${JSON.stringify({ maxRssKb: u.maxRSS, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 })}\n`,
  );
});
