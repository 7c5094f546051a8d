import { createHash } from "node:crypto";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

/**
 * Reuses connections to the API server. @kubernetes/client-node 1.4.0 builds a new
 * `http(s).Agent` for every request (KubeConfig `applySecurityAuthentication`, used by every
 * generated API and by KubernetesObjectApi; `applyToHTTPSOptions`, used by watches), and an
 * agent of its own has no pooled socket: each call opens a new TCP connection, and over
 * https a new TLS handshake, to the API server. 200 pools' applies and status writes made
 * as many connections as requests.
 *
 * {@link reuseConnections} wraps those two public methods of one KubeConfig instance: after
 * the client has built its agent, it is swapped for a keep-alive agent of the same class
 * built with the same options (CA, client certificate and key, server name, verification),
 * one per distinct set of options, kept and reused. Credentials that change (an exec
 * plugin's rotated client certificate) make a new agent; the few kept are bounded and the
 * oldest is destroyed. A proxy's agent (hpagent, socks) is left as the client made it.
 * Bearer tokens travel in headers and are not part of the agent, so a refreshed token rides
 * the same connections. client-node 2.x (undici) does this itself but needs Node ≥ 22.
 */

/** Options of {@link reuseConnections}. */
export interface ReuseOptions {
  /** Distinct agents kept (one per set of TLS options). @default 4 */
  readonly maxAgents?: number;
  /** Told of each agent created (tests count them). */
  readonly onAgent?: (agent: HttpAgent) => void;
}

/** The options of a Node agent (`agent.options`, set by its constructor). */
type AgentWithOptions = HttpAgent & { readonly options?: Record<string, unknown> };

/** The options that make two agents' connections interchangeable. */
const KEYED = [
  "ca",
  "cert",
  "key",
  "pfx",
  "passphrase",
  "rejectUnauthorized",
  "servername",
  "ciphers",
  "secureProtocol",
  "timeout",
] as const;

function keyOf(agent: AgentWithOptions, tls: boolean): string {
  const o = agent.options ?? {};
  const text = JSON.stringify([tls, ...KEYED.map((k) => o[k] ?? null)], (_k, v) =>
    Buffer.isBuffer(v) ? v.toString("base64") : v,
  );
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Makes `kc` reuse connections (see the module comment); returns it. Idempotent: a
 * KubeConfig already wrapped is returned as it is.
 */
export function reuseConnections(kc: KubeConfig, options: ReuseOptions = {}): KubeConfig {
  const marked = kc as KubeConfig & { tritonscaleReuse?: true };
  if (marked.tritonscaleReuse) return kc;
  marked.tritonscaleReuse = true;
  const max = Math.max(1, options.maxAgents ?? 4);
  const agents = new Map<string, HttpAgent>();

  const reuse = (fresh: unknown): unknown => {
    // Exactly the client's own classes: a proxy agent subclasses them and is left alone.
    const proto = Object.getPrototypeOf(fresh);
    const tls = proto === HttpsAgent.prototype;
    if (!tls && proto !== HttpAgent.prototype) return fresh;
    const agent = fresh as AgentWithOptions;
    const key = keyOf(agent, tls);
    let kept = agents.get(key);
    if (kept === undefined) {
      const o = { ...(agent.options ?? {}), keepAlive: true };
      kept = tls ? new HttpsAgent(o) : new HttpAgent(o);
      agents.set(key, kept);
      options.onAgent?.(kept);
      if (agents.size > max) {
        const [oldestKey, oldest] = agents.entries().next().value as [string, HttpAgent];
        agents.delete(oldestKey);
        oldest.destroy();
      }
    }
    return kept;
  };

  const applyAuth = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await applyAuth(context);
    const agent = context.getAgent();
    if (agent !== undefined) context.setAgent(reuse(agent) as HttpAgent);
  };
  const applyHttps = kc.applyToHTTPSOptions.bind(kc);
  kc.applyToHTTPSOptions = async (opts) => {
    await applyHttps(opts);
    const o = opts as { agent?: unknown };
    if (o.agent !== undefined) o.agent = reuse(o.agent);
  };
  return kc;
}
