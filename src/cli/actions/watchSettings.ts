// The settings of `homeostat watch` that can change while it runs: the alert outputs and pH's lifecycle settings.
// They come from the flags, overridden by the JSON file of --config when one is given; a SIGHUP reads the file again
// and applies it (the outputs reopened, the lifecycle settings given to every profile), so that a service changes
// them without a restart, losing no training. Keys are the long flags' names in camelCase:
//
//   { "alertsHttp": "http://127.0.0.1:2801/", "alertsHttpPipeline": 16, "spoolSize": 64, "alertsSyslog": true,
//     "syslogSocket": "/run/x.sock", "syslogFacility": "daemon", "normalFactor": 128, "normalFactorDen": 32, "normalWait": 604800,
//     "anomalyLimit": 30, "tolerizeLimit": 12 }
//
// "alertsHttp": null turns the HTTP output off (the spool stays on disk for when it is on again).

import { readFileSync } from "node:fs";
import { z } from "zod";
import { HomeostatError, ParseError } from "../../errors.js";
import type { LifecycleSettings } from "../../lifecycle/lifecycleSettings.js";
import type { AlertOutputsConfig } from "../../watch/outputs/alertOutputs.js";
import { alertsUrl } from "../../watch/outputs/httpPost.js";
import { SYSLOG_FACILITIES } from "../../watch/outputs/syslogFormat.js";

const count = z.number().int().min(1);

const SETTINGS_FILE = z.strictObject({
  alertsHttp: z.string().nullable().optional(),
  alertsHttpPipeline: z.number().int().min(1).max(256).optional(),
  spoolSize: z.number().min(0.001).max(65_536).optional(),
  alertsSyslog: z.boolean().optional(),
  syslogSocket: z.string().min(1).optional(),
  syslogFacility: z.string().optional(),
  normalFactor: count.optional(),
  normalFactorDen: count.optional(),
  normalWait: z.number().min(0).optional(),
  anomalyLimit: count.optional(),
  tolerizeLimit: count.optional(),
});

/** What a SIGHUP can change, as the flags hold it. */
export interface ReloadableSettings {
  alertsHttp?: string | null | undefined;
  alertsHttpPipeline: number;
  spoolSize: number;
  alertsSyslog?: boolean | undefined;
  syslogSocket?: string | undefined;
  syslogFacility: string;
  normalFactor: number;
  normalFactorDen: number;
  normalWait: number;
  anomalyLimit: number;
  tolerizeLimit: number;
}

/** The flags with the settings file's values over them (the flags alone without --config). */
export function currentSettings<T extends ReloadableSettings>(flags: T, configFile: string | undefined): T {
  if (configFile === undefined) return flags;
  let text: string;
  try {
    text = readFileSync(configFile, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HomeostatError(code === "ENOENT" ? "E_NOT_FOUND" : "E_IO", `cannot read the settings file`, {
      file: configFile,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`not JSON: ${(err as Error).message}`, { file: configFile });
  }
  const parsed = SETTINGS_FILE.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ParseError(`${issue?.path.join(".") || "settings"}: ${issue?.message ?? "invalid"}`, {
      file: configFile,
    });
  }
  const defined = Object.entries(parsed.data).filter(([, v]) => v !== undefined);
  return { ...flags, ...Object.fromEntries(defined) };
}

/** The lifecycle settings of `s`. */
export function lifecycleOf(s: ReloadableSettings): Partial<LifecycleSettings> {
  return {
    normalFactor: s.normalFactor,
    normalFactorDen: s.normalFactorDen,
    normalWait: s.normalWait,
    anomalyLimit: s.anomalyLimit,
    tolerizeLimit: s.tolerizeLimit,
  };
}

/** The alert outputs `s` asks for, checked (a bad URL or facility is a usage error). */
export function outputsOf(s: ReloadableSettings): AlertOutputsConfig {
  const facility = SYSLOG_FACILITIES[s.syslogFacility];
  if (facility === undefined) {
    throw new HomeostatError(
      "E_USAGE",
      `unknown --syslog-facility "${s.syslogFacility}" (${Object.keys(SYSLOG_FACILITIES).join(", ")})`,
    );
  }
  return {
    ...(s.alertsHttp !== undefined && s.alertsHttp !== null
      ? {
          http: {
            url: alertsUrl(s.alertsHttp),
            spoolMaxBytes: Math.round(s.spoolSize * 1024 * 1024),
            pipeline: s.alertsHttpPipeline,
          },
        }
      : {}),
    ...(s.alertsSyslog === true ? { syslog: { path: s.syslogSocket ?? "/dev/log", facility } } : {}),
  };
}
