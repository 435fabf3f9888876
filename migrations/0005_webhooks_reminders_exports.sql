CREATE TABLE `certification_reminders` (
	`user_skill_id` text NOT NULL,
	`threshold_days` integer NOT NULL,
	`expires_at` text NOT NULL,
	`makerspace_id` text NOT NULL,
	`event_id` text NOT NULL,
	`created_at` text NOT NULL,
	`dispatched_at` text,
	PRIMARY KEY(`user_skill_id`, `threshold_days`, `expires_at`)
);
--> statement-breakpoint
CREATE INDEX `idx_certification_reminders_pending` ON `certification_reminders` (`created_at`) WHERE dispatched_at is null;--> statement-breakpoint
CREATE INDEX `idx_certification_reminders_expires` ON `certification_reminders` (`expires_at`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`webhook_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`attempt` integer NOT NULL,
	`status_code` integer,
	`error` text,
	`duration_ms` integer,
	`delivered_at` text NOT NULL,
	`next_attempt_at` text
);
--> statement-breakpoint
CREATE INDEX `idx_webhook_deliveries_webhook` ON `webhook_deliveries` (`webhook_id`,`delivered_at`,`id`);--> statement-breakpoint
CREATE INDEX `idx_webhook_deliveries_date` ON `webhook_deliveries` (`delivered_at`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`makerspace_id` text NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`description` text,
	`active` integer DEFAULT true NOT NULL,
	`secret_ciphertext` text NOT NULL,
	`failing_since` text,
	`created_by` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_webhooks_makerspace` ON `webhooks` (`makerspace_id`,`active`);--> statement-breakpoint
CREATE INDEX `idx_user_skills_makerspace_created` ON `user_skills` (`makerspace_id`,`created_at`,`id`);