// Label selectors, evaluated locally so the cache can answer list(ref, ns, selector) without the API
// server. Accepts a matchLabels map or the string syntax kubectl uses: a=b, a==b, a!=b, a, !a,
// a in (x,y), a notin (x,y), comma-separated (all must hold).

export type LabelSelector = string | Record<string, string>;
type Requirement = (labels: Record<string, string>) => boolean;

export function compileSelector(selector: LabelSelector | undefined): Requirement {
  if (selector === undefined) return () => true;
  const requirements =
    typeof selector === 'string'
      ? splitTopLevel(selector).map(parseRequirement)
      : Object.entries(selector).map(
          ([k, v]): Requirement =>
            (labels) =>
              labels[k] === v,
        );
  return (labels) => requirements.every((r) => r(labels));
}

/** Splits on commas outside parentheses. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

function parseRequirement(text: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
  if (set) {
    const [, key = '', op, values = ''] = set;
    const allowed = new Set<string | undefined>(values.split(',').map((v) => v.trim()));
    // A label that is not set reads undefined, which no allowed value (a string) is: `in` fails, `notin` holds.
    return op === 'in' ? (l) => allowed.has(l[key]) : (l) => !allowed.has(l[key]);
  }
  const cmp = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
  if (cmp) {
    const [, key = '', op, value = ''] = cmp;
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  const exists = /^(!?)([^!=\s()]+)$/.exec(text);
  if (exists) {
    const [, not, key = ''] = exists;
    return not ? (l) => !(key in l) : (l) => key in l;
  }
  throw new Error(`unsupported label selector requirement: ${JSON.stringify(text)}`);
}
