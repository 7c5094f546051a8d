/**
 * Keys of label-like maps (labels, annotations, node selectors): Kubernetes qualified
 * names, an optional DNS-subdomain prefix and `/`, then a name — the rules of
 * k8s.io/apimachinery `validation.IsQualifiedName`. The schema marks such maps with
 * `x-keys: qualified-name`; the loader checks every one generically (messages.ts).
 */

/** Longest name part (after the `/`). */
const QUALIFIED_NAME_MAX = 63;
/** Longest prefix (before the `/`). */
const QUALIFIED_PREFIX_MAX = 253;

const nameRe = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const subdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const NAME_HINT = `at most ${QUALIFIED_NAME_MAX} letters, digits, "-", "_" and ".", starting and ending with a letter or digit`;
const EXAMPLES = 'e.g. "app" or "app.kubernetes.io/name"';

/** What is wrong with `key` as a Kubernetes qualified name, or undefined when it is one. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split("/");
  if (parts.length > 2) {
    return `must be a name, optionally after a DNS-subdomain prefix and one "/" (${EXAMPLES})`;
  }
  const name = parts[parts.length - 1]!;
  const prefix = parts.length === 2 ? parts[0]! : undefined;
  const issues: string[] = [];
  if (prefix !== undefined) {
    if (prefix === "") issues.push('the prefix before "/" must not be empty');
    else if (prefix.length > QUALIFIED_PREFIX_MAX || !subdomainRe.test(prefix)) {
      issues.push(
        `the prefix before "/" must be a DNS subdomain (lowercase letters, digits, "-" and ".", at most ${QUALIFIED_PREFIX_MAX} characters, e.g. "example.com")`,
      );
    }
  }
  if (name === "") issues.push("the name must not be empty");
  else if (name.length > QUALIFIED_NAME_MAX || !nameRe.test(name)) {
    issues.push(`the name${prefix === undefined ? "" : ' after "/"'} must be ${NAME_HINT}`);
  }
  if (issues.length === 0) return undefined;
  return `${issues.join("; ")} (${EXAMPLES})`;
}
