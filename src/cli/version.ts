// The package version, read once from package.json (by the models layer, which stamps it into profiles).
import { homeostatVersion } from "../models/profile.js";

export const VERSION: string = homeostatVersion();
