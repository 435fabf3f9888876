CREATE TABLE `audit_dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`payload` text NOT NULL,
	`makerspace_id` text,
	`action` text,
	`created_at` text NOT NULL,
	`attempts` integer NOT NULL,
	`failed_at` text NOT NULL,
	`reason` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_audit_dead_letters_failed` ON `audit_dead_letters` (`failed_at`,`id`);