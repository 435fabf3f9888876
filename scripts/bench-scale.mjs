// npm run bench:scale [-- --quick] — capacity figures for a scaled-down platform.
//
// Serves the built Worker on Miniflare (as `npm run start:local` does) on a fresh local state,
// seeds N makerspaces × M members × C certifications with E machines each and a year of door
// events straight into D1 with set-based SQL (seeding through the API would take hours), then
// measures through the real paths: heartbeats over HTTP (autocannon), door events over HTTP
// through the real queue consumer into D1 and the R2 archive, the hourly cron (expiry) and the
// daily cron (retention) through /cdn-cgi/local/scheduled. Prints a table and writes
// bench-results/bench-scale.json. `--quick` (or BENCH_SCALE_QUICK=1) runs a small version in ~1 min.
//
// Env: BENCH_SCALE_MAKERSPACES (20), BENCH_SCALE_MEMBERS (500), BENCH_SCALE_CERTS (15),
//      BENCH_SCALE_MACHINES (200), BENCH_SCALE_SKILLS (50), BENCH_SCALE_DOOR_EVENTS_PER_DAY (100,
//      per makerspace, for the seeded year), BENCH_SCALE_SECONDS (10), BENCH_SCALE_CONNECTIONS (16).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { api, freePort, mintToken, pool, prng } from "./lib/client.mjs";
import { startLocalServer } from "./lib/local-server.mjs";

const QUICK = process.argv.includes("--quick") || process.env.BENCH_SCALE_QUICK === "1";
const num = (name, full, quick) => Number(process.env[`BENCH_SCALE_${name}`] ?? (QUICK ? quick : full));
const P = {
  makerspaces: num("MAKERSPACES", 20, 4),
  members: num("MEMBERS", 500, 100),
  certs: num("CERTS", 15, 15),
  machines: num("MACHINES", 200, 50),
  skills: num("SKILLS", 50, 30),
  doorEventsPerDay: num("DOOR_EVENTS_PER_DAY", 100, 20),
  seconds: num("SECONDS", 10, 3),
  connections: num("CONNECTIONS", 16, 8),
};
/** The full-scale target (API contract: 1,000 makerspaces × 5,000 members, 200 machines each). */
const TARGET = {
  makerspaces: 1000,
  members: 5000,
  certs: 15,
  machines: 200,
  doorEventsPerMemberPerDay: 2,
  accessRetentionDays: 90,
  changeEventsPerMemberPerYear: 15,
  changeRetentionYears: 5,
  shardBytes: 10 * 1000 ** 3,
  shardFill: 0.7,
  heartbeatSeconds: 60,
};

const pad = (n, width) => String(n).padStart(width, "0");
/** Ids shaped like the service's own (a prefix and a UUID), so rows weigh what real ones do. */
const uuidLike = (a, b) => `${pad(a, 8)}-0000-4000-8000-${pad(b, 12)}`;
const UUID_SQL = (a, b) => `printf('%08d-0000-4000-8000-%012d', ${a}, ${b})`;
const msId = (m) => `ms_${uuidLike(m, 0)}`;
const userId = (m, u) => uuidLike(m, 100_000 + u);
const eqId = (m, j) => `eq_${uuidLike(m, j)}`;
const RANDOM_UUID_SQL = `lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-a' || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))`;

const WALL = Date.now();
function log(line) {
  console.log(`[${((Date.now() - WALL) / 1000).toFixed(0).padStart(4)} s] ${line}`);
}

/** One statement's `meta.size_after`: the database's size in bytes once it ran (what D1's 10 GB counts). */
async function run(db, sql, ...binds) {
  const res = await db
    .prepare(sql)
    .bind(...binds)
    .run();
  return res.meta;
}

async function count(db, sql, ...binds) {
  const row = await db
    .prepare(sql)
    .bind(...binds)
    .first();
  return Number(Object.values(row ?? { n: 0 })[0]);
}

