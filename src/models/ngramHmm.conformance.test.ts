// Runs the shared detector conformance suite (testing/conformance.ts) against the n-gram model and the HMM. The
// n-gram runs at its default order and at the extremes of the orders users pick (a bigram model and n = 8). The
// HMM runs small (12 states: a count that is not a multiple of the 8-wide inner kernel, few iterations) on both
// synthetic and ADFA-LD traces, and at its default 40 states on synthetic traces only: the suite fits a dozen
// models, and 40-state fits of ADFA-LD subsets would take minutes on a shared machine.

import { hmmFactory } from "./hmm.js";
import { ngramFactory } from "./ngram.js";
import { detectorConformance } from "./testing/conformance.js";

detectorConformance(ngramFactory);
detectorConformance(ngramFactory, { options: { n: 2 } });
detectorConformance(ngramFactory, { options: { n: 8 } });
detectorConformance(hmmFactory, { options: { states: 12, iterations: 8 } });
detectorConformance(hmmFactory, { options: { iterations: 4 }, adfa: false });
