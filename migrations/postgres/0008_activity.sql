-- Settings → Activity pages through an organization's events newest first by id, and stays as fast
-- at the 100,000th event as at the first.
CREATE INDEX audit_events_organization_id ON audit_events(organization_id, id);
