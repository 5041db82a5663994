-- The approving official as printed on the approved notification (frozen at approval, so a
-- later change of the user's position does not rewrite a sent document).
ALTER TABLE notifications ADD COLUMN signatory_json TEXT;
