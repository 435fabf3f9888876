import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The last migration this code expects to find applied: its file name in `migrations/`, as
 * `wrangler d1 migrations apply` (and `npm run start:local`) record it in `d1_migrations`.
 * `/health?deep=1` is not ok until it is applied. test/platform/migrations.test.ts fails when a
 * migration is added without updating this.
 */
export const LATEST_MIGRATION = "0006_sharding.sql";

/**
 * Wrangler's own record of applied migrations (`wrangler d1 migrations apply` creates it): read,
 * never written, by this code. Declared here, outside schema.ts, so drizzle-kit never generates it.
 */
export const d1Migrations = sqliteTable("d1_migrations", {
  id: integer("id").primaryKey(),
  name: text("name"),
  appliedAt: text("applied_at"),
});
