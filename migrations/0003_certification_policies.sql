CREATE TABLE `skill_instructors` (
	`skill_id` text NOT NULL,
	`user_id` text NOT NULL,
	`makerspace_id` text NOT NULL,
	`created_at` text NOT NULL,
	`created_by` text NOT NULL,
	PRIMARY KEY(`skill_id`, `user_id`),
	FOREIGN KEY (`skill_id`) REFERENCES `skills`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `idx_skill_instructors_makerspace_user` ON `skill_instructors` (`makerspace_id`,`user_id`);--> statement-breakpoint
ALTER TABLE `skills` ADD `validity_mode` text DEFAULT 'duration' NOT NULL;--> statement-breakpoint
ALTER TABLE `skills` ADD `validity_days` integer;--> statement-breakpoint
ALTER TABLE `skills` ADD `validity_date` text;--> statement-breakpoint
ALTER TABLE `user_skills` ADD `last_use_renewal_at` text;