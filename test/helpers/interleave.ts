import { envWithD1, hookD1 } from "./d1-hooks";

/**
 * The test env with the real D1 bindings, where `action` runs just before the first batch the
 * Worker sends to a shard (given the shard's real binding): the interleaving two racing requests
 * produce, made deterministic.
 */
export function envBeforeNextBatch(action: (db: D1Database) => Promise<unknown>): Env {
  let fired = false;
  return envWithD1((db, name) =>
    name === "DIRECTORY"
      ? db
      : hookD1(db, {
          batch: async (target, statements) => {
            if (!fired) {
              fired = true;
              await action(db);
            }
            return target.batch(statements);
          },
        }),
  );
}
