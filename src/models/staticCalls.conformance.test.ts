// Runs the shared detector conformance suite (testing/conformance.ts) against the static model in both modes. It
// does not train, so the suite derives it from the traces it would have trained on (testing/staticFromTraces.ts).

import { staticCallsFactory } from "./staticCalls.js";
import { detectorConformance } from "./testing/conformance.js";
import { staticFromTraces } from "./testing/staticFromTraces.js";

detectorConformance(staticCallsFactory, { derive: staticFromTraces });
detectorConformance(staticCallsFactory, { options: { mode: "digraph" }, derive: staticFromTraces });
