// Options for a line writer under test that fails the test on anything it did not expect: an
// error on the stream, or a line dropped. Tests replace the handler for what they provoke.
import type { LineWriterOptions } from "../../src/observe/line-writer.ts";

export const strict: LineWriterOptions = {
  stream: "stdout",
  onError: (err) => {
    throw err;
  },
  onDropped: (count) => {
    throw new Error(`${count} dropped`);
  },
};
