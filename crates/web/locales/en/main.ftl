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
