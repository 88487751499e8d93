// The lines the engine's thread hands the fleet worker (fleetChannel.ts writes them, fleetWorker.ts's take reads
// them): each message comes out as it went in, its kind, its JSON and an alert's program, whatever the JSON holds.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FleetKind } from "./fleetNames.js";
import { ALERT_WITH_PROGRAM, KIND_LETTER, take } from "./fleetWorker.js";

interface Sent {
  kind: FleetKind;
  json: string;
  program?: string;
}

/** A message as the channel writes it into the ring (fleetChannel.send). */
function line(m: Sent): string {
  if (m.program !== undefined && m.kind === "alerts") return `${ALERT_WITH_PROGRAM}${m.program} ${m.json}`;
  return KIND_LETTER[m.kind] + m.json;
}

function taken(text: string): Sent[] {
  const out: Sent[] = [];
  take(
    {
      publish: (kind, json, program) => {
        out.push({ kind, json, ...(program !== undefined ? { program } : {}) });
      },
    },
    text,
  );
  return out;
}

describe("the fleet worker's lines", () => {
  it("reads each kind, and an alert's program before its JSON", () => {
    const program = `b-${"ab".repeat(20)}`;
    const sent: Sent[] = [
      { kind: "heartbeats", json: `{"started":1}` },
      { kind: "alerts", json: `{"rule":"a b"}`, program },
      { kind: "alerts", json: `{"rule":"c"}` },
      { kind: "actions", json: `{"kind":"delay"}` },
    ];
    expect(taken(sent.map(line).join("\n"))).toEqual(sent);
  });

  it("gives back every message as it was handed over (property)", () => {
    const json = fc.jsonValue().map((v) => JSON.stringify(v)); // JSON never holds a raw newline
    const program = fc.oneof(
      fc.constant(undefined),
      fc.stringMatching(/^b-[0-9a-f]{2,40}$/),
      fc.stringMatching(/^s-[0-9a-f]{32}$/),
    );
    const message = fc
      .record({ kind: fc.constantFrom<FleetKind>("alerts", "actions", "heartbeats"), json, program })
      .map(({ kind, json, program }): Sent => ({
        kind,
        json,
        ...(program !== undefined && kind === "alerts" ? { program } : {}),
      }));
    fc.assert(
      fc.property(fc.array(message, { maxLength: 20 }), (sent) => {
        expect(taken(sent.map(line).join("\n"))).toEqual(sent);
      }),
    );
  });
});
