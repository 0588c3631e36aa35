-- API token expiry. Portable SQL, like 0001 to 0004.
--
-- `expires_at` is unix milliseconds; NULL means the token never expires. From that instant on
-- the token authenticates no more (as if it were unknown), but its row stays, so it is still
-- listed and its id still shows in the audit log. (`last_used_at`, from 0001, is refreshed by
-- authentication at most once a minute per token.)

ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
