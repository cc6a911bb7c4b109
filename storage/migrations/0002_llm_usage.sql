-- Tokens spent on the language model per UTC day, for LLM_DAILY_TOKEN_BUDGET.
CREATE TABLE llm_usage (
    day    TEXT PRIMARY KEY,   -- YYYY-MM-DD, UTC
    tokens INTEGER NOT NULL DEFAULT 0,
    calls  INTEGER NOT NULL DEFAULT 0
);
