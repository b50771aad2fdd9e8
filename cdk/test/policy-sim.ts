/**
 * A small evaluator of Deny statements, as IAM applies an SCP to a request: a statement denies
 * when its action and resource patterns match (`*` any run of characters, `?` one; actions
 * case-insensitive) and every condition holds. Conditions: ArnLike / ArnNotLike / StringEquals /
 * StringLike over request context keys; a key missing from the request makes a negated operator
 * hold and a positive one fail, as IAM does.
 */
import { PolicyDocument } from '../lib/scps';

export interface Request {
  readonly principalArn: string;
  readonly action: string;
  readonly resource: string;
  /** Other context keys (e.g. `lambda:FunctionArn`). */
  readonly context?: Record<string, string>;
}

function glob(pattern: string, value: string, caseInsensitive = false): boolean {
  const re = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'))).join('')}$`, caseInsensitive ? 'i' : '');
  return re.test(value);
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

function conditionHolds(op: string, key: string, values: string[], req: Request): boolean {
  const actual = key === 'aws:PrincipalArn' ? req.principalArn : req.context?.[key];
  const negated = op.includes('Not');
  if (actual === undefined) return negated;
  const matches = (v: string) => (op.startsWith('Arn') || op.endsWith('Like') ? glob(v, actual) : v === actual);
  switch (op) {
    case 'ArnLike':
    case 'StringLike':
    case 'StringEquals':
      return values.some(matches);
    case 'ArnNotLike':
    case 'StringNotLike':
    case 'StringNotEquals':
      return !values.some(matches);
    default:
      throw new Error(`condition operator ${op} is not simulated`);
  }
}

/** The Sids of the statements that deny the request (empty: the SCP does not deny it). */
export function denyingStatements(doc: PolicyDocument, req: Request): string[] {
  return doc.Statement.filter((s) => {
    if (s.Effect !== 'Deny') return false;
    if (!s.Action.some((a) => glob(a, req.action, true))) return false;
    if (!list(s.Resource).some((r) => glob(r, req.resource))) return false;
    for (const [op, keys] of Object.entries(s.Condition ?? {})) {
      for (const [key, values] of Object.entries(keys)) {
        if (!conditionHolds(op, key, list(values), req)) return false;
      }
    }
    return true;
  }).map((s) => s.Sid);
}

export function denied(doc: PolicyDocument, req: Request): boolean {
  return denyingStatements(doc, req).length > 0;
}
