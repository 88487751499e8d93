// Runs the shared detector conformance suite (testing/conformance.ts) against every detector kind and the option
// settings that change their code paths: stide's packed keys (k <= 8 on ADFA-LD) and verified hashed keys (k = 10,
// 32), t-stide with a threshold that bites on small data, and lookahead pairs with one-byte and four-byte masks.

import { lookaheadPairsFactory } from "./lookaheadPairs.js";
import { sequenceCoverFactory } from "./sequenceCover.js";
import { stideFactory } from "./stide.js";
import { detectorConformance } from "./testing/conformance.js";
import { tStideFactory } from "./tStide.js";

detectorConformance(stideFactory);
detectorConformance(stideFactory, { options: { k: 2 } });
detectorConformance(stideFactory, { options: { k: 10 } });
detectorConformance(stideFactory, { options: { k: 32 } });
detectorConformance(tStideFactory);
detectorConformance(tStideFactory, { options: { k: 4, threshold: 0.002 } });
detectorConformance(tStideFactory, { options: { k: 12, threshold: 0.001 } });
detectorConformance(lookaheadPairsFactory);
detectorConformance(lookaheadPairsFactory, { options: { L: 2 } });
detectorConformance(lookaheadPairsFactory, { options: { L: 20, locality: 64 } });
detectorConformance(sequenceCoverFactory);
