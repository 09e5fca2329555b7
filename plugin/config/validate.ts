/**
 * Validating an already-parsed config. Every problem is reported, each as one `path: message`
 * line, so an admin can fix a file in one pass.
 */
import type { z } from 'zod';
import { agentConfigSchema, workspaceConfigSchema, type AgentConfig, type WorkspaceConfig } from './agent.ts';
import { formatIssues, issueMessage } from './issues.ts';

export type ValidationResult<T = WorkspaceConfig> = { ok: true; config: T } | { ok: false; errors: string[] };

/** Validates an already-parsed workspace config (from YAML, JSON or an API body). Never throws. */
export function validateConfig(input: unknown): ValidationResult {
  return validateWith(workspaceConfigSchema, input);
}

/** Validates one agent (as in `PUT /v1/agents/{agentId}`); paths start at the agent (`policy.epsilon`). Never throws. */
export function validateAgentConfig(input: unknown): ValidationResult<AgentConfig> {
  return validateWith(agentConfigSchema, input);
}

function validateWith<T>(schema: z.ZodType<T>, input: unknown): ValidationResult<T> {
  const result = schema.safeParse(input, { error: issueMessage, reportInput: true });
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, errors: [...new Set(formatIssues(result.error.issues))] };
}
