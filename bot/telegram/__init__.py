"""Everything that speaks Telegram: the application and its jobs, the command table, handlers,
and the one renderer of Telegram HTML with its texts. Handlers read an update, call one use case
in bot.desk (or storage), and reply with a string from render."""
