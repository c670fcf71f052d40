// The exact code Pulumi would upload, run in a child Node.js process against the EC2 emulator:
// under Node.js 20 and Node.js 22 (the Lambda runtime's version), with the SDK from the layer alone.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { addDays, isoDateUtc } from "../handler/dates";
import { createBatchWriter, type Failure } from "../handler/write";
import { existingSnapshots } from "../handler/tagger";
import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { INSTALL_HINT, motoInstalled, startMoto, type Emulator } from "../local/motoServer";
import { invokeArchive, invokeArchiveAsync, unpackArchive, type Invocation } from "../local/invokeLambda";
import { findResource, lambdaArchive, loadStack, sdkLayerDir } from "../local/pulumiMocks";
import { dynamoLedger, newBatchId, type Ledger } from "../handler/ledger";
import { createLedgerTable, emulatorDynamo, ledgerEntries } from "../local/ledgerTable";
import { DYNAMO_THROTTLED, THROTTLED, startProxy, withoutImage } from "./support/ec2Proxy";
import { createImage, createSnapshot, emulatorClient, seedPolicyCases, tagsById } from "../local/seedAccount";
import { recordingLogger } from "./support/ec2Stub";
import { emfLines, emfProblems } from "./support/emf";

const inCi = process.env.CI === "true";
const LEDGER = "TagEC2Backups-ledger";
const tagList = (record: Record<string, string>) =>
  Object.entries(record).map(([Key, Value]) => ({ Key, Value }));
/** Tags without the batch ID, which is random. */
const withoutBatch = (tags: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(tags ?? {}).filter(([key]) => key !== "RetentionBatch"));

/** Node.js `major`: this process when it is that version, otherwise `npx -y node@<major>`. */
const nodeCommand = (major: number) =>
  process.version.startsWith(`v${major}.`) ? [process.execPath] : ["npx", "-y", `node@${major}`];
const runtimes: { label: string; major: number; command: string[] }[] = [
  { label: "Node.js 20", major: 20, command: nodeCommand(20) },
  { label: "Node.js 22, the Lambda runtime's version", major: 22, command: nodeCommand(22) },
];

function nodeAvailable(command: string[], major: number): boolean {
  const [program, ...args] = command;
  const result = spawnSync(program, [...args, "--version"], { encoding: "utf8", timeout: 240_000 });
  return result.status === 0 && result.stdout.trim().startsWith(`v${major}.`);
}

