/**
 * Slack on top of a configured timeout before the suite calls something late. Processes on
 * a loaded two-core CI machine get scheduled late, never early, so only upper bounds are
 * asserted, and only as "within the configured timeout plus this".
 */
export const MARGIN_MS = 3000;
