// The suite's one way of waiting (test/helpers/eventually.ts).
import { expect, test } from "bun:test";
import { eventually } from "../helpers/eventually.ts";

test("returns the check's first truthy value", async () => {
  let calls = 0;
  expect(
    await eventually(() => (++calls >= 3 ? `after ${calls}` : undefined), { what: "a third call", intervalMs: 1 }),
  ).toBe("after 3");
});

test("fails after the deadline, saying what never happened", async () => {
  const began = Date.now();
  await expect(eventually(() => false, { what: "something", timeoutMs: 100 })).rejects.toThrow(
    "timed out after 100 ms waiting for something",
  );
  expect(Date.now() - began).toBeGreaterThanOrEqual(100);
});

test("a check that never settles fails at the deadline too", async () => {
  await expect(eventually(() => new Promise(() => {}), { what: () => "an answer", timeoutMs: 50 })).rejects.toThrow(
    "timed out after 50 ms waiting for an answer",
  );
});

test("a check that throws fails at once", async () => {
  const began = Date.now();
  await expect(
    eventually(
      () => {
        throw new Error("it exited");
      },
      { what: "never", timeoutMs: 5000 },
    ),
  ).rejects.toThrow("it exited");
  expect(Date.now() - began).toBeLessThan(1000);
});