describe("end to end: the serialized Lambda on the EC2 emulator", function () {
  this.timeout(240_000);
  let emulator: Emulator;
  let ec2: EC2Client;
  let archiveDir: string;
  let removeArchive: (() => void) | undefined;
  let environment: Record<string, string>;
  let layerDir: string;

  before(async function () {
    if (!motoInstalled()) {
      if (inCi) {
        throw new Error(`${INSTALL_HINT}; CI must run the emulator tests`);
      }
      this.skip();
    }
    emulator = await startMoto();
    ec2 = emulatorClient(emulator.endpoint);
    await loadStack({ "aws:region": "us-east-1", retentionDays: "90", extraTags: '{"Owner":"platform"}' });
    const archive = unpackArchive(await lambdaArchive());
    archiveDir = archive.dir;
    removeArchive = archive.remove;
    environment = findResource("aws:lambda/function:Function").inputs.environment.variables;
    // The SDK comes from the function's layer only, as in Lambda.
    layerDir = await sdkLayerDir();
  });

  after(async () => {
    await emulator?.stop();
    removeArchive?.();
  });

  /** An empty account with an empty ledger table, as a fresh deployment has. */
  async function resetAccount(): Promise<void> {
    await emulator.reset();
    await createLedgerTable(emulator.endpoint, LEDGER);
  }

  function environmentFor(overrides: Record<string, string>): Record<string, string> {
    return {
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: emulator.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_LAMBDA_FUNCTION_NAME: "TagEC2Backups",
      ...environment,
      ...overrides,
    };
  }

  function invoke(command: string[], overrides: Record<string, string> = {}): Invocation {
    return invokeArchive(command, archiveDir, layerDir, environmentFor(overrides));
  }

  /** For runs behind a proxy served by this process, which spawnSync would block. */
  function invokeAsync(overrides: Record<string, string> = {}): Promise<Invocation> {
    return invokeArchiveAsync([process.execPath], archiveDir, layerDir, environmentFor(overrides));
  }

  for (const runtime of runtimes) {
    describe(`under ${runtime.label}`, () => {
      let seeded: Awaited<ReturnType<typeof seedPolicyCases>>;
      let seededTags: Record<string, Record<string, string>>;
      let first: Invocation;
      let today: string;

      before(async function () {
        if (runtime.command[0] === "npx" && !nodeAvailable(runtime.command, runtime.major)) {
          if (inCi) {
            throw new Error(
              `${runtime.command.join(" ")} failed; CI must run the Node.js ${runtime.major} pass`,
            );
          }
          this.skip();
        }
        await resetAccount();
        seeded = await seedPolicyCases(ec2);
        seededTags = await tagsById(ec2);
        today = isoDateUtc(new Date());
        first = invoke(runtime.command);
      });

      it("runs under the intended Node.js and answers 200", () => {
        expect(first.error).to.equal(undefined);
        expect(first.ok).to.be.true;
        expect(first.node).to.match(new RegExp(`^v${runtime.major}\\.`));
        expect(first.response).to.deep.include({
          statusCode: 200,
          retention_days: 90,
          complete: true,
          dry_run: false,
        });
      });

      it("loads the SDK from the layer only: every module it loaded is the archive's, the layer's or Node's", () => {
        const allowed = [realpathSync(archiveDir), realpathSync(layerDir)];
        const loaded = first.loaded.filter((file) => !file.endsWith("/local/invokeArchive.js"));
        const sdk = loaded.filter((file) => /\/node_modules\/@aws-sdk\//.test(file));
        expect(sdk.length, "the SDK came from the layer's shims").to.be.greaterThan(0);
        const outside = loaded.filter((file) => !allowed.some((dir) => file.startsWith(`${dir}/`)));
        expect(outside, "modules resolved outside the archive and the layer").to.deep.equal([]);
      });

      it("tags every case as the policy says", async () => {
        const deleteOn = first.response?.delete_on as string;
        // The child may have run just after midnight UTC.
        expect([addDays(today, 90), addDays(today, 91)]).to.include(deleteOn);
        const tagged = await tagsById(ec2);
        const after = Object.fromEntries(
          Object.entries(tagged).map(([id, tags]) => [id, withoutBatch(tags)]),
        );
        const fresh = { Retention: "90days", DeleteOn: deleteOn, Owner: "platform" };
        expect(after[seeded.imageNew]).to.deep.equal(fresh);
        expect(after[seeded.snapshotNew]).to.deep.equal(fresh);
        // First sightings are dated with proof: the batch they name lists them, with these values.
        const entries = await ledgerEntries(emulator.endpoint, LEDGER);
        for (const id of [seeded.imageNew, seeded.snapshotNew]) {
          const entry = entries[tagged[id].RetentionBatch];
          expect(entry, id).to.deep.include({ retention: "90days", deleteOn });
          expect(entry.ids).to.include(id);
        }
        // Re-anchored from tags we did not write (no proof): dated, but not recorded.
        expect(tagged[seeded.snapshotReanchored]).not.to.have.property("RetentionBatch");
        // Every untagged snapshot, including those moto creates behind each AMI, is new to us.
        const untagged = Object.keys(seededTags).filter(
          (id) => id.startsWith("snap-") && Object.keys(seededTags[id]).length === 0,
        );
        expect(untagged).to.include.members([seeded.snapshotNew, ...seeded.backingSnapshots]);
        for (const id of untagged) {
          expect(after[id], id).to.deep.equal(fresh);
        }
        const reanchored = { Retention: "90days", DeleteOn: "2027-02-18", Owner: "platform" };
        expect(after[seeded.imageReanchored]).to.deep.equal(reanchored);
        expect(after[seeded.snapshotReanchored]).to.deep.equal(reanchored);
        expect(after[seeded.snapshotCurrent]).to.deep.equal(seededTags[seeded.snapshotCurrent]);
        expect(after[seeded.snapshotHandTagged]).to.deep.equal({ Retention: "keep", Name: "do not touch" });
        expect(after[seeded.snapshotForeignDeleteOn]).to.deep.equal({ DeleteOn: "2030-01-01" });
        expect(after[seeded.snapshotOwnerSet]).to.deep.equal({
          Retention: "90days",
          DeleteOn: deleteOn,
          Owner: "payments",
        });
        expect(after[seeded.snapshotBroken]).to.deep.equal(fresh);
        expect(tagged[seeded.snapshotBroken]).not.to.have.property("RetentionBatch");
      });

      it("reports the counts in the response and logs JSON lines, one per batch", () => {
        const snapshots = Object.keys(seededTags).filter((id) => id.startsWith("snap-"));
        // Untagged ones, plus the re-anchored, the one missing our tags beside Owner, and the broken one.
        const written = snapshots.filter((id) => Object.keys(seededTags[id]).length === 0).length + 3;
        expect(first.response).to.deep.include({
          message: `Successfully tagged 2 AMIs and ${written} snapshots`,
          amis_tagged: 2,
          snapshots_tagged: written,
          amis_skipped: 0,
          snapshots_skipped: 2,
          snapshots_unchanged: 1,
          failed: [],
          failed_count: 0,
          // The hand-tagged current one, the two re-anchored and the repaired one carry no proof.
          amis_unproven: 1,
          snapshots_unproven: 3,
        });
        expect(first.response?.ledger_writes).to.be.within(2, 4);
        const lines = first.stdout
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line));
        expect(lines.filter((l) => l.message === "tagged batch").length).to.be.within(2, 8);
        expect(lines.find((l) => l.level === "WARN")?.message).to.match(/malformed DeleteOn/);
      });

      it("writes nothing on a second run", async () => {
        const tagsAfterFirst = await tagsById(ec2);
        const snapshots = Object.keys(tagsAfterFirst).filter((id) => id.startsWith("snap-")).length;
        const second = invoke(runtime.command);
        expect(second.response).to.deep.include({
          amis_tagged: 0,
          snapshots_tagged: 0,
          amis_planned: 0,
          snapshots_planned: 0,
          amis_unchanged: 2,
          snapshots_unchanged: snapshots - 2,
          snapshots_skipped: 2,
          complete: true,
        });
        expect(second.stdout).not.to.include("tagged batch");
        expect(await tagsById(ec2)).to.deep.equal(tagsAfterFirst);
      });
    });
  }

  describe("dry run and bad environment, on the emulator", () => {
    it("a dry run reports the plan and changes no tag", async () => {
      await resetAccount();
      await seedPolicyCases(ec2);
      const untouched = await tagsById(ec2);
      const untagged = Object.entries(untouched).filter(
        ([id, tags]) => id.startsWith("snap-") && Object.keys(tags).length === 0,
      );
      const planned = untagged.length + 3;
      const result = invoke([process.execPath], { DRY_RUN: "true" });
      expect(result.response).to.deep.include({
        dry_run: true,
        amis_tagged: 0,
        snapshots_tagged: 0,
        amis_planned: 2,
        snapshots_planned: planned,
      });
      expect(result.response?.message).to.equal(`Dry run: would tag 2 AMIs and ${planned} snapshots`);
      expect(await tagsById(ec2)).to.deep.equal(untouched);
    });

    it("a bad environment fails the invocation, names the variable and writes nothing", async () => {
      await resetAccount();
      await seedPolicyCases(ec2);
      const untouched = await tagsById(ec2);
      // What the stack refuses is refused here too, and a look-alike of ours is never ignored.
      for (const [overrides, named] of [
        [{ RETENTION_DAYS: "90d" }, 'RETENTION_DAYS="90d"'],
        [{ MANAGE_AMIS: "false", MANAGE_SNAPSHOTS: "false" }, "at least one kind must be managed"],
        [
          { DRY_RUN: "false", DRYRUN: "true" },
          'DRYRUN="true": not a setting of this function; did you mean DRY_RUN?',
        ],
      ] as const) {
        const result = invoke([process.execPath], overrides);
        expect(result.ok, named).to.be.false;
        expect(result.error?.message).to.include(named);
        expect(result.stdout).to.include('"statusCode":500');
      }
      expect(await tagsById(ec2)).to.deep.equal(untouched);
    });
  });

  describe("selection, anchoring and manual runs on the emulator", () => {
    it("leaves excluded resources alone and manages only included ones", async () => {
      await resetAccount();
      const kept = await createSnapshot(ec2, { Backup: "nightly" });
      const excluded = await createSnapshot(ec2, { Backup: "nightly", Env: "dev" });
      const notIncluded = await createSnapshot(ec2, { Name: "scratch" });
      const result = invoke([process.execPath], {
        INCLUDE_TAGS: '{"Backup":"*"}',
        EXCLUDE_TAGS: '{"Env":"dev"}',
      });
      expect(result.response).to.deep.include({ snapshots_tagged: 1, snapshots_excluded: 2 });
      const after = await tagsById(ec2);
      expect(after[kept]).to.include({ Retention: "90days" });
      expect(after[excluded]).to.deep.equal({ Backup: "nightly", Env: "dev" });
      expect(after[notIncluded]).to.deep.equal({ Name: "scratch" });
    });

    it("anchors DeleteOn on the snapshot's StartTime under deleteOnFrom creation", async () => {
      await resetAccount();
      const id = await createSnapshot(ec2);
      const started = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
      const createdOn = isoDateUtc(started.Snapshots?.[0].StartTime as Date);
      invoke([process.execPath], { DELETE_ON_FROM: "creation", RETENTION_DAYS: "7" });
      expect((await tagsById(ec2))[id]).to.include({ DeleteOn: addDays(createdOn, 7) });
    });

    it("honours a manual {dryRun: true} and refuses a bad payload, writing nothing either way", async () => {
      await resetAccount();
      await createSnapshot(ec2);
      const untouched = await tagsById(ec2);
      const dry = invoke([process.execPath], { INVOKE_PAYLOAD: '{"dryRun": true}' });
      expect(dry.response).to.deep.include({ dry_run: true, snapshots_planned: 1, snapshots_tagged: 0 });
      const bad = invoke([process.execPath], { INVOKE_PAYLOAD: '{"dryRun": "yes", "force": 1}' });
      expect(bad.ok).to.be.false;
      expect(bad.error?.message).to.equal(
        'Invalid invocation payload: dryRun = "yes": must be a boolean; unknown field "force"; allowed: dryRun',
      );
      expect(await tagsById(ec2)).to.deep.equal(untouched);
    });
  });

  describe("expiry on the emulator", () => {
    const EXPIRED = "2026-01-01";
    const CURRENT = "2099-01-01";
    let ledger: Ledger;

    /** Dates resources as the function would: a ledger entry, then the tags naming it. */
    async function date(
      ids: string[],
      deleteOn: string,
      retention = "90days",
    ): Promise<Record<string, string>> {
      const batchId = newBatchId();
      await ledger.record({ batchId, retention, deleteOn, ids });
      const tags = { Retention: retention, DeleteOn: deleteOn, RetentionBatch: batchId };
      await ec2.send(new CreateTagsCommand({ Resources: ids, Tags: tagList(tags) }));
      return tags;
    }

    async function imageBacking(imageId: string): Promise<string[]> {
      const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0];
      return (image?.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId as string);
    }

    async function seedExpiryAccount() {
      await resetAccount();
      ledger = dynamoLedger(emulatorDynamo(emulator.endpoint), LEDGER, "us-east-1");
      const yesterday = addDays(isoDateUtc(new Date()), -1) as string;
      const expiredImage = await createImage(ec2, "old-web");
      const usedImage = await createImage(ec2, "current-web");
      const expiredBacking = await imageBacking(expiredImage.imageId);
      const usedBacking = await imageBacking(usedImage.imageId);
      await date([expiredImage.imageId], EXPIRED);
      await date([usedImage.imageId], CURRENT);
      // Everything behind both AMIs is ours and expired; only the unused ones may go.
      await date([...expiredBacking, ...usedBacking], EXPIRED);
      const plainExpired = await createSnapshot(ec2);
      await date([plainExpired], EXPIRED);
      const excluded = await createSnapshot(ec2, { Env: "dev" });
      await date([excluded], EXPIRED);
      const inGrace = await createSnapshot(ec2);
      await date([inGrace], yesterday);
      return {
        expiredImage: expiredImage.imageId,
        expiredBacking,
        usedImage: usedImage.imageId,
        usedBacking,
        plainExpired,
        foreign: await createSnapshot(ec2, { Retention: "keep", DeleteOn: "2020-01-01" }),
        excluded,
        inGrace,
      };
    }

    it("deletes only expired backups of ours, keeps one a registered AMI uses, and a second run deletes nothing more", async () => {
      const seeded = await seedExpiryAccount();
      const first = invoke([process.execPath], { EXPIRE: "true", EXCLUDE_TAGS: '{"Env":"dev"}' });
      expect(first.error).to.equal(undefined);
      const left = await tagsById(ec2);
      expect(left).not.to.have.property(seeded.expiredImage);
      for (const id of [...seeded.expiredBacking, seeded.plainExpired]) {
        expect(left, id).not.to.have.property(id);
      }
      for (const id of [
        seeded.usedImage,
        ...seeded.usedBacking,
        seeded.foreign,
        seeded.excluded,
        seeded.inGrace,
      ]) {
        expect(left, id).to.have.property(id);
      }
      expect(first.response).to.deep.include({
        amis_deregistered: 1,
        snapshots_deleted: seeded.expiredBacking.length + 1,
        snapshots_kept_in_use: seeded.usedBacking.length,
        deletion_failures: 0,
        expiry_capped: false,
      });
      expect(first.stdout).to.match(/"message":"deregister expired AMI","id":"ami-/);
      const second = invoke([process.execPath], { EXPIRE: "true", EXCLUDE_TAGS: '{"Env":"dev"}' });
      expect(second.response).to.deep.include({ amis_deregistered: 0, snapshots_deleted: 0 });
      expect(await tagsById(ec2)).to.deep.equal(left);
    });

    it("deletes nothing in a dry run, and no more than maxDeletionsPerRun otherwise", async () => {
      await seedExpiryAccount();
      const before = await tagsById(ec2);
      const dry = invoke([process.execPath], { EXPIRE: "true", DRY_RUN: "true" });
      expect(dry.response).to.deep.include({ amis_deregistered: 0, snapshots_deleted: 0, amis_expired: 1 });
      expect(await tagsById(ec2)).to.deep.equal(before);
      const capped = invoke([process.execPath], { EXPIRE: "true", MAX_DELETIONS_PER_RUN: "1" });
      expect(capped.response).to.deep.include({
        amis_deregistered: 1,
        snapshots_deleted: 0,
        expiry_capped: true,
      });
      expect(Object.keys(await tagsById(ec2))).to.have.length(Object.keys(before).length - 1);
    });

    it("honours dryRun in a payload shaped like a scheduled event: nothing deleted, nothing tagged", async () => {
      await seedExpiryAccount();
      await createSnapshot(ec2);
      const before = await tagsById(ec2);
      const scheduledDry = JSON.stringify({
        source: "aws.events",
        "detail-type": "Scheduled Event",
        detail: {},
        dryRun: true,
      });
      const result = invoke([process.execPath], { EXPIRE: "true", INVOKE_PAYLOAD: scheduledDry });
      expect(result.response).to.deep.include({ dry_run: true, snapshots_deleted: 0, amis_deregistered: 0 });
      expect(await tagsById(ec2)).to.deep.equal(before);
    });

    it("never deletes forged, copied, re-anchored-from-hand-tags or 9999-12-31 backups, and counts them", async () => {
      await resetAccount();
      ledger = dynamoLedger(emulatorDynamo(emulator.endpoint), LEDGER, "us-east-1");
      // Tagged by hand, the seed's attack: Retention=30days, DeleteOn long past.
      const forged = await createSnapshot(ec2, { Retention: "30days", DeleteOn: "2020-01-01" });
      // Every tag of a legitimately dated backup, proof tag included, copied onto another.
      const legit = await createSnapshot(ec2);
      const legitTags = await date([legit], "2020-01-01", "30days");
      const copied = await createSnapshot(ec2, legitTags);
      // Hand tags under another retention: the run re-anchors them, but must not record them.
      const reanchored = await createSnapshot(ec2, { Retention: "7days", DeleteOn: "2020-01-01" });
      const farFuture = await createSnapshot(ec2);
      await date([farFuture], "9999-12-31", "30days");
      for (const grace of ["0", "1"]) {
        const result = invoke([process.execPath], {
          EXPIRE: "true",
          RETENTION_DAYS: "30",
          EXPIRE_GRACE_DAYS: grace,
        });
        expect(result.error, grace).to.equal(undefined);
        expect(result.response?.complete).to.be.true;
      }
      const left = await tagsById(ec2);
      expect(left).not.to.have.property(legit);
      for (const id of [forged, copied, reanchored, farFuture]) {
        expect(left, id).to.have.property(id);
      }
      expect(left[reanchored]).to.include({ Retention: "30days", DeleteOn: "2020-01-24" });
      expect(left[reanchored]).not.to.have.property("RetentionBatch");
      expect(left[farFuture]).to.include({ DeleteOn: "9999-12-31" });
      const last = invoke([process.execPath], { EXPIRE: "true", RETENTION_DAYS: "30" });
      expect(last.response).to.deep.include({ snapshots_unproven: 3, snapshots_deleted: 0 });
    });

    it("keeps tagging the rest when one backup carries a year-0100 DeleteOn", async () => {
      await resetAccount();
      const odd = await createSnapshot(ec2, { Retention: "90days", DeleteOn: "0100-03-01" });
      const plain = await createSnapshot(ec2);
      const result = invoke([process.execPath], { EXPIRE: "true", RETENTION_DAYS: "30" });
      expect(result.error).to.equal(undefined);
      expect(result.response).to.deep.include({ complete: true, failed_count: 0, snapshots_tagged: 2 });
      const after = await tagsById(ec2);
      expect(after[plain]).to.include({ Retention: "30days" });
      expect(after[odd]).to.include({ Retention: "30days" });
      expect(after[odd].DeleteOn).to.match(/^20\d\d-/);
    });

    it("re-reads tags before deleting: a backup moved a year ahead after the listing is kept", async () => {
      await resetAccount();
      ledger = dynamoLedger(emulatorDynamo(emulator.endpoint), LEDGER, "us-east-1");
      const moved = await createSnapshot(ec2);
      const kept = await createSnapshot(ec2);
      await date([moved, kept], EXPIRED);
      let edited = false;
      const proxy = await startProxy(emulator.endpoint, {
        async before(action, params) {
          // The first DescribeSnapshots by snapshot-id is expiry's re-read: the listing and the due
          // query (a tag filter) are over, and both saw the backup due.
          if (action === "DescribeSnapshots" && params.get("Filter.1.Name") === "snapshot-id" && !edited) {
            edited = true;
            await ec2.send(
              new CreateTagsCommand({
                Resources: [moved],
                Tags: tagList({ Retention: "365days", DeleteOn: "2027-12-31" }),
              }),
            );
          }
        },
      });
      try {
        const result = await invokeAsync({ EXPIRE: "true", AWS_ENDPOINT_URL: proxy.endpoint });
        expect(edited).to.be.true;
        expect(result.response).to.deep.include({ snapshots_deleted: 1, deletion_skipped: 1 });
        const left = await tagsById(ec2);
        expect(left).to.have.property(moved);
        expect(left).not.to.have.property(kept);
      } finally {
        await proxy.close();
      }
    });

    it("sees a disabled AMI, which real EC2 hides unless asked: its expired snapshot is kept", async () => {
      await resetAccount();
      ledger = dynamoLedger(emulatorDynamo(emulator.endpoint), LEDGER, "us-east-1");
      const image = await createImage(ec2, "disabled-web");
      const [backing] = await imageBacking(image.imageId);
      await date([backing], EXPIRED);
      const proxy = await startProxy(emulator.endpoint, {
        rewrite: (action, params, body) =>
          action === "DescribeImages" && params.get("IncludeDisabled") !== "true"
            ? withoutImage(body, image.imageId)
            : body,
      });
      try {
        // The proxy really hides it from a caller that does not ask.
        const hidden = emulatorClient(proxy.endpoint);
        expect(
          (await hidden.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images ?? [],
        ).to.have.length(0);
        const result = await invokeAsync({ EXPIRE: "true", AWS_ENDPOINT_URL: proxy.endpoint });
        expect(result.response).to.deep.include({
          amis_tagged: 1,
          snapshots_deleted: 0,
          snapshots_kept_in_use: 1,
        });
        expect(await tagsById(ec2)).to.have.property(backing);
      } finally {
        await proxy.close();
      }
    });
  });

  describe("deadlines on the emulator, behind a proxy that stalls or throttles", () => {
    const TIMEOUT_MS = 12_000;
    // Every request, EC2's and the ledger's (DynamoDB) alike, stalls or is throttled.
    for (const [label, intercept, interceptJson] of [
      ["an endpoint that accepts and never answers", () => "stall" as const, () => "stall" as const],
      ["throttling of every request", () => THROTTLED, () => DYNAMO_THROTTLED],
    ] as const) {
      it(`answers before a ${TIMEOUT_MS / 1000} s timeout against ${label}, with a summary and an EMF line`, async () => {
        await resetAccount();
        await createSnapshot(ec2);
        const proxy = await startProxy(emulator.endpoint, { intercept, interceptJson });
        try {
          const result = await invokeAsync({
            AWS_ENDPOINT_URL: proxy.endpoint,
            INVOKE_TIMEOUT_MS: String(TIMEOUT_MS),
            AWS_LAMBDA_LOG_LEVEL: "WARN",
          });
          expect(result.error).to.equal(undefined);
          // Answered with time to spare: Lambda would not have killed it.
          expect(result.msLeft).to.be.greaterThan(0);
          expect(result.response).to.deep.include({ statusCode: 200, complete: false });
          expect(result.response?.stop_reason).to.match(/^(time|timeout|throttled)/);
          const lines = result.stdout
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l));
          expect(lines.find((l) => l.message === result.response?.message)).to.have.property("level", "WARN");
          const [metrics] = emfLines(result.stdout);
          expect(emfProblems(JSON.stringify(metrics))).to.deep.equal([]);
          expect(metrics).to.deep.include({ RunComplete: 0, level: "WARN" });
          // The function did reach the proxy, and its ledger calls were refused as well.
          expect(proxy.targets, "DynamoDB calls").not.to.be.empty;
        } finally {
          await proxy.close();
        }
      });
    }
  });

  describe("metrics on the emulator", () => {
    it("emits valid EMF that counts a resource EC2 refused to tag", async () => {
      await resetAccount();
      await createSnapshot(ec2);
      // 49 tags: ours and the extra tag would take it past EC2's 50, so CreateTags refuses it.
      await createSnapshot(ec2, Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, "v"])));
      const result = invoke([process.execPath]);
      expect(result.response).to.deep.include({ snapshots_tagged: 1, failed_count: 1, complete: true });
      const lines = result.stdout.split("\n").filter((line) => line.includes('"_aws"'));
      expect(lines).to.have.length(1);
      expect(emfProblems(lines[0])).to.deep.equal([]);
      expect(emfLines(result.stdout)[0]).to.deep.include({
        FunctionName: "TagEC2Backups",
        SnapshotsTagged: 1,
        TagFailures: 1,
        RunComplete: 1,
        ResourcesListed: 2,
      });
    });

    it("emits valid EMF with RunComplete 0 for a run stopped at its deadline", async () => {
      await resetAccount();
      await createSnapshot(ec2);
      // Half a second left: below the 1 s safety margin from the start.
      const result = invoke([process.execPath], { INVOKE_TIMEOUT_MS: "500" });
      expect(result.response).to.deep.include({ complete: false });
      const [metrics] = emfLines(result.stdout);
      expect(emfProblems(JSON.stringify(metrics))).to.deep.equal([]);
      expect(metrics).to.deep.include({ RunComplete: 0 });
    });
  });

  describe("CreateTags semantics on the emulator", () => {
    it("one missing ID fails the whole call, and the writer isolates it so the rest are tagged", async () => {
      await resetAccount();
      const ids = [await createSnapshot(ec2), await createSnapshot(ec2), await createSnapshot(ec2)];
      const missing = "snap-0123456789abcdef0";
      const tags = [
        { Key: "Retention", Value: "90days" },
        { Key: "DeleteOn", Value: "2027-02-27" },
      ];
      const whole = await ec2
        .send(new CreateTagsCommand({ Resources: [...ids, missing], Tags: tags }))
        .catch((e: Error) => e);
      expect(whole).to.have.property("name", "InvalidSnapshot.NotFound");
      expect(Object.values(await tagsById(ec2)).every((t) => Object.keys(t).length === 0)).to.be.true;

      const failures: Failure[] = [];
      const writer = createBatchWriter({
        send: async (batch, batchTags) => {
          await ec2.send(new CreateTagsCommand({ Resources: batch, Tags: batchTags }));
        },
        findExisting: (batch) => existingSnapshots(ec2, batch),
        log: recordingLogger().log,
        kind: "snapshot",
        dryRun: false,
        outOfTime: () => false,
        onFailure: (f) => failures.push(f),
      });
      for (const id of [ids[0], missing, ids[1], ids[2]]) {
        await writer.add(id, tags);
      }
      await writer.flush();
      expect(failures.map((f) => [f.id, f.code])).to.deep.equal([[missing, "InvalidSnapshot.NotFound"]]);
      const after = await tagsById(ec2);
      expect(ids.map((id) => after[id])).to.deep.equal(
        ids.map(() => ({ Retention: "90days", DeleteOn: "2027-02-27" })),
      );
    });
  });
});
