// Types of crashWorkload.mjs, for the parent test.
import type { ProfileRecord } from "../stateStore.js";

export declare const PROFILE_COUNT: number;
export declare function keyOf(index: number): string;
export declare function blobSize(index: number, version: number): number;
export declare function blobFor(index: number, version: number): Uint8Array;
export declare function recordFor(index: number, version: number): ProfileRecord;
