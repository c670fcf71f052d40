// The AWS regions this program knows: those of the locked @pulumi/aws (a newer region needs a newer
// @pulumi/aws). One list for aws:region, `regions` and the local commands.
import { Region } from "@pulumi/aws/types/enums";
import { closest } from "../handler/closest";

export const KNOWN_REGIONS: readonly string[] = Object.values(Region) as string[];

/** Why a value is not a known region, with the closest known ones; undefined when it is one. */
export function regionProblem(value: string): string | undefined {
  if (KNOWN_REGIONS.includes(value)) {
    return undefined;
  }
  return `not a known AWS region; closest: ${closest(value, KNOWN_REGIONS).join(", ")} (all: ${KNOWN_REGIONS.join(", ")})`;
}
