CREATE TABLE `audit_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`payload` text NOT NULL,
	`created_at` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_audit_outbox_created` ON `audit_outbox` (`created_at`);--> statement-breakpoint
CREATE TABLE `badges` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`makerspace_id` text NOT NULL,
	`uid_sha256` text NOT NULL,
	`uid_last4` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_badges_makerspace_uid` ON `badges` (`makerspace_id`,`uid_sha256`);--> statement-breakpoint
CREATE INDEX `idx_badges_user` ON `badges` (`user_id`);--> statement-breakpoint
CREATE TABLE `devices` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`makerspace_id` text NOT NULL,
	`equipment_ids` text DEFAULT '[]' NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`token_jti` text NOT NULL,
	`last_seen_at` text,
	`firmware` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_devices_makerspace` ON `devices` (`makerspace_id`,`kind`);--> statement-breakpoint
CREATE TABLE `equipment` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`makerspace_id` text NOT NULL,
	`category` text,
	`location` text,
	`status` text DEFAULT 'available' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_equipment_makerspace_status` ON `equipment` (`makerspace_id`,`status`);--> statement-breakpoint
CREATE TABLE `skill_audit_logs` (
	`id` text PRIMARY KEY NOT NULL,
	`action` text NOT NULL,
	`user_id` text,
	`skill_id` text,
	`makerspace_id` text NOT NULL,
	`performed_by` text,
	`reason` text,
	`metadata` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_skill_audit_logs_date` ON `skill_audit_logs` (`created_at`);--> statement-breakpoint
CREATE INDEX `idx_skill_audit_logs_makerspace_date` ON `skill_audit_logs` (`makerspace_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `skill_equipment` (
	`skill_id` text NOT NULL,
	`equipment_id` text NOT NULL,
	PRIMARY KEY(`skill_id`, `equipment_id`),
	FOREIGN KEY (`skill_id`) REFERENCES `skills`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`equipment_id`) REFERENCES `equipment`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `idx_skill_equipment_equipment` ON `skill_equipment` (`equipment_id`);--> statement-breakpoint
CREATE TABLE `skill_prerequisites` (
	`skill_id` text NOT NULL,
	`prerequisite_id` text NOT NULL,
	PRIMARY KEY(`skill_id`, `prerequisite_id`),
	FOREIGN KEY (`skill_id`) REFERENCES `skills`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`prerequisite_id`) REFERENCES `skills`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `skill_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`skill_id` text NOT NULL,
	`makerspace_id` text NOT NULL,
	`status` text NOT NULL,
	`reason` text,
	`notes` text,
	`reviewed_by` text,
	`reviewed_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`skill_id`) REFERENCES `skills`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `idx_skill_requests_status` ON `skill_requests` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `idx_skill_requests_makerspace_user` ON `skill_requests` (`makerspace_id`,`user_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `uq_skill_requests_pending` ON `skill_requests` (`user_id`,`skill_id`) WHERE status = 'pending';--> statement-breakpoint
CREATE TABLE `skills` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`category` text NOT NULL,
	`level` text NOT NULL,
	`description` text,
	`status` text DEFAULT 'active' NOT NULL,
	`makerspace_id` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_skills_makerspace_name` ON `skills` (`makerspace_id`,lower("name"));--> statement-breakpoint
CREATE INDEX `idx_skills_makerspace_category` ON `skills` (`makerspace_id`,`category`);--> statement-breakpoint
CREATE TABLE `user_skills` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`skill_id` text NOT NULL,
	`makerspace_id` text NOT NULL,
	`status` text NOT NULL,
	`certified_at` text,
	`expires_at` text,
	`certified_by` text,
	`notes` text,
	`quiz_score` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`skill_id`) REFERENCES `skills`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_user_skills_user_skill` ON `user_skills` (`user_id`,`skill_id`);--> statement-breakpoint
CREATE INDEX `idx_user_skills_user_status` ON `user_skills` (`user_id`,`status`);--> statement-breakpoint
CREATE INDEX `idx_user_skills_skill_status` ON `user_skills` (`skill_id`,`status`);--> statement-breakpoint
CREATE INDEX `idx_user_skills_status_expires` ON `user_skills` (`status`,`expires_at`);--> statement-breakpoint
CREATE INDEX `idx_user_skills_makerspace_user` ON `user_skills` (`makerspace_id`,`user_id`);