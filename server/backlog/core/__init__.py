"""The pure core: task model, dates, recurrence, filter language, urgency, sort, edits, Taskwarrior conversion."""
