// Warning before deleting: while the tagger lists, count the proven backups that fall due (become
// deletable) within the notice window, and keep the first 50 that entered it since the last notice.
// The run sends one message for all of them, never one per backup.
import { dateOfDay, dayNumber } from "./dates";
import { dueDay } from "./expire";
import type { Kind, Listed } from "./list";
import { tagValue } from "./proof";
import type { Decision } from "./tagPolicy";
import { DELETE_ON_KEY } from "./tagRules";

/** IDs a notice lists at most; the count is always exact. */
export const MAX_NOTICE_IDS = 50;
/** The ledger state that remembers the last day already announced. */
export const NOTICE_STATE = "notice-through";

export interface DueBackup {
  id: string;
  kind: Kind;
  deleteOn: string;
  /** The first day expiry may delete it. */
  dueOn: string;
}

export interface NoticeReport {
  amisDueSoon: number;
  snapshotsDueSoon: number;
  /** Backups that entered the window since the last notice. */
  newlyDue: number;
  examples: DueBackup[];
  /** Announced through this date once the notice is sent. */
  through: string;
}

/** `announcedThrough`: the last due date an earlier run announced; undefined on the first run. */
export function createNoticeCollector(
  settings: { noticeDays: number; graceDays: number },
  today: string,
  announcedThrough: string | undefined,
) {
  const now = dayNumber(today) as number;
  const last = now + settings.noticeDays;
  const watermark = announcedThrough === undefined ? now : (dayNumber(announcedThrough) ?? now);
  const report: NoticeReport = {
    amisDueSoon: 0,
    snapshotsDueSoon: 0,
    newlyDue: 0,
    examples: [],
    through: dateOfDay(last) ?? today,
  };
  return {
    consider(kind: Kind, resource: Listed, decision: Decision): void {
      const settled =
        decision.action === "keep" || (decision.action === "write" && decision.reason === "extra-tags");
      if (settings.noticeDays === 0 || !settled || decision.proof !== "proven") {
        return;
      }
      const deleteOn = tagValue(resource.tags, DELETE_ON_KEY) ?? "";
      const due = dueDay(deleteOn, settings.graceDays);
      if (due === undefined || due <= now || due > last) {
        return;
      }
      if (kind === "ami") {
        report.amisDueSoon += 1;
      } else {
        report.snapshotsDueSoon += 1;
      }
      if (due > watermark) {
        report.newlyDue += 1;
        if (report.examples.length < MAX_NOTICE_IDS) {
          report.examples.push({ id: resource.id, kind, deleteOn, dueOn: dateOfDay(due) as string });
        }
      }
    },
    report: () => report,
  };
}

/** The one message a run sends: subject (at most 100 characters, as SNS allows) and body. */
export function noticeMessage(
  report: NoticeReport,
  where: string,
  graceDays: number,
): { subject: string; body: string } {
  const more = report.newlyDue - report.examples.length;
  const lines = [
    `${report.newlyDue} backup${report.newlyDue === 1 ? "" : "s"} in ${where} will be deleted by the EC2 backup tagger's expiry within the notice window (through ${report.through}), ${graceDays} grace day${graceDays === 1 ? "" : "s"} after their DeleteOn.`,
    "",
    ...report.examples.map((b) => `${b.id}  DeleteOn=${b.deleteOn}  deletable from ${b.dueOn}`),
    ...(more > 0 ? [`... and ${more} more`] : []),
    "",
    "To keep one: add a tag that excludeTags names, or change its DeleteOn (a DeleteOn the tagger did not write is never expired).",
  ];
  const subject = `${report.newlyDue} EC2 backups due for deletion in ${where}`.slice(0, 100);
  return { subject, body: lines.join("\n") };
}
