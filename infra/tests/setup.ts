import { afterAll } from "vitest";
import { removeSynthOutputs } from "./synth.js";

// Each test file's in-memory synths write to temp folders: removed when the file is done.
afterAll(removeSynthOutputs);
