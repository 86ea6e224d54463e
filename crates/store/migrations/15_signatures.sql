-- A signature that grants or ends work (签发、许可、终结) asks for the password again once the
-- session last proved it longer ago than [security] signature_window_minutes: the last proof
-- (sign-in or a signature's password) is kept with the session; NULL: at sign-in.
ALTER TABLE sessions ADD COLUMN authenticated_at TEXT;

-- Taking a seal off (启封) names why, who witnessed it, and the day it was taken off.
ALTER TABLE seals ADD COLUMN unseal_reason TEXT;
ALTER TABLE seals ADD COLUMN unseal_witness TEXT;
