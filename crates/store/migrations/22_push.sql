-- The push feed of work orders and meter events (POST /api/v1/work-orders, /api/v1/meter-events):
-- a permission of its own, so that the marketing and metering systems' tokens may push and do
-- nothing else. Granted where the spreadsheet import is.
INSERT INTO role_permissions (role_code, permission)
SELECT role_code, 'marketing.push' FROM role_permissions WHERE permission = 'marketing.import';
