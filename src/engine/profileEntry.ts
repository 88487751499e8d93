// One executable's profile as the host engine holds it: its identity, its live profile (pH's lookahead pairs or a
// detector's), its static check, and the bookkeeping the caller needs to save it.

import type { ExeIdentity } from "../capture/hostEvents.js";
import type { LiveProfile } from "../lifecycle/liveProfile.js";
import type { StaticCheck } from "./staticCheck.js";

/** One executable's profile as the engine holds it. */
export interface ProfileEntry {
  readonly key: string;
  readonly exe: ExeIdentity;
  profile: LiveProfile;
  /** Changed since the caller last saved it. */
  dirty: boolean;
  /** Live tasks running it. */
  tasks: number;
  /** The store's version this entry was loaded from or last saved as (0: never stored); kept by the caller. */
  storedVersion: number;
  /** The static check of this executable; null when static models are off or none could be had. */
  static: StaticCheck | null;
  /** Why there is no static model (analysis failed, queue full), once said; null otherwise. */
  staticError: string | null;
}
