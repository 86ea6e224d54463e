app-name = GridSafe
footer-text = GridSafe · safety management for the marketing department of a power supply company
lang-self-name = English
lang-switch-label = Language
nav-label = Main navigation
nav-menu = Menu
nav-home = Home

home-title = Home
home-intro = Field-work safety for new connections, meter work, disconnection and reconnection, fault repair and customer inspections: from work tickets to the cross-audit, from inspections to closed hazards.
home-system = System status
home-version = Version
home-database = Database
home-backend = { $backend ->
    [sqlite] embedded SQLite
   *[other] PostgreSQL
}
home-schema = Schema version

error-status = Error { $status }
error-request-id = Request id: { $id } (quote it when reporting a problem)
error-back-home = Back to the home page
error-not-found = The page or resource you asked for does not exist.
error-method-not-allowed = This address does not accept this kind of request.
error-invalid-request = The request is not valid; please check it and try again.
error-payload-too-large = What you sent is larger than the system accepts.
error-unsupported-media-type = The format of what you sent is not supported.
error-cross-site = The request came from another site and was refused. Please start again from a page of this system.
error-unavailable = The system cannot serve you right now; please try again shortly.
error-internal = Internal error; it has been logged. Try again later, or give the request id to your administrator.

cli-failed = Failed: { $cause }
settings-load-failed = Cannot read the settings: { $cause }
settings-invalid = Invalid settings; please correct:
start-connect-failed = Cannot connect to the database { $url }: { $cause }
start-schema-behind = The database schema is at version { $current }; this binary needs version { $latest }. Run first: gridsafe migrate --database-url '{ $url }'
start-schema-problem = Database schema problem: { $cause }
start-not-durable = The database is not set up to keep committed work through a power cut ({ $settings }). SQLite needs WAL with synchronous=FULL; PostgreSQL needs fsync and synchronous_commit on. To run like this anyway, add --unsafe-durability.
start-listen-failed = Cannot listen on { $addr }: { $cause }
start-listening = GridSafe is running: { $url }
migrate-applied = Applied migration { $version } ({ $name })
migrate-done = The database schema is up to date (version { $version }; { $count } migrations applied now).
migrate-incomplete = Migration incomplete; the schema stays at version { $version }.
start-app-failed = Cannot set up the application: { $cause }
first-start-root-unit = Our company
first-start-admin =
    ================================================================
    First start: a system administrator account was created (shown only this once; note it down)
      username: { $username }
      initial password: { $password }
    The password must be changed at first sign-in.
    ================================================================
cli-unknown-unit = No unit with code { $code }
cli-user-created = Created account { $username }; initial password: { $password } (must be changed at first sign-in)
cli-checkpoint = Signed a checkpoint of the audit chain (event { $seq }; 0 means no new events)
cli-verify-intact = The audit log is intact: { $events } events and { $checkpoints } signed checkpoints verified.
cli-verify-broken = The audit log has been tampered with: { $problem }

nav-units = Units
nav-users = Users
nav-roles = Roles
nav-accounts = Account review
nav-audit = Audit log
nav-password = Change password
nav-tokens = API tokens
nav-logout = Sign out
home-welcome = Hello, { $name }.

action-create = Create
action-save = Save
action-search = Search
action-grant = Grant
action-revoke = Revoke
action-disable = Disable account
action-enable = Enable account
action-reset-password = Reset password
list-empty = Nothing here yet.
list-more = Older entries
error-back = Back

error-unauthenticated = Please sign in first.
error-forbidden = You are not permitted to do this.
error-denied-permission = You do not hold the permission "{ $permission }"; this attempt was recorded.
error-denied-scope = That record belongs to a unit outside your reach (permission "{ $permission }"); this attempt was recorded.
error-password-change-required = Please change your password first.
error-conflict = This conflicts with existing data.
error-rule-violation = A rule refused this action; nothing was changed.
error-too-many-requests = Too many attempts; please try again later.
error-invalid-json = The request body is not valid JSON: { $cause }

rule-label = Rule:
rule-source = Source:
rule-fix = What to do:
rule-ADMIN_SEPARATION = The system administrator, security administrator and log auditor roles are never held by one account.
rule-ADMIN_SEPARATION-fix = Create a separate account for the other administrator role, or first revoke the account's current administrator role.
rule-PASSWORD_POLICY = A password must meet the password policy.
rule-PASSWORD_POLICY-fix = Use at least 8 characters from at least three of: capitals, lower case, digits, symbols.
rule-LOGIN_LOCKOUT = Too many failed sign-ins lock the account for a while.
rule-LOGIN_LOCKOUT-fix = Wait for the lock to expire, or ask a security administrator to unlock the account.
rule-DORMANT_ACCOUNT = Accounts unused for a long time are flagged and then disabled.
rule-DORMANT_ACCOUNT-fix = The owner signs in, or a system administrator re-enables the account after checking.
rule-UNIT_TREE = A new unit must sit below a parent unit within your reach.
rule-UNIT_TREE-fix = Choose a parent unit; only an administrator of the whole tree may create a top-level unit.

field-required = This field is required.
field-code-format = A code is 1–32 letters, digits, "-" or "_".
field-name-length = A name is 1–{ $max } characters.
field-unit-kind = Unknown unit kind.
field-username-format = A username is 2–40 letters, digits, ".", "-" or "_".
conflict-unit-code = That unit code is already taken.
conflict-username = That username is already taken.
conflict-role-held = The user already holds this role at this unit.
conflict-disable-self = You cannot disable your own account.

