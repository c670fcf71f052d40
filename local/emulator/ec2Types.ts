// The shapes of the EC2 account model (ec2Account.ts): its errors, what a listing returns, how the
// benchmark describes an account to build, and what a Describe call asks.
import type { Tag } from "../../handler/tagPolicy";
import type { Filter } from "./ec2Filters";

export type Kind = "image" | "snapshot";

/** The account every resource belongs to, as EC2 reports it in ownerId. */
export const ACCOUNT_ID = "123456789012";

export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface BlockDevice {
  deviceName: string;
  snapshotId: string;
  volumeSize: number;
}

export interface ImageDetail {
  /** Undefined for the benchmark's AMIs, which are named after their ID. */
  name?: string;
  description: string;
  createdAt: string;
  rootDeviceName: string;
  blockDevices: BlockDevice[];
}

export interface SnapshotDetail {
  volumeId: string;
  volumeSize: number;
  description: string;
  createdAt: string;
  encrypted: boolean;
}

export interface Listed {
  id: string;
  tags: Tag[];
  detail: ImageDetail | SnapshotDetail;
  disabled: boolean;
}

export interface AccountSpec {
  images: number;
  snapshots: number;
  /** Tags of resource i of a kind when the run starts. */
  initialTags: (kind: Kind, index: number) => Tag[];
  /**
   * Deleted between listing and tagging: a listing still shows them (it describes the account as it
   * was a moment earlier), but CreateTags and requests that name them by ID miss them.
   */
  isGone?: (kind: Kind, index: number) => boolean;
}

export interface AccountOptions {
  /** The clock of creation times and token buckets; the benchmark passes its simulated one. */
  now?: () => number;
  /** Answer RequestLimitExceeded from EC2's published token buckets. */
  throttle?: boolean;
  /**
   * Tokens per second that other callers in the account take from each bucket (a background load
   * sharing EC2's per-account buckets with the tagger). Default none.
   */
  background?: Partial<Record<"nonMutating" | "unpaginatedDescribe" | "createTags" | "mutating", number>>;
  /** Count, per resource, how often a listing response carried it (ResourceTable.visits). */
  countVisits?: boolean;
}

export interface DescribeInput {
  /** Owners / OwnerIds: "self" or this account's ID list ours; any other owner lists nothing here. */
  owners?: string[];
  /** ImageIds / SnapshotIds: each must exist, or the call fails naming it. */
  ids?: string[];
  filters?: Filter[];
  maxResults?: number;
  nextToken?: string;
  /** AMIs: list disabled ones too. */
  includeDisabled?: boolean;
}
