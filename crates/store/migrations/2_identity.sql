-- Organisation units: a tree (省公司 → 市公司 → 县公司/供电中心 → 班组). `path` lists the ids from
-- the root down (/1/5/23/), so "this unit and everything below it" is a prefix match.
CREATE TABLE org_units (
    id {{ID}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id BIGINT REFERENCES org_units (id),
    path TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id {{ID}},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    password_hash TEXT NOT NULL,
    must_change_password BIGINT NOT NULL,
    password_changed_at TEXT NOT NULL,
    failed_logins BIGINT NOT NULL,
    locked_until TEXT,
    last_login_at TEXT,
    dormant_flagged_at TEXT,
    disabled_at TEXT,
    disabled_reason TEXT,
    last_review_at TEXT,
    last_review_by TEXT,
    created_at TEXT NOT NULL
);

-- Roles are data: which permissions each grants can change without a deploy.
CREATE TABLE roles (
    code TEXT PRIMARY KEY,
    admin_class TEXT,
    sort_order BIGINT NOT NULL
);

CREATE TABLE role_permissions (
    role_code TEXT NOT NULL REFERENCES roles (code),
    permission TEXT NOT NULL,
    PRIMARY KEY (role_code, permission)
);

-- A user holds a role at a unit, reaching that unit and every unit below it.
CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users (id),
    role_code TEXT NOT NULL REFERENCES roles (code),
    unit_id BIGINT NOT NULL REFERENCES org_units (id),
    granted_at TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    PRIMARY KEY (user_id, role_code, unit_id)
);

-- Sessions live in the database so that any instance can serve any request. Only a hash of the
-- cookie value is stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    permissions TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Sign-in attempts per client in fixed windows, shared by all instances.
CREATE TABLE login_attempts (
    client_key TEXT NOT NULL,
    window_start TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    PRIMARY KEY (client_key, window_start)
);

-- The audit trail (痕迹管理): append-only, each event chained to the one before by hash.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_user_id BIGINT,
    actor_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    action TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    unit_id BIGINT,
    summary TEXT NOT NULL,
    request_id TEXT NOT NULL,
    algo TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_actor ON audit_events (actor_user_id);

-- Signed checkpoints of the chain head; the key lives outside the database.
CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- Where the kept chain starts after pruning: the last pruned event, itself a signed checkpoint.
CREATE TABLE audit_anchor (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

-- Scheduled jobs: a job runs for a period only on the instance that claims that period here.
CREATE TABLE job_runs (
    name TEXT PRIMARY KEY,
    last_period TEXT NOT NULL,
    last_run_at TEXT NOT NULL
);

INSERT INTO roles (code, admin_class, sort_order) VALUES
    ('system_admin', 'system', 10),
    ('security_admin', 'security', 20),
    ('log_auditor', 'audit', 30),
    ('safety_auditor', NULL, 40),
    ('customer_manager', NULL, 50),
    ('inspector', NULL, 60),
    ('ticket_issuer', NULL, 70),
    ('work_leader', NULL, 80),
    ('work_permitter', NULL, 90),
    ('crew_member', NULL, 100),
    ('contractor_admin', NULL, 110),
    ('leader', NULL, 120);

INSERT INTO role_permissions (role_code, permission) VALUES
    ('system_admin', 'units.manage'),
    ('system_admin', 'users.view'),
    ('system_admin', 'users.manage'),
    ('system_admin', 'roles.manage'),
    ('security_admin', 'users.view'),
    ('security_admin', 'accounts.review'),
    ('log_auditor', 'audit.read');
