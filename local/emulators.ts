// The EC2 emulators the local commands and the tests run against: moto (Python, an independent
// implementation) when it is importable, otherwise this project's embedded one, which needs nothing
// but Node.js. One place decides which serves and says why.
import { startEmbedded } from "./emulator/server";
import { startMoto } from "./motoServer";

export interface Emulator {
  endpoint: string;
  /** Forgets every resource. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export const EMULATOR_NAMES = ["moto", "embedded"] as const;
export type EmulatorName = (typeof EMULATOR_NAMES)[number];

export interface EmulatorChoice {
  name: EmulatorName;
  /** Why this one, for the line that says which emulator serves. */
  why: string;
}

export function isEmulatorName(value: string): value is EmulatorName {
  return (EMULATOR_NAMES as readonly string[]).includes(value);
}

/**
 * The one asked for, else moto when it is importable, else the embedded one. `motoAvailable` is
 * asked only when it matters: it starts Python.
 */
export function chooseEmulator(
  requested: EmulatorName | undefined,
  motoAvailable: () => boolean,
): EmulatorChoice {
  if (requested !== undefined) {
    return { name: requested, why: `--emulator ${requested}` };
  }
  return motoAvailable()
    ? { name: "moto", why: "Python's moto is installed" }
    : { name: "embedded", why: "this project's own, Node.js only; moto is not installed" };
}

export function startEmulator(name: EmulatorName): Promise<Emulator> {
  return name === "moto" ? startMoto() : startEmbedded();
}
