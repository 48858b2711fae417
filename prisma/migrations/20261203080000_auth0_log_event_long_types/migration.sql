-- Auth0's log event type codes run past 16 characters (actions_execution_failed,
-- appliance_configuration_api_status...): widening a VARCHAR only rewrites the catalog.
ALTER TABLE "auth0_log_events" ALTER COLUMN "type" SET DATA TYPE VARCHAR(64);