/** Seeds one makerspace's catalogue, members, certifications, badges (not the door events). */
async function seedMakerspace(db, m, now) {
  const ms = msId(m);
  const at = now.toISOString();
  await run(
    db,
    `with recursive n(i) as (select 0 union all select i + 1 from n where i < ?2 - 1)
     insert into skills (id, name, category, level, description, status, makerspace_id, created_at, updated_at)
     select 'skill_' || ${UUID_SQL("?1", "i")}, 'Skill ' || i, 'Category ' || (i % 6),
       case i % 4 when 0 then 'beginner' when 1 then 'intermediate' when 2 then 'advanced' else 'expert' end,
       'Training and sign-off for skill ' || i, 'active', ?3, ?4, ?4 from n`,
    m,
    P.skills,
    ms,
    at,
  );
  await run(
    db,
    `with recursive n(i) as (select 0 union all select i + 1 from n where i < ?2 - 1)
     insert into equipment (id, name, makerspace_id, category, location, status, created_at, updated_at)
     select 'eq_' || ${UUID_SQL("?1", "i")}, 'Machine ' || i, ?3, 'Category ' || (i % 6), 'Room ' || (i % 8),
       'available', ?4, ?4 from n`,
    m,
    P.machines,
    ms,
    at,
  );
  // Each machine needs one or two skills.
  await run(
    db,
    `with recursive n(i) as (select 0 union all select i + 1 from n where i < ?2 - 1)
     insert or ignore into skill_equipment (skill_id, equipment_id)
     select 'skill_' || ${UUID_SQL("?1", "(i % ?3)")}, 'eq_' || ${UUID_SQL("?1", "i")} from n
     union select 'skill_' || ${UUID_SQL("?1", "((i * 7 + 3) % ?3)")}, 'eq_' || ${UUID_SQL("?1", "i")} from n
       where i % 2 = 0`,
    m,
    P.machines,
    P.skills,
  );
  const before = await run(db, "select 1");
  const certs = await run(
    db,
    `with recursive u(i) as (select 0 union all select i + 1 from u where i < ?2 - 1),
       k(j) as (select 0 union all select j + 1 from k where j < ?3 - 1)
     insert into user_skills (id, user_id, skill_id, makerspace_id, status, certified_at, expires_at, certified_by,
       notes, quiz_score, created_at, updated_at)
     select 'us_' || ${RANDOM_UUID_SQL}, ${UUID_SQL("?1", "100000 + i")}, 'skill_' || ${UUID_SQL("?1", "((i + 7 * j) % ?4)")},
       ?5, 'certified', ?6, strftime('%Y-%m-%dT%H:%M:%fZ', ?6, '+' || (1 + (i * 37 + j * 11) % 364) || ' days'),
       'admin_' || ${UUID_SQL("?1", "1")}, 'Practical assessment passed', '9' || (j % 10), ?6, ?6
     from u, k`,
    m,
    P.members,
    P.certs,
    P.skills,
    ms,
    at,
  );
  const badges = await run(
    db,
    `with recursive u(i) as (select 0 union all select i + 1 from u where i < ?2 - 1)
     insert into badges (id, user_id, makerspace_id, uid_sha256, uid_last4, created_at)
     select 'badge_' || ${RANDOM_UUID_SQL}, ${UUID_SQL("?1", "100000 + i")}, ?3, lower(hex(randomblob(32))),
       upper(substr(hex(randomblob(2)), 1, 4)), ?4 from u`,
    m,
    P.members,
    ms,
    at,
  );
  return { certBytes: certs.size_after - before.size_after, certRows: certs.changes, size: badges.size_after };
}

/** The directory rows the Worker routes by: the makerspace on SHARD_0, and its machines' ids. */
async function fileInDirectory(directory, m, now) {
  const at = now.toISOString();
  await run(
    directory,
    "insert or ignore into makerspace_shards (makerspace_id, shard, created_at) values (?1, 'SHARD_0', ?2)",
    msId(m),
    at,
  );
  await run(
    directory,
    `with recursive n(i) as (select 0 union all select i + 1 from n where i < ?2 - 1)
     insert or ignore into equipment_index (id, makerspace_id, created_at)
     select 'eq_' || ${UUID_SQL("?1", "i")}, ?3, ?4 from n`,
    m,
    P.machines,
    msId(m),
    at,
  );
}

/** A year of door events of one makerspace, as the consumer writes them (straight into D1). */
async function seedDoorEvents(db, m, now) {
  const total = P.doorEventsPerDay * 365;
  const before = await run(db, "select 1");
  const res = await run(
    db,
    `with recursive n(i) as (select 0 union all select i + 1 from n where i < ?2 - 1)
     insert into skill_audit_logs (id, action, user_id, skill_id, makerspace_id, performed_by, reason, metadata, created_at)
     select 'evt_' || ${RANDOM_UUID_SQL},
       case when i % 10 = 0 then 'access_denied' else 'access_granted' end,
       ${UUID_SQL("?1", "100000 + (i * 7919) % ?3")}, null, ?4, 'dev_' || ${UUID_SQL("?1", "900")},
       case when i % 10 = 0 then 'Missing required skills: Skill 3' else 'All required skills certified' end,
       case when i % 10 = 0
         then json_object('equipment_id', 'eq_' || ${UUID_SQL("?1", "(i % ?5)")}, 'missing_skills', json_array('Skill 3'), 'denial', 'missing_skills')
         else json_object('equipment_id', 'eq_' || ${UUID_SQL("?1", "(i % ?5)")}, 'missing_skills', json_array()) end,
       strftime('%Y-%m-%dT%H:%M:%fZ', ?6, '-' || ((i * 31536000) / ?2) || ' seconds')
     from n`,
    m,
    total,
    P.members,
    msId(m),
    P.machines,
    now.toISOString(),
  );
  return { bytes: res.size_after - before.size_after, rows: res.changes, size: res.size_after };
}

