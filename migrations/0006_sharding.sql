CREATE TABLE `equipment_index` (
	`id` text PRIMARY KEY NOT NULL,
	`makerspace_id` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `makerspace_shards` (
	`makerspace_id` text PRIMARY KEY NOT NULL,
	`shard` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_makerspace_shards_shard` ON `makerspace_shards` (`shard`);--> statement-breakpoint
-- Upgrade from one database: applied to the old database (bound as both DIRECTORY and SHARD_0), these
-- file every makerspace and equipment id it holds under SHARD_0. On any other database they find no rows.
INSERT OR IGNORE INTO `makerspace_shards` (`makerspace_id`, `shard`, `created_at`)
SELECT DISTINCT `makerspace_id`, 'SHARD_0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM `skills`;
--> statement-breakpoint
INSERT OR IGNORE INTO `makerspace_shards` (`makerspace_id`, `shard`, `created_at`)
SELECT DISTINCT `makerspace_id`, 'SHARD_0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM `equipment`;
--> statement-breakpoint
INSERT OR IGNORE INTO `makerspace_shards` (`makerspace_id`, `shard`, `created_at`)
SELECT DISTINCT `makerspace_id`, 'SHARD_0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM `user_skills`;
--> statement-breakpoint
INSERT OR IGNORE INTO `makerspace_shards` (`makerspace_id`, `shard`, `created_at`)
SELECT DISTINCT `makerspace_id`, 'SHARD_0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM `skill_requests`;
--> statement-breakpoint
INSERT OR IGNORE INTO `makerspace_shards` (`makerspace_id`, `shard`, `created_at`)
SELECT DISTINCT `makerspace_id`, 'SHARD_0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM `devices`;
--> statement-breakpoint
INSERT OR IGNORE INTO `makerspace_shards` (`makerspace_id`, `shard`, `created_at`)
SELECT DISTINCT `makerspace_id`, 'SHARD_0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM `badges`;
--> statement-breakpoint
INSERT OR IGNORE INTO `makerspace_shards` (`makerspace_id`, `shard`, `created_at`)
SELECT DISTINCT `makerspace_id`, 'SHARD_0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM `skill_audit_logs`;
--> statement-breakpoint
INSERT OR IGNORE INTO `makerspace_shards` (`makerspace_id`, `shard`, `created_at`)
SELECT DISTINCT `makerspace_id`, 'SHARD_0', strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM `webhooks`;
--> statement-breakpoint
INSERT OR IGNORE INTO `equipment_index` (`id`, `makerspace_id`, `created_at`)
SELECT `id`, `makerspace_id`, `created_at` FROM `equipment`;
