"""One interview engine (routing, validation, answers, messages) and the sessions that capture or preview it."""
