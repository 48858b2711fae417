// Polls a condition (an event with no callback to await, e.g. a row lock seen in pg_stat_activity) until it holds.
// The pause doubles from 5 ms up to 200 ms, so a condition that opens a database connection per
// check neither spins the CPU nor makes a slow machine wait long after the event.
export async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 5; !(await condition()); pause = Math.min(pause * 2, 200)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