login-title = Sign in
login-username = Username
login-password = Password
login-submit = Sign in
login-bad-credentials = Wrong username or password.
login-disabled = This account is disabled; please contact your system administrator.
login-locked = Too many failed sign-ins; the account is locked until { $until }.
login-rate-limited = Too many sign-in attempts from this computer; try again in { $minutes } minutes.

password-title = Change password
password-forced = For your account's safety, please set a new password before you continue.
password-done = Your password was changed; sign-ins on other devices have been ended.
password-current = Current password
password-new = New password
password-confirm = New password again
password-submit = Change password
password-policy-hint = At least 8 characters, from at least three of: capitals, lower case, digits, symbols; not containing your username.
password-confirm-mismatch = The two new passwords differ.
password-current-wrong = The current password is wrong.
password-same-as-old = The new password must differ from the current one.
password-too-short = A password needs at least 8 characters.
password-too-long = A password may not exceed 128 characters.
password-too-few-classes = A password needs at least three of: capitals, lower case, digits, symbols.
password-contains-username = A password may not contain the username.

tokens-title = API tokens
tokens-intro = For other systems calling the GridSafe API. A token holds only the permissions you tick, expires by itself and can be revoked at any time.
tokens-created = Token created. Copy it now; it will not be shown again:
tokens-name = Name
tokens-permissions = Permissions
tokens-expires = Expires
tokens-last-used = Last used
tokens-revoke = Revoke
tokens-revoked = Revoked
tokens-none = No tokens yet.
tokens-new = New token
tokens-create = Create token
tokens-no-permissions = You hold no permissions a token could carry.
tokens-valid-days = Valid for days (at most { $max })
token-valid-days = Validity must be 1–{ $max } days.

units-title = Organisation units
units-name = Name
units-code = Code
units-kind = Kind
units-rename = Rename
units-new = New unit
units-parent = Parent unit
unit-kind-province = Provincial company
unit-kind-city = City company
unit-kind-county = County company / supply centre
unit-kind-team = Team

users-title = Users
users-search = Search by username or name
users-username = Username
users-name = Name
users-unit = Unit
users-roles = Roles
users-role = Role
users-at-unit = At unit (and below)
users-status = Status
users-new = New user
users-created = Created account { $username }.
users-initial-password = Initial password (shown only once; must be changed at first sign-in):
users-password-was-reset = Password reset; the new initial password (shown only once):
users-last-login = Last sign-in
users-last-review = Last permission review
users-no-roles = No roles yet.
users-account = Account
users-disable-reason = Reason for disabling
user-status-active = Active
user-status-locked = Locked
user-status-dormant = Dormant
user-status-disabled = Disabled

roles-title = Roles and permissions
roles-intro = Which permissions each role grants can be changed here; a change applies at once to every holder and is written to the audit log.
admin-class-system = system administration
admin-class-security = security administration
admin-class-audit = audit
role-system_admin = System administrator
role-security_admin = Security administrator
role-log_auditor = Log auditor
role-safety_auditor = Safety auditor
role-customer_manager = Customer manager
role-inspector = Inspector
role-ticket_issuer = Ticket issuer
role-work_leader = Work leader
role-work_permitter = Permit giver
role-crew_member = Crew member
role-contractor_admin = Contractor administrator
role-leader = Leader
perm-units-manage = Maintain organisation units
perm-users-view = See users
perm-users-manage = Manage users and roles
perm-roles-manage = Change role permissions
perm-accounts-review = Review and unlock accounts
perm-audit-read = Read and verify the audit log

accounts-title = Account review
accounts-rule = Accounts without a sign-in for { $days } days are flagged dormant;
accounts-notice = still unused { $days } days after the flag, they are disabled.
accounts-attention = Accounts needing attention
accounts-active = Active accounts
accounts-review-note = Review note (optional)
accounts-record-review = Record permission review
accounts-unlock = Unlock

audit-title = Audit log
audit-verify = Verify the audit chain
audit-actor = Actor
audit-action = Action
audit-record-kind = Record kind
audit-record = Record
audit-channel = Channel
audit-any = Any
audit-from = From
audit-to = To
audit-time = Time
audit-summary = What changed
audit-intact = The audit chain is intact; no tampering found.
audit-broken = The audit chain is broken:
audit-events-checked = Events verified
audit-checkpoints-checked = Signed checkpoints verified
audit-range = Event numbers
audit-key-id = Signing key id
audit-verify-cli = Also on the server:
audit-problem-missing = Event { $seq } is missing (deleted or cut off).
audit-problem-altered = Event { $seq } was changed.
audit-problem-broken-link = Event { $seq } does not follow the event before it (inserted or swapped).
audit-problem-unknown-algorithm = Event { $seq } uses an unknown hash algorithm.
audit-problem-bad-signature = The checkpoint at { $seq } is not validly signed.
audit-problem-rewritten = The events after { $since } up to { $seq } were rewritten after they were signed.
audit-problem-bad-anchor = The start of the kept chain (event { $seq }) is not a signed checkpoint.
error-session-only = This can only be done signed in through the browser, not with an API token.
users-password-generated = The initial password is generated and shown once after creation; the user must change it at first sign-in.
token-permission-unknown = There is no permission "{ $permission }".