function load({ url, connections, seconds, method, pick }) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        requests: [
          {
            method,
            setupRequest: (req) => {
              const { path, token, body } = pick();
              return {
                ...req,
                path,
                headers: { ...req.headers, authorization: `Bearer ${token}`, "content-type": "application/json" },
                body: JSON.stringify(body ?? {}),
              };
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

function statusCounts(result) {
  return Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
}

async function registerDevices(url) {
  const devices = [];
  await pool(
    Array.from({ length: P.makerspaces }, (_, m) => m),
    4,
    async (m) => {
      const admin = api(url, await mintToken({ role: "makerspace_admin", sub: "bench-admin", makerspace: msId(m) }));
      const res = await admin("POST", "/api/v1/devices", {
        name: `Bench door ${m}`,
        kind: "door",
        makerspace_id: msId(m),
      });
      if (res.status !== 201) throw new Error(`device registration: ${res.status} ${JSON.stringify(res.body)}`);
      devices[m] = { id: res.body.device.id, token: res.body.token };
    },
  );
  return devices;
}

async function scheduled(url, cron) {
  const started = Date.now();
  const res = await fetch(`${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron).replace(/%20/g, "+")}`);
  const text = await res.text();
  if (res.status !== 200 || text !== "ok") throw new Error(`cron ${cron}: ${res.status} ${text}`);
  return (Date.now() - started) / 1000;
}

async function main() {
  const persistDir = mkdtempSync(join(tmpdir(), "makrcave-scale-"));
  const port = await freePort();
  log(`building and starting the Worker on Miniflare (127.0.0.1:${port}), state in ${persistDir}`);
  // The Worker's routine info lines (one per queue batch and cron run) would bury the progress.
  // One shard: the figures are per database, and the seeding writes straight into it.
  const server = await startLocalServer({
    port,
    persistDir,
    shards: 1,
    handleStructuredLogs: ({ level, message }) => {
      if (!message.includes('"level":"info"'))
        (level === "error" || level === "warn" ? console.error : console.log)(message);
    },
  });
  const out = { meta: {}, params: P, target: TARGET, measured: {}, projected: {} };
  try {
    const db = await server.mf.getD1Database("SHARD_0");
    const directory = await server.mf.getD1Database("DIRECTORY");
    const bucket = await server.mf.getR2Bucket("AUDIT_ARCHIVE");
    const now = new Date();

    log(
      `seeding ${P.makerspaces} makerspaces × ${P.members} members × ${P.certs} certifications, ${P.machines} machines each`,
    );
    let seeded = Date.now();
    let certBytes = 0;
    let certRows = 0;
    for (let m = 0; m < P.makerspaces; m++) {
      const r = await seedMakerspace(db, m, now);
      await fileInDirectory(directory, m, now);
      certBytes += r.certBytes;
      certRows += r.certRows;
    }
    log(`  ${certRows} certifications in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

    log(`seeding a year of door events: ${P.doorEventsPerDay}/day per makerspace (set-based, straight into D1)`);
    seeded = Date.now();
    let auditBytes = 0;
    let auditRows = 0;
    let dbSize = 0;
    for (let m = 0; m < P.makerspaces; m++) {
      const r = await seedDoorEvents(db, m, now);
      auditBytes += r.bytes;
      auditRows += r.rows;
      dbSize = r.size;
    }
    log(
      `  ${auditRows} audit rows in ${((Date.now() - seeded) / 1000).toFixed(1)} s; database ${(dbSize / 1e6).toFixed(0)} MB`,
    );

    const devices = await registerDevices(server.url);
    const rand = prng(1515);
    const pickDevice = () => Math.floor(rand() * P.makerspaces);

    log(`/health for reference (this machine's ceiling): ${P.connections} connections, ${P.seconds} s`);
    const health = await load({
      url: server.url,
      connections: P.connections,
      seconds: P.seconds,
      method: "GET",
      pick: () => ({ path: "/health", token: "none" }),
    });

    log(`heartbeats: ${P.connections} connections, ${P.seconds} s (each device reports ${P.machines} items)`);
    const hbPick = () => {
      const d = devices[pickDevice()];
      return { path: `/api/v1/devices/${d.id}/heartbeat`, token: d.token, body: {} };
    };
    await load({ url: server.url, connections: P.connections, seconds: 1, method: "POST", pick: hbPick });
    const hb = await load({
      url: server.url,
      connections: P.connections,
      seconds: P.seconds,
      method: "POST",
      pick: hbPick,
    });

    log(`door events through the queue: verify for ${P.seconds} s across ${P.makerspaces} makerspaces`);
    const loadStart = new Date().toISOString();
    const verify = await load({
      url: server.url,
      connections: P.connections,
      seconds: P.seconds,
      method: "POST",
      pick: () => {
        const m = pickDevice();
        return {
          path: `/api/v1/skills/access/equipment/${eqId(m, Math.floor(rand() * P.machines))}/verify`,
          token: devices[m].token,
          body: { user_id: userId(m, Math.floor(rand() * P.members)) },
        };
      },
    });
    const verifies = (statusCounts(verify)["200"] ?? 0) + (statusCounts(verify)["403"] ?? 0);
    const drainStart = Date.now();
    let archived = 0;
    while (Date.now() - drainStart < 60_000) {
      archived = await count(
        db,
        "select count(*) from skill_audit_logs where created_at >= ? and action in ('access_granted', 'access_denied')",
        loadStart,
      );
      if (archived >= verifies) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    let r2Objects = 0;
    let r2Bytes = 0;
    let cursor;
    do {
      const page = await bucket.list({ prefix: "audit/", cursor, limit: 1000 });
      r2Objects += page.objects.length;
      for (const o of page.objects) r2Bytes += o.size;
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    log(`  ${verifies} verifies answered, ${archived} events written; R2: ${r2Objects} objects, ${r2Bytes} bytes`);

    const overdue = await run(
      db,
      "update user_skills set expires_at = ? where status = 'certified' and rowid % 10 < 3",
      new Date(now.getTime() - 3_600_000).toISOString(),
    );
    log(`expiry: ${overdue.changes} overdue certifications, hourly cron`);
    const expirySeconds = await scheduled(server.url, "0 * * * *");
    const expired = await count(db, "select count(*) from user_skills where status = 'expired'");

    const beforeRetention = await count(db, "select count(*) from skill_audit_logs");
    log(`retention: ${beforeRetention} audit rows, daily cron`);
    const retentionSeconds = await scheduled(server.url, "30 3 * * *");
    const afterRetention = await count(db, "select count(*) from skill_audit_logs");
    const deleted = beforeRetention - afterRetention;

    const bytesPerCert = certBytes / certRows;
    const bytesPerAudit = auditBytes / auditRows;
    out.measured = {
      certifications: certRows,
      bytes_per_certification: Math.round(bytesPerCert),
      audit_rows_seeded: auditRows,
      bytes_per_audit_row: Math.round(bytesPerAudit),
      database_bytes_after_seed: dbSize,
      health_per_sec: Math.round(health.requests.average),
      heartbeats_per_sec: Math.round(hb.requests.average),
      heartbeat_p50_ms: hb.latency.p50,
      heartbeat_p99_ms: hb.latency.p99,
      heartbeat_statuses: statusCounts(hb),
      verifies_per_sec: Math.round(verify.requests.average),
      verify_statuses: statusCounts(verify),
      door_events_through_queue: archived,
      r2_objects: r2Objects,
      r2_bytes: r2Bytes,
      r2_bytes_per_event: archived ? Math.round(r2Bytes / archived) : null,
      r2_events_per_object: r2Objects ? Number((archived / r2Objects).toFixed(1)) : null,
      expired,
      expiry_seconds: Number(expirySeconds.toFixed(2)),
      expiry_rows_per_sec: Math.round(expired / expirySeconds),
      retention_deleted: deleted,
      retention_seconds: Number(retentionSeconds.toFixed(2)),
      retention_rows_per_sec: Math.round(deleted / retentionSeconds),
    };

    const T = TARGET;
    const certsPerMs = T.members * T.certs;
    const accessRowsPerMs = T.members * T.doorEventsPerMemberPerDay * T.accessRetentionDays;
    const changeRowsPerMs = T.members * T.changeEventsPerMemberPerYear * T.changeRetentionYears;
    const bytesPerMs = certsPerMs * bytesPerCert + (accessRowsPerMs + changeRowsPerMs) * bytesPerAudit;
    const totalBytes = bytesPerMs * T.makerspaces;
    const doorEventsPerYear = T.makerspaces * T.members * T.doorEventsPerMemberPerDay * 365;
    out.projected = {
      bytes_per_makerspace: Math.round(bytesPerMs),
      certification_bytes_per_makerspace: Math.round(certsPerMs * bytesPerCert),
      access_bytes_per_makerspace: Math.round(accessRowsPerMs * bytesPerAudit),
      change_bytes_per_makerspace: Math.round(changeRowsPerMs * bytesPerAudit),
      total_bytes: Math.round(totalBytes),
      shards_at_10_gb: Math.ceil(totalBytes / T.shardBytes),
      shards_at_70_percent_fill: Math.ceil(totalBytes / (T.shardBytes * T.shardFill)),
      makerspaces_per_shard_at_70_percent: Math.floor((T.shardBytes * T.shardFill) / bytesPerMs),
      heartbeats_per_sec_platform: Math.round((T.makerspaces * T.machines) / T.heartbeatSeconds),
      r2_bytes_per_year: out.measured.r2_bytes_per_event ? out.measured.r2_bytes_per_event * doorEventsPerYear : null,
      door_events_per_year: doorEventsPerYear,
    };
    out.meta = {
      date: new Date().toISOString(),
      mode: QUICK ? "quick" : "full",
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? "cpu"}`,
      node: process.version,
      server: "built Worker on Miniflare (npm run start:local), local D1/KV/Queues/R2",
      wall_seconds: Math.round((Date.now() - WALL) / 1000),
    };
    print(out);
    mkdirSync("bench-results", { recursive: true });
    writeFileSync("bench-results/bench-scale.json", `${JSON.stringify(out, null, 2)}\n`);
    console.log("\nWritten to bench-results/bench-scale.json");
  } finally {
    await server.stop();
    if (!process.env.BENCH_SCALE_KEEP) rmSync(persistDir, { recursive: true, force: true });
  }
}

function print({ meta, measured: x, projected: p }) {
  const fmt = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : String(n));
  const gb = (n) => `${(n / 1e9).toFixed(2)} GB`;
  const rows = [
    ["bytes per certification (D1, with indexes)", fmt(x.bytes_per_certification)],
    ["bytes per audit row (D1, with indexes)", fmt(x.bytes_per_audit_row)],
    [
      `heartbeats/s (${P.connections} conns, ${P.machines} items each; × /health)`,
      `${fmt(x.heartbeats_per_sec)} (${(x.heartbeats_per_sec / x.health_per_sec).toFixed(2)})`,
    ],
    ["heartbeat p50 / p99 ms", `${x.heartbeat_p50_ms} / ${x.heartbeat_p99_ms}`],
    ["/health req/s on the same server (the machine's ceiling)", fmt(x.health_per_sec)],
    [
      "verify req/s (door events into the queue; × /health)",
      `${fmt(x.verifies_per_sec)} (${(x.verifies_per_sec / x.health_per_sec).toFixed(2)})`,
    ],
    [`expiry rows/s (${fmt(x.expired)} rows, one run)`, fmt(x.expiry_rows_per_sec)],
    [`retention rows/s (${fmt(x.retention_deleted)} rows, one run)`, fmt(x.retention_rows_per_sec)],
    [
      `R2 written by ${fmt(x.door_events_through_queue)} door events`,
      `${fmt(x.r2_objects)} objects, ${fmt(x.r2_bytes)} bytes (${fmt(x.r2_bytes_per_event)} B/event, ${x.r2_events_per_object} events/object)`,
    ],
    [
      "projected D1 per makerspace (5,000 members): certifications + access events + change events",
      `${gb(p.bytes_per_makerspace)} = ${gb(p.certification_bytes_per_makerspace)} + ${gb(p.access_bytes_per_makerspace)} + ${gb(p.change_bytes_per_makerspace)}`,
    ],
    ["projected D1 for 1,000 makerspaces", gb(p.total_bytes)],
    ["projected shards (10 GB full / 70% fill)", `${p.shards_at_10_gb} / ${p.shards_at_70_percent_fill}`],
    ["projected R2 per year (all door events)", gb(p.r2_bytes_per_year ?? 0)],
  ];
  console.log(`\n${meta.date} · ${meta.machine} · ${meta.mode} · ${meta.wall_seconds} s wall`);
  console.log("| measure | value |\n|---|---:|");
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
}

const deadline = setTimeout(
  () => {
    console.error("bench:scale: 15-minute budget exceeded, stopping");
    process.exit(2);
  },
  15 * 60 * 1000,
);
main()
  .then(() => clearTimeout(deadline))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
