// The Lambda's environment, parsed once at cold start. Pulumi sets these from stack config; a
// hand-edited value that is wrong fails with a message naming the variable.
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, extraTagProblems, isRetentionDays } from "./tagRules";

export interface HandlerSettings {
  retentionDays: number;
  extraTags: Record<string, string>;
  dryRun: boolean;
}

export const ENV = {
  retentionDays: "RETENTION_DAYS",
  extraTags: "EXTRA_TAGS",
  dryRun: "DRY_RUN",
} as const;

/** Thrown for a bad environment; the message names every bad variable, its value and what is allowed. */
export function environmentError(problems: string[]): Error {
  const error = new Error(`Invalid environment: ${problems.join("; ")}`);
  error.name = "EnvironmentError";
  return error;
}

export function parseEnvironment(env: Record<string, string | undefined>): HandlerSettings {
  const problems: string[] = [];
  const show = (name: string) => `${name}=${JSON.stringify(env[name])}`;

  const rawDays = env[ENV.retentionDays];
  const retentionDays = Number(rawDays);
  if (rawDays === undefined || !/^\d+$/.test(rawDays) || !isRetentionDays(retentionDays)) {
    problems.push(
      `${show(ENV.retentionDays)}: must be an integer from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}`,
    );
  }

  let extraTags: Record<string, string> = {};
  const rawTags = env[ENV.extraTags];
  if (rawTags !== undefined && rawTags !== "") {
    try {
      const parsed: unknown = JSON.parse(rawTags);
      const tagProblems = extraTagProblems(parsed);
      if (tagProblems.length > 0) {
        problems.push(`${show(ENV.extraTags)}: ${tagProblems.join(", ")}`);
      } else {
        extraTags = parsed as Record<string, string>;
      }
    } catch {
      problems.push(`${show(ENV.extraTags)}: must be a JSON object of tag key to string value`);
    }
  }

  const rawDryRun = env[ENV.dryRun] ?? "false";
  if (rawDryRun !== "true" && rawDryRun !== "false") {
    problems.push(`${show(ENV.dryRun)}: must be "true" or "false"`);
  }

  if (problems.length > 0) {
    throw environmentError(problems);
  }
  return { retentionDays, extraTags, dryRun: rawDryRun === "true" };
}
