/**
 * Small readers over synthesized templates, for assertions that span resources (a function's role
 * and the policies attached to it, DependsOn, which resource references which).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import type { FunctionName } from '../../../lambdas/shared/function-names';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: unknown[];
  readonly Condition?: unknown;
}

export function resources(template: Template, type?: string): Array<[string, CfnResource]> {
  const all = Object.entries(template.toJSON().Resources as Record<string, CfnResource>);
  return type ? all.filter(([, r]) => r.Type === type) : all;
}

export function resource(template: Template, logicalId: string): CfnResource {
  const found = (template.toJSON().Resources as Record<string, CfnResource>)[logicalId];
  if (!found) throw new Error(`No resource ${logicalId}`);
  return found;
}

/** The one resource of a type; fails on zero or several. */
export function only(template: Template, type: string): [string, CfnResource] {
  const found = resources(template, type);
  if (found.length !== 1) throw new Error(`Expected one ${type}, found ${found.length}`);
  return found[0]!;
}

export function dependsOn(resourceDefinition: CfnResource): string[] {
  const value = resourceDefinition.DependsOn;
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The function built from lambdas/handlers/<handler>.ts (named `firehose-<stage>-<handler>`). */
export function functionOf(template: Template, handler: FunctionName): [string, CfnResource] {
  const found = resources(template, 'AWS::Lambda::Function').filter(([, r]) =>
    String(r.Properties?.FunctionName ?? '').endsWith(`-${handler}`),
  );
  if (found.length !== 1) throw new Error(`Expected one ${handler} function, found ${found.length}`);
  return found[0]!;
}

export function environmentOf(fn: CfnResource): Record<string, unknown> {
  const environment = fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined;
  return environment?.Variables ?? {};
}

/** Every statement of every policy attached to the function's execution role. */
export function roleStatements(template: Template, fn: CfnResource): Statement[] {
  const roleArn = fn.Properties?.Role as { 'Fn::GetAtt': [string, string] };
  const roleId = roleArn['Fn::GetAtt'][0];
  const statements: Statement[] = [];
  for (const [, policy] of resources(template, 'AWS::IAM::Policy')) {
    const roles = (policy.Properties?.Roles ?? []) as Array<{ Ref?: string }>;
    if (!roles.some((r) => r.Ref === roleId)) continue;
    const document = policy.Properties?.PolicyDocument as { Statement: Array<Record<string, unknown>> };
    for (const s of document.Statement) statements.push(normalise(s));
  }
  const role = resource(template, roleId);
  for (const inline of (role.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: [] } }>) {
    for (const s of inline.PolicyDocument.Statement) statements.push(normalise(s));
  }
  return statements;
}

export function actionsOf(statements: readonly Statement[]): Set<string> {
  return new Set(statements.flatMap((s) => s.Action));
}

/** Statements granting `action` (exactly, or through a wildcard pattern). */
export function statementsAllowing(statements: readonly Statement[], action: string): Statement[] {
  return statements.filter(
    (s) =>
      s.Effect === 'Allow' && s.Action.some((a) => a === '*' || a === action || wildcardMatches(a, action)),
  );
}

/** Whether `value` (a template fragment) mentions `needle` anywhere (logical IDs, names, ARNs). */
export function mentions(value: unknown, needle: string): boolean {
  return JSON.stringify(value).includes(needle);
}

function wildcardMatches(pattern: string, action: string): boolean {
  if (!pattern.includes('*')) return false;
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
  return regex.test(action);
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function normalise(s: Record<string, unknown>): Statement {
  const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return {
    Effect: String(s.Effect),
    Action: list(s.Action).map(String),
    Resource: list(s.Resource),
    Condition: s.Condition,
  };
}
