-- Only the operator changes a cap, and always with a reason, kept beside the amount (the audit
-- log keeps every earlier amount and reason). The statutory amounts shipped with the software
-- have none: their `set_by` is 'law'.
ALTER TABLE caps ADD COLUMN reason TEXT;
