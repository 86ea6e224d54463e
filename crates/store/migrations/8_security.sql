-- Security hardening.

-- Sign-in failures are counted per username, known or not: an unknown name locks like a known
-- one (no oracle), and each attempt is counted before the password is checked, so concurrent
-- attempts cannot check more passwords than the policy allows.
CREATE TABLE login_guard (
    username TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until TEXT,
    updated_at TEXT NOT NULL
);
INSERT INTO login_guard (username, failures, locked_until, updated_at)
    SELECT username, failed_logins, locked_until, created_at FROM users WHERE failed_logins > 0 OR locked_until IS NOT NULL;
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;

-- Qualifications a contractor records for his own workers are drafts until the supply company
-- confirms them.
ALTER TABLE qualifications ADD COLUMN recorded_by TEXT;
ALTER TABLE qualifications ADD COLUMN confirmed_at TEXT;
ALTER TABLE qualifications ADD COLUMN confirmed_by TEXT;
UPDATE qualifications SET confirmed_at = created_at, confirmed_by = '规则生效前录入';

-- A job's period is finished only when its run succeeded; a claim holds a lease, so a run that
-- crashed is taken up again once the lease has passed.
ALTER TABLE job_runs ADD COLUMN running_period TEXT;
ALTER TABLE job_runs ADD COLUMN lease_until TEXT;

-- API tokens revoked by their account's security events say why.
ALTER TABLE api_tokens ADD COLUMN revoked_reason TEXT;
