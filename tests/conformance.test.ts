// The same scenario on moto and on the embedded emulator: the serialized Lambda must answer alike
// and leave the same tags. moto is the independent implementation; where the two differ, the
// embedded emulator is wrong about EC2 (or moto is, and the difference deserves a comment here).
// IDs differ between the two, so each resource is named for its role in the scenario.
import { CreateTagsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { expect } from "chai";
import { addDays, isoDateUtc } from "../handler/dates";
import { dynamoLedger, newBatchId, type Ledger } from "../handler/ledger";
import { startEmbedded } from "../local/emulator/server";
import type { Emulator } from "../local/emulators";
import { invokeArchiveAsync, unpackArchive } from "../local/invokeLambda";
import { createLedgerTable, emulatorDynamo } from "../local/ledgerTable";
import { INSTALL_HINT, motoInstalled, startMoto } from "../local/motoServer";
import { findResource, lambdaArchive, loadStack, sdkLayerDir } from "../local/pulumiMocks";
import { createImage, createSnapshot, emulatorClient, seedPolicyCases, tagsById } from "../local/seedAccount";

const LEDGER = "TagEC2Backups-ledger";
const EXPIRED = "2026-01-01";
const CURRENT = "2099-01-01";

type Json = Record<string, unknown>;

interface Outcome {
  first: Json;
  afterFirst: Json;
  second: Json;
  afterSecond: Json;
  expiry: Json;
  afterExpiry: Json;
}

/** Dates resources as the function would: a ledger entry, then the tags naming it. */
async function date(ec2: EC2Client, ledger: Ledger, ids: string[], deleteOn: string): Promise<void> {
  const batchId = newBatchId();
  await ledger.record({ batchId, retention: "90days", deleteOn, ids });
  const tags = { Retention: "90days", DeleteOn: deleteOn, RetentionBatch: batchId };
  await ec2.send(
    new CreateTagsCommand({
      Resources: ids,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
}

/** Every case of the tag policy, a resource EC2 cannot tag, and backups for expiry; by role. */
async function seedScenario(ec2: EC2Client, ledger: Ledger): Promise<Record<string, string>> {
  const { backingSnapshots, ...policy } = await seedPolicyCases(ec2);
  const oldImage = await createImage(ec2, "old-web");
  const usedImage = await createImage(ec2, "current-web");
  const roles: Record<string, string> = {
    ...policy,
    backingOfImageNew: backingSnapshots[0],
    backingOfImageReanchored: backingSnapshots[1],
    // 49 tags: ours and the extra tag would take it past EC2's 50.
    snapshotFull: await createSnapshot(
      ec2,
      Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, "v"])),
    ),
    expiredImage: oldImage.imageId,
    backingOfExpiredImage: oldImage.snapshotId,
    currentImage: usedImage.imageId,
    expiredBackingOfCurrentImage: usedImage.snapshotId,
    expiredSnapshot: await createSnapshot(ec2),
    snapshotInGrace: await createSnapshot(ec2),
  };
  await date(ec2, ledger, [roles.expiredImage], EXPIRED);
  await date(ec2, ledger, [roles.currentImage], CURRENT);
  await date(
    ec2,
    ledger,
    [roles.backingOfExpiredImage, roles.expiredBackingOfCurrentImage, roles.expiredSnapshot],
    EXPIRED,
  );
  await date(ec2, ledger, [roles.snapshotInGrace], addDays(isoDateUtc(new Date()), -1) as string);
  return roles;
}

/** IDs replaced by their roles (an ID without one stays, marked), batch IDs by a placeholder. */
function byRole(value: unknown, roles: Record<string, string>): Json {
  const names = new Map(Object.entries(roles).map(([role, id]) => [id, role]));
  const text = JSON.stringify(value)
    .replace(/\b(?:ami|snap)-[0-9a-f]+\b/g, (id) => names.get(id) ?? `unexpected ${id}`)
    .replace(/"RetentionBatch":"[^"]+"/g, '"RetentionBatch":"(a batch)"')
    // When each run's sweep pass started and ended: a clock reading, not the emulator's answer.
    .replace(/"(last_full_pass_(?:started|completed))":"[^"]*"/g, '"$1":"(a time)"')
    // Ledger reads depend on which listing (AMIs, snapshots, the due query) names a batch first:
    // they run at once, so the count follows each emulator's timing, not its answers.
    .replace(/"ledger_reads":\d+/g, '"ledger_reads":"(a count)"');
  return JSON.parse(text);
}

describe("conformance: the embedded emulator answers the serialized Lambda as moto does", function () {
  this.timeout(240_000);
  const outcomes: Partial<Record<"moto" | "embedded", Outcome>> = {};
  let removeArchive: (() => void) | undefined;

  before(async function () {
    if (!motoInstalled()) {
      if (process.env.CI === "true") {
        throw new Error(`${INSTALL_HINT}; CI must compare the embedded emulator with moto`);
      }
      this.skip();
    }
    await loadStack({ "aws:region": "us-east-1", retentionDays: "90", extraTags: '{"Owner":"platform"}' });
    const archive = unpackArchive(await lambdaArchive());
    const layerDir = await sdkLayerDir();
    removeArchive = archive.remove;
    const environment: Record<string, string> = findResource("aws:lambda/function:Function").inputs
      .environment.variables;

    const run = async (emulator: Emulator): Promise<Outcome> => {
      const ec2 = emulatorClient(emulator.endpoint);
      try {
        await createLedgerTable(emulator.endpoint, LEDGER);
        const roles = await seedScenario(
          ec2,
          dynamoLedger(emulatorDynamo(emulator.endpoint), LEDGER, "us-east-1"),
        );
        // Asynchronously: the embedded emulator answers from this process.
        const invoke = async (overrides: Record<string, string> = {}) => {
          const result = await invokeArchiveAsync([process.execPath], archive.dir, layerDir, {
            AWS_REGION: "us-east-1",
            AWS_ENDPOINT_URL: emulator.endpoint,
            AWS_ACCESS_KEY_ID: "testing",
            AWS_SECRET_ACCESS_KEY: "testing",
            AWS_LAMBDA_FUNCTION_NAME: "TagEC2Backups",
            ...environment,
            ...overrides,
          });
          expect(result.error).to.equal(undefined);
          return byRole(result.response, roles);
        };
        const tags = async () => byRole(await tagsById(ec2), roles);
        const first = await invoke();
        const afterFirst = await tags();
        const second = await invoke();
        const afterSecond = await tags();
        const expiry = await invoke({ EXPIRE: "true" });
        return { first, afterFirst, second, afterSecond, expiry, afterExpiry: await tags() };
      } finally {
        ec2.destroy();
      }
    };
    for (const [name, start] of [
      ["moto", startMoto],
      ["embedded", startEmbedded],
    ] as const) {
      const emulator = await start();
      try {
        outcomes[name] = await run(emulator);
      } finally {
        await emulator.stop();
      }
    }
  });

  after(() => removeArchive?.());

  it("exercises tagging, a write EC2 refuses, and expiry, so the comparisons below say something", () => {
    const { first, second, expiry } = outcomes.embedded as Outcome;
    // Two AMIs dated, two already dated that get the extra tag.
    expect(first).to.deep.include({ amis_tagged: 4, failed_count: 1 });
    expect(first.failed).to.deep.equal([
      {
        id: "snapshotFull",
        code: "TagLimitExceeded",
        message: "The maximum number of Tags for a resource has been reached.",
      },
    ]);
    expect(second).to.deep.include({ amis_tagged: 0, snapshots_tagged: 0 });
    expect(expiry).to.deep.include({ amis_deregistered: 1, snapshots_deleted: 2, snapshots_kept_in_use: 1 });
  });

  it("answers the first run as moto does", () => {
    expect(outcomes.embedded?.first).to.deep.equal(outcomes.moto?.first);
  });

  it("leaves the tags moto leaves after the first run", () => {
    expect(outcomes.embedded?.afterFirst).to.deep.equal(outcomes.moto?.afterFirst);
  });

  it("answers a second run as moto does, and it changes no tag on either", () => {
    expect(outcomes.embedded?.second).to.deep.equal(outcomes.moto?.second);
    expect(outcomes.embedded?.afterSecond).to.deep.equal(outcomes.moto?.afterSecond);
    expect(outcomes.embedded?.afterSecond).to.deep.equal(outcomes.embedded?.afterFirst);
  });

  it("answers an expiry run as moto does", () => {
    expect(outcomes.embedded?.expiry).to.deep.equal(outcomes.moto?.expiry);
  });

  it("leaves the backups moto leaves after expiry, with their tags", () => {
    const left = outcomes.embedded?.afterExpiry as Json;
    expect(left).to.deep.equal(outcomes.moto?.afterExpiry);
    expect(Object.keys(left)).to.include.members([
      "currentImage",
      "expiredBackingOfCurrentImage",
      "snapshotInGrace",
    ]);
    expect(Object.keys(left)).not.to.include.members(["expiredImage"]);
  });
});
